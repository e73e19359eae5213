"""Turn article files into passages in the Chroma index, safely and repeatably.

Content hashes decide what to do: an unchanged article embeds nothing, a changed one
replaces its passages (re-using vectors of passages whose text did not change), a
duplicate is stored once with its URL kept as "also published at", and ``prune``
drops articles whose files are gone.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rag.core.errors import RagError
from rag.core.schema import Article, IngestSummary, Passage, Problem
from rag.core.settings import Settings
from rag.indexing.dedup import DuplicateFinder, fact_differences, minhash, text_hash
from rag.indexing.embeddings import PassageEmbeddings, make_embeddings
from rag.indexing.health import check_index, record_written
from rag.indexing.keyword import KeywordStore, LogPosition
from rag.indexing.loaders import iter_files, load_path
from rag.indexing.locking import WriteGuard, ingest_lock
from rag.indexing.reduce import finish_reduce, kept_dims, reduce_locked
from rag.indexing.splitting import PassageSplitter
from rag.indexing.store import (
    ARTICLES_SUFFIX,
    CHANGES_SUFFIX,
    ArticleIndex,
    ArticleRecord,
    drop_collection,
    drop_orphan_segments,
    has_collection,
    keyword_dir,
    passage_metadata,
    record_from,
)

_log = logging.getLogger(__name__)
#: Called as progress(done, total) while passages are embedded.
ProgressCallback = Callable[[int, int], None]
# Passages embedded and written together: small enough that a crash loses little (a
# few seconds of embedding) and that writing one group overlaps embedding the next (see
# _embed_and_write); large enough that the encoder's length-sorted batches carry little
# padding (128 cost 8% more encoder time than 512 on 3,341 passages) and that Chroma's
# per-call cost is spread thin.
_WRITE_GROUP = 512
# Articles whose stored passages are looked up in one query (see _classify_all).
_LOOKUP_BATCH = 200
# Disk that Chroma (SQLite log and metadata, HNSW files) takes per passage written,
# generously: about 14 kB was measured with hashing vectors, re-ingests included.
_BYTES_PER_PASSAGE = 16_000
# Kept free besides: BM25 cache rewrite, SQLite journal.
_DISK_RESERVE = 1_000_000


def embedding_text(title: str, passage_text: str) -> str:
    """What is embedded: the title gives every passage its article's topic."""
    return f"{title}\n{passage_text}" if title else passage_text


def content_hash(article: Article, settings: Settings) -> str:
    """Changes when anything that shapes the stored passages changes."""
    parts = [
        article.title, article.text, article.source, article.date, article.url,
        str(settings.index.passage_tokens), str(settings.index.passage_overlap_tokens),
    ]
    return hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()


@dataclass
class _Pending:
    """An article to (re)write, with its passages and what must be embedded."""

    article: Article
    record: ArticleRecord
    passages: list[Passage]
    metadatas: list[dict[str, Any]]
    to_embed: list[int] = field(default_factory=list)  # indexes into passages
    stale: list[str] = field(default_factory=list)


@dataclass
class Reading:
    """What one run read: its articles, its problems, and where it looked.

    ``roots`` are the paths given, absolute: prune looks only under them. ``partial``
    holds files that could not be read whole (a bad line, a bad encoding): their
    articles are kept, since a line that failed to parse is not a line that is gone.
    Article origins are absolute, so they mean the same from any working directory.
    """

    articles: list[Article] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    roots: list[str] = field(default_factory=list)
    partial: set[str] = field(default_factory=set)

    @property
    def origins(self) -> set[str]:
        return {a.origin for a in self.articles}

    def covers(self, origin: str) -> bool:
        """True when ``origin`` (absolute) lies under one of the paths of this run."""
        return any(origin == root or origin.startswith(root.rstrip(os.sep) + os.sep)
                   for root in self.roots)


def absolute(origin: str) -> str:
    """An origin as an absolute path, symlinks kept (records of older versions hold
    paths relative to the folder ingest ran in; those resolve against this one)."""
    return os.path.abspath(origin) if origin else ""


