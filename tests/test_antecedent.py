"""An answer sentence that opens with a pronoun ("It is the most endangered ...") brings
the sentence before it, which names what the pronoun stands for: quoted alone, the reader
cannot tell what "it" is (RealTime QA tune: "What is the most endangered marine mammal
species?" was answered "It is the most endangered of the world's 128 marine mammal
species ..." with "vaquita" in the sentence before).

Fast and deterministic: the hashing stand-in model, so the lexical part decides.
"""

from __future__ import annotations

from langchain_core.documents import Document

from rag.answering.grounded import GroundedAnswerer
from rag.core.schema import Answer
from rag.indexing.embeddings import HashingEmbeddings


def _passage(text: str, n: int = 1) -> Document:
    return Document(page_content=text, id=f"c{n}", metadata={
        "article_id": f"a{n}", "chunk_id": f"c{n}", "title": "t", "source": "s"})


def _answer(question: str, passages: list[Document]) -> Answer:
    writing = GroundedAnswerer(HashingEmbeddings(), abstain_threshold=0.0).write(
        question, passages)
    try:
        while True:
            next(writing)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


def _quoted(answer: Answer) -> list[str]:
    return [c.quote for c in answer.citations]


def test_a_pronoun_sentence_brings_the_sentence_naming_its_subject() -> None:
    passage = _passage(
        "Zoo visitors donated money for conservation work in Mexico last spring. "
        "Vaquitas are small porpoises that live only in the upper Gulf of California. "
        "It is the most endangered marine mammal species in the world, with ten left. "
        "Fishing nets are the main threat."
    )
    answer = _answer("What is the most endangered marine mammal species in the world?",
                     [passage])
    quotes = _quoted(answer)
    assert any(q.startswith("It is the most endangered") for q in quotes)
    assert any(q.startswith("Vaquitas are small porpoises") for q in quotes)
    # article order: the antecedent is read before the sentence that refers to it
    assert answer.answer.index("Vaquitas") < answer.answer.index("It is the most")


def test_they_is_resolved_and_the_antecedent_shares_no_word_with_the_question() -> None:
    passage = _passage(
        "Rain fell across the north. "
        "Thousands of farmers from the Punjab arrived on tractors on Monday. "
        "They blocked highways around the capital for three days to oppose grain prices."
    )
    answer = _answer("What happened on the highways around the capital?", [passage])
    assert "farmers from the Punjab" in answer.answer
    assert "Rain fell" not in answer.answer


def test_a_sentence_that_names_its_subject_stands_alone() -> None:
    passage = _passage(
        "Zoo visitors donated money for conservation work in Mexico last spring. "
        "The vaquita is the most endangered marine mammal species in the world, with ten left."
    )
    answer = _answer("What is the most endangered marine mammal species in the world?",
                     [passage])
    assert _quoted(answer) == [
        "The vaquita is the most endangered marine mammal species in the world, with ten left."
    ]


def test_a_pronoun_opening_a_passage_brings_nothing_from_another_passage() -> None:
    first = _passage("Vaquitas are small porpoises of the Gulf of California.", 1)
    second = _passage(
        "It is the most endangered marine mammal species in the world, with ten left.", 2)
    answer = _answer("What is the most endangered marine mammal species in the world?",
                     [second, first])
    assert answer.citations[0].quote.startswith("It is the most endangered")
    assert all(c.chunk_id == "c2" or c.quote.startswith("Vaquitas") for c in answer.citations)
