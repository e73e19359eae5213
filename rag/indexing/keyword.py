"""The BM25 keyword indexes (tantivy), on disk, updated in place from Chroma's change log.

Why tantivy: measured against SQLite FTS5 and bm25s with a delta segment (see
docs/benchmarks.md, "Keyword engines"), it alone updates in place in well under a second
at 1M passages, answers in about a millisecond, keeps its postings memory-mapped (one
copy per machine in the page cache, not one per process) and commits atomically.

Layout of a keyword folder (one per collection and machine; see ``keyword_dir``)::

    state.json          generation, change-log position, tokenizer, data folder, checksums
    data-<id>/passages  tantivy index: one document per passage
    data-<id>/articles  tantivy index: one document per article (title + full text)
    .sync.lock          fcntl lock: one process updates the folder at a time

The folder is a derived cache of Chroma. ``KeywordStore.sync`` brings it to Chroma's
committed change-log position by re-indexing only the articles the log names (delete by
article id, then add what Chroma holds now: idempotent, so a sync killed half-way is
simply repeated). It rebuilds whole only when there is nothing to update from: no
folder, another index generation (``rag ingest --rebuild``), another tokenizer, or
damage. ``state.json`` is replaced atomically after both commits and carries a CRC32 of
every data file, so a damaged or half-copied cache is detected on load and rebuilt.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import threading
import uuid
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from rag.core.text import TOKENIZER_VERSION, content_terms

_STATE = "state.json"
_LOCK = ".sync.lock"
_STATE_VERSION = 1
# tantivy refuses terms longer than this many bytes; real words never come near.
_MAX_TERM_BYTES = 200
# Article ids fetched from Chroma per request while applying the change log.
_FETCH_BATCH = 200
# Indexing memory of one writer (tantivy's minimum is 15 MB per thread).
_WRITER_HEAP = 64_000_000
_SKIP = {".tantivy-writer.lock", ".tantivy-meta.lock"}


class KeywordCacheError(Exception):
    """The keyword folder is missing, stale in a way updates cannot fix, or damaged."""


def _terms_text(text: str) -> str:
    return " ".join(t for t in content_terms(text) if len(t.encode()) <= _MAX_TERM_BYTES)


@dataclass(frozen=True)
class KeywordFilter:
    """Metadata filters evaluated inside the keyword query (dates as YYYYMMDD)."""

    sources: tuple[str, ...] = ()
    article_ids: tuple[str, ...] = ()
    date_from: int = 0
    date_to: int = 0

    @property
    def empty(self) -> bool:
        return not (self.sources or self.article_ids or self.date_from or self.date_to)


@dataclass(frozen=True)
class KeywordHit:
    passage_id: str  # the article id in the article-level index
    score: float
    article_id: str
    date: int


def _schema() -> Any:
    import tantivy

    builder = tantivy.SchemaBuilder()
    # Terms are made by rag.core.text and joined by spaces: the engine only splits them.
    builder.add_text_field("text", tokenizer_name="whitespace", index_option="freq")
    builder.add_text_field("chunk_id", stored=True, tokenizer_name="raw")
    builder.add_text_field("article_id", stored=True, tokenizer_name="raw")
    builder.add_text_field("source", tokenizer_name="raw")
    builder.add_integer_field("date", stored=True, indexed=True, fast=True)
    return builder.build()


class KeywordIndex:
    """One tantivy index (passages or whole articles), read side."""

    def __init__(self, folder: Path | None) -> None:
        import tantivy

        self._t = tantivy
        self.schema = _schema()
        if folder is None:  # in memory: a read-only index folder still answers
            self.index = tantivy.Index(self.schema)
        else:
            self.index = tantivy.Index.open(str(folder))
        self.searcher = self.index.searcher()

    def __len__(self) -> int:
        return int(self.searcher.num_docs)

    def refresh(self) -> None:
        self.index.reload()
        self.searcher = self.index.searcher()

    def _filtered(self, query: Any, where: KeywordFilter | None) -> Any:
        if where is None or where.empty:
            return query
        t, schema = self._t, self.schema
        clauses = [(t.Occur.Must, query)]
        if where.sources:
            clauses.append((t.Occur.Must, t.Query.term_set_query(
                schema, "source", list(where.sources))))
        if where.article_ids:
            clauses.append((t.Occur.Must, t.Query.term_set_query(
                schema, "article_id", list(where.article_ids))))
        if where.date_from or where.date_to:
            clauses.append((t.Occur.Must, t.Query.range_query(
                schema, "date", t.FieldType.Integer,
                lower_bound=max(where.date_from, 1),  # an unknown date (0) never matches
                upper_bound=where.date_to or None,
            )))
        # Filters select; they add nothing to the BM25 score.
        return t.Query.boolean_query(
            [clauses[0]] + [(o, t.Query.const_score_query(q, 0.0)) for o, q in clauses[1:]]
        )

    def search(
        self, query: str, k: int, where: KeywordFilter | None = None
    ) -> list[KeywordHit]:
        """Up to ``k`` hits, best first; filters applied inside the query."""
        terms = [t for t in content_terms(query) if len(t.encode()) <= _MAX_TERM_BYTES]
        if not terms or k <= 0:
            return []
        t = self._t
        text = t.Query.boolean_query(
            [(t.Occur.Should, t.Query.term_query(self.schema, "text", w)) for w in terms]
        )
        searcher = self.searcher
        found = searcher.search(self._filtered(text, where), limit=k, count=False).hits
        return [self._hit(searcher, score, address) for score, address in found if score > 0]

    @staticmethod
    def _hit(searcher: Any, score: float, address: Any) -> KeywordHit:
        doc = searcher.doc(address)
        return KeywordHit(
            doc["chunk_id"][0], float(score), doc["article_id"][0], int(doc["date"][0])
        )

    def passage_ids(self) -> list[str]:
        """Every passage id held (for checks: reads every stored document)."""
        if not len(self):
            return []
        searcher = self.searcher
        found = searcher.search(self._t.Query.all_query(), limit=len(self), count=False).hits
        return [searcher.doc(address)["chunk_id"][0] for _, address in found]

    def passages_of(
        self, article_ids: Sequence[str], limit: int = 5000
    ) -> dict[str, tuple[str, int]]:
        """(article id, date) of every passage of these articles it holds (up to
        ``limit``), by passage id."""
        if not article_ids:
            return {}
        searcher = self.searcher
        query = self._t.Query.term_set_query(self.schema, "article_id", list(article_ids))
        found = searcher.search(query, limit=limit, count=False).hits
        hits = (self._hit(searcher, score, address) for score, address in found)
        return {hit.passage_id: (hit.article_id, hit.date) for hit in hits}

    def articles_of(self, passage_ids: Sequence[str]) -> dict[str, tuple[str, int]]:
        """(article id, date) of each passage this index holds, by passage id."""
        if not passage_ids:
            return {}
        searcher = self.searcher
        query = self._t.Query.term_set_query(self.schema, "chunk_id", list(passage_ids))
        found = searcher.search(query, limit=len(passage_ids), count=False).hits
        out = {}
        for score, address in found:
            hit = self._hit(searcher, score, address)
            out[hit.passage_id] = (hit.article_id, hit.date)
        return out


@dataclass
class KeywordIndexes:
    """BM25 over passages and over whole articles (title + full text).

    News questions often match an article's words spread over several passages; the
    article-level ranking finds those articles, the passage-level one the right spot.
    """

    passages: KeywordIndex
    articles: KeywordIndex
    position: tuple[str, int] = ("", 0)  # (generation, change-log position) served
    data: str = ""  # the data folder read

    def refresh(self, position: tuple[str, int]) -> None:
        self.passages.refresh()
        self.articles.refresh()
        self.position = position


# --- what the keyword side is built from ------------------------------------------------
Rows = Iterator[tuple[list[str], list[dict[str, Any]], list[str]]]


class KeywordSource(Protocol):
    """What the keyword indexes are built and updated from (an ArticleIndex)."""

    def all_passages(self) -> Rows: ...

    def all_articles(self) -> Rows: ...

    def passages_of_articles(self, article_ids: Sequence[str]) -> Rows: ...

    def articles_by_id(self, article_ids: Sequence[str]) -> Rows: ...

    def changed_articles(self, after: int, upto: int) -> list[str]: ...


@dataclass(frozen=True)
class LogPosition:
    """Where Chroma's change log stands: its generation and last committed entry."""

    generation: str
    seq: int

    @property
    def key(self) -> tuple[str, int]:
        return (self.generation, self.seq)


