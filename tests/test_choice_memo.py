"""The grounded answerer keeps its last few choices (the chain weighs a date window's
passages before writing from them): a kept choice must never answer for passages that
differ, even only in their metadata."""

from __future__ import annotations

from langchain_core.documents import Document

from rag.answering.grounded import GroundedAnswerer
from rag.indexing.embeddings import HashingEmbeddings

TEXT = ("The harbour of Valencia reopened on Wednesday after the storm. "
        "Ferries to Mallorca were fully booked by evening.")
QUESTION = "When did the harbour of Valencia reopen?"


def _passage(source: str, date: str) -> Document:
    return Document(page_content=TEXT, metadata={
        "chunk_id": "a:1", "article_id": "a", "title": "Harbour", "source": source,
        "date": date, "start": 0})


def test_same_text_other_metadata_is_answered_anew() -> None:
    answerer = GroundedAnswerer(HashingEmbeddings())
    first = answerer.answer(QUESTION, [_passage("Ledger Wire", "2026-02-25")])
    again = answerer.answer(QUESTION, [_passage("Courier Daily", "2026-02-26")])
    assert not first.abstained and not again.abstained
    assert first.citations[0].source == "Ledger Wire"
    assert again.citations[0].source == "Courier Daily"
    assert again.citations[0].date == "2026-02-26"


def test_the_same_passages_are_chosen_once() -> None:
    answerer = GroundedAnswerer(HashingEmbeddings())
    passages = [_passage("Ledger Wire", "2026-02-25")]
    assert answerer.choose(QUESTION, passages) is answerer.choose(QUESTION, list(passages))
    for n in range(6):  # older choices make way for newer ones
        answerer.choose(f"{QUESTION} ({n})", passages)
    assert len(answerer._choices) <= 4
