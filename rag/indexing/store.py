"""The Chroma index: a passage collection (embedded) and an article collection (records).

Passages live in ``<collection>``, searched by cosine similarity; each article has one
record in ``<collection>__articles`` with its full text, content hash and passage ids.
The article record is written last, so it marks an article as complete: a crash before
it leaves the article "changed", and the next ingest repairs it. Both collections live
in Chroma, so a Chroma server shares everything between processes.

Rows leave this module typed (:class:`~rag.core.schema.RetrievedPassage`,
:class:`~rag.core.schema.StoredArticle`): Chroma's metadata, with its JSON-encoded id
lists, is read and written here only.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import gc
import json
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from rag.core.errors import IndexLockedError, IndexMissingError, ModelMismatchError, RagError
from rag.core.schema import Passage, RetrievedPassage, StoredArticle
from rag.core.settings import Settings
from rag.indexing.embeddings import EXPORT_VERSION, PassageEmbeddings
from rag.indexing.projection import Projection, from_records
from rag.indexing.records import RecordCache

ARTICLES_SUFFIX = "__articles"
# The projection of the passages' vectors, when the index keeps fewer dimensions than its
# model makes (see rag.indexing.projection): one record per component.
PROJECTION_SUFFIX = "__projection"
#: In the passages collection's metadata: the fingerprint of the projection its vectors
#: are in (absent: the model's own vectors). With the collection, so a switch is atomic.
PROJECTION_KEY = "rag:projection"
# The change log: one record per batch of articles an ingest is about to write or remove.
CHANGES_SUFFIX = "__changes"
_IDS_PER_CHANGE = 500
# This machine's copy of every article record, in its keyword folder (records_cache_path).
RECORDS_FILE = "records.sqlite3"
# Below this much free space a failing read is blamed on a full disk.
_LOW_DISK_BYTES = 5_000_000
_T = TypeVar("_T")
# Article records need an embedding to live in Chroma; they are never searched by it.
_RECORD_VECTOR = [1.0]
# Pauses before each reload of an embedded reader's handles that lack another process's
# newest vectors (see ArticleIndex.nearest): about 4 s in all.
_RELOAD_PAUSES_S = (0.0, 0.25, 0.5, 1.0, 2.0)


def keyword_dir(settings: Settings) -> Path:
    """Where this machine keeps what it derives from the collection and follows through
    the change log: the keyword (BM25) indexes and the article records (RECORDS_FILE)."""
    index = settings.index
    base = Path(index.index_dir)
    if index.chroma_host:
        name = f"{index.chroma_host}_{index.chroma_port}_{index.collection}"
        return base / "keyword-cache" / name.replace("/", "_")
    return base / "keyword" / settings.index.collection


def records_cache_path(settings: Settings) -> Path:
    """This machine's copy of the article records (see ``ArticleIndex.records``)."""
    return keyword_dir(settings) / RECORDS_FILE


def date_number(date: str) -> int:
    """YYYY-MM-DD as the integer YYYYMMDD (Chroma compares numbers only); 0 if unknown."""
    return int(date.replace("-", "")[:8]) if date else 0


#: The stored article record (the name ingestion has always used).
ArticleRecord = StoredArticle


def record_metadata(record: StoredArticle) -> dict[str, Any]:
    """What the index stores with an article record."""
    return {
        "title": record.title,
        "source": record.source,
        "date": record.date,
        "date_int": date_number(record.date),
        "url": record.url,
        "origin": record.origin,
        "content_hash": record.content_hash,
        "text_hash": record.text_hash,
        "minhash": record.minhash,
        "chunk_ids": json.dumps(record.passage_ids),
        "duplicate_of": record.duplicate_of,
        **_links(record.also_published_at, record.duplicate_ids, record.versions),
    }


def record_from(record_id: str, meta: dict[str, Any]) -> StoredArticle:
    """A stored article record as a typed row (decoded here only)."""
    return StoredArticle(
        id=record_id,
        title=str(meta.get("title", "")),
        source=str(meta.get("source", "")),
        date=str(meta.get("date", "")),
        url=str(meta.get("url", "")),
        origin=str(meta.get("origin", "")),
        content_hash=str(meta.get("content_hash", "")),
        text_hash=str(meta.get("text_hash", "")),
        minhash=str(meta.get("minhash", "")),
        passage_ids=list(_id_list(meta.get("chunk_ids"))),
        duplicate_of=str(meta.get("duplicate_of", "")),
        also_published_at=list(_id_list(meta.get("also_published_at"))),
        duplicate_ids=list(_id_list(meta.get("duplicate_ids"))),
        versions=list(_id_list(meta.get("versions"))),
    )


def _links(
    also_published_at: Sequence[str], duplicate_ids: Sequence[str], versions: Sequence[str]
) -> dict[str, str]:
    # Chroma metadata holds no lists: the id lists are stored as JSON, decoded only here.
    return {
        "also_published_at": json.dumps(list(also_published_at)),
        "duplicate_ids": json.dumps(list(duplicate_ids)),
        "versions": json.dumps(list(versions)),
    }