def read_articles(paths: Iterable[Path], follow_links: bool = False) -> Reading:
    """Load every file; a repeated id with other text is a problem, not a silent overwrite."""
    paths = list(paths)
    articles: dict[str, Article] = {}
    reading = Reading(roots=[absolute(str(p)) for p in paths])
    for item in iter_files(paths, follow_links):
        if isinstance(item, Problem):
            reading.problems.append(item)
            continue
        where = absolute(str(item))
        for loaded in load_path(item):
            if isinstance(loaded, Problem):
                reading.problems.append(loaded)
                reading.partial.add(where)
                continue
            loaded = replace(loaded, origin=where)
            if loaded.id in articles:
                first = articles[loaded.id]
                if first.text != loaded.text or first.title != loaded.title:
                    reading.problems.append(
                        Problem(
                            str(item),
                            f"id {loaded.id!r} is used again with different text (first in "
                            f"{first.origin}); give each article its own id",
                        )
                    )
            else:
                articles[loaded.id] = loaded
    reading.articles = list(articles.values())
    return reading


def ingest(
    paths: Sequence[str | Path],
    settings: Settings,
    *,
    prune: bool = False,
    rebuild: bool = False,
    replace: bool = False,
    repair: bool = False,
    embeddings: PassageEmbeddings | None = None,
    progress: ProgressCallback | None = None,
    follow_links: bool = False,
) -> IngestSummary:
    """Index the articles under ``paths``; see the module docstring for the rules.

    Symbolic links out of the given folders are reported, not followed, unless
    ``follow_links``. ``replace`` lets an article take the id of one indexed from
    another file that still exists; without it that is a conflict, refused with a
    message naming both files.
    """
    started = time.perf_counter()
    embeddings = embeddings or make_embeddings(settings)
    if repair:
        # Damaged vector files: re-embed every article from the text its record keeps.
        reading, rebuild = stored_articles(settings, embeddings), True
    else:
        if not rebuild:
            check_index(settings)  # never write into an index whose vectors are damaged
        reading = read_articles([Path(p) for p in paths], follow_links)
    articles, problems = reading.articles, reading.problems
    if not articles and not problems:
        problems.append(Problem(", ".join(map(str, paths)) or "(no paths)", "no articles found"))
    if rebuild:
        _check_rebuild(reading, paths)
    with ingest_lock(settings) as guard:
        try:
            _finish_swap(settings)
            finish_reduce(settings)  # and a `rag reduce` killed midway
            # A rebuild is built aside and swapped in only when complete: until then,
            # and if it fails, the index that was there keeps answering.
            target = _staging(settings) if rebuild else settings
            reduced = kept_dims(settings, embeddings) if rebuild else None
            index = ArticleIndex(target, embeddings, create=True)
            summary = _Ingestion(index, target, embeddings, progress, guard).run(
                reading, prune and not rebuild, replace or rebuild
            )
            if rebuild:
                _swap_in(target, settings, embeddings)
                if reduced:
                    _reduce_again(settings, embeddings, reduced, guard)
            else:
                record_written(settings)  # checked before writing (above)
        except RagError:
            raise
        except Exception as exc:
            raise _write_failure(exc, settings) from exc
    summary.problems = problems + summary.problems
    if not articles and not summary.removed:
        summary.problems.append(
            Problem(", ".join(map(str, paths)), "no article could be read; nothing was indexed")
        )
    summary.seconds = time.perf_counter() - started
    return summary


def stored_articles(settings: Settings, embeddings: PassageEmbeddings) -> Reading:
    """Every article as its record keeps it (full text included): what ``--repair``
    re-embeds. Records live in Chroma's SQLite tables, which damaged HNSW files leave
    readable."""
    index = ArticleIndex(settings, embeddings)
    reading = Reading(roots=[])
    for ids, metas, texts in index.all_articles():
        for article_id, meta, text in zip(ids, metas, texts, strict=True):
            record = record_from(article_id, meta or {})
            if not text:
                reading.problems.append(
                    Problem(article_id, "its record keeps no text; ingest its file again")
                )
                continue
            reading.articles.append(
                Article(
                    id=record.id, title=record.title, text=text, source=record.source,
                    date=record.date, url=record.url, origin=record.origin,
                )
            )
    return reading


