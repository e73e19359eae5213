"""Hybrid retrieval: dense (Chroma) + BM25 (tantivy), fused by weighted reciprocal rank,
then MMR so the passages handed to the answerer are not near-copies of each other.

Each stage can be switched off in Settings (``use_dense``, ``use_bm25``, ``use_mmr``) so
its gain is measurable. ``HybridRetriever`` is a LangChain ``BaseRetriever``.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, field_validator

from rag.core.errors import FilterError, RagError
from rag.core.runtime import elapsed_ms
from rag.core.schema import RetrievedPassage
from rag.core.settings import Settings
from rag.core.store import PassageStore
from rag.indexing.embeddings import PassageEmbeddings, make_embeddings
from rag.indexing.health import check_index, record_written
from rag.indexing.ingest import keyword_dir
from rag.indexing.keyword import (
    KeywordCacheError,
    KeywordFilter,
    KeywordIndex,
    KeywordIndexes,
    KeywordStore,
    LogPosition,
    build_in_memory,
)
from rag.indexing.loaders import normalise_date
from rag.indexing.store import ArticleIndex, date_number, free_replaced_handles

# How often a reader asks Chroma whether another process changed the index: new
# articles are searchable this long (plus the update of the keyword index) after an
# ingest ends.
_REVISION_CHECK_S = 2.0
#: The most passages one search returns (the chain's bound on ``k`` too): MMR compares
#: every chosen passage with every candidate, so an unbounded k ran for minutes.
MAX_K = 100


def check_k(k: Any) -> int | None:
    """``k`` as a positive int up to MAX_K (None: the settings' top_k); else ValueError."""
    if k is None:
        return None
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
        raise ValueError(f"k must be a whole number from 1 to {MAX_K}, got {k!r}")
    return k


def _strings(name: str, value: Any) -> tuple[str, ...]:
    """A filter that names outlets or articles: one string or a list of strings."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,) if value.strip() else ()
    if isinstance(value, (list, tuple, set, frozenset)) and all(
        isinstance(v, str) for v in value
    ):
        return tuple(v for v in value if v.strip())
    raise ValueError(
        f"filter {name!r} must be a string or a list of strings, got {value!r}; "
        f'e.g. {{"{name}": ["{"Reuters" if name == "sources" else "article-id"}"]}}'
    )


def _date(name: str, value: Any) -> str:
    """A filter date: YYYY-MM-DD text or a date; empty means no bound."""
    import datetime as dt

    if value is None or value == "":
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()[:10]
    if not isinstance(value, str):
        raise ValueError(f"filter {name!r} must be a YYYY-MM-DD date, got {value!r}")
    return normalise_date(value.strip(), f"filter {name!r}")


@dataclass(frozen=True)
class Filters:
    """Metadata filters: outlets, an inclusive ISO date range, article ids."""

    sources: tuple[str, ...] = ()
    date_from: str = ""
    date_to: str = ""
    article_ids: tuple[str, ...] = ()

    @classmethod
    def from_mapping(cls, raw: dict[str, Any] | Filters | None) -> Filters:
        if raw is None:
            return cls()
        if isinstance(raw, Filters):
            return raw
        unknown = set(raw) - {"sources", "date_from", "date_to", "article_ids"}
        if unknown:
            raise ValueError(
                f"unknown filter(s) {sorted(unknown)}; use sources, date_from, date_to, "
                "article_ids"
            )

        if not isinstance(raw, dict):
            raise ValueError(
                f"filters must be a mapping such as {{\"sources\": [\"Reuters\"]}}, got "
                f"{type(raw).__name__}"
            )
        date_from = _date("date_from", raw.get("date_from"))
        date_to = _date("date_to", raw.get("date_to"))
        if date_from and date_to and date_from > date_to:
            raise ValueError(
                f"filter date_from {date_from} is after date_to {date_to}; swap them"
            )
        return cls(
            sources=_strings("sources", raw.get("sources")),
            date_from=date_from,
            date_to=date_to,
            article_ids=_strings("article_ids", raw.get("article_ids")),
        )

    @property
    def empty(self) -> bool:
        return not (self.sources or self.date_from or self.date_to or self.article_ids)

    def chroma_where(self) -> dict[str, Any] | None:
        clauses: list[dict[str, Any]] = []
        if self.sources:
            clauses.append({"source": {"$in": list(self.sources)}})
        if self.article_ids:
            clauses.append({"article_id": {"$in": list(self.article_ids)}})
        if self.date_from:
            clauses.append({"date_int": {"$gte": date_number(self.date_from)}})
        if self.date_to:
            clauses.append({"date_int": {"$lte": date_number(self.date_to)}})
            clauses.append({"date_int": {"$gt": 0}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def keyword_filter(self) -> KeywordFilter:
        return KeywordFilter(
            sources=self.sources,
            article_ids=self.article_ids,
            date_from=date_number(self.date_from),
            date_to=date_number(self.date_to),
        )


@dataclass(frozen=True)
class Library:
    """What filters can select from: every outlet, article id and the span of dates."""

    sources: frozenset[str]
    article_ids: frozenset[str]
    dates: tuple[str, str] | None

    def refusal(self, filters: Filters) -> str:
        """Why no article passes ``filters`` (empty when some may)."""
        unknown = [s for s in filters.sources if s not in self.sources]
        if unknown:
            return _unknown("outlet", unknown, self.sources, "--source")
        missing = [a for a in filters.article_ids if a not in self.article_ids]
        if missing:
            return _unknown("article id", missing, self.article_ids, "--article-id")
        if filters.date_from or filters.date_to:
            wanted = f"{filters.date_from or 'any date'} to {filters.date_to or 'any date'}"
            if self.dates is None:
                return (f"no indexed article carries a date, so none falls in {wanted}; "
                        "clear the date filter")
            first, last = self.dates
            if (filters.date_from or first) > last or (filters.date_to or last) < first:
                return (f"no indexed article is dated {wanted}: the articles run from {first} "
                        f"to {last}; choose dates in that span or clear the date filter")
        return ""


def _unknown(kind: str, asked: list[str], known: frozenset[str], option: str) -> str:
    import difflib

    names = ", ".join(repr(a) for a in asked)
    hints: list[str] = []
    for name in asked:
        folded = {k.casefold(): k for k in known}
        close = folded.get(name.casefold()) or next(
            iter(difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)), None
        )
        if close:
            hints.append(repr(close))
    if hints:
        return f"no indexed article has the {kind} {names}; did you mean {', '.join(hints)}?"
    listed = ", ".join(repr(k) for k in sorted(known)[:10])
    more = f" and {len(known) - 10} more" if len(known) > 10 else ""
    return (f"no indexed article has the {kind} {names}; the library has {listed}{more} "
            f"(check {option} or the filter)")


@dataclass
class _Candidate:
    passage_id: str
    passage: RetrievedPassage | None = None  # fetched for those that reach the pool
    vector: np.ndarray | None = None
    dense: float | None = None  # cosine similarity to the question
    bm25: float | None = None
    fused: float = 0.0
    article_id: str = ""
    date_int: int = 0


class SearchEngine:
    """Owns the index handles; shared by retrievers and chains, safe across threads."""

    def __init__(
        self,
        settings: Settings,
        embeddings: PassageEmbeddings | None = None,
        store: PassageStore | None = None,
    ) -> None:
        self.settings = settings
        self.embeddings = embeddings or make_embeddings(settings)
        # True once the vector files passed the check and until this process's Chroma
        # has answered from them (see _record_loaded).
        self._loaded_unrecorded = False
        if store is None:
            check_index(settings)  # damaged vector files crash Chroma: say so instead
            self._loaded_unrecorded = True
        #: The store searched: the Chroma index of ``settings`` unless one is injected.
        self.index: PassageStore = store or ArticleIndex(settings, self.embeddings, create=False)
        self._keyword: KeywordIndexes | None = None
        self._keyword_lock = threading.Lock()
        self._checked_at = 0.0
        self._position = self.index.log_position()
        self._query_vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._vector_lock = threading.Lock()
        self._library: tuple[tuple[str, int], Library] | None = None

    def warm_up(self) -> None:
        self.embeddings.warm_up()
        self.keyword()
        self.library()  # the article records (a copy followed by the change log)
        self.embeddings.embed_query("warm up")
        self.load_vectors()

    def load_vectors(self) -> None:
        """The vectors load now, not in the first question (2.7 s at 1M passages)."""
        load = getattr(self.index, "load_vectors", None)
        if load is not None:  # an injected store may load nothing ahead
            load()
            self._record_loaded()

    def _record_loaded(self) -> None:
        """Reading the index applies Chroma's write log and may rewrite its HNSW files:
        Chroma's own output from files that were checked (or that their writer
        recorded), just read without error. Recorded as checked, else the next start or
        ingest read every vector again (54 s at 1M passages, after every ingest that a
        running reader followed, and after every start of a reader)."""
        if self._loaded_unrecorded:
            record_written(self.settings)
            self._loaded_unrecorded = False

    def query_vector(self, text: str) -> np.ndarray:
        """The question's embedding, remembered for the answerer that scores sentences
        against the same question right after retrieval."""
        with self._vector_lock:
            cached = self._query_vectors.get(text)
            if cached is not None:
                self._query_vectors.move_to_end(text)
                return cached
        vector = np.asarray(self.embeddings.embed_query(text), dtype=np.float32)
        with self._vector_lock:
            self._query_vectors[text] = vector
            while len(self._query_vectors) > 256:
                self._query_vectors.popitem(last=False)
        return vector

    def library(self) -> Library:
        """The outlets, article ids and dates of the indexed articles (per committed
        change-log position)."""
        self.follow()  # the handles and position as of now (another process may write)
        position = self._position
        cached = self._library
        if cached is not None and cached[0] == position:
            return cached[1]
        facts = self.index.record_facts()
        dates = sorted(date for _, _, date in facts if date)
        found = Library(
            sources=frozenset(source for _, source, _ in facts if source),
            article_ids=frozenset(article_id for article_id, _, _ in facts),
            dates=(dates[0], dates[-1]) if dates else None,
        )
        self._library = (position, found)
        return found

    def date_range(self) -> tuple[str, str] | None:
        """(first, last) publication day of the indexed articles; None when undated."""
        return self.library().dates

    def check_filters(self, filters: Filters) -> None:
        """Refuse filters that no indexed article can pass, saying what the library holds:
        a filter is applied or refused, never silently turned into "the articles don't say"
        (nor dropped). No filters: nothing to check, and the library (every article
        record: 14.6 s of a cold `rag ask` at a million passages) is not read."""
        if filters.empty:
            return
        problem = self.library().refusal(filters)
        if problem:
            raise FilterError(problem)

    def keyword(self) -> KeywordIndexes:
        """The keyword indexes, following other processes' ingests and rebuilds."""
        self.follow()
        if self._keyword is None:
            with self._keyword_lock:
                self._follow_keyword()
        assert self._keyword is not None
        return self._keyword

    def follow(self) -> None:
        """Follow other processes' ingests and rebuilds, at most every
        ``_REVISION_CHECK_S`` seconds: when the committed change-log position moved
        (an ingest finished; a rebuild starts a new generation), the Chroma handles are
        reopened (a rebuild replaced the collections; an embedded reader's vector index
        must be reloaded to see another process's writes), and a keyword folder in use
        is brought to Chroma's change log in place. An ingest still writing moves the
        revision but not the committed position: nothing is reloaded for it (at a
        million passages each reload of the vectors is 1.7 GB read and held twice)."""
        if time.monotonic() - self._checked_at < _REVISION_CHECK_S:
            return
        with self._keyword_lock:
            if time.monotonic() - self._checked_at < _REVISION_CHECK_S:
                return
            position = self.index.log_position()
            if position != self._position or self.index.replaced():
                # A rebuild replaced the collections, or (embedded) another process
                # wrote vectors this process's Chroma does not see until reloaded.
                self.index = self.index.reopened()
                free_replaced_handles()  # the old vectors go before the new ones load
                self._position = position
                self._loaded_unrecorded = self._loaded_unrecorded or isinstance(
                    self.index, ArticleIndex)
            if self._keyword is not None:
                self._follow_keyword()
            self._checked_at = time.monotonic()

    def _follow_keyword(self) -> None:
        generation, seq = self.index.log_position()
        head = LogPosition(generation, seq)
        if self._keyword is not None and self._keyword.position == head.key:
            return
        store = KeywordStore(keyword_dir(self.settings))
        try:
            if store.position() != head.key:
                # Another process already doing it: serve what we have meanwhile.
                store.sync(self.index, head, wait=self._keyword is None)
            self._keyword = (
                store.open() if self._keyword is None else store.refresh(self._keyword)
            )
        except KeywordCacheError:
            store.sync(self.index, head, wait=True, verify=True)
            self._keyword = store.open()
        except OSError:
            if self._keyword is None or self._keyword.data:  # a read-only folder
                self._keyword = build_in_memory(self.index)
                self._keyword.position = head.key

    # --- the search ------------------------------------------------------------
    def search(
        self,
        query: str,
        k: int | None = None,
        filters: Filters | None = None,
        timings: dict[str, float] | None = None,
        as_of: str | None = None,
        window: tuple[str, str] | None = None,
    ) -> list[Document]:
        """The ``k`` best passages for ``query``; ``as_of`` (YYYY-MM-DD) favours news
        published shortly before that day (``recency_weight``) and holds back news
        published after it (``future_weight``); ``window`` (first, last day) favours
        news published in it (``window_weight``). A read that fails because another
        process replaced the collections since the last check follows them and asks
        again (once)."""
        try:
            return self._search(query, k, filters, timings, as_of, window)
        except RagError:
            if not self.index.replaced():
                raise
            self._checked_at = float("-inf")  # follow now, not at the next check
            return self._search(query, k, filters, timings, as_of, window)

    def _search(
        self,
        query: str,
        k: int | None,
        filters: Filters | None,
        timings: dict[str, float] | None,
        as_of: str | None,
        window: tuple[str, str] | None,
    ) -> list[Document]:
        settings = self.settings
        k = min(k or settings.retrieval.top_k, MAX_K)  # callers that take k from users check_k it
        filters = filters or Filters()
        timings = timings if timings is not None else {}
        fetch = max(settings.retrieval.fetch_k, k)
        candidates: dict[str, _Candidate] = {}
        dense_rank: list[str] = []
        bm25_rank: list[str] = []
        query_vector: np.ndarray | None = None

        self.follow()
        started = time.perf_counter()
        if settings.retrieval.use_dense or settings.retrieval.use_mmr:
            query_vector = self.query_vector(query)
        timings["embed_ms"] = elapsed_ms(started)

        if settings.retrieval.use_dense and query_vector is not None:
            started = time.perf_counter()
            dense_rank = self._dense(query_vector, fetch, filters, candidates)
            timings["dense_ms"] = elapsed_ms(started)
        article_rank: list[str] = []
        if settings.retrieval.use_bm25 or settings.retrieval.use_article_bm25:
            started = time.perf_counter()
            keyword = self.keyword()
            where = filters.keyword_filter()
            if settings.retrieval.use_bm25:
                for hit in keyword.passages.search(query, fetch, where):
                    candidate = candidates.setdefault(hit.passage_id, _Candidate(hit.passage_id))
                    candidate.bm25 = hit.score
                    if not candidate.article_id:
                        candidate.article_id, candidate.date_int = hit.article_id, hit.date
                    bm25_rank.append(hit.passage_id)
            if settings.retrieval.use_article_bm25:
                article_rank = [h.article_id for h in keyword.articles.search(query, fetch, where)]
            timings["bm25_ms"] = elapsed_ms(started)

        started = time.perf_counter()
        self._fuse(candidates, dense_rank, bm25_rank)
        # Compared with stored vectors: in their space (projected when the index is).
        stored_query = None if query_vector is None else self.index.to_index_space(query_vector)
        if article_rank:
            self._lift_articles(candidates, article_rank, stored_query, keyword.passages)
        if as_of:
            _weigh_by_date(candidates.values(), as_of, settings)
        if window:
            _weigh_by_window(candidates.values(), window, settings.retrieval.window_weight)
        ranked = sorted(candidates.values(), key=lambda c: c.fused, reverse=True)
        pool = ranked[: max(k * 4, k)]
        self._complete(pool, stored_query)
        if settings.retrieval.use_mmr and query_vector is not None:
            chosen = _mmr(pool, k, settings.retrieval.mmr_lambda)
        else:
            chosen = pool[:k]
        timings["fuse_ms"] = elapsed_ms(started)
        return [_to_document(c, rank) for rank, c in enumerate(chosen, start=1)]

    def _dense(
        self,
        query_vector: np.ndarray,
        fetch: int,
        filters: Filters,
        candidates: dict[str, _Candidate],
    ) -> list[str]:
        ranked: list[str] = []
        found = self.index.nearest(query_vector.tolist(), fetch, filters.chroma_where())
        self._record_loaded()
        for passage in found:
            candidate = candidates.setdefault(passage.id, _Candidate(passage.id))
            candidate.passage = passage
            candidate.vector = passage.vector
            candidate.dense = 1.0 - (passage.distance or 0.0)
            candidate.article_id = passage.article_id
            candidate.date_int = passage.date_int
            ranked.append(passage.id)
        return ranked

    def _fuse(
        self, candidates: dict[str, _Candidate], dense_rank: list[str], bm25_rank: list[str]
    ) -> None:
        retrieval = self.settings.retrieval
        lists = [(dense_rank, retrieval.dense_weight), (bm25_rank, retrieval.bm25_weight)]
        for ranking, weight in lists:
            for rank, passage_id in enumerate(ranking, start=1):
                candidates[passage_id].fused += weight / (retrieval.rrf_k + rank)

    def _lift_articles(
        self,
        candidates: dict[str, _Candidate],
        article_rank: list[str],
        query_vector: np.ndarray | None,
        passages: KeywordIndex,
    ) -> None:
        """Add each article's rank in the whole-article BM25 list to its passages' scores;
        a top article none of whose passages was found brings its best passage in
        (``passages``, the keyword index this search used, says whose passage is whose)."""
        settings = self.settings
        bonus = {
            article: settings.retrieval.article_weight / (settings.retrieval.rrf_k + rank)
            for rank, article in enumerate(article_rank, start=1)
        }
        present = {c.article_id for c in candidates.values()}
        missing = [a for a in article_rank[: settings.retrieval.top_k * 2] if a not in present]
        if missing and query_vector is not None:
            self._best_passages_of(missing, query_vector, candidates, passages)
        for candidate in candidates.values():
            candidate.fused += bonus.get(candidate.article_id, 0.0)

    def _best_passages_of(
        self,
        article_ids: list[str],
        query_vector: np.ndarray,
        candidates: dict[str, _Candidate],
        passages: KeywordIndex,
    ) -> None:
        """Each article's passage closest to the question; text and metadata are fetched
        later only for those that make the pool (``_complete``). Whose passage is whose
        comes from the keyword index and the vectors by id: a metadata filter over every
        passage cost 150-180 ms a question at a million passages."""
        known = passages.passages_of(article_ids)
        ids, vectors = self.index.vectors_by_id(list(known))
        if not ids:
            return
        best: dict[str, _Candidate] = {}
        for passage_id, vector, dense in zip(ids, vectors, vectors @ query_vector, strict=True):
            article_id, date_int = known.get(passage_id, ("", 0))
            if not article_id:
                continue  # written after the keyword index was updated: found next time
            held = best.get(article_id)
            if held is None or float(dense) > (held.dense or 0.0):
                best[article_id] = _Candidate(
                    passage_id, vector=vector, dense=float(dense), article_id=article_id,
                    date_int=date_int,
                )
        for candidate in best.values():
            candidates.setdefault(candidate.passage_id, candidate)

    def _complete(self, pool: list[_Candidate], query_vector: np.ndarray | None) -> None:
        """Fetch the passages (text, facts, vector) of candidates only BM25 found."""
        missing = [c.passage_id for c in pool if c.passage is None]
        if not missing:
            return
        by_id = {p.id: p for p in self.index.passages_by_id(missing)}
        for candidate in pool:
            passage = by_id.get(candidate.passage_id)
            if passage is not None:
                candidate.passage = passage
                candidate.vector = passage.vector
                if query_vector is not None and passage.vector is not None:
                    candidate.dense = float(passage.vector @ query_vector)
        pool[:] = [c for c in pool if c.passage is not None]


