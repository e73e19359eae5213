"""Conflicts need the same story from other outlets (written after RealTime QA showed
false alarms from one outlet's articles about other weeks' events)."""

from __future__ import annotations

from langchain_core.documents import Document

from rag.answering.agreement import check
from rag.answering.base import cite
from rag.core.schema import Answer, AnswerSentence


def _doc(article_id: str, text: str, outlet: str, date: str) -> Document:
    return Document(page_content=text, id=f"{article_id}:p0", metadata={
        "article_id": article_id, "chunk_id": f"{article_id}:p0", "title": article_id,
        "source": outlet, "date": date})


def _answered(question: str, first: Document) -> Answer:
    citation = cite(1, first, 0, len(first.page_content))
    return Answer(question=question, standalone_question=question,
                  answer=f"{first.page_content} [1]", citations=[citation],
                  sentences=[AnswerSentence(text=first.page_content, citation_ids=[1])])


def _conflicts(question: str, first: Document, other: Document) -> list[set[str]]:
    answer = check(question, _answered(question, first), [first, other])
    return [{v.value for v in c.values} for c in answer.conflicts]


Q = "Where will the climate summit be held?"
TAMPA = "The next climate summit will be held in Tampa, the organisers said."
GLENDALE = "The next climate summit will be held in Glendale, the organisers said."


def test_other_outlets_days_apart_disagree() -> None:
    assert _conflicts(Q, _doc("a", TAMPA, "Ledger Wire", "2026-03-02"),
                      _doc("b", GLENDALE, "Courier Daily", "2026-03-06")) == [
        {"Tampa", "Glendale"}]


def test_undated_articles_without_outlets_can_disagree() -> None:
    assert _conflicts(Q, _doc("a", TAMPA, "", ""), _doc("b", GLENDALE, "", "")) == [
        {"Tampa", "Glendale"}]


def test_one_outlets_later_article_is_no_second_source() -> None:
    assert _conflicts(Q, _doc("a", TAMPA, "usatoday.com", "2026-03-02"),
                      _doc("b", GLENDALE, "USAToday.com", "2026-03-04")) == []


def test_reports_far_apart_in_time_are_other_stories() -> None:
    assert _conflicts(Q, _doc("a", TAMPA, "Ledger Wire", "2026-03-02"),
                      _doc("b", GLENDALE, "Courier Daily", "2025-01-10")) == []


def test_two_names_for_one_thing_agree() -> None:
    question = "Which country did the president visit on his state trip?"
    first = _doc("a", "The president visited the United Kingdom on his state trip.",
                 "Ledger Wire", "2026-03-02")
    other = _doc("b", "The president visited the UK on his state trip, aides said.",
                 "Courier Daily", "2026-03-03")
    assert _conflicts(question, first, other) == []
    question = "Which agency opened the investigation into the recall?"
    first = _doc("a", "The National Highway Traffic Safety Administration opened the "
                 "investigation into the recall.", "Ledger Wire", "2026-03-02")
    other = _doc("b", "NHTSA opened the investigation into the recall on Friday.",
                 "Courier Daily", "2026-03-03")
    assert _conflicts(question, first, other) == []


def test_a_capital_opening_a_sentence_is_no_value() -> None:
    question = "Who won the mayoral race in Springfield?"
    first = _doc("a", "Maria Lopez won the mayoral race in Springfield, officials said.",
                 "Ledger Wire", "2026-03-02")
    other = _doc("b", "Gussied up supporters cheered as the mayoral race in Springfield "
                 "was called.", "Courier Daily", "2026-03-03")
    assert _conflicts(question, first, other) == []
