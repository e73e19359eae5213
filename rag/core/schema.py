"""The data that crosses module boundaries: articles, passages, answers, summaries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field

#: A conversation turn: ("human" | "ai", text).
Turn = tuple[str, str]


@dataclass(frozen=True)
class Article:
    """One news article as read from a file, before splitting."""

    id: str
    title: str
    text: str
    source: str = ""
    date: str = ""  # ISO 8601 (YYYY-MM-DD) or empty when unknown
    url: str = ""
    origin: str = ""  # the file (and line) it came from
    author: str = ""


@dataclass(frozen=True)
class Passage:
    """A span of an article's text, the unit that is embedded and retrieved.

    ``id`` is ``<article id>:<digest>``; the index stores it as ``chunk_id`` metadata (a
    name kept so that existing indexes and JSON outputs stay readable)."""

    id: str
    article_id: str
    position: int  # 0-based index of the passage in its article
    start: int  # character offset into Article.text
    end: int
    text: str


@dataclass(frozen=True)
class StoredArticle:
    """An article as the index records it: its facts, hashes, passages and duplicates."""

    id: str
    title: str
    source: str
    date: str
    url: str
    origin: str
    content_hash: str
    text_hash: str
    minhash: str
    passage_ids: list[str]  # its passages' ids, in reading order (stored as chunk_ids)
    duplicate_of: str  # the stored article whose text this one repeats ("" when none)
    also_published_at: list[str]  # URLs of the same text elsewhere
    duplicate_ids: list[str]  # articles whose text this record stands for
    # Other versions of the story: near copies that differ in a fact (see dedup.py).
    versions: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RetrievedPassage:
    """A passage as the store hands it to retrieval: its text, where it lies in its
    article, the article's facts, and its vector. Stored metadata is decoded once, by the
    store; ``extra`` carries any other stored field through unchanged."""

    id: str
    article_id: str
    text: str = ""
    title: str = ""
    source: str = ""
    date: str = ""  # ISO 8601 or empty
    date_int: int = 0  # YYYYMMDD, 0 when unknown
    url: str = ""
    position: int = 0
    start: int = -1  # offsets of the passage in the article text (-1: unknown)
    end: int = -1
    also_published_at: tuple[str, ...] = ()
    duplicate_ids: tuple[str, ...] = ()  # articles with the same text, stored once
    versions: tuple[str, ...] = ()  # other versions of the story (differ in a fact)
    vector: Any = None  # float32 numpy array, when fetched
    distance: float | None = None  # cosine distance to the query vector (nearest only)
    extra: dict[str, Any] = field(default_factory=dict)

    def metadata(self) -> dict[str, Any]:
        """The fields as LangChain ``Document`` metadata (lists for the id lists)."""
        return {
            **self.extra,
            "article_id": self.article_id,
            "chunk_id": self.id,
            "title": self.title,
            "source": self.source,
            "date": self.date,
            "date_int": self.date_int,
            "url": self.url,
            "position": self.position,
            "start": self.start,
            "end": self.end,
            "also_published_at": list(self.also_published_at),
            "duplicate_ids": list(self.duplicate_ids),
            "versions": list(self.versions),
        }


@dataclass(frozen=True)
class Problem:
    """A file (or line) that could not be ingested, and why, in one line."""

    origin: str
    message: str

    def __str__(self) -> str:
        return f"{self.origin}: {self.message}"


class Citation(BaseModel):
    """The [n] of an answer: which passage supports it, quoted verbatim."""

    id: int = Field(description="The n of [n] in the answer text.")
    article_id: str
    chunk_id: str
    title: str = ""
    source: str = ""
    date: str = ""
    url: str = ""
    quote: str = Field(description="The supporting sentence(s), verbatim from the article.")
    supported: bool = True
    passage: str = Field("", description="The whole passage the quote lies in.")
    quote_start: int = Field(-1, description="Offset of the quote in the article text.")
    quote_end: int = -1


class AnswerSentence(BaseModel):
    """One sentence of an answer with the citations it carries and its support verdict."""

    text: str
    citation_ids: list[int] = Field(default_factory=list)
    supported: bool = True
    support_score: float | None = None
    planted: bool = Field(
        False,
        description="Supported only by text in the cited passage that gives orders to the "
        "model (a planted instruction), never by its reporting.",
    )
    outlets: list[str] = Field(
        default_factory=list, description="Outlet of each cited article ('' when unknown)."
    )
    dates: list[str] = Field(
        default_factory=list, description="Date of each cited article ('' when undated)."
    )


class DateWindow(BaseModel):
    """The days a question asks about, resolved from its words against its as-of date."""

    start: str = Field(description="First day, YYYY-MM-DD.")
    end: str = Field(description="Last day, YYYY-MM-DD (inclusive).")
    phrase: str = Field(description="The words of the question it was read from.")
    kind: str = Field(description="day, week, month, year, span or latest.")

    @property
    def explicit(self) -> bool:
        """A window the question names ("in March"), as opposed to "latest"."""
        return self.kind != "latest"


class Conflict(BaseModel):
    """Sources that give different values for the thing asked."""

    kind: str = Field(description="number, person, place, date, name or yes/no.")
    values: list[ConflictValue]


class ConflictValue(BaseModel):
    """One side of a conflict: a value and the citations (articles) that give it."""

    value: str
    citation_ids: list[int]
    outlets: list[str] = Field(default_factory=list)
    dates: list[str] = Field(default_factory=list)


class Corroboration(BaseModel):
    """How many distinct outlets support the answer's main claim."""

    outlets: list[str] = Field(default_factory=list)
    citation_ids: list[int] = Field(default_factory=list)
    claim: str = ""

    @property
    def count(self) -> int:
        return len(self.outlets)


