"""Check an embedded index's vector (HNSW) files before serving from them.

Chroma reads its HNSW files in native code: damaged ones raise "Error loading hnsw
index", return wrong neighbours, or kill the process with SIGSEGV (no message, and in
the UI the whole server). So the check runs in a child process (``python -m
rag.indexing.health INDEX_DIR COLLECTION...``) that reads every vector and searches
each collection; a crash there is reported here as a damaged index, with the repair:
``rag ingest --repair`` rebuilds the vectors from the article texts the index keeps.

A verdict is remembered per state of the HNSW files (names, sizes, modification times)
in ``<index_dir>/.rag-verified``, so the child runs once after each change, not on
every start; an ingest that checked the index before writing records the state it
leaves as checked (``record_written``: what Chroma itself just wrote needs no reading).
An index whose vectors all still wait in Chroma's SQLite log (under its sync threshold,
about 1,000 passages) has no persisted HNSW state to damage and is not probed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from rag.core.errors import RagError
from rag.core.settings import Settings

VERIFIED = ".rag-verified"
# Vector files of Chroma's HNSW segments (one folder per segment).
_HNSW_FILES = ("header.bin", "data_level0.bin", "length.bin", "link_lists.bin",
               "index_metadata.pickle")
_PROBE_TIMEOUT_S = 600
_PAGE = 2000
_ID_PAGE = 100_000


class IndexDamagedError(RagError):
    """The index's vector files cannot be read; ``rag ingest --repair`` rebuilds them."""


def repair_advice(index_dir: Path) -> str:
    return (
        f"repair it with `rag ingest --repair --index-dir {index_dir}` (re-embeds every "
        "article from the texts the index keeps; your article files are not needed), or "
        "rebuild it from your files with `rag ingest --rebuild FOLDER`"
    )


def fingerprint(index_dir: Path, collections: list[str] | None = None) -> str:
    """Changes whenever an HNSW file of ``collections`` (default: every folder) changes.

    Only the probed collections count: Chroma rewrites a small collection's HNSW files
    whenever a process opens it while its rows still wait in the write log (the change
    log, a reduced index's projection), which made every reader's start invalidate the
    verdict and the next start read a million vectors again (63 s)."""
    folders = _vector_folders(index_dir, collections) if collections else None
    parts: list[str] = []
    for folder in sorted(p for p in index_dir.iterdir() if p.is_dir()):
        if folders is not None and folder.name not in folders:
            continue
        for name in _HNSW_FILES:
            path = folder / name
            try:
                info = path.stat()
            except OSError:
                continue
            parts.append(f"{folder.name}/{name}:{info.st_size}:{info.st_mtime_ns}")
    return hashlib.sha1("\n".join(parts).encode()).hexdigest()


def _vector_folders(index_dir: Path, collections: list[str]) -> set[str] | None:
    """The vector segment folders of these collections (None: the catalogue unreadable,
    so every folder counts)."""
    import sqlite3

    marks = ", ".join("?" * len(collections))
    try:
        with contextlib.closing(sqlite3.connect(
            f"file:{index_dir / 'chroma.sqlite3'}?mode=ro", uri=True, timeout=5,
        )) as db:
            rows = db.execute(
                "SELECT s.id FROM segments s JOIN collections c ON s.collection = c.id "
                f"WHERE s.scope = 'VECTOR' AND c.name IN ({marks})", collections,
            ).fetchall()
    except sqlite3.Error:
        return None
    return {str(row[0]) for row in rows}


def probed(settings: Settings) -> list[str]:
    """The collections whose vector files are probed (and fingerprinted)."""
    return [settings.index.collection, settings.index.collection + "__articles"]


def check_index(settings: Settings) -> None:
    """Raise IndexDamagedError when the embedded index's vector files are damaged."""
    if settings.index.chroma_host:
        return  # the server reads its own files; its failures come back as errors
    index_dir = Path(settings.index.index_dir)
    if not (index_dir / "chroma.sqlite3").exists():
        return  # missing: the caller says how to build it
    if not any(index_dir.glob("*/index_metadata.pickle")):
        return  # no vectors persisted in HNSW files yet (see the module docstring)
    stamp = fingerprint(index_dir, probed(settings))
    marker = index_dir / VERIFIED
    try:
        if marker.read_text().strip() == stamp:
            return
    except OSError:
        pass
    problem = _probe(index_dir, probed(settings))
    if problem:
        raise IndexDamagedError(
            f"the index at {index_dir} is damaged: {problem}; " + repair_advice(index_dir)
        )
    with contextlib.suppress(OSError):  # read-only: checked again next time
        marker.write_text(stamp + "\n")


def record_written(settings: Settings) -> None:
    """After this process wrote into an index that ``check_index`` passed before the
    write: the vector files as Chroma just wrote them are its own output, so their new
    state is recorded as checked. Without this every ingest changed the files and the
    next start (or ingest) read every vector again: minutes at a million passages."""
    index_dir = Path(settings.index.index_dir)
    if settings.index.chroma_host or not (index_dir / "chroma.sqlite3").exists():
        return
    with contextlib.suppress(OSError):  # read-only: checked again next time
        (index_dir / VERIFIED).write_text(fingerprint(index_dir, probed(settings)) + "\n")


def _probe(index_dir: Path, collections: list[str]) -> str:
    """What is wrong with the collections' vector files (empty when nothing)."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "rag.indexing.health", str(index_dir), *collections],
            capture_output=True, text=True, timeout=_PROBE_TIMEOUT_S,
            env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
        )
    except subprocess.TimeoutExpired:
        return f"reading its vector files did not finish in {_PROBE_TIMEOUT_S} s"
    if done.returncode == 0:
        return ""
    if done.returncode < 0:
        name = signal.Signals(-done.returncode).name
        return f"Chroma crashed ({name}) reading its vector (HNSW) files"
    lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else f"the check failed (exit {done.returncode})"


def _read_everything(index_dir: str, names: list[str]) -> None:
    """In the child: read every vector of each collection, then search each."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    try:
        client = chromadb.PersistentClient(
            path=index_dir, settings=ChromaSettings(anonymized_telemetry=False)
        )
        collections = [client.get_collection(name) for name in names]
    except Exception:
        return  # not a vector-file problem: opening the index reports it in process
    rng = random.Random(0)
    for collection in collections:
        try:
            count = collection.count()
            dimension = 0
            # Ids first (cheap pages), then vectors by id: paging the vectors by offset
            # made each page scan all rows before it (1.2 s a page at 500k of 1M
            # passages, past the probe's timeout in all).
            ids: list[str] = []
            for offset in range(0, count, _ID_PAGE):
                ids += collection.get(limit=_ID_PAGE, offset=offset, include=[])["ids"]
            for start in range(0, len(ids), _PAGE):
                got = collection.get(ids=ids[start : start + _PAGE], include=["embeddings"])
                embeddings = got["embeddings"]
                if embeddings is not None and len(embeddings):
                    dimension = len(embeddings[0])
            if count and dimension:
                vectors: Any = [[rng.uniform(-1, 1) for _ in range(dimension)] for _ in range(8)]
                collection.query(query_embeddings=vectors, n_results=min(count, 50),
                                 include=["distances"])
        except Exception as exc:
            print(f"collection {collection.name!r}: {type(exc).__name__}: {exc}",
                  file=sys.stderr)
            raise SystemExit(1) from None


if __name__ == "__main__":
    _read_everything(sys.argv[1], sys.argv[2:])
    print(json.dumps({"ok": True}))