def _id_list(raw: Any) -> tuple[str, ...]:
    if isinstance(raw, list | tuple):
        return tuple(str(i) for i in raw)
    try:
        value = json.loads(str(raw or "[]"))
    except json.JSONDecodeError:
        return ()
    return tuple(str(i) for i in value) if isinstance(value, list) else ()


def passage_metadata(record: StoredArticle, passage: Passage) -> dict[str, Any]:
    """What the index stores with a passage (its article's facts and its offsets)."""
    return {
        "article_id": record.id,
        "chunk_id": passage.id,
        "title": record.title,
        "source": record.source,
        "date": record.date,
        "date_int": date_number(record.date),
        "url": record.url,
        "position": passage.position,
        "start": passage.start,
        "end": passage.end,
        **_links(record.also_published_at, record.duplicate_ids, record.versions),
    }


_PASSAGE_FIELDS = frozenset(
    {"article_id", "chunk_id", "title", "source", "date", "date_int", "url", "position",
     "start", "end", "also_published_at", "duplicate_ids", "versions"}
)


def passage_from(
    passage_id: str, text: str | None, meta: dict[str, Any] | None, vector: Any = None,
    distance: float | None = None,
) -> RetrievedPassage:
    """A stored passage as a typed row (the one place passage metadata is decoded)."""
    import numpy as np

    meta = dict(meta or {})

    def number(key: str, default: int) -> int:
        value = meta.get(key, default)
        return value if isinstance(value, int) else default

    return RetrievedPassage(
        id=passage_id,
        article_id=str(meta.get("article_id", "")),
        text=text or "",
        title=str(meta.get("title", "")),
        source=str(meta.get("source", "")),
        date=str(meta.get("date", "")),
        date_int=number("date_int", 0),
        url=str(meta.get("url", "")),
        position=number("position", 0),
        start=number("start", -1),
        end=number("end", -1),
        also_published_at=_id_list(meta.get("also_published_at")),
        duplicate_ids=_id_list(meta.get("duplicate_ids")),
        versions=_id_list(meta.get("versions")),
        vector=None if vector is None else np.asarray(vector, dtype=np.float32),
        distance=distance,
        extra={k: v for k, v in meta.items() if k not in _PASSAGE_FIELDS},
    )


def full_disk(index_dir: Path, exc: BaseException | None = None) -> RagError | None:
    """The message for a failure caused by a full disk (else None).

    A full disk is not a damaged index: rebuilding (what "unreadable" advises) would
    need more space still and throw away a good index. Free space and run it again.
    """
    text = str(exc).lower() if exc is not None else ""
    code = getattr(exc, "errno", None)
    try:
        free = shutil.disk_usage(index_dir if index_dir.exists() else index_dir.parent).free
    except OSError:
        free = -1
    if not (
        code in (errno.ENOSPC, errno.EDQUOT)
        or "disk is full" in text
        or "no space left" in text
        or 0 <= free < _LOW_DISK_BYTES
    ):
        return None
    left = f" ({free / 1000:.0f} kB free)" if free >= 0 else ""
    return RagError(
        f"the disk holding the index at {index_dir} is full{left}; free disk space (or move "
        "the index to a bigger disk and set RAG_INDEX_DIR), then run the command again. "
        "The index was not changed; do not rebuild it"
    )


