"""A reader's own loading of the vectors does not make the next start re-check them.

Chroma applies its write log to the HNSW files when a process loads them, and may
rewrite the files then. Those files had passed the check (or their writer recorded
them), so the state the reader leaves is recorded too; else every start or ingest after
a reader ran read every vector again (54 s at a million passages).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rag.core.settings import Settings
from rag.indexing.health import VERIFIED, fingerprint, probed
from rag.indexing.ingest import ingest

READER = """
import sys
from rag.core.settings import Settings
from rag.retrieval.hybrid import SearchEngine
engine = SearchEngine(Settings(index_dir=sys.argv[1], embedding_model="hashing"))
engine.warm_up()  # as the UI does: reads the library too
assert engine.search("harbour budget vote", 3)
"""
# `rag ask` loads the vectors in a background thread before opening its engine.
PRELOADER = """
import sys
from rag.core.settings import Settings
from rag.indexing.preload import VectorLoad
VectorLoad.start(Settings(index_dir=sys.argv[1], embedding_model="hashing")).wait()
"""


def _ingest_many(settings: Settings, tmp_path: Path) -> None:
    """500 articles: enough passages for Chroma to persist HNSW files."""
    rows = [{"id": f"a{i}", "title": f"Story {i}",
             "text": " ".join(f"Harbour budget vote {i} sentence {j} of the council."
                              for j in range(60))} for i in range(500)]
    corpus = tmp_path / "many.jsonl"
    corpus.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    assert ingest([corpus], settings).ok


@pytest.mark.parametrize("reader", [READER, PRELOADER], ids=["engine", "preload"])
def test_a_reader_leaves_the_vector_files_recorded_as_checked(
    hashing_settings: Settings, tmp_path: Path, reader: str
) -> None:
    _ingest_many(hashing_settings, tmp_path)
    index_dir = Path(hashing_settings.index.index_dir)
    assert list(index_dir.glob("*/index_metadata.pickle")), "no HNSW files persisted"
    # A few more: their vectors wait in Chroma's write log, which a loading reader applies.
    more = tmp_path / "more.jsonl"
    more.write_text("\n".join(json.dumps({
        "id": f"b{i}", "title": f"Fees {i}",
        "text": " ".join(f"Fishing fees rise {i * 7 + j} for boats in port {j}."
                         for j in range(60)),
    }) for i in range(20)), encoding="utf-8")
    assert ingest([more], hashing_settings).ok
    marked = fingerprint(index_dir, probed(hashing_settings))
    assert (index_dir / VERIFIED).read_text().strip() == marked
    for _ in range(2):  # a new process loads the vectors from disk, as a UI start does
        done = subprocess.run([sys.executable, "-c", reader, str(index_dir)],
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        marked = fingerprint(index_dir, probed(hashing_settings))
    assert (index_dir / VERIFIED).read_text().strip() == marked


OPEN_SMALL_COLLECTION = """
import sys
import chromadb
from chromadb.config import Settings
client = chromadb.PersistentClient(path=sys.argv[1], settings=Settings(anonymized_telemetry=False))
client.get_collection(sys.argv[2]).get(include=["metadatas"])
"""


def test_a_small_collection_rewritten_by_a_reader_does_not_void_the_check(
    hashing_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Chroma rewrites a small collection's HNSW files each time a process opens it while
    its rows still wait in the write log (the change log; a reduced index's projection):
    at a million passages that made the next start read every vector again (63 s)."""
    import rag.indexing.health as health

    _ingest_many(hashing_settings, tmp_path)
    index_dir = Path(hashing_settings.index.index_dir)
    changes = hashing_settings.index.collection + "__changes"
    before = {p: p.stat().st_mtime_ns for p in index_dir.glob("*/data_level0.bin")}
    done = subprocess.run([sys.executable, "-c", OPEN_SMALL_COLLECTION, str(index_dir),
                           changes], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    after = {p: p.stat().st_mtime_ns for p in index_dir.glob("*/data_level0.bin")}
    assert after != before  # Chroma did rewrite it (else this test tests nothing)
    monkeypatch.setattr(health, "_probe", lambda *a: pytest.fail("every vector read again"))
    health.check_index(hashing_settings)
