"""Articles uploaded through the UI: checked, saved inside the corpus folder, indexed.

An upload is untrusted: its name may be ``../../etc/passwd.md`` or ``C:\\x\\a.md``, its
size anything, its bytes not an article. Only the last part of the name is kept, reduced
to safe characters, and the file lands in ``<articles_dir>/uploads/``, so ``make index``
(``rag ingest index/articles --prune``) keeps uploaded articles instead of pruning them.
A file is checked with the same loaders as ``rag ingest`` before it is kept, so a file
that holds no article never reaches the corpus, and the messages are the same.
Uploading a file with the name of an earlier upload replaces it (its article is updated).

Uploads add articles; they never replace one they did not add. An article whose id is
already indexed from another file (``rag ingest`` or another upload), or whose URL is
(ids derive from URLs, and a URL names one article), is refused before anything is
written, naming the article it would have replaced. Re-indexing on purpose is for
``rag ingest``.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rag.core.errors import IndexMissingError
from rag.core.schema import Article, IngestSummary, Problem
from rag.core.settings import Settings
from rag.core.urls import url_key
from rag.indexing.embeddings import PassageEmbeddings, make_embeddings
from rag.indexing.ingest import ProgressCallback, ingest
from rag.indexing.loaders import SUPPORTED_LIST, SUPPORTED_SUFFIXES, load_path
from rag.indexing.store import ArticleIndex, ArticleRecord

UPLOADS_SUBDIR = "uploads"
# Long enough for any real headline-based name; short enough for every filesystem.
_MAX_STEM_CHARS = 100
_UNSAFE = re.compile(r"[^\w.-]+")


class UploadRejected(ValueError):
    """An upload that is refused before anything is written; the message says why."""


@dataclass(frozen=True)
class Upload:
    """One uploaded file as the browser sent it."""

    name: str
    data: bytes


@dataclass
class UploadResult:
    """What happened to a batch of uploads."""

    saved: list[Path] = field(default_factory=list)
    rejected: list[Problem] = field(default_factory=list)
    summary: IngestSummary | None = None
    # Saved path -> the name the user uploaded it as, for messages.
    names: dict[str, str] = field(default_factory=dict)

    @property
    def problems(self) -> list[Problem]:
        """Rejected files, then what ingestion reported, named as the user named them."""
        found = list(self.rejected)
        if self.summary is not None:
            found += [self._renamed(p) for p in self.summary.problems]
        return found

    def _renamed(self, problem: Problem) -> Problem:
        for saved, shown in self.names.items():
            for form in (saved, os.path.abspath(saved)):  # ingest reports absolute paths
                if problem.origin == form or problem.origin.startswith(form + ":"):
                    return Problem(shown + problem.origin[len(form) :], problem.message)
        return problem


def uploads_dir(settings: Settings) -> Path:
    """The folder uploads are saved in: a subfolder of the corpus folder."""
    return Path(settings.index.articles_dir) / UPLOADS_SUBDIR


def safe_filename(name: str) -> str:
    """The file name an upload is saved under, or UploadRejected.

    Drops any folder part (``/`` or ``\\``), keeps letters, digits, ``.``, ``-``, ``_``,
    never starts with a dot and keeps a supported suffix (lower-cased).
    """
    base = unicodedata.normalize("NFKC", name).replace("\\", "/").split("/")[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip()
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    suffix = "." + suffix.lower() if suffix else ""
    if suffix not in SUPPORTED_SUFFIXES:
        shown = suffix or "(none)"
        raise UploadRejected(
            f"unsupported file type {shown}; supported types are {SUPPORTED_LIST}"
        )
    stem = _UNSAFE.sub("-", stem).strip(".-_ ")
    stem = re.sub(r"-{2,}", "-", stem)[:_MAX_STEM_CHARS].rstrip(".-_") or "upload"
    return stem + suffix


def check_upload(upload: Upload, settings: Settings) -> str:
    """The safe file name for an acceptable upload, or UploadRejected saying why."""
    filename = safe_filename(upload.name)
    size = len(upload.data)
    if size > settings.app.upload_max_bytes:
        raise UploadRejected(
            f"file is {size:,} bytes, over the upload limit of {settings.app.upload_max_bytes:,} "
            "bytes; split it, or add it with `rag ingest` (RAG_UPLOAD_MAX_BYTES sets the limit)"
        )
    return filename


@dataclass(frozen=True)
class Indexed:
    """What is indexed already, by id and by URL, to refuse uploads that would replace it."""

    by_id: Mapping[str, ArticleRecord] = field(default_factory=dict)
    by_url: Mapping[str, ArticleRecord] = field(default_factory=dict)

    @classmethod
    def of(cls, records: Mapping[str, ArticleRecord]) -> Indexed:
        by_url = {url_key(r.url): r for r in records.values() if r.url.strip()}
        return cls(by_id=dict(records), by_url=by_url)

    def conflict(self, article: Article, target: Path) -> str | None:
        """Why ``article`` (to be saved at ``target``) may not be indexed, or None."""
        record = self.by_id.get(article.id)
        how = f"its id {article.id!r}"
        if record is None and article.url.strip():
            record = self.by_url.get(url_key(article.url))
            how = f"its URL {article.url}"
        if record is None or _added_by(record, target):
            return None
        return (
            f"{how} is already indexed as \"{record.title or record.id}\" "
            f"({record.source or 'no outlet'}, {record.date or 'no date'}); an upload can add "
            "articles but not replace one it did not add. Give the article its own id and "
            "URL, or re-index the original with `rag ingest`"
        )


def _added_by(record: ArticleRecord, target: Path) -> bool:
    """Was ``record`` indexed from the upload saved at ``target`` (re-uploads update it)?"""
    return record.origin == str(target) or record.origin.startswith(f"{target}:")


def indexed_articles(settings: Settings, embeddings: PassageEmbeddings) -> Indexed:
    """The records of the index (none when there is no index yet)."""
    try:
        return Indexed.of(ArticleIndex(settings, embeddings).records())
    except IndexMissingError:
        return Indexed()


def save_upload(
    upload: Upload, settings: Settings, indexed: Indexed | None = None
) -> tuple[Path | None, list[Problem]]:
    """Check and save one upload; returns (saved path or None, problems).

    The file is written under a hidden temporary name first (folder ingests skip hidden
    files), read with the ingest loaders, and only moved into place when it holds at
    least one article and none of its articles would replace one in ``indexed`` that it
    did not add. Problems name the file as it was uploaded.
    """
    try:
        filename = check_upload(upload, settings)
    except UploadRejected as exc:
        return None, [Problem(upload.name, str(exc))]
    folder = uploads_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    root = folder.resolve()
    target = root / filename
    if target.parent != root:  # safe_filename makes this impossible; never trust it alone
        return None, [Problem(upload.name, "file name points outside the uploads folder")]
    temp = root / f".upload-{secrets.token_hex(6)}-{filename}"
    try:
        # O_EXCL: never write through a file or link that is already there.
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        with os.fdopen(fd, "wb") as handle:
            handle.write(upload.data)
        loaded = list(load_path(temp))
        articles = [a for a in loaded if isinstance(a, Article)]
        if not articles:
            problems = [p for p in loaded if isinstance(p, Problem)]
            return None, [_named(p, temp, upload.name) for p in problems] or [
                Problem(upload.name, "no article could be read; nothing was indexed")
            ]
        refused = _replacing(articles, target, indexed or Indexed(), temp, upload.name)
        if refused:
            return None, refused
        os.replace(temp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
    return target, []


def _replacing(
    articles: list[Article], target: Path, indexed: Indexed, temp: Path, shown: str
) -> list[Problem]:
    problems = []
    for article in articles:
        why = indexed.conflict(article, target)
        if why is not None:
            problems.append(_named(Problem(article.origin, why), temp, shown))
    return problems


def ingest_uploads(
    uploads: Sequence[Upload],
    settings: Settings,
    *,
    embeddings: PassageEmbeddings | None = None,
    progress: ProgressCallback | None = None,
) -> UploadResult:
    """Save the acceptable uploads and index them, as ``rag ingest`` would.

    A file that this call created is removed again if indexing fails outright (for
    example when another ingest holds the index), so the corpus folder and the index
    do not drift apart.
    """
    result = UploadResult()
    created: list[Path] = []
    embeddings = embeddings or make_embeddings(settings)
    indexed = indexed_articles(settings, embeddings)
    for upload in uploads:
        existed = (uploads_dir(settings) / _safe_or_empty(upload.name)).exists()
        path, problems = save_upload(upload, settings, indexed)
        result.rejected += problems
        if path is not None:
            result.saved.append(path)
            result.names[str(path)] = upload.name
            if not existed:
                created.append(path)
    if not result.saved:
        return result
    try:
        result.summary = ingest(
            result.saved, settings, embeddings=embeddings, progress=progress
        )
    except BaseException:
        for path in created:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        raise
    return result


def _safe_or_empty(name: str) -> str:
    try:
        return safe_filename(name)
    except UploadRejected:
        return ".rejected"


def _named(problem: Problem, temp: Path, shown: str) -> Problem:
    origin = problem.origin
    for prefix in (str(temp), str(temp.resolve())):
        if origin.startswith(prefix):
            return Problem(shown + origin[len(prefix) :], problem.message)
    return Problem(shown, problem.message)