def make_client(settings: Settings, create: bool) -> Any:
    """An embedded persistent client on ``index_dir``, or an HTTP client in server mode."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.index.chroma_host:
        try:
            return chromadb.HttpClient(
                host=settings.index.chroma_host,
                port=settings.index.chroma_port,
                ssl=settings.index.chroma_ssl,
                headers=settings.index.chroma_headers or None,
                settings=chroma_settings,
            )
        except Exception as exc:
            raise RagError(
                f"cannot reach the Chroma server at {settings.index.chroma_host}:"
                f"{settings.index.chroma_port} ({exc}); start it with `chroma run --path DIR "
                f"--host {settings.index.chroma_host} --port {settings.index.chroma_port}` "
                "or unset RAG_CHROMA_HOST"
            ) from exc
    index_dir = Path(settings.index.index_dir)
    if not create and not (index_dir / "chroma.sqlite3").exists():
        raise IndexMissingError(
            f"no index at {index_dir}; build it with `rag ingest index/articles` "
            "(or `make run`), or point RAG_INDEX_DIR at an existing index"
        )
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(index_dir), settings=chroma_settings)
    except PermissionError as exc:
        raise RagError(
            f"cannot write the index at {index_dir} ({exc.strerror}); fix its permissions "
            "or set RAG_INDEX_DIR to a writable folder"
        ) from exc
    except Exception as exc:
        if (full := full_disk(index_dir, exc)) is not None:
            raise full from exc
        if _read_only(index_dir, exc):
            # Chroma writes to its database even to open it; the index itself is fine.
            raise RagError(
                f"the index at {index_dir} is read-only, and Chroma must write to open it; "
                f"copy it to a writable folder (cp -r {index_dir} /tmp/rag-index) and set "
                "RAG_INDEX_DIR to the copy, or make the folder writable. The index is intact"
            ) from exc
        raise RagError(
            f"the index at {index_dir} is unreadable ({type(exc).__name__}: {exc}); move "
            "it away and run `rag ingest --rebuild index/articles`"
        ) from exc


def forget_local_client(index_dir: str | Path) -> None:
    """Make the next embedded client of ``index_dir`` load the index from disk again.

    Chroma keeps one in-process system per folder, and its HNSW index in memory never
    sees what another process wrote (nor forgets what it deleted): a reader that wants
    those writes opens a new system. Handles on the old one keep working until dropped.
    """
    from chromadb.api.shared_system_client import SharedSystemClient

    wanted = os.path.realpath(index_dir)
    for key in list(SharedSystemClient._identifier_to_system):
        if key and os.path.realpath(key) == wanted:
            SharedSystemClient._identifier_to_system.pop(key, None)
            SharedSystemClient._identifier_to_refcount.pop(key, None)


def drop_orphan_segments(settings: Settings) -> list[str]:
    """Embedded: remove the vector folders of collections Chroma no longer has.

    Chroma deletes a dropped collection from its catalogue but leaves its HNSW folder
    on disk (a swapped-in rebuild or reduce left the old vectors behind: 41 MB at 25k
    passages, 1.7 GB at a million). A folder is a vector segment's id; any folder so
    named that no segment in ``chroma.sqlite3`` names is dropped. Returns their names.
    """
    import sqlite3

    index_dir = Path(settings.index.index_dir)
    catalogue = index_dir / "chroma.sqlite3"
    if settings.index.chroma_host or not catalogue.exists():
        return []
    with contextlib.closing(sqlite3.connect(f"file:{catalogue}?mode=ro", uri=True)) as db:
        live = {str(row[0]) for row in db.execute("SELECT id FROM segments")}
    dropped = []
    for folder in index_dir.iterdir():
        if folder.is_dir() and _is_uuid(folder.name) and folder.name not in live:
            shutil.rmtree(folder, ignore_errors=True)
            dropped.append(folder.name)
    return dropped


def _is_uuid(name: str) -> bool:
    try:
        return str(uuid.UUID(name)) == name
    except ValueError:
        return False


def has_collection(client: Any, name: str) -> bool:
    try:
        client.get_collection(name)
    except Exception:
        return False
    return True


def drop_collection(client: Any, name: str) -> None:
    """Delete ``name`` when it exists."""
    with contextlib.suppress(Exception):
        client.delete_collection(name)


def free_replaced_handles() -> None:
    """Free the vectors of Chroma handles just replaced, before the new ones load theirs.

    An embedded client's in-process system sits in reference cycles, so a replaced one
    keeps its HNSW (1.7 GB at a million passages) until Python's cyclic collector runs,
    which can take minutes: a reader following ingests held two or three copies at once
    (measured: +55 MB per reopen at 25k passages without this, +16 MB with it). Handles
    still used by another thread stay alive, so nothing in flight is broken.
    """
    gc.collect()


def _unseen_ids(exc: BaseException) -> bool:
    """Chroma's errors when an embedded reader meets another process's write: ids its
    in-memory HNSW does not hold, or HNSW files being rewritten as it reads them (it
    applies the write log to its HNSW on a query)."""
    text = str(exc)
    return "Error finding id" in text or "Error constructing hnsw segment reader" in text


def _read_only(folder: Path, exc: BaseException) -> bool:
    text = str(exc).lower()
    return "readonly" in text or "read-only" in text or not os.access(folder, os.W_OK)


def _reading(method: Callable[..., _T]) -> Callable[..., _T]:
    """Chroma failures while reading become a RagError that says where and what to do."""

    @functools.wraps(method)
    def wrapper(self: ArticleIndex, *args: Any, **kwargs: Any) -> _T:
        try:
            return method(self, *args, **kwargs)
        except RagError:
            raise
        except Exception as exc:
            raise self.read_failure(exc) from exc

    return wrapper


class ArticleIndex:
    """Read and write passages and article records in Chroma."""

    def __init__(
        self, settings: Settings, embeddings: PassageEmbeddings, create: bool = False
    ) -> None:
        self.settings = settings
        self.embeddings = embeddings
        self.client = make_client(settings, create)
        name = settings.index.collection
        exists = self._exists(name)
        if not exists and not create:
            where = settings.index.chroma_host or settings.index.index_dir
            raise IndexMissingError(
                f"the index at {where} has no collection {name!r}; build it with "
                "`rag ingest index/articles`"
            )
        try:
            # Vectors always come from our embeddings, never from Chroma's own function.
            # Chroma's result types are all Optional; these handles are used untyped.
            self.passages: Any = self.client.get_or_create_collection(
                name,
                embedding_function=None,
                metadata=None if exists else {"hnsw:space": "cosine"},
            )
            self.articles: Any = self.client.get_or_create_collection(name + ARTICLES_SUFFIX)
        except RagError:
            raise
        except Exception as exc:
            if not settings.index.chroma_host and (
                full := full_disk(Path(settings.index.index_dir), exc)
            ) is not None:
                raise full from exc
            raise RagError(
                f"cannot open collection {name!r} ({type(exc).__name__}: {exc}); "
                "run `rag ingest --rebuild index/articles`"
            ) from exc
        if exists:
            self.check_model()
        self.projection = self._read_projection()
        # The committed change-log position these handles were opened at (see nearest).
        self._opened_at = self.log_position()

    def read_failure(self, exc: Exception) -> RagError:
        if self.settings.index.chroma_host:
            return RagError(
                f"reading collection {self.settings.index.collection!r} from the Chroma server at "
                f"{self.settings.index.chroma_host}:{self.settings.index.chroma_port} failed "
                f"({type(exc).__name__}: {exc}); check the server and its log"
            )
        index_dir = Path(self.settings.index.index_dir)
        if (full := full_disk(index_dir, exc)) is not None:
            return full
        return RagError(
            f"reading the index at {index_dir} failed ({type(exc).__name__}: {exc}); move "
            "it away and run `rag ingest --rebuild index/articles`"
        )

    def _exists(self, name: str) -> bool:
        return has_collection(self.client, name)

    def _read_projection(self) -> Projection | None:
        """The projection this passage collection's vectors are in (None: the model's)."""
        wanted = (self.passages.metadata or {}).get(PROJECTION_KEY)
        if not wanted:
            return None
        name = self.settings.index.collection + PROJECTION_SUFFIX
        try:
            got = self.client.get_collection(name).get(include=["embeddings"])
            found = from_records(list(got["ids"]), got["embeddings"])
        except Exception as exc:
            raise RagError(
                f"the index's vectors are projected but {name!r} cannot be read ({exc}); "
                "run `rag ingest --rebuild index/articles`"
            ) from exc
        if found.fingerprint != wanted:
            raise RagError(
                f"the index's vectors are in projection {wanted} but {name!r} holds "
                f"{found.fingerprint}; run `rag ingest --rebuild index/articles`"
            )
        return found

    def to_index_space(self, vector: Sequence[float] | Any) -> Any:
        """A model vector (or rows of them) as the stored vectors are: projected when
        the index keeps fewer dimensions, else as given (float32)."""
        import numpy as np

        if self.projection is None:
            return np.asarray(vector, dtype=np.float32)
        return self.projection.apply(vector)

    @property
    def vector_dims(self) -> int | None:
        """The stored vectors' dimension (None: not known yet, an empty new index)."""
        if self.projection is not None:
            return self.projection.dims
        dimension = self.info.get("embedding_dim")
        return int(dimension) if dimension else None

    # --- the model guard -------------------------------------------------------
    @property
    def info(self) -> dict[str, Any]:
        """The article collection's metadata as stored now.

        Read from Chroma each time: a Collection handle caches metadata from when it was
        opened, so another process's (or handle's) revision stamp would go unseen.
        """
        try:
            return dict(self.client.get_collection(self.articles.name).metadata or {})
        except Exception:  # dropped meanwhile (a rebuild): the handle's copy is all we have
            return dict(self.articles.metadata or {})

    def check_model(self) -> None:
        """Refuse to mix vectors of two models in one index."""
        recorded = self.info.get("embedding_model")
        if recorded and recorded != self.embeddings.model_id:
            dim = self.info.get("embedding_dim", "?")
            raise ModelMismatchError(
                f"the index was built with {recorded} (dimension {dim}) but the settings ask "
                f"for {self.embeddings.model_id}; "
                + mismatch_fix(str(recorded), self.embeddings.model_id)
            )

    def stamp(self, dimension: int | None = None, commit_log: bool = False) -> str:
        """Record the model and a new revision; with ``commit_log``, also make every
        change logged so far visible to readers (they follow the log up to there)."""
        info = self.info
        info["embedding_model"] = self.embeddings.model_id
        if dimension is not None:
            info["embedding_dim"] = dimension
        info["revision"] = uuid.uuid4().hex
        info.setdefault("generation", uuid.uuid4().hex)  # new after a --rebuild
        if commit_log:
            info["log_seq"] = self._log_tail()
        self.articles.modify(metadata=info)
        return str(info["revision"])

    @property
    def revision(self) -> str:
        return str(self.info.get("revision", ""))

    # --- the change log --------------------------------------------------------------
    # An ingest logs the ids of the articles it is about to write or remove *before*
    # writing them, and commits the log position with its final stamp. A reader's keyword
    # index re-reads exactly those articles from Chroma, up to the committed position; a
    # run killed half-way leaves entries past it, which the next run's commit covers.
    # The log lives in Chroma, so readers on other machines follow it too.
    @functools.cached_property
    def _changes(self) -> Any:
        return self.client.get_or_create_collection(self.settings.index.collection + CHANGES_SUFFIX)

    def _log_tail(self) -> int:
        # Never below the committed position (a log lost or replaced must not reuse it).
        return max(int(self._changes.count()), self.log_position()[1])

    def log_changes(self, article_ids: Sequence[str]) -> None:
        ids = sorted(set(article_ids))
        for start in range(0, len(ids), _IDS_PER_CHANGE):
            seq = self._log_tail() + 1
            self._changes.add(
                ids=[f"{seq:012d}"],
                embeddings=[_RECORD_VECTOR],
                metadatas=[{"seq": seq,
                            "articles": json.dumps(ids[start : start + _IDS_PER_CHANGE])}],
            )

    def replaced(self) -> bool:
        """True when the collection this handle reads was dropped or replaced."""
        try:
            current = self.client.get_collection(self.settings.index.collection)
        except Exception:
            return True
        return bool(current.id != self.passages.id)

    def reopened(self) -> ArticleIndex:
        """Fresh handles; embedded, a fresh Chroma system (see forget_local_client)."""
        if not self.settings.index.chroma_host:
            forget_local_client(self.settings.index.index_dir)
        return ArticleIndex(self.settings, self.embeddings, create=False)

    def _query_reloaded(self, query: dict[str, Any]) -> Any:
        """``query`` on handles reloaded from disk. While a writer is between writing a
        batch's metadata and its vectors, or rewriting the HNSW files, the reloaded
        index fails too: wait a little (a batch takes well under a second) and reload
        again. Still failing that way after ~4 s: a segment reader that cannot be
        made is reported as it is (damage looks the same), unseen ids as a writer."""
        last: Exception | None = None
        for pause in _RELOAD_PAUSES_S:
            time.sleep(pause)
            try:
                self.reload()
                return self.passages.query(**query)
            except Exception as exc:
                if not _unseen_ids(exc):
                    raise
                last = exc.with_traceback(None)  # its frames would keep these handles
        if last is not None and "Error finding id" not in str(last):
            raise last
        raise RagError(
            f"the index at {self.settings.index.index_dir} is being written by another process "
            "whose newest vectors are not on disk yet; ask again in a moment (nothing is "
            "damaged), or run Chroma as a server (RAG_CHROMA_HOST) so that readers see "
            "every write at once"
        )

    def reload(self) -> None:
        """Take over fresh handles (see ``reopened``) in place."""
        fresh = self.reopened()
        self.client, self.passages, self.articles = fresh.client, fresh.passages, fresh.articles
        self._opened_at, self.projection = fresh._opened_at, fresh.projection
        self.__dict__.pop("_changes", None)
        del fresh
        free_replaced_handles()

    def log_uncommitted(self) -> bool:
        """True when a run was killed after logging changes it never committed."""
        return self._log_tail() > self.log_position()[1]

    def log_position(self) -> tuple[str, int]:
        """(generation, committed change-log position) as stored now."""
        info = self.info
        return str(info.get("generation", "")), int(info.get("log_seq", 0) or 0)

    @_reading
    def changed_articles(self, after: int, upto: int) -> list[str]:
        """Ids of the articles logged in entries ``after`` < seq <= ``upto``."""
        if upto <= after:
            return []
        got = self._changes.get(
            where={"$and": [{"seq": {"$gt": after}}, {"seq": {"$lte": upto}}]},
            include=["metadatas"],
        )
        ids: dict[str, None] = {}
        for meta in got.get("metadatas") or []:
            ids.update(dict.fromkeys(json.loads(str((meta or {}).get("articles") or "[]"))))
        return list(ids)

    def passages_of_articles(
        self, article_ids: Sequence[str]
    ) -> Iterator[tuple[list[str], list[dict[str, Any]], list[str]]]:
        """Every passage of these articles, with metadata and text (no vectors)."""
        if not article_ids:
            return
        try:
            got = self.passages.get(
                where={"article_id": {"$in": list(article_ids)}},
                include=["metadatas", "documents"],
            )
        except Exception as exc:  # a generator: the _reading wrapper cannot see this
            raise self.read_failure(exc) from exc
        yield list(got["ids"]), list(got["metadatas"]), list(got["documents"])

    def articles_by_id(
        self, article_ids: Sequence[str]
    ) -> Iterator[tuple[list[str], list[dict[str, Any]], list[str]]]:
        """These article records (those that exist) with metadata and full text."""
        if not article_ids:
            return
        try:
            got = self.articles.get(ids=list(article_ids), include=["metadatas", "documents"])
        except Exception as exc:
            raise self.read_failure(exc) from exc
        yield list(got["ids"]), list(got["metadatas"]), list(got["documents"])

    # --- articles --------------------------------------------------------------
    @_reading
    def records(self) -> dict[str, StoredArticle]:
        """Every article record, from this machine's copy (rag.indexing.records) brought
        up to date by the change log: only the articles logged since the copy's
        position are read from Chroma (all of them took ~14 s at a million passages,
        in each ingest and in the first filtered question after it)."""
        generation, committed = self.log_position()  # before reading: see records.py
        cache = RecordCache(records_cache_path(self.settings))
        kept = cache.read(generation)
        if kept is None or kept[0] > committed:
            records: dict[str, StoredArticle] = {}
            for ids, metas, _ in self._paged(self.articles, include=["metadatas"]):
                for record_id, meta in zip(ids, metas, strict=True):
                    records[record_id] = record_from(record_id, meta or {})
            cache.write(generation, committed, records, whole=True)
            return records
        seq, records = kept
        changed = self._records_of(self.changed_articles(seq, self._log_tail()))  # uncommitted too
        if changed or seq != committed:
            cache.write(generation, committed, changed)
        for record_id, record in changed.items():
            if record is None:
                records.pop(record_id, None)
            else:
                records[record_id] = record
        return records

    def _records_of(self, names: Sequence[str]) -> dict[str, StoredArticle | None]:
        """These articles' records as Chroma holds them now (None: gone)."""
        changed: dict[str, StoredArticle | None] = {}
        for start in range(0, len(names), self.page_size):
            batch = list(names[start : start + self.page_size])
            changed.update(dict.fromkeys(batch))
            got = self.articles.get(ids=batch, include=["metadatas"])
            for record_id, meta in zip(got["ids"], got["metadatas"], strict=True):
                changed[record_id] = record_from(record_id, meta or {})
        return changed

    def record_facts(self) -> list[tuple[str, str, str]]:
        """(id, source, date) of every article record: what a reader's library needs.

        From this machine's copy, brought to the committed change-log position by the
        changed articles only, without decoding every record: at a million passages
        (97k articles) ``records()`` held 430 MB while it ran and left 215 MB behind in a
        serving process. Falls back to ``records()`` when there is no usable copy."""
        generation, committed = self.log_position()
        cache = RecordCache(records_cache_path(self.settings))
        seq = cache.position(generation)
        if seq is not None and seq <= committed:
            if seq < committed:
                changed = self._records_of(self.changed_articles(seq, committed))
                cache.write(generation, committed, changed)
            facts = cache.facts(generation)
            if facts is not None:
                return facts
        return [(r.id, r.source, r.date) for r in self.records().values()]

    @_reading
    def article_text(self, article_id: str) -> str | None:
        got = self.articles.get(ids=[article_id], include=["documents"])
        docs = got.get("documents") or []
        return docs[0] if docs else None

    def put_record(self, record: StoredArticle, text: str) -> None:
        self.put_records([(record, text)])

    def put_records(self, records: Sequence[tuple[StoredArticle, str]]) -> None:
        """Records with their article texts, in as few calls as Chroma allows (each call
        has a fixed cost: one call per article was a third of ingestion's writing)."""
        for start in range(0, len(records), self.page_size):
            batch = records[start : start + self.page_size]
            self.articles.upsert(
                ids=[record.id for record, _ in batch],
                embeddings=[_RECORD_VECTOR] * len(batch),
                documents=[text for _, text in batch],
                metadatas=[record_metadata(record) for record, _ in batch],
            )

    def delete_records(self, ids: Sequence[str]) -> None:
        for start in range(0, len(ids), self.page_size):
            self.articles.delete(ids=list(ids[start : start + self.page_size]))

    # --- passages --------------------------------------------------------------
    @property
    def page_size(self) -> int:
        """Rows per Chroma call when reading or writing many."""
        return min(4000, int(self.client.get_max_batch_size()))

    @_reading
    def passage_ids_of(self, article_id: str) -> list[str]:
        got = self.passages.get(where={"article_id": article_id}, include=[])
        return list(got["ids"])

    @_reading
    def passage_ids_by_article(self, article_ids: Sequence[str]) -> dict[str, list[str]]:
        """The stored passage ids of each of these articles (empty lists included), in
        one query: each query by article id costs a scan that grows with the index."""
        out: dict[str, list[str]] = {i: [] for i in article_ids}
        if not out:
            return out
        got = self.passages.get(where={"article_id": {"$in": list(out)}}, include=["metadatas"])
        for passage_id, meta in zip(got["ids"], got["metadatas"], strict=True):
            out.setdefault(str((meta or {}).get("article_id", "")), []).append(passage_id)
        return out

    def upsert_passages(
        self,
        ids: Sequence[str],
        texts: Sequence[str],
        metadatas: Sequence[dict[str, Any]],
        vectors: Sequence[Sequence[float]],
    ) -> None:
        for start in range(0, len(ids), self.page_size):
            stop = start + self.page_size
            self.passages.upsert(
                ids=list(ids[start:stop]),
                documents=list(texts[start:stop]),
                metadatas=list(metadatas[start:stop]),
                embeddings=self.to_index_space(vectors[start:stop]).tolist(),
            )

    def update_passage_metadata(
        self, ids: Sequence[str], metadatas: Sequence[dict[str, Any]]
    ) -> None:
        for start in range(0, len(ids), self.page_size):
            stop = start + self.page_size
            self.passages.update(ids=list(ids[start:stop]), metadatas=list(metadatas[start:stop]))

    def delete_passages(self, ids: Sequence[str]) -> None:
        for start in range(0, len(ids), self.page_size):
            self.passages.delete(ids=list(ids[start : start + self.page_size]))

    @_reading
    def nearest(
        self, vector: Sequence[float], n: int, where: dict[str, Any] | None = None
    ) -> list[RetrievedPassage]:
        """The ``n`` passages nearest ``vector`` (best first), with text and vector.

        Embedded, this process's HNSW does not hold what another process wrote since it
        was loaded, while the metadata (SQLite) does: a filter that selects new passages
        makes Chroma fail with "Error finding id"; a query while the writer rewrites the
        HNSW files fails to make a segment reader. When an ingest has committed since
        the handles were opened, they are reloaded from disk (what following the log
        would do a moment later) and asked again; when none has, the new passages are
        not committed yet and the query is answered without them (empty).
        """
        query = {"query_embeddings": [self.to_index_space(vector).tolist()], "n_results": n,
                 "where": where,
                 "include": ["documents", "metadatas", "distances", "embeddings"]}
        try:
            got = self.passages.query(**query)
        except Exception as exc:
            if self.settings.index.chroma_host or not _unseen_ids(exc):
                raise
            if "Error finding id" in str(exc) and self.log_position() == self._opened_at:
                # No ingest committed since these handles were opened: the ids are an
                # ingest's uncommitted writes, not visible yet (nor to keyword search).
                # Reloading would not show them either, and at a million passages each
                # reload reads 1.7 GB (a reader polling during an ingest did, again and
                # again). Answered without them; after the commit, one reload finds them.
                return []
            got = None
        if got is None:
            # Reloaded outside the handler: the exception's traceback holds the old
            # handles, whose vectors would stay in memory beside the reloaded ones.
            got = self._query_reloaded(query)
        return [
            passage_from(pid, text, meta, vec, float(distance))
            for pid, text, meta, distance, vec in zip(
                got["ids"][0], got["documents"][0], got["metadatas"][0],
                got["distances"][0], got["embeddings"][0], strict=True,
            )
        ]

    @_reading
    def load_vectors(self) -> None:
        """Load the passages' vectors now: Chroma reads its HNSW into this process at the
        first query (2.7 s at a million passages, without holding the GIL)."""
        dimension = self.vector_dims
        if not dimension:  # (no count(): at a million passages it takes 3.6 s)
            return
        probe = [1.0] + [0.0] * (dimension - 1)
        try:
            self.passages.query(query_embeddings=[probe], n_results=1, include=[])
        except Exception as exc:
            if self.settings.index.chroma_host or not _unseen_ids(exc):
                raise
            # An ingest rewriting the files just now: the first question loads them.

    @_reading
    def passages_by_id(self, ids: Sequence[str]) -> list[RetrievedPassage]:
        """These passages (those that exist), with text and vector."""
        got = self.passages.get(ids=list(ids), include=["documents", "metadatas", "embeddings"])
        return [
            passage_from(pid, text, meta, vec)
            for pid, text, meta, vec in zip(
                got["ids"], got["documents"], got["metadatas"], got["embeddings"], strict=True
            )
        ]

    @_reading
    def relink_passages(
        self,
        ids: Sequence[str],
        also_published_at: Sequence[str],
        duplicate_ids: Sequence[str],
        versions: Sequence[str],
    ) -> None:
        """Give these passages their article's current duplicate and version links."""
        got = self.passages.get(ids=list(ids), include=["metadatas"])
        metas = [
            {**dict(meta or {}), **_links(also_published_at, duplicate_ids, versions)}
            for meta in got["metadatas"]
        ]
        self.update_passage_metadata(list(got["ids"]), metas)

    @_reading
    def vectors_by_id(self, ids: Sequence[str]) -> tuple[list[str], Any]:
        """Ids and vectors (a float32 array) of these passages, by id: no metadata scan."""
        import numpy as np

        if not ids:
            return [], np.zeros((0, 0), dtype=np.float32)
        got = self.passages.get(ids=list(ids), include=["embeddings"])
        vectors = np.asarray(got["embeddings"], dtype=np.float32)
        return list(got["ids"]), vectors.reshape(len(got["ids"]), -1)

    def all_articles(self) -> Iterator[tuple[list[str], list[dict[str, Any]], list[str]]]:
        """Every article record with its full text, a page at a time."""
        yield from self._paged(self.articles, include=["metadatas", "documents"])

    def all_passages(self) -> Iterator[tuple[list[str], list[dict[str, Any]], list[str]]]:
        """Every passage, a page at a time: (ids, metadatas, documents)."""
        yield from self._paged(self.passages, include=["metadatas", "documents"])

    def _paged(
        self, collection: Any, include: list[str]
    ) -> Iterator[tuple[list[str], list[dict[str, Any]], list[str]]]:
        offset = 0
        page = self.page_size
        while True:
            try:
                got = collection.get(include=include, limit=page, offset=offset)
            except Exception as exc:  # a generator: the _reading wrapper cannot see this
                raise self.read_failure(exc) from exc
            ids = list(got["ids"])
            if not ids:
                return
            metas = list(got.get("metadatas") or [{}] * len(ids))
            docs = list(got.get("documents") or [""] * len(ids))
            yield ids, metas, docs
            offset += len(ids)

    @_reading
    def count_passages(self) -> int:
        return int(self.passages.count())

    @_reading
    def count_articles(self) -> int:
        return int(self.articles.count())


