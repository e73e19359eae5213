"""Running suites through the real chain (Chroma on disk, fake hashing embeddings)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from langchain_core.documents import Document

from rag.answering.base import Answerer, Turn, Writing
from rag.answering.chain import build_chain
from rag.answering.support import OfflineSupportJudge
from rag.core.schema import Answer, AnswerSentence, Citation
from rag.core.settings import Settings
from rag.evaluation import evaluate
from rag.evaluation.runner import SUMMARY_KEYS, RunOptions, case_filters, run_suite
from rag.evaluation.suite import parse_case
from rag.indexing.ingest import ingest
from tests.conftest import write_article

VOLCANO = (
    "A volcano erupted near Grindavik in Iceland on Monday. Lava flowed toward the town. "
    "Officials evacuated four thousand residents as a precaution."
)
JUDGE = OfflineSupportJudge(None)


@pytest.fixture
def settings(tmp_path: Path, hashing_settings: Settings) -> Settings:
    folder = tmp_path / "articles"
    write_article(folder, "volcano.md", "Volcano erupts in Iceland", VOLCANO, id="volcano",
                  source="example.com", date="2025-01-10")
    # The same story from a wire service: stored once, its id kept as a duplicate id.
    write_article(folder, "wire.md", "Volcano erupts in Iceland", VOLCANO, id="volcano-wire",
                  source="wire.test", date="2025-01-10")
    write_article(
        folder, "budget.md", "Parliament passes budget",
        "The parliament passed the annual budget after a long debate. The vote was 301 to "
        "250. The finance minister said taxes on fuel will rise next year.",
        id="budget", source="news.test", date="2025-02-20",
    )
    write_article(
        folder, "football.md", "Local club wins the cup",
        "The local football club won the national cup on Saturday. The striker scored twice "
        "in the final. Fans celebrated in the streets until midnight.",
        id="football", source="example.com", date="2025-03-05",
    )
    summary = ingest([folder], hashing_settings)
    assert summary.duplicates == 1
    # The fake embeddings score lower than the real model: a threshold to match.
    return hashing_settings.model_copy(update={"abstain_threshold": 0.3})


def cases(*rows: dict[str, Any]) -> list[Any]:
    return [parse_case(row) for row in rows]


SUITE = [
    {"id": "evac", "question": "How many residents were evacuated near the volcano?",
     "must_include": [["four thousand"]], "evidence_ids": ["volcano-wire"], "kind": "count"},
    {"id": "vote", "question": "What was the vote count on the budget?",
     "answers": ["301 to 250"], "evidence_ids": ["budget"]},
    {"id": "follow", "conversation": ["Who scored twice in the cup final?",
                                      "When did the club win the cup?"],
     "must_include": [["Saturday"]], "evidence_ids": ["football"]},
    {"id": "wrong", "question": "How many residents were evacuated near the volcano?",
     "must_include": [["five thousand"]], "evidence_ids": ["not-indexed"], "kind": "count"},
    {"id": "too-long", "question": "volcano " * 400, "must_include": [["x"]]},
    {"id": "free", "question": "What did the finance minister say about fuel?"},
]


def test_run_scores_every_case_and_sums_up(settings: Settings) -> None:
    chain = build_chain(settings)
    seen: list[tuple[int, int]] = []
    report = run_suite(cases(*SUITE), chain, JUDGE, progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (6, 6) and len(seen) == 6
    by_id = {c["id"]: c for c in report["cases"]}

    evac = by_id["evac"]
    assert evac["passed"] is True and "four thousand" in evac["answer"]
    # Found through the duplicate id: the wire copy is stored as the original's passages.
    assert evac["retrieval"]["first_hit_rank"] == 1
    assert evac["cited_articles"] == ["volcano"]
    assert evac["citation_recall"] == 1.0 and evac["citation_precision"] == 1.0
    assert evac["latency_ms"] > 0

    assert by_id["vote"]["passed"] is True
    follow = by_id["follow"]
    assert [role for role, _ in follow["history"]] == ["human", "ai"]
    assert follow["history"][1][1]  # the first turn was asked and answered
    assert follow["passed"] is True

    wrong = by_id["wrong"]
    assert wrong["passed"] is False
    assert "missing: five thousand" in wrong["failures"]
    assert wrong["retrieval"]["first_hit_rank"] is None
    assert "no evidence article in the top 10 articles" in wrong["failures"]

    too_long = by_id["too-long"]
    assert too_long["passed"] is False and "BadQuestionError" in too_long["error"]
    assert by_id["free"]["passed"] is None  # nothing to check the answer against

    summary = report["summary"]
    assert set(SUMMARY_KEYS) <= set(summary)
    assert summary["n"] == 6 and summary["errors"] == 1 and summary["n_scored"] == 5
    assert summary["answer_accuracy"] == pytest.approx(3 / 5, abs=1e-4)
    # Over the four cases with evidence: evac, vote and follow hit, wrong's is not indexed.
    assert summary["recall@10"] == pytest.approx(3 / 4, abs=1e-4)
    assert summary["abstention_recall"] is None  # no case expects an abstention
    assert report["by_kind"] == {"count": {"n": 2, "answer_accuracy": 0.5}}
    for key in SUMMARY_KEYS:
        value = summary[key]
        if key.endswith("_ms"):
            assert value > 0
        elif key != "n" and value is not None:
            assert 0.0 <= value <= 1.0, key


class MisCitingAnswerer(Answerer):
    """States the first passage's first sentence but cites the last passage instead."""

    name = "miscites"

    def write(
        self, question: str, passages: Sequence[Document], history: Sequence[Turn] = ()
    ) -> Writing:
        claim = passages[0].page_content.split(". ")[0] + "."
        wrong = passages[-1]
        yield claim
        return Answer(
            question=question, standalone_question=question, answer=f"{claim} [1]",
            sentences=[AnswerSentence(text=claim, citation_ids=[1])],
            citations=[Citation(id=1, article_id=wrong.metadata["article_id"],
                                chunk_id=str(wrong.id), quote=wrong.page_content[:40],
                                passage=wrong.page_content)],
            answerer=self.name,
        )


