"""What makes an answer a news answer: the question's date, the window its temporal
words name, each cited sentence's outlet and date, and a note when the sources are old.

Applied by the chain to whatever answerer wrote the answer (grounded or LLM).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

from langchain_core.documents import Document

from rag.answering.base import Answerer, cite
from rag.core.dates import gap_words, parse_day, pretty_day, pretty_span
from rag.core.errors import BadQuestionError
from rag.core.schema import Answer, AnswerSentence, DateWindow
from rag.core.text import content_terms
from rag.indexing.splitting import sentence_spans
from rag.retrieval.hybrid import Filters, SearchEngine


def resolve_as_of(value: Any, today: dt.date | None = None) -> dt.date:
    """The question's as-of day: the given YYYY-MM-DD (or date), else today."""
    if value in (None, ""):
        return today or dt.date.today()
    day = parse_day(value) if isinstance(value, str | dt.date) else None
    if day is None:
        raise BadQuestionError(
            f"as_of {value!r} is not a date; give it as YYYY-MM-DD (e.g. 2026-02-27)"
        )
    return day


def window_filters(filters: Filters, window: DateWindow | None) -> Filters:
    """The user's filters narrowed to the window's days."""
    if window is None:
        return filters
    start = max(filters.date_from, window.start) if filters.date_from else window.start
    end = min(filters.date_to, window.end) if filters.date_to else window.end
    return dataclasses.replace(filters, date_from=start, date_to=end)


def search(
    engine: SearchEngine,
    query: str,
    k: int,
    filters: Filters,
    window: DateWindow | None,
    as_of: str,
    timings: dict[str, float] | None = None,
) -> list[Document]:
    """Retrieval for a question with (or without) a date window: kept to the window
    (``window_mode`` filter, and always for 'What happened this week?'; a 'latest' window
    that holds nothing falls back to all dates) or favouring it (boost)."""
    if window is None:
        return engine.search(query, k, filters, timings, as_of=as_of)
    if engine.settings.retrieval.window_mode == "boost" and not wants_digest(query):
        return engine.search(
            query, k, filters, timings, as_of=as_of, window=(window.start, window.end)
        )
    found = engine.search(query, k, window_filters(filters, window), timings, as_of=as_of)
    if not found and not window.explicit:
        found = engine.search(query, k, filters, timings, as_of=as_of)
    return found


def in_window(passages: Sequence[Document], window: DateWindow) -> bool:
    """Does any passage come from an article published in the window?"""
    return any(_dated_in(p, window) for p in passages)


def window_first(
    answerer: Answerer, question: str, passages: Sequence[Document], window: DateWindow,
    share: float = 0.9,
) -> list[Document]:
    """Boost mode reads articles of every date, the window's first. Asked about a named
    time ("in December", "this week"), the answer should come from that time's articles
    when they answer, even where another date's article matches the words a little
    better (a July rate decision for "What did the bank decide in December?"): the
    passages of the window alone when their answer scores at least ``share`` of the
    best from all passages, else all of them. Answerers that cannot score without
    writing (LLMs) read all passages, the window's first."""
    inside = [p for p in passages if _dated_in(p, window)]
    if not inside or len(inside) == len(passages) or not window.explicit:
        return list(passages)
    score = answerer.answer_score(question, inside)
    if not score:
        return list(passages)
    best = answerer.answer_score(question, passages) or score
    return inside if score >= share * best else list(passages)


def cites_window(answer: Answer, window: DateWindow) -> bool:
    """Does the answer cite an article published in the window?"""
    return any(_within(c.date, window) for c in answer.citations)


def _dated_in(passage: Document, window: DateWindow) -> bool:
    return _within(str(passage.metadata.get("date") or ""), window)


def _within(date: str, window: DateWindow) -> bool:
    """An ISO date inside the window (an undated article never is)."""
    return bool(date) and window.start <= date <= window.end


def off_window_note(window: DateWindow, answer: Answer | None = None) -> str:
    """Said when a favoured (boost mode) window's articles do not answer: none of the
    answer's sources is dated in it, or its first source is not (an article of the
    window only adds to one of another day)."""
    said = f"No article dated {pretty_span(window.start, window.end)} ({window.phrase}) "
    if answer is not None and cites_window(answer, window):
        return said + "answers this fully; the answer opens with another day's source."
    return said + "answers this; the sources are from other days."


def off_window(answer: Answer, passages: Sequence[Document], window: DateWindow) -> bool:
    """The answer does not come from the window: its first source is dated outside it
    (or, abstaining, no passage read is dated in it)."""
    if not answer.citations:
        return not in_window(passages, window)
    return not _within(answer.citations[0].date, window)


def describe_window(window: DateWindow) -> str:
    """'this week = 23–27 Feb 2026', as the standalone question states it."""
    return f"{window.phrase}: {pretty_span(window.start, window.end)}"


def outside_corpus(
    question: str, window: DateWindow, date_range: tuple[str, str] | None
) -> Answer:
    """The abstention for a window no indexed article falls in."""
    span = pretty_span(window.start, window.end)
    text = f"No indexed article is dated {span} ({window.phrase}), so I cannot answer that."
    if date_range is not None:
        first, last = (pretty_day(d) for d in date_range)
        text += f" The articles run from {first} to {last}."
    return Answer(question=question, standalone_question=question, answer=text, abstained=True)


def window_overlaps(window: DateWindow, date_range: tuple[str, str] | None) -> bool:
    if date_range is None:
        return True  # undated corpus: the filter decides
    return window.start <= date_range[1] and window.end >= date_range[0]


