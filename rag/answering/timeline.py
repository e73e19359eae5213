"""A story over time: the articles matching a query, their key sentences in date order,
grouped by day, each cited.

``build_timeline(settings).invoke({"query": ..., "as_of": ..., "date_from": ...,
"date_to": ..., "k": ...})`` returns a :class:`Timeline`. Retrieval is the chain's
hybrid search without the recency preference (a timeline wants the whole story), kept to
articles published by the as-of day. Each article contributes the sentence of its best
passage closest to the query; other versions of the same story (``versions`` links) and
sentences that disagree with another outlet on a number, name, place or date are marked.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
from langchain_core.documents import Document
from langchain_core.runnables import Runnable, RunnableConfig
from pydantic import BaseModel, Field

from rag.answering import news
from rag.answering.base import cite
from rag.core.errors import BadQuestionError
from rag.core.schema import Citation
from rag.core.settings import Settings
from rag.indexing.splitting import sentence_spans
from rag.retrieval.hybrid import Filters, SearchEngine

#: Articles a timeline shows by default.
DEFAULT_ENTRIES = 12
#: An article's key sentence must be this close to the query, relative to the closest.
RELEVANCE = 0.6


class TimelineEntry(BaseModel):
    """One article's key sentence on its day."""

    date: str = Field(description="Publication day, YYYY-MM-DD ('' when undated).")
    outlet: str = ""
    title: str = ""
    article_id: str
    sentence: str
    citation: Citation
    score: float = Field(0.0, description="Closeness of the sentence to the query (cosine).")
    versions: list[str] = Field(
        default_factory=list, description="Ids of other versions of this story in the index."
    )
    conflicts_with: list[int] = Field(
        default_factory=list, description="Citation ids of entries that disagree with it."
    )


class TimelineDay(BaseModel):
    date: str
    entries: list[TimelineEntry]


class Timeline(BaseModel):
    """What ``build_timeline(...).invoke`` returns."""

    query: str
    as_of: str
    date_from: str = ""
    date_to: str = ""
    days: list[TimelineDay] = Field(default_factory=list)

    @property
    def entries(self) -> list[TimelineEntry]:
        return [e for day in self.days for e in day.entries]