def _weigh_by_date(candidates: Any, as_of: str, settings: Settings) -> None:
    """News questions ask about this week: boost articles from the days before ``as_of``;
    articles from after it could not have been read then, so they count less."""
    day = dt.date.fromisoformat(normalise_date(as_of, "as_of"))
    for candidate in candidates:
        if not candidate.date_int:
            continue
        text = str(candidate.date_int)
        published = dt.date(int(text[:4]), int(text[4:6]), int(text[6:8]))
        age = (day - published).days
        if -1 <= age <= settings.retrieval.recency_days:
            candidate.fused *= 1.0 + settings.retrieval.recency_weight
        elif age < -1:  # a day of slack: dates are local to the outlet's time zone
            candidate.fused *= settings.retrieval.future_weight


def _weigh_by_window(candidates: Any, window: tuple[str, str], weight: float) -> None:
    """A question about 'this week' or 'March' prefers articles published then (a day of
    slack after: reports follow events)."""
    first = date_number(window[0])
    last = date_number(
        (dt.date.fromisoformat(window[1]) + dt.timedelta(days=1)).isoformat()
    )
    for candidate in candidates:
        if candidate.date_int and first <= candidate.date_int <= last:
            candidate.fused *= 1.0 + weight


def _mmr(pool: list[_Candidate], k: int, lam: float) -> list[_Candidate]:
    """Maximal marginal relevance over fused scores (rescaled to [0, 1]) and cosine: each
    pick is the candidate with the best ``lam * relevance - (1 - lam) * redundancy``, its
    redundancy the highest cosine to a candidate already picked (0 before any pick and
    for a candidate without a vector); the first in pool order on ties."""
    if not pool:
        return []
    fused = np.array([c.fused for c in pool], dtype=np.float64)
    low = fused.min()
    relevance = (fused - low) / ((fused.max() - low) or 1.0)
    has_vector = np.array([c.vector is not None for c in pool])
    width = next((len(c.vector) for c in pool if c.vector is not None), 0)
    vectors = np.zeros((len(pool), width), dtype=np.float64)
    for row, candidate in enumerate(pool):
        if candidate.vector is not None:
            vectors[row] = candidate.vector
    nearest = np.full(len(pool), -np.inf)  # the highest cosine to a pick with a vector
    free = np.ones(len(pool), dtype=bool)
    chosen: list[_Candidate] = []
    while free.any() and len(chosen) < k:
        redundancy = np.where(np.isfinite(nearest) & has_vector, nearest, 0.0)
        score = np.where(free, lam * relevance - (1 - lam) * redundancy, -np.inf)
        pick = int(np.argmax(score))
        chosen.append(pool[pick])
        free[pick] = False
        if has_vector[pick]:
            nearest = np.maximum(nearest, vectors @ vectors[pick])
    return chosen


