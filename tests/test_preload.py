"""Loading the vectors in a background thread (`rag ask`'s cold start), on real Chroma."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rag.answering.chain import build_chain, build_chain_at_once
from rag.core.errors import RagError
from rag.core.settings import Settings
from rag.indexing.ingest import ingest
from rag.indexing.preload import VectorLoad

from .conftest import REPO

QUESTION = "What did the finance minister say?"


@pytest.fixture
def indexed(hashing_settings: Settings, corpus: Path) -> Settings:
    assert ingest([corpus], hashing_settings).ok
    return hashing_settings


def test_the_chain_built_at_once_answers_like_the_plain_one(indexed: Settings) -> None:
    loading = VectorLoad.start(indexed)
    assert loading.opened.wait(60)
    chain = build_chain_at_once(indexed, loading)
    fast = chain.invoke({"question": QUESTION, "as_of": "2025-06-01"})
    plain = build_chain(indexed).invoke({"question": QUESTION, "as_of": "2025-06-01"})
    assert fast.answer == plain.answer
    assert [c.chunk_id for c in fast.citations] == [c.chunk_id for c in plain.citations]
    assert "fuel" in fast.answer


def test_a_missing_index_is_raised_in_the_caller(tmp_path: Path) -> None:
    settings = Settings(index_dir=tmp_path / "nothing", embedding_model="hashing")
    loading = VectorLoad.start(settings)
    assert loading.opened.wait(60)  # set on failure too: the caller never hangs
    with pytest.raises(RagError, match="no index at"):
        loading.wait()
    assert not (tmp_path / "nothing").exists()


def test_the_real_command_writes_all_its_output_before_ending(indexed: Settings) -> None:
    """`rag ask` ends its process without tearing Chroma down: what it printed must
    still arrive whole, with exit code 0."""
    rag = Path(sys.executable).parent / "rag"
    done = subprocess.run(
        [str(rag), "ask", QUESTION, "--json", "--as-of", "2025-06-01",
         "--index-dir", str(indexed.index.index_dir)],
        capture_output=True, text=True, cwd=REPO, timeout=180,
        env={"PATH": "/usr/bin:/bin", "RAG_EMBEDDING_MODEL": "hashing"},
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert "fuel" in answer["answer"] and answer["citations"]
