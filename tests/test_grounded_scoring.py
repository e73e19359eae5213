"""The grounded answerer's word-overlap score: coverage of the question's terms plus a
bonus for question-term pairs that stay adjacent in the sentence."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from rag.answering.grounded import _overlaps, _term_match, _term_weights
from rag.core.text import content_terms


def _reference(question: list[str], sentence: list[str]) -> float:
    """The definition, written the slow and obvious way."""
    unique = list(dict.fromkeys(question))
    coverage = sum(any(_term_match(q, t) for t in sentence) for q in unique) / len(unique)
    pairs = list(itertools.pairwise(question))
    if not pairs:
        return coverage
    adjacent = sum(
        any(_term_match(a, x) and _term_match(b, y) for x, y in itertools.pairwise(sentence))
        for a, b in pairs
    )
    return 0.75 * coverage + 0.25 * adjacent / len(pairs)


def test_adjacent_words_beat_scattered_ones() -> None:
    question = content_terms("Who is Iran's president?")
    together, scattered, unrelated = _overlaps(question, [
        content_terms("Iranian President Masoud Pezeshkian met Putin."),
        content_terms("The president of the club flew to Iran."),
        content_terms("The weather was fine."),
    ])
    assert together == 1.0
    assert 0.5 < scattered < together
    assert unrelated == 0.0
    assert _overlaps([], [["iran"]]) == [0.0]


WORDS = st.sampled_from(["iran", "iranian", "russia", "russian", "putin", "meet", "met",
                         "ashgabat", "sale", "system", "s-400", "gulf"])


@given(st.lists(WORDS, min_size=1, max_size=6), st.lists(st.lists(WORDS, max_size=12),
                                                          max_size=5))
def test_matches_the_definition(question: list[str], sentences: list[list[str]]) -> None:
    assert _overlaps(question, sentences) == [_reference(question, s) for s in sentences]


def _reference_weights(question: list[str], sentences: list[list[str]]) -> dict[str, float]:
    """The idf over the sentences read, written the slow and obvious way."""
    import math

    n = len(sentences)
    out = {}
    for q in dict.fromkeys(question):
        df = sum(any(_term_match(q, t) for t in terms) for terms in sentences)
        out[q] = math.log(1.0 + (n + 0.5) / (max(1, df) + 0.5))
    return out


@given(st.lists(WORDS, min_size=1, max_size=6), st.lists(st.lists(WORDS, max_size=12),
                                                          max_size=8))
def test_term_weights_match_the_definition(
    question: list[str], sentences: list[list[str]]
) -> None:
    assert _term_weights(question, sentences) == _reference_weights(question, sentences)