def _check_rebuild(reading: Reading, paths: Sequence[str | Path]) -> None:
    """A rebuild replaces the whole index by what was read: refuse one from a path that
    does not exist or that holds no readable article, before anything is touched."""
    missing = [str(p) for p in paths if not Path(p).exists()]
    if missing:
        raise RagError(
            f"refusing to --rebuild: {', '.join(missing)} does not exist, and a rebuild "
            "keeps only the articles it reads; the index is unchanged. Check the path"
        )
    if not reading.articles:
        raise RagError(
            f"refusing to --rebuild: no article could be read from {', '.join(map(str, paths))}"
            " (see the problems above), and a rebuild keeps only the articles it reads; the "
            "index is unchanged. Fix the input or the path"
        )


_STAGING = "__rebuild"
_ASIDE = "__old"


def _staging(settings: Settings) -> Settings:
    """Settings naming the collection a rebuild is built in."""
    return settings.model_copy(update={"collection": settings.index.collection + _STAGING})


def _swap_in(staged: Settings, settings: Settings, embeddings: PassageEmbeddings) -> None:
    """Put a finished rebuild in place of the live index: live aside, new in, old out.

    Each step renames a collection in Chroma's catalogue (no data is copied), in an
    order that ``_finish_swap`` can always complete or undo after a crash.
    """
    from rag.indexing.store import make_client

    client = make_client(settings, create=True)
    live, aside, stage = _pairs(settings)
    for name in aside:  # a leftover of an earlier swap; _finish_swap ran, so unused
        drop_collection(client, name)
    for old, new in ((live[1], aside[1]), (live[0], aside[0])):  # articles first
        if has_collection(client, old):
            client.get_collection(old).modify(name=new)
    for old, new in zip(stage, live, strict=True):  # passages first
        client.get_collection(old).modify(name=new)
    for name in aside:
        drop_collection(client, name)
    _swap_change_log(client, settings)
    drop_orphan_segments(settings)  # the replaced index's vector folders
    _swap_keyword_folder(staged, settings)
    # The staged folder came with the new generation; this checks it (or builds it).
    index = ArticleIndex(settings, embeddings)
    KeywordStore(keyword_dir(settings)).sync(index, LogPosition(*index.log_position()))


def _reduce_again(
    settings: Settings, embeddings: PassageEmbeddings, dims: int, guard: WriteGuard
) -> None:
    """A rebuild of a reduced index keeps it reduced (a new projection, fitted on the
    rebuilt vectors); too few passages to fit one leaves the model's own, with a warning."""
    try:
        reduce_locked(settings, embeddings, dims, guard)
    except ValueError as exc:
        _log.warning("the rebuilt index keeps the model's own vectors: %s", exc)


def _swap_change_log(client: Any, settings: Settings) -> None:
    """The rebuild's change log replaces the live one (a new generation starts)."""
    live = settings.index.collection + CHANGES_SUFFIX
    stage = settings.index.collection + _STAGING + CHANGES_SUFFIX
    if has_collection(client, stage):
        drop_collection(client, live)
        client.get_collection(stage).modify(name=live)


def _swap_keyword_folder(staged: Settings, settings: Settings) -> None:
    """The rebuild's keyword folder (already built, its state names the new generation)
    replaces the live one; running readers switch to it at their next check."""
    live, new = keyword_dir(settings), keyword_dir(staged)
    if not new.is_dir():
        return
    old = live.with_name(f"{live.name}.old-{os.getpid()}")
    with contextlib.suppress(FileNotFoundError):
        os.replace(live, old)
    os.replace(new, live)
    shutil.rmtree(old, ignore_errors=True)
    _drop_keyword_caches(settings, keep_current=True)


def _finish_swap(settings: Settings) -> None:
    """Complete or undo a rebuild killed midway, before anything else writes.

    No collection aside: any staging index is a half-built rebuild, dropped. Only the
    articles aside: the swap had just begun, so they go back. Both aside: the staging
    index was complete, so the swap is finished.
    """
    from rag.indexing.store import make_client

    index = settings.index
    if not index.chroma_host and not (Path(index.index_dir) / "chroma.sqlite3").exists():
        return
    client = make_client(settings, create=True)
    live, aside, stage = _pairs(settings)
    if has_collection(client, aside[0]):
        for old, new in zip(stage, live, strict=True):
            if has_collection(client, old) and not has_collection(client, new):
                client.get_collection(old).modify(name=new)
        _swap_change_log(client, settings)
    elif has_collection(client, aside[1]) and not has_collection(client, live[1]):
        client.get_collection(aside[1]).modify(name=live[1])
    for name in (*aside, *stage, settings.index.collection + _STAGING + CHANGES_SUFFIX):
        drop_collection(client, name)
    _drop_keyword_caches(_staging(settings))