def _to_document(candidate: _Candidate, rank: int) -> Document:
    """The LangChain boundary: a typed passage becomes a ``Document``."""
    passage = candidate.passage
    assert passage is not None  # _complete dropped the ones that could not be fetched
    meta = passage.metadata()
    meta.update(
        rank=rank,
        score=round(candidate.fused, 6),
        dense_score=None if candidate.dense is None else round(candidate.dense, 6),
        bm25_score=None if candidate.bm25 is None else round(candidate.bm25, 6),
    )
    return Document(page_content=passage.text, metadata=meta, id=candidate.passage_id)




class HybridRetriever(BaseRetriever):
    """The chain's retrieval as a LangChain retriever: ``invoke(q)`` -> ranked Documents."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    engine: SearchEngine
    k: int | None = None
    filters: Filters = Filters()

    @field_validator("k", mode="before")
    @classmethod
    def _bounded(cls, value: Any) -> int | None:
        return check_k(value)

    @field_validator("filters", mode="before")
    @classmethod
    def _valid_filters(cls, value: Any) -> Filters:
        return Filters.from_mapping(value)

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        return self.engine.search(query, self.k, self.filters)


def build_retriever(
    settings: Settings,
    *,
    k: int | None = None,
    filters: dict[str, Any] | Filters | None = None,
    engine: SearchEngine | None = None,
) -> HybridRetriever:
    """The same retrieval the chain uses, as a LangChain ``BaseRetriever``."""
    k = check_k(k)  # before opening anything
    filters = Filters.from_mapping(filters)
    return HybridRetriever(
        engine=engine or SearchEngine(settings),
        k=k,
        filters=filters,
    )