LOCK_SUFFIX = "__lock"


class ChromaLease:
    """The ingest lock of a Chroma server: a lock collection with an owner and an expiry.

    ``create_collection`` fails when the name exists, atomically on the server, so at most
    one writer holds ``<collection>__lock`` however many machines ask. The holder renews
    the expiry from a background thread; a lease whose holder died (SIGKILL, lost
    machine) expires after ``ttl_s`` and the next writer breaks it. Breaking renames the
    stale lock *by its id* before deleting it, so it can never remove a fresh lock that
    another writer created in between. Expiry compares wall clocks of different
    machines: keep them NTP-synchronised, and ``ttl_s`` well above their skew.
    """

    def __init__(self, client: Any, collection: str, owner: str, ttl_s: float) -> None:
        if ttl_s <= 0:
            raise ValueError(f"lease ttl must be positive, got {ttl_s}")
        self.client = client
        self.name = collection + LOCK_SUFFIX
        self.owner = owner
        self.ttl_s = ttl_s
        self._handle: Any = None
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None
        self.lost = False

    def _metadata(self) -> dict[str, Any]:
        return {"owner": self.owner, "expires_at": time.time() + self.ttl_s}

    def try_acquire(self) -> dict[str, Any] | None:
        """Take the lease and return None, or leave it and return the holder's metadata."""
        for _ in range(3):
            try:
                self._handle = self.client.create_collection(self.name, metadata=self._metadata())
            except Exception as exc:
                if "already exists" not in str(exc):
                    raise
            else:
                self._renewer = threading.Thread(
                    target=self._renew, name="rag-ingest-lease", daemon=True
                )
                self._renewer.start()
                return None
            try:
                held = self.client.get_collection(self.name)
            except Exception:
                continue  # released meanwhile: try again
            holder = dict(held.metadata or {})
            if float(holder.get("expires_at", 0.0)) > time.time():
                return holder
            self._discard(held, "stale")
        return {"owner": "another writer (the lock changed hands while we looked)"}

    def _discard(self, handle: Any, why: str) -> None:
        """Rename by id, then delete the renamed copy: never touches a newer lock."""
        aside = f"{self.name}-{why}-{uuid.uuid4().hex[:12]}"
        try:
            handle.modify(name=aside)
        except Exception:
            return  # someone else already moved it
        with contextlib.suppress(Exception):
            self.client.delete_collection(aside)

    def _renew(self) -> None:
        while not self._stop.wait(self.ttl_s / 3):
            try:
                self._handle.modify(metadata=self._metadata())
            except Exception:
                # Broken by another writer (we stalled past expiry) or server gone.
                self.lost = True
                return

    def check(self) -> None:
        """Raise before writing more when the lease was lost."""
        if self.lost:
            raise IndexLockedError(
                f"the ingest lock {self.name!r} expired while this ingest was stalled and "
                "another writer may have taken it; run `rag ingest` again (it resumes) and "
                "raise RAG_INGEST_LOCK_TTL_S if ingests stall this long"
            )

    def release(self) -> None:
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join(timeout=5)
        if self._handle is not None and not self.lost:
            self._discard(self._handle, "released")
        self._handle = None


def mismatch_fix(recorded: str, wanted: str) -> str:
    """How to get past an index built with another model id than the settings ask for.

    An int8 id (``MODEL+int8.vN``) is not a model name: the backend setting picks it, and
    the id of an older int8 export cannot be produced again, only re-embedded.
    """
    rebuild = "run `rag ingest --rebuild index/articles` to re-embed"
    if "+int8" not in recorded:
        return f"{rebuild}, or set RAG_EMBEDDING_MODEL={recorded}"
    if recorded.endswith(f"+int8.v{EXPORT_VERSION}") and "+int8" not in wanted:
        return f"{rebuild}, or set RAG_EMBEDDING_BACKEND=onnx-int8 (it was built with int8)"
    return (
        f"{rebuild}: it was built by an earlier int8 export of the model, which this "
        "version no longer makes"
    )