def _pairs(settings: Settings) -> tuple[tuple[str, str], ...]:
    """(passages, articles) collection names: live, moved aside, and being built."""
    return tuple(
        (name, name + ARTICLES_SUFFIX)
        for name in (
            settings.index.collection,
            settings.index.collection + _ASIDE,
            settings.index.collection + _STAGING,
        )
    )




def _drop_keyword_caches(settings: Settings, keep_current: bool = False) -> None:
    """The keyword folder (unless ``keep_current``) and leftovers of older layouts."""
    folder = keyword_dir(settings)
    stale = [folder.with_name(folder.name + "__articles")]  # the bm25s cache's other half
    if not keep_current:
        stale.append(folder)
    for path in stale:
        shutil.rmtree(path, ignore_errors=True)


def _write_failure(exc: Exception, settings: Settings) -> RagError:
    """A failed write (full disk, read-only folder, server gone) as a message to act on.

    Whatever was written stays consistent: article records are written after their
    passages, so the next run redoes exactly the articles this one did not finish.
    """
    where = (
        f"the Chroma server at {settings.index.chroma_host}:{settings.index.chroma_port}"
        if settings.index.chroma_host
        else f"the index at {settings.index.index_dir}"
    )
    text = f"{type(exc).__name__}: {exc}"
    lowered = text.lower()
    code = exc.errno if isinstance(exc, OSError) else None
    index_dir = Path(settings.index.index_dir)
    low_disk = (
        not settings.index.chroma_host
        and index_dir.exists()
        and shutil.disk_usage(index_dir).free < _DISK_RESERVE
    )
    if code == errno.ENOSPC or "disk is full" in lowered or "no space" in lowered or low_disk:
        fix = "free disk space"
    elif code == errno.EROFS or "read-only" in lowered or "readonly" in lowered:
        fix = "make the folder writable (or point RAG_INDEX_DIR at a writable copy)"
    else:
        fix = "fix the cause above"
    return RagError(
        f"writing {where} failed ({text[:300]}); articles indexed before are kept. "
        f"{fix[0].upper() + fix[1:]}, then run the same `rag ingest` again: it resumes "
        "where this run stopped"
    )