def _passage_doc(t: Any, passage_id: str, meta: dict[str, Any], text: str) -> Any:
    return t.Document(
        text=_terms_text(f"{meta.get('title', '')}\n{text}"),
        chunk_id=passage_id,  # the stored field keeps its name (existing caches)
        article_id=str(meta.get("article_id", "")),
        source=str(meta.get("source", "")),
        date=int(meta.get("date_int", 0) or 0),
    )


def _article_docs(t: Any, rows: Rows) -> Iterator[Any]:
    for ids, metas, docs in rows:
        for article_id, meta, text in zip(ids, metas, docs, strict=True):
            meta = meta or {}
            if meta.get("duplicate_of"):  # a duplicate's text is its original's
                continue
            yield _passage_doc(t, article_id, {**meta, "article_id": article_id}, text or "")


def _passage_docs(t: Any, rows: Rows) -> Iterator[Any]:
    for ids, metas, docs in rows:
        for passage_id, meta, text in zip(ids, metas, docs, strict=True):
            yield _passage_doc(t, passage_id, meta or {}, text or "")


# --- the folder --------------------------------------------------------------------------
@dataclass
class _State:
    generation: str
    seq: int
    data: str  # the data folder's name
    files: dict[str, list[int]] = field(default_factory=dict)  # relpath -> [size, crc32]
    tokenizer: int = TOKENIZER_VERSION
    version: int = _STATE_VERSION


