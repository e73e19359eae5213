"""The evaluation figures on synthetic answers: matching, retrieval, ALCE citations."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rag.answering.support import OfflineSupportJudge
from rag.core.schema import Answer, AnswerSentence, Citation
from rag.evaluation.metrics import (
    abstention_scores,
    citation_scores,
    contains_answer,
    first_hit_rank,
    judge_answer,
    missing_groups,
    normalise_answer,
    paired_test,
    passage_articles,
    percentile,
    ranking_scores,
)

PUTIN = (
    "Russian President Vladimir Putin met Iranian President Massoud Pezeshkian in Ashgabat "
    "on October 11."
)
SANCTIONS = "EU leaders are focused on sanctions against Iran over missile transfers."
LEXICAL = OfflineSupportJudge(None)  # the offline judge without embeddings: deterministic


def test_normalisation_ignores_case_punctuation_articles_and_markers() -> None:
    assert normalise_answer("The  U.S.-Russia [2] talks!") == "u s russia talks"
    assert contains_answer("It was held in ASHGABAT, Turkmenistan [1].", "ashgabat")
    assert contains_answer("Mexico’s president", "Mexico's president")
    assert contains_answer("about 2 hours long", "2 hours")


def test_answers_match_whole_words_only() -> None:
    assert not contains_answer("The Iranian president", "Iran")
    assert not contains_answer("in 1999", "99")
    assert not contains_answer("anything", "")


def test_must_include_is_case_insensitive_substring_per_group() -> None:
    text = "Moscow refrains from delivering Su-35s and S-400s to Iran [1]."
    assert missing_groups(text, [["su-35"], ["S-400", "S-300"]]) == []
    assert missing_groups(text, [["Su–35"]]) == []  # an en dash counts as a hyphen
    assert missing_groups(text, [["Putin", "Kremlin"], ["Iran"]]) == [["Putin", "Kremlin"]]


def test_judge_answer_rules() -> None:
    good = judge_answer("Putin met him [1].", False, must_include=[["Putin"]])
    assert good.passed and good.failures == []
    both = judge_answer("Putin [1]", False, answers=["Pezeshkian"], must_include=[["Putin"]])
    assert both.passed is False and both.failures[0].startswith("no accepted answer")
    # An abstention echoes the question: it must not count as containing the answer.
    echo = judge_answer('The articles don\'t say "who is Putin".', True, answers=["Putin"])
    assert echo.passed is False and "abstained" in echo.failures[0]
    assert judge_answer("x", True, abstain=True).passed is True
    assert judge_answer("Putin [1]", False, abstain=True).passed is False
    assert judge_answer("anything", False).passed is None  # nothing to check against


def test_passage_articles_reads_duplicate_ids() -> None:
    meta = {"article_id": "a", "duplicate_ids": json.dumps(["b", "c"])}
    assert passage_articles(meta) == {"a", "b", "c"}
    assert passage_articles({"article_id": "a", "duplicate_ids": "[]"}) == {"a"}
    assert passage_articles({"article_id": "a", "duplicate_ids": "not json"}) == {"a"}
    assert passage_articles({"article_id": "a", "duplicate_ids": ["d"]}) == {"a", "d"}


def test_rank_recall_and_reciprocal_rank() -> None:
    ranked = [{"x"}, {"y"}, {"x"}, {"z", "e2"}, {"e1"}, {"q"}]
    rank = first_hit_rank(ranked, ["e1", "e2"])
    assert rank == 4
    assert first_hit_rank(ranked, ["nope"]) is None
    scores = ranking_scores(
        {"hit": ranked, "late": [{"x"}] * 7 + [{"e1"}], "miss": ranked, "empty": []},
        {"hit": ["e1", "e2"], "late": ["e1"], "miss": ["nope"], "empty": ["e1"]},
    )
    assert scores["hit"] == {"recall@5": 1.0, "recall@10": 1.0, "rr@10": pytest.approx(0.25)}
    assert scores["late"] == {"recall@5": 0.0, "recall@10": 1.0, "rr@10": pytest.approx(1 / 8)}
    assert scores["miss"] == scores["empty"] == {"recall@5": 0.0, "recall@10": 0.0, "rr@10": 0.0}


def test_paired_test_separates_a_real_change_from_noise() -> None:
    old = [0.0] * 40
    assert paired_test(old, [1.0] * 30 + [0.0] * 10) < 0.001  # 30 cases gained
    noisy = paired_test([1.0, 0.0] * 20, [0.0, 1.0] * 20)  # as many lost as gained
    assert noisy is not None and noisy > 0.5
    assert paired_test([1.0, 0.5], [1.0, 0.5]) is None  # nothing changed
    with pytest.raises(ValueError, match="length"):
        paired_test([1.0], [1.0, 0.0])


def _answer(sentences: list[tuple[str, list[int]]], passages: dict[int, str]) -> Answer:
    return Answer(
        question="q", standalone_question="q",
        answer=" ".join(f"{t} [{']['.join(map(str, ids))}]" for t, ids in sentences),
        sentences=[AnswerSentence(text=t, citation_ids=ids) for t, ids in sentences],
        citations=[
            Citation(id=i, article_id=f"a{i}", chunk_id=f"c{i}", quote=p[:20], passage=p)
            for i, p in passages.items()
        ],
    )


def test_alce_irrelevant_extra_citation_lowers_precision_only() -> None:
    answer = _answer([("Putin met Pezeshkian in Ashgabat.", [1, 2])], {1: PUTIN, 2: SANCTIONS})
    scores = citation_scores(answer, LEXICAL, 0.5)
    assert scores.recall == 1.0
    assert scores.precision == 0.5  # [2] neither supports alone nor is needed


def test_alce_two_needed_citations_are_both_precise() -> None:
    sentence = "Putin met Pezeshkian, and EU leaders focus on sanctions."
    answer = _answer([(sentence, [1, 2])], {1: PUTIN, 2: SANCTIONS})
    scores = citation_scores(answer, LEXICAL, 0.5)
    assert (scores.recall, scores.precision) == (1.0, 1.0)


def test_alce_wrong_missing_and_unknown_citations() -> None:
    answer = _answer(
        [
            ("Putin met Pezeshkian in Ashgabat.", [1]),  # supported
            ("EU leaders are focused on sanctions.", [1]),  # cites the wrong passage
            ("Iran is a country.", []),  # no citation at all
            ("Putin met Pezeshkian in Ashgabat.", [9]),  # cites a passage that is not there
        ],
        {1: PUTIN, 2: SANCTIONS},
    )
    scores = citation_scores(answer, LEXICAL, 0.5)
    assert scores.recall == pytest.approx(1 / 4)
    assert scores.precision == pytest.approx(1 / 3)  # 3 citations, one precise
    assert [v.supported for v in scores.sentences] == [True, False, False, False]
    assert scores.sentences[3].unknown_ids == [9]


def test_alce_abstention_has_nothing_to_score() -> None:
    answer = Answer(question="q", standalone_question="q", answer="I don't know.",
                    abstained=True)
    scores = citation_scores(answer, LEXICAL, 0.5)
    assert scores.recall is None and scores.precision is None


def test_abstention_precision_and_recall() -> None:
    expected = [True, True, False, False, False]
    predicted = [True, False, True, False, False]
    assert abstention_scores(expected, predicted) == (0.5, 0.5)
    assert abstention_scores([False, False], [False, False]) == (None, None)
    assert abstention_scores([False], [True]) == (0.0, None)


@given(st.lists(st.floats(0, 1e5, allow_nan=False), min_size=1, max_size=40),
       st.sampled_from([0, 5, 50, 95, 100]))
def test_percentile_matches_numpy(values: list[float], q: int) -> None:
    assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)))


def test_percentile_of_nothing() -> None:
    assert percentile([], 50) is None