class _Ingestion:
    """One run: classify articles, embed what is new, write, prune, refresh BM25."""

    def __init__(
        self,
        index: ArticleIndex,
        settings: Settings,
        embeddings: PassageEmbeddings,
        progress: ProgressCallback | None,
        guard: WriteGuard | None = None,
    ) -> None:
        self.index = index
        self.settings = settings
        self.embeddings = embeddings
        self.progress = progress
        self.guard = guard or (lambda: None)
        self.summary = IngestSummary()
        self.records = index.records()
        self.dups = DuplicateFinder(settings.index.near_duplicate_threshold)
        self.dups.add_many((r.id, r.text_hash, r.minhash) for r in self.records.values()
                           if not r.duplicate_of and r.minhash)
        self.changed = False
        self.duplicates: list[tuple[Article, ArticleRecord | None, str, str, str, str]] = []
        # (version id, the article it is a version of), linked both ways after the writes.
        self.versions: list[tuple[str, str]] = []
        self._current: dict[str, Article] = {}
        # Ids counted "unchanged" in this run, and orphaned duplicates being re-decided
        # (their records exist, so they count as updated, not added).
        self._unchanged: set[str] = set()
        self._redecided: set[str] = set()
        self._read_origins: set[str] = set()
        # Stored passage ids of the batch being classified (see _classify_all).
        self._stored_passages: dict[str, list[str]] = {}

    def run(self, reading: Reading, prune: bool, replace: bool = False) -> IngestSummary:
        self._read_origins = reading.origins
        articles = reading.articles if replace else self._without_conflicts(reading)
        # Prune first: a pruned article's duplicates are then indexed in this same run.
        if prune:
            self._prune(reading)
        current = self._current = {a.id: a for a in articles}
        queue = list(articles)
        # A second pass re-decides duplicates whose original changed text in the first;
        # a third can only follow from a chain of such changes and never more.
        for _ in range(3):
            queued = {a.id for a in queue}
            queue += [a for a in self._orphaned_duplicates(current) if a.id not in queued]
            if not queue:
                break
            # Classified as the writes go (a generator): the first passages are written
            # long before the last article of a 200,000-article file is classified, and
            # only the group being embedded is held in memory.
            self._embed_and_write(self._classify_all(queue), len(queue))
            for duplicate in self.duplicates:
                self._store_duplicate(*duplicate)
            for version_id, original_id in self.versions:
                self._link_versions(version_id, original_id)
            self.duplicates, self.versions, queue = [], [], []
        if self.changed or not self.index.log_position()[0] or self.index.log_uncommitted():
            self.index.stamp(self.embeddings.dimension, commit_log=True)
        # Updates this machine's keyword indexes in place (only the logged articles),
        # and checks every file of them: a damaged cache is rebuilt here.
        generation, seq = self.index.log_position()
        KeywordStore(keyword_dir(self.settings)).sync(
            self.index, LogPosition(generation, seq), verify=True
        )
        return self.summary

    def _touch(self, article_ids: Sequence[str] = ()) -> None:
        """Call before any write: logs the articles about to change (readers re-read
        them from Chroma once this run commits the log) and moves the revision."""
        self.guard()
        if not self.changed:
            self.index.stamp(self.embeddings.dimension)
            self.changed = True
        if article_ids:
            self.index.log_changes(article_ids)

    # --- deciding ----------------------------------------------------------------
    def _without_conflicts(self, reading: Reading) -> list[Article]:
        """Refuse articles that take the id of one indexed from another file that still
        holds it: that would silently replace someone else's article."""
        read_origins = reading.origins
        allowed: list[Article] = []
        for article in reading.articles:
            old = self.records.get(article.id)
            first = absolute(old.origin) if old is not None else ""
            if (
                old is not None
                and first
                and first != article.origin
                and Path(first).exists()
                and first not in read_origins  # read now without this id: it moved
                and old.content_hash != content_hash(article, self.settings)
            ):
                self.summary.problems.append(
                    Problem(
                        article.origin,
                        f"id {article.id!r} is already indexed from {first}, which still "
                        "exists; give this article its own id, or run with --replace to "
                        "let this file's article take its place",
                    )
                )
            else:
                allowed.append(article)
        return allowed

    def _orphaned_duplicates(self, current: dict[str, Article]) -> list[Article]:
        """Duplicates that no longer have their original: it is gone (pruned now, or by a
        run that was killed), or its text changed so it no longer stands for theirs.

        Their records are dropped from this run's view so they are decided afresh, from
        their file when this run read it, else from the text kept in their record: they
        are indexed (as articles of their own, or duplicates of another) even when their
        file is not part of this run. Nothing is lost.
        """
        orphans: list[Article] = []
        for record in list(self.records.values()):
            if not record.duplicate_of:
                continue
            original = self.records.get(record.duplicate_of)
            if original is not None and not original.duplicate_of and (
                original.text_hash == record.text_hash
                or self.dups.find(record.id, record.text_hash, record.minhash)
                == original.id
            ):
                continue
            del self.records[record.id]  # re-decided from scratch; its record is rewritten
            self._redecided.add(record.id)
            if record.id in self._unchanged:  # counted in an earlier pass of this run
                self._unchanged.discard(record.id)
                self.summary.unchanged -= 1
            if original is not None and record.id in original.duplicate_ids:
                self._relink(
                    original,
                    [u for u in original.also_published_at if u != record.url],
                    [i for i in original.duplicate_ids if i != record.id],
                )
            if record.id in current:
                orphans.append(current[record.id])
                continue
            text = self.index.article_text(record.id)
            if text:
                orphans.append(
                    Article(
                        id=record.id, title=record.title, text=text, source=record.source,
                        date=record.date, url=record.url, origin=record.origin,
                    )
                )
        return orphans

    def _classify(self, article: Article) -> _Pending | None:
        old = self.records.get(article.id)
        digest = content_hash(article, self.settings)
        if old is not None and old.content_hash == digest:
            self.summary.unchanged += 1
            self._unchanged.add(article.id)
            first = absolute(old.origin)
            if first != article.origin and not (
                Path(first).exists() and first not in self._read_origins
            ):  # moved (or an older, relative origin): follow it
                self._rewrite_record(old, origin=article.origin, text=article.text)
            linked = self.records.get(old.duplicate_of) if old.duplicate_of else None
            if linked is not None and old.id not in linked.duplicate_ids:
                # A run killed between storing this duplicate and linking it: link now.
                also = list(linked.also_published_at)
                if old.url and old.url not in also and old.url != linked.url:
                    also.append(old.url)
                self._relink(linked, also, sorted({*linked.duplicate_ids, old.id}))
            return None
        t_hash = text_hash(article.text)
        signature = minhash(article.text)
        original = self.dups.find(article.id, t_hash, signature)
        if original is not None and self._differs_in_facts(article, original):
            # Another version of the story (a count, a name, a date, a negation changed):
            # indexed as an article of its own, linked to the other both ways.
            self.versions.append((article.id, original))
            original = None
        if original is not None:
            # Linked after the writes: the original may itself be new in this run.
            self.duplicates.append((article, old, original, digest, t_hash, signature))
            return None
        if old is None and article.id not in self._redecided:
            self.summary.added += 1
        else:
            self.summary.updated += 1
        # Forget the old text first: else a later article with the old text would be
        # called a duplicate of this one, which no longer holds that text.
        self.dups.remove(article.id)
        self.dups.add(article.id, t_hash, signature)
        return self._plan(article, old, digest, t_hash, signature)

    def _plan(
        self,
        article: Article,
        old: ArticleRecord | None,
        digest: str,
        t_hash: str,
        signature: str,
    ) -> _Pending:
        embeddings, title = self.embeddings, article.title
        splitter = PassageSplitter(
            self.settings.index.passage_tokens,
            self.settings.index.passage_overlap_tokens,
            fits_all=lambda bodies: embeddings.fits_all(
                [embedding_text(title, body) for body in bodies]
            ),
        )
        passages = splitter.split(article)
        also = old.also_published_at if old else []
        dup_ids = old.duplicate_ids if old else []
        versions = old.versions if old else []
        record = ArticleRecord(
            id=article.id, title=article.title, source=article.source, date=article.date,
            url=article.url, origin=article.origin, content_hash=digest, text_hash=t_hash,
            minhash=signature, passage_ids=[p.id for p in passages], duplicate_of="",
            also_published_at=also, duplicate_ids=dup_ids, versions=versions,
        )
        metadatas = [passage_metadata(record, p) for p in passages]
        # Passages already stored (same text) keep their vectors; orphans of a crashed
        # run are found by article id, not only through the old record.
        stored = self._stored_passages.pop(article.id, None)  # looked up with its batch
        present = set(stored if stored is not None else self.index.passage_ids_of(article.id))
        wanted = {p.id for p in passages}
        to_embed = [i for i, p in enumerate(passages) if p.id not in present]
        return _Pending(article, record, passages, metadatas, to_embed, sorted(present - wanted))

    # --- duplicates --------------------------------------------------------------
    def _store_duplicate(
        self,
        article: Article,
        old: ArticleRecord | None,
        original_id: str,
        digest: str,
        t_hash: str,
        signature: str,
    ) -> None:
        self._touch([article.id])
        self.summary.duplicates += 1
        if old is None and article.id not in self._redecided:
            self.summary.added += 1
        else:
            self.summary.updated += 1
        if old is not None and old.passage_ids:
            self.index.delete_passages(self.index.passage_ids_of(article.id))
            self.dups.remove(article.id)
        record = ArticleRecord(
            id=article.id, title=article.title, source=article.source, date=article.date,
            url=article.url, origin=article.origin, content_hash=digest, text_hash=t_hash,
            minhash=signature, passage_ids=[], duplicate_of=original_id,
            also_published_at=[], duplicate_ids=[],
        )
        self.index.put_record(record, article.text)
        self.records[article.id] = record
        original = self.records[original_id]
        also = list(original.also_published_at)
        if article.url and article.url not in also and article.url != original.url:
            also.append(article.url)
        dup_ids = sorted({*original.duplicate_ids, article.id})
        self._relink(original, also, dup_ids)

    def _differs_in_facts(self, article: Article, original_id: str) -> bool:
        """A near copy that changes a number, a name, a date or a negation."""
        kept = self._current.get(original_id)
        record = self.records.get(original_id)
        if kept is not None and (record is None or record.content_hash == content_hash(
            kept, self.settings
        )):
            text: str | None = kept.text  # new in this run, or unchanged
        else:
            text = self.index.article_text(original_id)
        return bool(text) and bool(fact_differences(text or "", article.text))

    def _link_versions(self, version_id: str, original_id: str) -> None:
        for one, other in ((version_id, original_id), (original_id, version_id)):
            record = self.records.get(one)
            if record is not None and other not in record.versions:
                self._relink(record, record.also_published_at, record.duplicate_ids,
                             sorted({*record.versions, other}))

    def _relink(
        self,
        original: ArticleRecord,
        also: list[str],
        dup_ids: list[str],
        versions: list[str] | None = None,
    ) -> None:
        """Refresh an article's duplicate and version links on its record and passages."""
        versions = original.versions if versions is None else versions
        if (also, dup_ids, versions) == (
            original.also_published_at, original.duplicate_ids, original.versions
        ):
            return
        self._touch([original.id])
        updated = ArticleRecord(**{**original.__dict__, "also_published_at": also,
                                   "duplicate_ids": dup_ids, "versions": versions})
        text = self.index.article_text(original.id) or ""
        self.index.relink_passages(original.passage_ids, also, dup_ids, versions)
        self.index.put_record(updated, text)
        self.records[original.id] = updated
        self.changed = True

    def _rewrite_record(self, record: ArticleRecord, origin: str, text: str) -> None:
        self._touch([record.id])  # every record write is logged: caches follow the log
        updated = ArticleRecord(**{**record.__dict__, "origin": origin})
        self.index.put_record(updated, text)
        self.records[record.id] = updated

    # --- writing -----------------------------------------------------------------
    def _classify_all(self, queue: list[Article]) -> Iterator[tuple[_Pending | None, int]]:
        """(article to write or None, passages it adds) for each article, lazily; the
        stored passages of each batch of articles are looked up in one query."""
        for start in range(0, len(queue), _LOOKUP_BATCH):
            batch = queue[start : start + _LOOKUP_BATCH]
            self._stored_passages = self.index.passage_ids_by_article([a.id for a in batch])
            for article in batch:
                item = self._classify(article)
                yield item, len(item.to_embed) if item is not None else 0

    def _embed_and_write(
        self, classified: Iterable[tuple[_Pending | None, int]], articles: int
    ) -> None:
        """Embed group after group; write each group while the next one is embedded.

        The model (torch or ONNX Runtime) releases the GIL while it computes, so
        Chroma's writes of one group overlap the embedding of the next. Writes stay
        in order, one at a time, and the last one is awaited before returning.
        Progress totals are estimated from the articles classified so far (passages
        per article) until the last one is, then exact.
        """
        from concurrent.futures import Future, ThreadPoolExecutor

        planned = seen = done = 0

        def groups() -> Iterator[list[_Pending]]:
            nonlocal planned, seen
            group: list[_Pending] = []
            size = 0
            for item, passages in classified:
                seen += 1
                planned += passages
                if item is None:
                    continue
                group.append(item)
                size += passages
                if size >= _WRITE_GROUP:
                    yield group
                    group, size = [], 0
            if group:
                yield group

        def total() -> int:
            if seen >= articles or not seen:
                return planned
            return max(planned, round(planned / seen * articles))

        writing: Future[None] | None = None
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="rag-write") as writer:
            try:
                for group in groups():
                    vectors = self._embed_group(group)
                    if writing is not None:
                        writing.result()  # in order; re-raises a failed write
                    writing = writer.submit(self._write_group, group, vectors)
                    done += len(vectors)
                    if self.progress:
                        self.progress(done, total())
                if writing is not None:
                    writing.result()
            finally:
                if writing is not None and not writing.done():
                    writing.exception()  # wait: nothing writes after ingest returns
        if self.progress:
            self.progress(done, done)

    def _embed_group(self, group: list[_Pending]) -> list[list[float]]:
        """Vectors for the group's new passages; a text repeated in it is embedded once."""
        texts = [
            embedding_text(item.article.title, item.passages[i].text)
            for item in group
            for i in item.to_embed
        ]
        unique = list(dict.fromkeys(texts))
        by_text = dict(zip(unique, self.embeddings.embed_documents(unique) if unique else [],
                           strict=True))
        self.summary.passages_embedded += len(texts)
        return [by_text[t] for t in texts]

    def _write_group(self, group: list[_Pending], vectors: list[list[float]]) -> None:
        """All new passages of the group in one upsert, then all their articles' records."""
        self._ensure_disk_space(group)
        self._touch([item.record.id for item in group])
        ids: list[str] = []
        texts: list[str] = []
        metadatas: list[dict[str, Any]] = []
        for item in group:
            ids += [item.passages[i].id for i in item.to_embed]
            texts += [item.passages[i].text for i in item.to_embed]
            metadatas += [item.metadatas[i] for i in item.to_embed]
        if ids:
            # One call instead of one per article: Chroma's fixed cost per call dominated.
            self.index.upsert_passages(ids, texts, metadatas, vectors)
        for item in group:
            new = set(item.to_embed)
            kept = [i for i in range(len(item.passages)) if i not in new]
            if kept:
                self.index.update_passage_metadata(
                    [item.passages[i].id for i in kept], [item.metadatas[i] for i in kept]
                )
            if item.stale:
                self.index.delete_passages(item.stale)
        # The records go last: a record is what marks its article complete.
        self.index.put_records([(item.record, item.article.text) for item in group])
        for item in group:
            self.records[item.record.id] = item.record
            self.summary.passages_written += len(item.passages)
        self.changed = True

    def _ensure_disk_space(self, group: list[_Pending]) -> None:
        """Stop before a write that would fill the disk.

        Chroma 1.5's embedded index can be left unreadable when the disk fills in the
        middle of a write (even after space is freed), so a full disk must never be
        reached: refusing here keeps every group already written, complete and readable.
        """
        if self.settings.index.chroma_host:
            return  # the server's disk; its operator watches it
        index_dir = Path(self.settings.index.index_dir)
        passages = sum(len(item.passages) for item in group)
        text_bytes = sum(len(p.text.encode("utf-8")) for item in group for p in item.passages)
        need = passages * _BYTES_PER_PASSAGE + 2 * text_bytes + _DISK_RESERVE
        free = shutil.disk_usage(index_dir).free
        if free < need:
            raise RagError(
                f"the disk holding {index_dir} has {free / 1e6:.1f} MB free, and writing "
                f"{passages} more passages needs about {need / 1e6:.1f} MB; articles indexed "
                "before are kept. Free disk space (or set RAG_INDEX_DIR to a bigger disk), "
                "then run the same `rag ingest` again: it resumes where this run stopped"
            )

    # --- pruning -----------------------------------------------------------------
    def _prune(self, reading: Reading) -> None:
        """Remove articles whose file, under the paths of this run, is gone or no longer
        holds them. Files outside those paths are not this run's business; a file that
        could not be read whole keeps every article (its bad line may hold them)."""
        seen = {a.id for a in reading.articles}
        read_origins = reading.origins
        doomed: list[ArticleRecord] = []
        kept: dict[str, int] = {}
        for record in self.records.values():
            origin = absolute(record.origin)
            if not origin or record.id in seen or not reading.covers(origin):
                continue
            if origin in reading.partial:
                kept[origin] = kept.get(origin, 0) + 1
            elif not Path(origin).exists() or origin in read_origins:
                doomed.append(record)  # its file is gone, or read without it
        for record in doomed:
            self._remove(record)
        for origin, count in sorted(kept.items()):
            self.summary.problems.append(
                Problem(
                    origin,
                    f"not pruned: {count} indexed article(s) from this file were not read in "
                    "this run because part of it could not be read (see above); fix it and "
                    "run --prune again",
                )
            )

    def _remove(self, record: ArticleRecord) -> None:
        self._touch([record.id])
        self.index.delete_passages(self.index.passage_ids_of(record.id))
        self.index.delete_records([record.id])
        self.records.pop(record.id, None)
        self.dups.remove(record.id)
        self.summary.removed += 1
        self.changed = True
        if record.duplicate_of and record.duplicate_of in self.records:
            original = self.records[record.duplicate_of]
            also = [u for u in original.also_published_at if u != record.url]
            dup_ids = [i for i in original.duplicate_ids if i != record.id]
            self._relink(original, also, dup_ids)
        for other_id in record.versions:
            other = self.records.get(other_id)
            if other is not None:
                self._relink(other, other.also_published_at, other.duplicate_ids,
                             [v for v in other.versions if v != record.id])
        # Its duplicates lose their original: run() indexes them as articles of their own
        # (see _orphaned_duplicates); their records stay until then, so a crash loses none.
