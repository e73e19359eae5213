"""The BM25 keyword index (bm25s), a derived cache of the passages held in Chroma.

Ingestion rebuilds it and saves it beside the index; readers load it once and rebuild
only when Chroma's revision stamp moved (another process ingested), so several
processes against one Chroma server all see the same articles.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from rag.core.text import TOKENIZER_VERSION, content_terms

_META = "rag-keyword.json"
# Temporary folders older than this were left by a killed save; younger ones may be live.
_LEFTOVER_S = 600.0


def _sweep_leftovers(folder: Path) -> None:
    """Remove temporary and ".old" folders that a killed save left beside ``folder``."""
    now = time.time()
    for pattern in (".keyword-*", f"{folder.name}.old-*"):
        for path in folder.parent.glob(pattern):
            with contextlib.suppress(OSError):
                if now - path.stat().st_mtime > _LEFTOVER_S:
                    shutil.rmtree(path, ignore_errors=True)


def tokenize(texts: list[str]) -> list[list[str]]:
    """Lower-cased, English stop words out, Snowball-stemmed word tokens."""
    return [content_terms(text) for text in texts]


@dataclass
class PassageFacts:
    """What the keyword side must know of each passage to filter without Chroma."""

    ids: list[str]
    article_ids: list[str]
    sources: list[str]
    dates: list[int]


class KeywordIndex:
    """BM25 over passage text (title included), with metadata masks for filters."""

    def __init__(self, model: Any, facts: PassageFacts, revision: str) -> None:
        self._model = model
        self.facts = facts
        self.revision = revision
        self._article_ids = np.array(facts.article_ids, dtype=object)
        self._sources = np.array(facts.sources, dtype=object)
        self._dates = np.array(facts.dates, dtype=np.int64)
        self._lock = threading.Lock()
        self._positions = {chunk_id: i for i, chunk_id in enumerate(facts.ids)}

    def article_of(self, chunk_id: str) -> tuple[str, int]:
        """(article id, date as YYYYMMDD) of a passage the index holds."""
        position = self._positions.get(chunk_id)
        if position is None:
            return "", 0
        return self.facts.article_ids[position], self.facts.dates[position]

    def __len__(self) -> int:
        return len(self.facts.ids)

    @classmethod
    def build(
        cls, rows: Iterable[tuple[str, dict[str, Any], str]], revision: str
    ) -> KeywordIndex:
        import bm25s

        facts = PassageFacts([], [], [], [])
        texts: list[str] = []
        for chunk_id, meta, text in rows:
            facts.ids.append(chunk_id)
            facts.article_ids.append(str(meta.get("article_id", "")))
            facts.sources.append(str(meta.get("source", "")))
            facts.dates.append(int(meta.get("date_int", 0) or 0))
            texts.append(f"{meta.get('title', '')}\n{text}")
        model = bm25s.BM25()
        if texts:
            model.index(tokenize(texts), show_progress=False)
        return cls(model, facts, revision)

    def save(self, folder: Path) -> None:
        """Write to a temporary folder, then swap it in: a crash never leaves half a file."""
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".keyword-", dir=folder.parent))
        if len(self):
            self._model.save(str(tmp), show_progress=False)
        meta = {
            "revision": self.revision,
            "tokenizer": TOKENIZER_VERSION,
            **self.facts.__dict__,
        }
        (tmp / _META).write_text(json.dumps(meta))
        old = folder.with_name(f"{folder.name}.old-{os.getpid()}-{threading.get_ident()}")
        try:
            # Two savers at once (processes sharing a cache folder, or a reader saving
            # while an ingest does): each uses its own ".old" name; the loser's rename
            # fails and its copy is dropped. Readers compare revisions, so a cache that
            # lost the race is rebuilt by whoever needs it.
            with contextlib.suppress(FileNotFoundError):
                os.replace(folder, old)
            os.replace(tmp, folder)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
        _sweep_leftovers(folder)

    @classmethod
    def load(cls, folder: Path) -> KeywordIndex | None:
        """The saved index, or None when absent or unreadable (the caller rebuilds)."""
        import bm25s

        try:
            meta = json.loads((folder / _META).read_text())
            if meta.get("tokenizer") != TOKENIZER_VERSION:
                return None  # built by another tokenizer: rebuild
            facts = PassageFacts(
                meta["ids"], meta["article_ids"], meta["sources"], meta["dates"]
            )
            model = (
                bm25s.BM25.load(str(folder), show_progress=False) if facts.ids else bm25s.BM25()
            )
        except (OSError, ValueError, KeyError):
            return None
        return cls(model, facts, str(meta.get("revision", "")))

    def mask(
        self,
        sources: list[str] | None = None,
        date_from: int | None = None,
        date_to: int | None = None,
        article_ids: list[str] | None = None,
    ) -> np.ndarray | None:
        """A 0/1 weight per passage for the filters, or None when nothing is filtered."""
        if not (sources or date_from or date_to or article_ids):
            return None
        keep = np.ones(len(self), dtype=bool)
        if sources:
            keep &= np.isin(self._sources, sources)
        if article_ids:
            keep &= np.isin(self._article_ids, article_ids)
        if date_from:
            keep &= self._dates >= date_from
        if date_to:
            keep &= (self._dates <= date_to) & (self._dates > 0)
        return keep.astype(np.float32)

    def search(
        self, query: str, k: int, mask: np.ndarray | None = None
    ) -> list[tuple[str, float]]:
        """Up to ``k`` (chunk_id, score) pairs, best first; only positive scores."""
        if not len(self) or k <= 0:
            return []
        tokens = tokenize([query])[0]
        vocab = self._model.vocab_dict
        tokens = [t for t in tokens if t in vocab]
        if not tokens:
            return []
        k = min(k, len(self))
        with self._lock:  # bm25s keeps per-call state; one query at a time
            docs, scores = self._model.retrieve(
                [tokens], k=k, show_progress=False, n_threads=1, weight_mask=mask
            )
        out: list[tuple[str, float]] = []
        for doc, score in zip(docs[0], scores[0], strict=True):
            if score > 0:
                out.append((self.facts.ids[int(doc)], float(score)))
        return out


class _RowSource(Protocol):
    """What the keyword indexes are built from (an ArticleIndex)."""

    def all_passages(self) -> Iterator[tuple[list[str], list[dict[str, Any]], list[str]]]: ...

    def all_articles(self) -> Iterator[tuple[list[str], list[dict[str, Any]], list[str]]]: ...


@dataclass
class KeywordIndexes:
    """BM25 over passages and BM25 over whole articles (title + full text).

    News questions often match an article's words spread over several passages; the
    article-level ranking finds those articles, the passage-level one the right spot.
    """

    passages: KeywordIndex
    articles: KeywordIndex

    @property
    def revision(self) -> str:
        return self.passages.revision

    @staticmethod
    def _article_folder(folder: Path) -> Path:
        return folder.with_name(folder.name + "__articles")

    @classmethod
    def build_from(cls, source: _RowSource, revision: str) -> KeywordIndexes:
        passages = (
            row for ids, metas, docs in source.all_passages()
            for row in zip(ids, metas, docs, strict=True)
        )
        articles = (
            (article_id, {**meta, "article_id": article_id}, text)
            for ids, metas, docs in source.all_articles()
            for article_id, meta, text in zip(ids, metas, docs, strict=True)
            if not (meta or {}).get("duplicate_of")  # a duplicate's text is its original's
        )
        return cls(KeywordIndex.build(passages, revision), KeywordIndex.build(articles, revision))

    def save(self, folder: Path) -> None:
        self.articles.save(self._article_folder(folder))
        self.passages.save(folder)  # last: its revision is what readers check first

    @classmethod
    def load(cls, folder: Path) -> KeywordIndexes | None:
        passages = KeywordIndex.load(folder)
        articles = KeywordIndex.load(cls._article_folder(folder))
        if passages is None or articles is None or passages.revision != articles.revision:
            return None
        return cls(passages, articles)