def attribute(answer: Answer) -> Answer:
    """Each sentence gets the outlet and date of every article it cites."""
    by_id = {c.id: c for c in answer.citations}
    sentences = []
    for sentence in answer.sentences:
        cited = [by_id[i] for i in sentence.citation_ids if i in by_id]
        sentences.append(
            sentence.model_copy(
                update={"outlets": [c.source for c in cited], "dates": [c.date for c in cited]}
            )
        )
    return answer.model_copy(update={"sentences": sentences})


def staleness_note(answer: Answer, as_of: dt.date, max_days: int) -> str:
    """'Newest source: 3 Jan 2026, 5 months before 12 Jun 2026.' or '' (fresh, undated,
    abstained, or the setting is 0)."""
    if max_days <= 0 or answer.abstained:
        return ""
    days = [d for d in (parse_day(c.date) for c in answer.citations) if d is not None]
    if not days:
        return ""
    newest = max(days)
    gap = (as_of - newest).days
    if gap <= max_days:
        return ""
    return (
        f"Newest source: {pretty_day(newest)}, {gap_words(gap)} before "
        f"{pretty_day(as_of)}."
    )


def cited_with_sources(answer: Answer) -> list[tuple[str, str]]:
    """(sentence text, 'Ledger Wire, 24 Feb 2026; ...') for each answer sentence."""
    rows = []
    for sentence in answer.sentences:
        labels = []
        for outlet, date in zip(sentence.outlets, sentence.dates, strict=False):
            label = ", ".join(x for x in (outlet, pretty_day(date) if date else "") if x)
            if label and label not in labels:
                labels.append(label)
        rows.append((sentence.text, "; ".join(labels)))
    return rows


def conflict_sentence(answer: Answer) -> str:
    """'Sources disagree: Ledger Wire [1] says Tampa; Courier Daily [3] says Glendale.'
    A value given by several outlets names them all ('Metro Post and Harbour Gazette
    [1][2] say Tampa'), so no number is put in the mouth of another outlet."""
    parts = []
    for conflict in answer.conflicts:
        sides = []
        for value in conflict.values:
            outlets = list(dict.fromkeys(o for o in value.outlets if o))
            names = (" and ".join([", ".join(outlets[:-1]), outlets[-1]])
                     if len(outlets) > 1 else "".join(outlets))
            marks = "".join(f"[{i}]" for i in value.citation_ids)
            who = f"{names} {marks}" if names else marks
            sides.append(f"{who} {'say' if len(outlets) > 1 else 'says'} {value.value}")
        parts.append("; ".join(sides))
    return f"Sources disagree: {' / '.join(parts)}." if parts else ""


# Words that ask for news in general, not about something: "What happened this week?"
_GENERIC = frozenset(
    content_terms(
        "happen happened happening news new latest going on events event stories story "
        "headlines headline update updates today week month year day"
    )
)


def wants_digest(question: str) -> bool:
    """True when the question names no subject, only a time ('What happened today?')."""
    return set(content_terms(question)) <= _GENERIC


def lead_passages(engine: SearchEngine, passages: Sequence[Document]) -> list[Document]:
    """The first passage of each retrieved article (in retrieval order): where a news
    article says what happened."""
    leads: list[Document] = []
    seen: set[str] = set()
    for passage in passages:
        article = str(passage.metadata.get("article_id", ""))
        if not article or article in seen:
            continue
        seen.add(article)
        if passage.metadata.get("position", 0) == 0:
            leads.append(passage)
            continue
        # Its passages' ids from the keyword index, not a metadata filter over every
        # passage (150-180 ms at a million passages).
        ids = list(engine.keyword().passages.passages_of([article]))
        stored = engine.index.passages_by_id(ids)
        first = min(stored, key=lambda p: p.position, default=None)
        leads.append(
            Document(page_content=first.text, metadata=first.metadata(), id=first.id)
            if first is not None else passage
        )
    return leads


def digest(question: str, passages: Sequence[Document], limit: int) -> Answer:
    """The lead sentence of each retrieved article, newest first, each cited: what
    'What happened this week?' asks for (retrieval has already kept to the window)."""
    seen: set[str] = set()
    leads: list[tuple[str, Document, int, int]] = []
    for passage in passages:
        article = str(passage.metadata.get("article_id", passage.id))
        spans = [
            (a, b) for a, b in sentence_spans(passage.page_content)
            if not passage.page_content[a:b].rstrip().endswith("?")
            and len(re.findall(r"[^\W\d_]{2,}", passage.page_content[a:b])) >= 6  # no datelines
        ]
        if article in seen or not spans:
            continue
        seen.add(article)
        start, end = spans[0]
        leads.append((str(passage.metadata.get("date", "")), passage, start, end))
        if len(leads) >= limit:
            break
    leads.sort(key=lambda lead: lead[0], reverse=True)
    citations = []
    sentences = []
    for number, (_, passage, start, end) in enumerate(leads, start=1):
        citations.append(cite(number, passage, start, end))
        text = passage.page_content[start:end].strip()
        sentences.append(AnswerSentence(text=text, citation_ids=[number]))
    answer = " ".join(f"{s.text} [{s.citation_ids[0]}]" for s in sentences)
    return Answer(
        question=question, standalone_question=question, answer=answer,
        citations=citations, sentences=sentences, abstained=not sentences,
        answerer="digest",
    )