class ShortAnswer(BaseModel):
    """The answer in a few words ("Belgium", "43 days"), voted across the passages read."""

    text: str
    type: str = Field(description="person, organisation, country, city, place, entity, "
                      "count, money, percent, duration, quantity, date or title.")
    confidence: float = Field(ge=0.0, le=1.0)
    citation_ids: list[int] = Field(
        default_factory=list, description="The [n] of the cited passages that state it."
    )
    outlets: int = Field(1, description="How many outlets (sources) carry it.")


class Answer(BaseModel):
    """What the chain returns for one question."""

    question: str
    standalone_question: str
    answer: str = Field(description="Answer text with [n] citation markers.")
    citations: list[Citation] = Field(default_factory=list)
    sentences: list[AnswerSentence] = Field(default_factory=list)
    abstained: bool = False
    short_answer: ShortAnswer | None = Field(
        None, description="The typed short answer when confident; null otherwise."
    )
    answerer: str = "grounded"
    evidence: dict[str, float] = Field(
        default_factory=dict,
        description="What the grounded answerer weighed before answering or abstaining "
        "(its best sentence's score and parts, the gap to the next, coverage, types); "
        "empty for other answerers.",
    )
    timings_ms: dict[str, float] = Field(default_factory=dict)
    as_of: str = Field("", description="The day the question was asked as of, YYYY-MM-DD.")
    window: DateWindow | None = Field(
        None, description="The days the question's temporal words resolved to."
    )
    search_query: str = Field(
        "", description="What retrieval searched for (the standalone question, no window)."
    )
    staleness: str = Field(
        "", description="'Newest source: ...' when the sources are older than the setting."
    )
    conflicts: list[Conflict] = Field(default_factory=list)
    corroboration: Corroboration | None = None

    @property
    def unsupported(self) -> list[AnswerSentence]:
        return [s for s in self.sentences if not s.supported]

    @property
    def planted(self) -> list[AnswerSentence]:
        """Sentences that repeat an instruction planted in a cited article."""
        return [s for s in self.sentences if s.planted]


Conflict.model_rebuild()


@dataclass
class IngestSummary:
    """What one ingestion run did; the CLI prints it, Python callers get it back."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    duplicates: int = 0
    passages_written: int = 0
    passages_embedded: int = 0
    problems: list[Problem] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "duplicates": self.duplicates,
            "passages_written": self.passages_written,
            "passages_embedded": self.passages_embedded,
            "problems": [str(p) for p in self.problems],
            "seconds": round(self.seconds, 3),
        }
