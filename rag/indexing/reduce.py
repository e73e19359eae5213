"""``rag reduce``: keep an index's passage vectors in fewer dimensions, without re-embedding.

An archive that grows past a few hundred thousand passages holds its HNSW in every
embedded serving process (1.7 GB at a million 384-dimension vectors). Reducing fits a
projection on a sample of the stored vectors (see :mod:`rag.indexing.projection`), copies
every passage into a new collection with its vector projected, and swaps it in; texts,
ids, metadata, article records, the change log and the keyword index stay as they are.

Under the ingest lock, built aside and swapped in by renames in Chroma's catalogue, in an
order ``finish_reduce`` completes or undoes after a crash: the live passages are moved
aside only once the reduced copy is complete, so a collection aside means the copy is
whole. Until the swap the live index answers as before; running readers see the
collection replaced and reopen with the projection at their next check.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from rag.core.errors import RagError
from rag.core.settings import Settings
from rag.indexing.embeddings import PassageEmbeddings
from rag.indexing.health import check_index, record_written
from rag.indexing.locking import ingest_lock
from rag.indexing.projection import Projection, fit, to_records
from rag.indexing.store import (
    PROJECTION_KEY,
    PROJECTION_SUFFIX,
    ArticleIndex,
    drop_collection,
    drop_orphan_segments,
    has_collection,
    make_client,
)

#: The copy being made, and the full-dimension passages moved aside during the swap.
REDUCED_SUFFIX = "__reduced"
UNREDUCED_SUFFIX = "__unreduced"
#: Vectors the projection is fitted on (a sample beyond this changes it little).
FIT_SAMPLE = 50_000
_ID_PAGE = 100_000


def reduce_index(
    settings: Settings,
    embeddings: PassageEmbeddings,
    dims: int,
    *,
    sample: int = FIT_SAMPLE,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Project the index's stored vectors onto ``dims`` dimensions; returns figures.
    ``progress(done, total)`` is called after each page of passages copied."""
    check_index(settings)  # never copy damaged vectors
    with ingest_lock(settings) as guard:
        finish_reduce(settings)
        return reduce_locked(settings, embeddings, dims, guard, sample=sample,
                             progress=progress)


def reduce_locked(
    settings: Settings,
    embeddings: PassageEmbeddings,
    dims: int,
    guard: Callable[[], None],
    *,
    sample: int = FIT_SAMPLE,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """``reduce_index`` for a writer that holds the ingest lock (a rebuild keeping the
    reduction of the index it replaced)."""
    began = time.perf_counter()
    index = ArticleIndex(settings, embeddings)
    if index.projection is not None:
        raise RagError(
            f"the index already keeps {index.projection.dims} dimensions; to keep others, "
            "build a new index (`rag ingest --index-dir NEW ...`) and reduce that"
        )
    projection = fit(_sample(index, sample), dims)
    put_projection(index.client, settings, projection)
    copied = _copy(index, settings, projection, guard, progress)
    guard()
    _swap(index.client, settings)
    drop_orphan_segments(settings)  # the old vectors' folder (Chroma leaves it)
    ArticleIndex(settings, embeddings).stamp()  # a new revision: caches notice
    record_written(settings)  # checked before (above); these files are Chroma's own
    return {"passages": copied, "dims": dims, "model_dims": projection.model_dims,
            "fitted_on": min(sample, copied), "seconds": round(time.perf_counter() - began, 1)}


def kept_dims(settings: Settings, embeddings: PassageEmbeddings) -> int | None:
    """The dimensions the live index keeps when it was reduced (None: not, or no index)."""
    try:
        projection = ArticleIndex(settings, embeddings).projection
    except RagError:
        return None
    return None if projection is None else projection.dims


def finish_reduce(settings: Settings) -> None:
    """Complete or undo a reduce killed midway, before anything else writes."""
    index = settings.index
    if not index.chroma_host and not (index.index_dir / "chroma.sqlite3").exists():
        return
    client = make_client(settings, create=True)
    live = index.collection
    aside, copy = live + UNREDUCED_SUFFIX, live + REDUCED_SUFFIX
    if has_collection(client, aside):  # the copy was complete when the live one was moved aside
        if not has_collection(client, live):
            client.get_collection(copy if has_collection(client, copy) else aside).modify(name=live)
        drop_collection(client, aside)
    drop_collection(client, copy)


def _sample(index: ArticleIndex, size: int) -> Any:
    """Up to ``size`` stored vectors, every n-th of the whole collection."""
    import numpy as np

    total = index.count_passages()
    if not total:
        raise RagError("the index holds no passages; ingest articles before reducing it")
    step = max(1, total // size)
    rows: list[Any] = []
    for vectors in _pages(index, ["embeddings"]):
        rows.extend(np.asarray(vectors["embeddings"], dtype=np.float32)[::step])
    return np.asarray(rows[:size], dtype=np.float32)


def _pages(index: ArticleIndex, include: list[str]) -> Iterator[dict[str, Any]]:
    """The passage collection a page at a time (Chroma's columns). Ids first, in cheap
    pages, then rows by id: paging rows by offset scans every row before the page
    (1.2 s a page half-way through a million passages)."""
    ids: list[str] = []
    while page := index.passages.get(include=[], limit=_ID_PAGE, offset=len(ids))["ids"]:
        ids += page
    for start in range(0, len(ids), index.page_size):
        yield index.passages.get(ids=ids[start:start + index.page_size], include=include)


def put_projection(client: Any, settings: Settings, projection: Projection) -> None:
    """Store ``projection`` as the index's (replacing any)."""
    name = settings.index.collection + PROJECTION_SUFFIX
    drop_collection(client, name)
    client.create_collection(name, embedding_function=None).add(**to_records(projection))


def _copy(
    index: ArticleIndex, settings: Settings, projection: Projection,
    guard: Callable[[], None], progress: Callable[[int, int], None] | None,
) -> int:
    """Every passage into the reduced collection (made afresh), vector projected."""
    name = settings.index.collection + REDUCED_SUFFIX
    drop_collection(index.client, name)
    target = index.client.create_collection(
        name, embedding_function=None,
        metadata={"hnsw:space": "cosine", PROJECTION_KEY: projection.fingerprint},
    )
    copied, total = 0, index.count_passages()
    for got in _pages(index, ["documents", "metadatas", "embeddings"]):
        guard()
        target.add(ids=got["ids"], documents=got["documents"], metadatas=got["metadatas"],
                   embeddings=projection.apply(got["embeddings"]))
        copied += len(got["ids"])
        if progress is not None:
            progress(copied, total)
    return copied


def _swap(client: Any, settings: Settings) -> None:
    """Live aside, the complete copy in, the old one out (see ``finish_reduce``)."""
    live = settings.index.collection
    client.get_collection(live).modify(name=live + UNREDUCED_SUFFIX)
    client.get_collection(live + REDUCED_SUFFIX).modify(name=live)
    drop_collection(client, live + UNREDUCED_SUFFIX)
