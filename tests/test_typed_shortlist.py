"""The sentences the grounded answerer weighs: for a question wanting a span of a type
("Which country ...?"), sentences holding such a span are weighed even when they share
no word with the question. RealTime QA tune: in 12 of the 27 questions whose gold answer
was in the passages read but not in the answer, no sentence holding it was ever weighed
(the shortlist kept the sentences that echo the question's words)."""

from __future__ import annotations

from langchain_core.documents import Document

from rag.answering import grounded
from rag.answering.grounded import GroundedAnswerer
from rag.indexing.embeddings import HashingEmbeddings

PASSAGE = Document(
    page_content=(
        "The worst flooding this year came after weeks of heavy rain. "
        "Rivers rose quickly across the delta overnight. "
        "Schools and markets stayed closed for days. "
        "Most of the damage was reported in Bangladesh, officials said. "
        "Aid groups asked for donations."
    ),
    id="c1", metadata={"article_id": "a1", "chunk_id": "c1", "title": "t", "source": "s"},
)
QUESTION = "Which country suffered the worst flooding this year?"


def _weighed(answerer: GroundedAnswerer, question: str = QUESTION) -> list[str]:
    """The sentences ``answerer`` weighed (embedded and scored) for ``question``."""
    kept: list[list[grounded._Sentence]] = []
    real = grounded._candidates

    def spy(passages):  # type: ignore[no-untyped-def]
        found = real(passages)
        kept.append(found)
        return found

    grounded._candidates = spy
    try:
        answerer.choose(question, [PASSAGE])
    finally:
        grounded._candidates = real
    return [s.text for s in kept[0] if s.shortlisted]


def test_a_sentence_holding_the_asked_type_is_weighed_without_shared_words() -> None:
    weighed = _weighed(GroundedAnswerer(HashingEmbeddings(), candidates=1, typed_candidates=4))
    assert "Most of the damage was reported in Bangladesh, officials said." in weighed
    assert weighed[0].startswith("The worst flooding")  # the word-sharing one stays


def test_none_added_when_turned_off_or_when_no_type_is_asked() -> None:
    off = _weighed(GroundedAnswerer(HashingEmbeddings(), candidates=1, typed_candidates=0))
    assert not any("Bangladesh" in s for s in off)
    why = _weighed(GroundedAnswerer(HashingEmbeddings(), candidates=1, typed_candidates=4),
                   "Why was the flooding this year so bad?")
    assert not any("Bangladesh" in s for s in why)


def test_typed_candidates_is_validated() -> None:
    import pytest

    with pytest.raises(ValueError, match="typed_candidates"):
        GroundedAnswerer(HashingEmbeddings(), typed_candidates=-1)