def test_citations_that_do_not_support_are_caught(settings: Settings) -> None:
    chain = build_chain(settings, answerer=MisCitingAnswerer())
    report = run_suite(
        cases({"id": "v", "question": "volcano lava Iceland", "must_include": [["volcano"]]}),
        chain, JUDGE,
    )
    [case] = report["cases"]
    assert case["passed"] is True  # the words are right...
    assert case["citation_recall"] == 0.0  # ...but the cited passage does not say them
    assert case["citation_precision"] == 0.0
    assert any(f.startswith("citation: unsupported") for f in case["failures"])
    assert report["summary"]["citation_recall"] == 0.0


def test_abstentions_are_scored(settings: Settings) -> None:
    strict = build_chain(settings.model_copy(update={"abstain_threshold": 0.99}))
    report = run_suite(
        cases(
            {"id": "a", "question": "What is the population of Mars?", "abstain": True},
            {"id": "b", "question": "How many residents were evacuated near the volcano?",
             "must_include": [["four thousand"]]},
        ),
        strict, JUDGE,
    )
    # This chain abstains on everything: recall 1, precision 1/2, accuracy 1/2.
    summary = report["summary"]
    assert summary["n_abstained"] == 2
    assert summary["abstention_recall"] == 1.0 and summary["abstention_precision"] == 0.5
    assert summary["answer_accuracy"] == 0.5
    assert summary["citation_recall"] is None  # no answer to check citations of


def test_date_hint_is_off_unless_asked() -> None:
    [case] = cases({"id": "d", "question": "q?", "question_date": "2026-02-26"})
    assert case_filters(case, RunOptions()) is None
    assert case_filters(case, RunOptions(date_window_days=7)) == {
        "date_from": "2026-02-19", "date_to": "2026-02-26",
    }


def test_evaluate_writes_reports_and_compares_with_a_baseline(
    settings: Settings, tmp_path: Path
) -> None:
    suite = tmp_path / "suite.jsonl"
    suite.write_text("\n".join(__import__("json").dumps(r) for r in SUITE[:3]) + "\n")
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text(
        '{"sentence": "Lava flowed toward the town.", "evidence": "Lava flowed toward the '
        'town of Grindavik.", "label": true}\n'
        '{"sentence": "Lava flowed away from the town.", "evidence": "The budget passed.", '
        '"label": false}\n'
    )
    first = evaluate(suite, settings, out_dir=tmp_path / "run1", judge=JUDGE,
                     support_pairs=pairs)
    assert (tmp_path / "run1" / "report.json").is_file()
    assert first["judge"]["agreement"]["n"] == 2
    assert first["settings"]["answerer"] == "grounded"

    abstaining = build_chain(settings.model_copy(update={"abstain_threshold": 0.99}))
    second = evaluate(suite, settings, out_dir=tmp_path / "run2", chain=abstaining,
                      judge=JUDGE, baseline=tmp_path / "run1" / "report.json",
                      support_pairs=None)
    baseline = second["baseline"]
    assert baseline["deltas"]["answer_accuracy"] == pytest.approx(-1.0)
    assert {w["id"] for w in baseline["worse"]} == {"evac", "vote", "follow"}
    assert all("answer: pass -> fail" in w["changes"] for w in baseline["worse"])
    assert baseline["better"] == []
    assert second["judge"]["agreement"] is None


def test_parts_are_summed_up_apart(settings: Settings, tmp_path: Path) -> None:
    split = {"tune": ["evac", "vote"], "validate": ["wrong"]}
    report = evaluate(cases(*SUITE[:4]), settings, split=split, support_pairs=None,
                      out_dir=tmp_path / "out")
    parts = report["splits"]
    assert set(parts) == {"tune", "validate"}
    assert parts["tune"]["n"] == 2 and parts["tune"]["answer_accuracy"] == 1.0
    assert parts["validate"]["n"] == 1 and parts["validate"]["answer_accuracy"] == 0.0
    assert "| metric | tune | validate |" in (tmp_path / "out" / "report.md").read_text()
    only = evaluate(cases(*SUITE[:4]), settings, split=split, part="validate",
                    support_pairs=None)
    assert [c["id"] for c in only["cases"]] == ["wrong"]
    assert only["splits"].keys() == {"validate"}
