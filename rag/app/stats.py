"""Describe an index: counts, outlets, date range, model, size on disk."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from rag.core.settings import Settings
from rag.indexing.embeddings import PassageEmbeddings, make_embeddings
from rag.indexing.health import check_index
from rag.indexing.store import ArticleIndex


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def index_stats(
    settings: Settings,
    embeddings: PassageEmbeddings | None = None,
    index: ArticleIndex | None = None,
) -> dict[str, Any]:
    """Counts and ranges of the index; raises IndexMissingError when there is none."""
    if index is None:
        check_index(settings)
    index = index or ArticleIndex(settings, embeddings or make_embeddings(settings))
    records = index.records()
    kept = [r for r in records.values() if not r.duplicate_of]
    sources = Counter(r.source for r in kept if r.source)
    dates = sorted(r.date for r in kept if r.date)
    info = index.info
    return {
        "articles": len(kept),
        "duplicates": len(records) - len(kept),
        "passages": index.count_passages(),
        "sources": dict(sorted(sources.items(), key=lambda kv: (-kv[1], kv[0]))),
        "date_min": dates[0] if dates else None,
        "date_max": dates[-1] if dates else None,
        "model": info.get("embedding_model"),
        "dimension": info.get("embedding_dim"),
        "stored_dimension": index.vector_dims,
        "bytes": (
            None if settings.index.chroma_host else _folder_bytes(Path(settings.index.index_dir))
        ),
        "location": (
            f"{settings.index.chroma_host}:{settings.index.chroma_port}"
            if settings.index.chroma_host
            else str(settings.index.index_dir)
        ),
        "collection": settings.index.collection,
    }
