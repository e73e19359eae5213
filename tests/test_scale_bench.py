"""benchmarks/scale.py in server mode: every process it measures talks to the Chroma server.

The figures themselves live in docs/benchmarks.md; here only that ``--chroma`` reaches
the settings and the environment of the children it starts, and that it refuses to build
(a build writes an embedded index).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import scale

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def server_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scale, "SERVER", ("127.0.0.1", 8123))


def test_embedded_by_default(tmp_path: Path) -> None:
    assert scale.settings_for(tmp_path).index.chroma_host is None
    assert "RAG_CHROMA_HOST" not in scale.rag_env(tmp_path)
    assert scale.server_flag() == []


@pytest.mark.usefixtures("server_mode")
def test_server_mode_reaches_settings_children_and_the_serving_child(tmp_path: Path) -> None:
    settings = scale.settings_for(tmp_path)
    assert (settings.index.chroma_host, settings.index.chroma_port) == ("127.0.0.1", 8123)
    env = scale.rag_env(tmp_path)
    assert (env["RAG_CHROMA_HOST"], env["RAG_CHROMA_PORT"]) == ("127.0.0.1", "8123")
    assert env["RAG_INDEX_DIR"] == str(tmp_path)
    assert scale.server_flag() == ["--chroma", "127.0.0.1:8123"]


def test_server_memory_is_read_from_proc() -> None:
    memory = scale.process_memory_mb(os.getpid())
    assert 0 < memory["server_rss_mb"] <= memory["server_peak_rss_mb"]


def test_chroma_without_an_index_is_refused(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "benchmarks/scale.py", "--chroma", "127.0.0.1:8123",
         "--work", str(tmp_path)],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 2
    assert "give --index" in done.stderr
    assert not any(tmp_path.iterdir())  # nothing built