class TimelineChain(Runnable[dict[str, Any], Timeline]):
    """Runnable[dict, Timeline]; see the module docstring for the input keys."""

    def __init__(self, settings: Settings, engine: SearchEngine) -> None:
        self.settings = settings
        self.engine = engine

    @property
    def InputType(self) -> type:
        return dict

    @property
    def OutputType(self) -> type[Timeline]:
        return Timeline

    def invoke(
        self, input: dict[str, Any] | str, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Timeline:
        inputs: dict[str, Any] = {"query": input} if isinstance(input, str) else dict(input)
        query = " ".join(str(inputs.get("query") or "").split())
        if not any(ch.isalnum() for ch in query):
            raise BadQuestionError("the timeline needs a query; name the story, e.g. 'port strike'")
        day = news.resolve_as_of(inputs.get("as_of"))
        limit = int(inputs.get("k") or DEFAULT_ENTRIES)
        if not 1 <= limit <= 100:
            raise BadQuestionError(f"k must be between 1 and 100, got {limit}")
        given: dict[str, Any] = dict(inputs.get("filters") or {})
        filters = Filters.from_mapping(
            {
                **given,
                "date_from": inputs.get("date_from") or None,
                "date_to": inputs.get("date_to") or None,
            }
        )
        cap = day.isoformat()  # nothing published after the as-of day
        if not filters.date_to or filters.date_to > cap:
            filters = dataclasses.replace(filters, date_to=cap)
        passages = self.engine.search(query, limit * 3, filters)
        entries = self._entries(query, passages, limit)
        mark_versions(entries, self.engine)
        mark_conflicts(entries)
        return Timeline(
            query=query, as_of=cap, date_from=filters.date_from, date_to=filters.date_to,
            days=group_by_day(entries),
        )

    def _entries(
        self, query: str, passages: Sequence[Document], limit: int
    ) -> list[TimelineEntry]:
        """The best passage of each article (in rank order), its sentence closest to the
        query; the top ``limit`` articles."""
        best: dict[str, Document] = {}
        for passage in passages:
            article = str(passage.metadata.get("article_id", passage.id))
            best.setdefault(article, passage)
        chosen = list(best.values())[:limit]
        candidates: list[tuple[Document, int, int]] = []
        for passage in chosen:
            for start, end in sentence_spans(passage.page_content):
                candidates.append((passage, start, end))
        if not candidates:
            return []
        q_vector = self.engine.query_vector(query)
        vectors = np.asarray(
            self.engine.embeddings.embed_documents(
                [p.page_content[s:e] for p, s, e in candidates]
            ),
            dtype=np.float32,
        )
        scores = vectors @ q_vector
        top: dict[str, tuple[float, Document, int, int]] = {}
        for (passage, start, end), score in zip(candidates, scores, strict=True):
            article = str(passage.metadata.get("article_id", passage.id))
            if article not in top or float(score) > top[article][0]:
                top[article] = (float(score), passage, start, end)
        # Articles retrieved only for a shared word ("port" in a ferry story) have no
        # sentence near the query: keep those within RELEVANCE of the closest one.
        best_score = max(t[0] for t in top.values())
        kept = [t for t in top.values() if t[0] >= RELEVANCE * best_score]
        ordered = sorted(kept, key=lambda t: (str(t[1].metadata.get("date") or "9"),))
        entries = []
        for number, (score, passage, start, end) in enumerate(ordered, start=1):
            meta = passage.metadata
            entries.append(
                TimelineEntry(
                    date=str(meta.get("date") or ""), outlet=str(meta.get("source") or ""),
                    title=str(meta.get("title") or ""),
                    article_id=str(meta.get("article_id", "")),
                    sentence=passage.page_content[start:end].strip(),
                    citation=cite(number, passage, start, end), score=round(score, 4),
                )
            )
        return entries


def group_by_day(entries: Sequence[TimelineEntry]) -> list[TimelineDay]:
    """Entries by publication day, oldest first; undated ones last."""
    days: dict[str, list[TimelineEntry]] = {}
    for entry in entries:
        days.setdefault(entry.date, []).append(entry)
    order = sorted(days, key=lambda d: (d == "", d))
    return [TimelineDay(date=d, entries=days[d]) for d in order]


def mark_versions(entries: Sequence[TimelineEntry], engine: SearchEngine) -> None:
    """Entries whose article the index links to other versions of the same story."""
    records = engine.index.records()
    for entry in entries:
        record = records.get(entry.article_id)
        linked = getattr(record, "versions", None) or []
        entry.versions = [str(v) for v in linked]
    by_article = {e.article_id: e for e in entries}
    for entry in entries:
        for other_id in entry.versions:
            other = by_article.get(other_id)
            if other is not None and other.sentence == entry.sentence:
                _show_difference(entry, other)
                _show_difference(other, entry)


def _show_difference(entry: TimelineEntry, other: TimelineEntry) -> None:
    """Two versions with the same key sentence: show each one's first sentence the other
    lacks (where the fact they differ in is)."""
    passage = entry.citation.passage
    for start, end in sentence_spans(passage):
        sentence = passage[start:end].strip()
        if sentence and sentence not in other.citation.passage:
            offset = entry.citation.quote_start - passage.find(entry.citation.quote)
            entry.sentence = sentence
            entry.citation = entry.citation.model_copy(
                update={
                    "quote": passage[start:end],
                    "quote_start": offset + start if entry.citation.quote_start >= 0 else -1,
                    "quote_end": offset + end if entry.citation.quote_start >= 0 else -1,
                }
            )
            return


def mark_conflicts(entries: Sequence[TimelineEntry]) -> None:
    """Entries whose sentences disagree about the same thing (rag.answering.agreement)."""
    from rag.answering.agreement import conflicting_pairs

    for a, b in conflicting_pairs([(e.citation.id, e.sentence, e.outlet) for e in entries]):
        first = next(e for e in entries if e.citation.id == a)
        second = next(e for e in entries if e.citation.id == b)
        first.conflicts_with.append(b)
        second.conflicts_with.append(a)


def build_timeline(settings: Settings, *, engine: SearchEngine | None = None) -> TimelineChain:
    """The timeline for these settings; pass ``engine`` to share a loaded model and index."""
    return TimelineChain(settings, engine or SearchEngine(settings))