def _crc(path: Path) -> int:
    crc = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            crc = zlib.crc32(chunk, crc)
    return crc


class KeywordStore:
    """A keyword folder: verified loading, in-place sync from Chroma, rebuild on damage."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._verified: dict[str, list[int]] = {}
        self._lock = threading.Lock()

    # --- state -------------------------------------------------------------------------
    def _read_state(self) -> _State | None:
        try:
            raw = json.loads((self.folder / _STATE).read_text())
            state = _State(**raw)
        except (OSError, ValueError, TypeError):
            return None
        if state.version != _STATE_VERSION or state.tokenizer != TOKENIZER_VERSION:
            return None
        return state

    def _write_state(self, state: _State) -> None:
        tmp = self.folder / f".{_STATE}.{os.getpid()}.tmp"
        with tmp.open("w") as handle:
            json.dump(state.__dict__, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.folder / _STATE)
        with contextlib.suppress(OSError):
            dir_fd = os.open(self.folder, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)

    def _data_files(self, data: Path) -> Iterator[tuple[str, Path]]:
        for path in sorted(data.rglob("*")):
            if path.is_file() and path.name not in _SKIP:
                yield str(path.relative_to(data)), path

    def _checksums(self, data: Path, previous: dict[str, list[int]]) -> dict[str, list[int]]:
        """Size and CRC32 of each data file; tantivy segment files never change once
        written, so those already summed (same name and size) are not read again."""
        out: dict[str, list[int]] = {}
        for name, path in self._data_files(data):
            size = path.stat().st_size
            known = previous.get(name)
            mutable = name.endswith(".json")  # meta.json, .managed.json
            out[name] = known if known and known[0] == size and not mutable else [
                size, _crc(path)
            ]
        return out

    def _verify(self, state: _State) -> None:
        """Raise KeywordCacheError unless every listed file has its size and checksum."""
        data = self.folder / state.data
        for name, (size, crc) in state.files.items():
            path = data / name
            if self._verified.get(name) == [size, crc] and not name.endswith(".json"):
                continue
            try:
                ok = path.stat().st_size == size and _crc(path) == crc
            except OSError:
                ok = False
            if not ok:
                raise KeywordCacheError(f"keyword cache file {path} is damaged or missing")
        self._verified = dict(state.files)

    # --- reading ----------------------------------------------------------------------
    def position(self) -> tuple[str, int] | None:
        state = self._read_state()
        return None if state is None else (state.generation, state.seq)

    def open(self) -> KeywordIndexes:
        """The verified indexes of the folder; KeywordCacheError when absent or damaged."""
        with self._shared():
            state = self._read_state()
            if state is None:
                raise KeywordCacheError(f"no usable keyword cache in {self.folder}")
            self._verify(state)
            data = self.folder / state.data
            try:
                return KeywordIndexes(
                    KeywordIndex(data / "passages"), KeywordIndex(data / "articles"),
                    (state.generation, state.seq), str(data),
                )
            except BaseException as exc:  # tantivy raises what it likes on bad files
                _reraise_fatal(exc)
                raise KeywordCacheError(
                    f"keyword cache in {self.folder} is unreadable: {exc}"
                ) from exc

    def refresh(self, current: KeywordIndexes) -> KeywordIndexes:
        """``current`` brought to the folder's state: reloaded in place when the data
        folder is the same (only new segments are opened), reopened when it was rebuilt."""
        with self._shared():
            state = self._read_state()
            if state is None:
                raise KeywordCacheError(f"no usable keyword cache in {self.folder}")
            if (state.generation, state.seq) == current.position:
                return current
            self._verify(state)
            data = self.folder / state.data
            if current.data == str(data):
                current.refresh((state.generation, state.seq))
                return current
        return self.open()

    @contextlib.contextmanager
    def _shared(self) -> Iterator[None]:
        """Hold the folder's lock shared: no sync swaps files while we verify them."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            handle = open(self.folder / _LOCK, "a+")  # noqa: SIM115 - held for the block
        except OSError:
            yield  # a read-only folder: nobody can be writing it either
            return
        with handle:
            fcntl.flock(handle, fcntl.LOCK_SH)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # --- writing -----------------------------------------------------------------------
    def sync(
        self, source: KeywordSource, head: LogPosition, *, wait: bool = True,
        verify: bool = False,
    ) -> bool:
        """Bring the folder to ``head``; False when another process holds the lock and
        ``wait`` is off (it is doing the same work). ``verify`` checks every file first
        (``rag ingest`` does, so it repairs a damaged cache)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / _LOCK, "a+") as handle:
            flags = fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB)
            try:
                fcntl.flock(handle, flags)
            except BlockingIOError:
                return False
            try:
                self._sync_locked(source, head, verify)
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return True

    def _sync_locked(self, source: KeywordSource, head: LogPosition, verify: bool) -> None:
        state = self._read_state()
        if state is not None and verify:
            try:
                self._verify(state)
            except KeywordCacheError:
                state = None
        if state is None or state.generation != head.generation or state.seq > head.seq:
            self._rebuild(source, head)
        elif state.seq < head.seq:
            try:
                self._apply(source, state, head)
            except BaseException as exc:
                _reraise_fatal(exc)
                self._rebuild(source, head)  # a damaged segment: start again from Chroma
        self._sweep()

    def _apply(self, source: KeywordSource, state: _State, head: LogPosition) -> None:
        import tantivy

        data = self.folder / state.data
        changed = source.changed_articles(state.seq, head.seq)
        passages = tantivy.Index.open(str(data / "passages"))
        articles = tantivy.Index.open(str(data / "articles"))
        p_writer = passages.writer(heap_size=_WRITER_HEAP, num_threads=1)
        a_writer = articles.writer(heap_size=_WRITER_HEAP, num_threads=1)
        for start in range(0, len(changed), _FETCH_BATCH):
            batch = changed[start : start + _FETCH_BATCH]
            for article_id in batch:
                p_writer.delete_documents_by_term("article_id", article_id)
                a_writer.delete_documents_by_term("article_id", article_id)
            for doc in _passage_docs(tantivy, source.passages_of_articles(batch)):
                p_writer.add_document(doc)
            for doc in _article_docs(tantivy, source.articles_by_id(batch)):
                a_writer.add_document(doc)
        for writer in (p_writer, a_writer):
            writer.commit()
            writer.wait_merging_threads()
        self._write_state(_State(
            head.generation, head.seq, state.data, self._checksums(data, state.files)
        ))

    def _rebuild(self, source: KeywordSource, head: LogPosition) -> None:
        """A whole new data folder from Chroma, then one atomic switch of state.json."""
        import tantivy

        name = f"data-{uuid.uuid4().hex[:12]}"
        data = self.folder / name
        try:
            for sub, docs in (
                ("passages", _passage_docs(tantivy, source.all_passages())),
                ("articles", _article_docs(tantivy, source.all_articles())),
            ):
                (data / sub).mkdir(parents=True)
                index = tantivy.Index(_schema(), path=str(data / sub))
                writer = index.writer(heap_size=_WRITER_HEAP, num_threads=1)
                for doc in docs:
                    writer.add_document(doc)
                writer.commit()
                writer.wait_merging_threads()
            self._write_state(_State(head.generation, head.seq, name, self._checksums(data, {})))
        except BaseException:
            shutil.rmtree(data, ignore_errors=True)
            raise

    def _sweep(self) -> None:
        """Data folders no state names (replaced ones, or a killed rebuild's)."""
        state = self._read_state()
        for path in self.folder.glob("data-*"):
            if state is None or path.name != state.data:
                shutil.rmtree(path, ignore_errors=True)
        for path in self.folder.glob(f".{_STATE}.*.tmp"):
            with contextlib.suppress(OSError):
                path.unlink()


def _reraise_fatal(exc: BaseException) -> None:
    """Re-raise anything but an error: ordinary exceptions and tantivy's pyo3
    PanicException (a BaseException, raised on some damaged files) are the caller's."""
    if not isinstance(exc, Exception) and type(exc).__name__ != "PanicException":
        raise exc


def build_in_memory(source: KeywordSource) -> KeywordIndexes:
    """Both indexes in memory: for an index whose folder cannot be written."""
    import tantivy

    parts = []
    for docs in (_passage_docs(tantivy, source.all_passages()),
                 _article_docs(tantivy, source.all_articles())):
        index = KeywordIndex(None)
        writer = index.index.writer(heap_size=_WRITER_HEAP, num_threads=1)
        for doc in docs:
            writer.add_document(doc)
        writer.commit()
        writer.wait_merging_threads()
        index.refresh()
        parts.append(index)
    return KeywordIndexes(parts[0], parts[1])
