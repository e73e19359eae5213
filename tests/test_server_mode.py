"""Server mode: the same ingest, ask, stats, eval and UI against a real `chroma run` server.

One server per module (tests/chroma_server.py); each test uses its own collection.
Several "machines" are simulated by processes (and engines) with separate local folders:
they share nothing but the server.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from rag.answering.chain import build_chain
from rag.app.stats import index_stats
from rag.core.errors import IndexLockedError, RagError
from rag.core.settings import Settings
from rag.indexing.ingest import ingest, ingest_lock, keyword_dir
from rag.indexing.store import LOCK_SUFFIX, ChromaLease, make_client
from rag.retrieval.hybrid import SearchEngine

from .chroma_server import ChromaServer, chroma_server  # noqa: F401 - the fixture
from .conftest import REPO, write_article

RAG = Path(sys.executable).parent / "rag"


def collection() -> str:
    return f"t{uuid.uuid4().hex[:12]}"


def run_rag(
    args: list[str], env: dict[str, str], timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    return subprocess.run(
        [str(RAG), *args], capture_output=True, text=True, cwd=REPO, timeout=timeout,
        env={**base, **env},
    )


@pytest.fixture
def server_settings(chroma_server: ChromaServer, tmp_path: Path) -> Settings:  # noqa: F811
    return chroma_server.settings(
        tmp_path / "machine-a", collection=collection(), abstain_threshold=0.3
    )


def test_ingest_ask_stats_in_python(corpus: Path, server_settings: Settings) -> None:
    summary = ingest([corpus], server_settings)
    assert summary.ok and summary.added == 3
    again = ingest([corpus], server_settings)
    assert again.unchanged == 3 and again.passages_embedded == 0

    stats = index_stats(server_settings)
    assert stats["articles"] == 3
    assert stats["location"].endswith(str(server_settings.index.chroma_port))
    assert stats["bytes"] is None  # the data is on the server, not here
    # Nothing but the BM25 cache lives locally: no embedded Chroma files.
    assert not (Path(server_settings.index.index_dir) / "chroma.sqlite3").exists()
    assert keyword_dir(server_settings).is_dir()

    answer = build_chain(server_settings).invoke({"question": "Who scored twice in the final?"})
    assert not answer.abstained
    assert answer.citations[0].title == "Local club wins the cup"


def test_cli_ingest_ask_stats_eval(
    chroma_server: ChromaServer, corpus: Path, tmp_path: Path  # noqa: F811
) -> None:
    env = {**chroma_server.env(tmp_path / "cli"), "RAG_COLLECTION": collection(),
           "RAG_ABSTAIN_THRESHOLD": "0.3"}
    done = run_rag(["ingest", str(corpus), "--json", "-q"], env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["added"] == 3
    done = run_rag(["stats", "--json"], env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["articles"] == 3
    done = run_rag(["ask", "How many residents were evacuated?", "--json"], env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["citations"][0]["title"] == "Volcano erupts in Iceland"

    suite = tmp_path / "suite.jsonl"
    suite.write_text(json.dumps({
        "id": "volcano", "question": "How many residents were evacuated near the volcano?",
        "must_include": [["four thousand"]], "kind": "factual",
    }) + "\n")
    done = run_rag(["eval", "run", str(suite), "--out", str(tmp_path / "report"), "-q"], env)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    assert report["cases"] and "four thousand" in json.dumps(report["cases"][0])


def test_ui_answers_in_server_mode(
    corpus: Path, server_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.ui_fixtures import app_test, use_settings

    ingest([corpus], server_settings)
    use_settings(monkeypatch, server_settings)
    monkeypatch.setenv("RAG_CHROMA_HOST", str(server_settings.index.chroma_host))
    monkeypatch.setenv("RAG_CHROMA_PORT", str(server_settings.index.chroma_port))
    monkeypatch.setenv("RAG_COLLECTION", server_settings.index.collection)
    at = app_test().run()
    assert not at.exception, [e.value for e in at.exception]
    at.chat_input[0].set_value("How many residents were evacuated near the volcano?").run()
    assert not at.exception, [e.value for e in at.exception]
    [turn] = at.session_state["turns"]
    assert "Volcano erupts in Iceland" in {c.title for c in turn["answer"].citations}


def test_two_machines_see_the_same_articles(
    chroma_server: ChromaServer, corpus: Path, tmp_path: Path  # noqa: F811
) -> None:
    """Machine A answers from BM25 only; machine B (another process) ingests; A sees it."""
    name = collection()
    settings_a = chroma_server.settings(tmp_path / "a", collection=name, use_dense=False)
    ingest([corpus], settings_a)
    engine_a = SearchEngine(settings_a)
    assert all(d.metadata["title"] != "Glacier" for d in engine_a.search("glacier melting", 3))

    extra = tmp_path / "extra"
    write_article(extra, "glacier.md", "Glacier", "The glacier melting set a record this summer.")
    env_b = {**chroma_server.env(tmp_path / "b"), "RAG_COLLECTION": name}
    done = run_rag(["ingest", str(extra), "-q"], env_b)
    assert done.returncode == 0, done.stderr

    engine_a._checked_at = 0.0  # skip the pause between revision checks
    docs = engine_a.search("glacier melting", 3)
    assert docs and docs[0].metadata["title"] == "Glacier"
    # A fresh process on a third machine (empty cache) builds the same keyword index.
    engine_c = SearchEngine(chroma_server.settings(tmp_path / "c", collection=name,
                                                   use_dense=False))
    assert engine_c.search("glacier melting", 3)[0].metadata["title"] == "Glacier"
    seen_by_c = engine_c.keyword().passages.passage_ids()
    assert sorted(seen_by_c) == sorted(engine_a.keyword().passages.passage_ids())


def test_second_ingester_is_stopped_by_the_server_lease(
    chroma_server: ChromaServer, corpus: Path, server_settings: Settings, tmp_path: Path  # noqa: F811
) -> None:
    collection = server_settings.index.collection
    env = {**chroma_server.env(tmp_path / "other"), "RAG_COLLECTION": collection}
    with ingest_lock(server_settings):
        done = run_rag(["ingest", str(corpus), "-q"], env)
        assert done.returncode == 1
        assert "another `rag ingest` (pid" in done.stderr and "wait for it" in done.stderr
        assert "Traceback" not in done.stderr
    # Released: the same command now works, and the lock collection is gone.
    done = run_rag(["ingest", str(corpus), "-q"], env)
    assert done.returncode == 0, done.stderr
    names = {c.name for c in make_client(server_settings, create=False).list_collections()}
    assert server_settings.index.collection + LOCK_SUFFIX not in names


def test_lease_of_a_killed_ingester_expires(
    chroma_server: ChromaServer, corpus: Path, server_settings: Settings, tmp_path: Path  # noqa: F811
) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent("""
            import sys, time
            from rag.indexing.ingest import ingest_lock
            from rag.core.settings import Settings
            with ingest_lock(Settings()):
                print("held", flush=True)
                time.sleep(600)
        """)],
        stdout=subprocess.PIPE, text=True, cwd=REPO,
        env={**os.environ, **chroma_server.env(tmp_path / "dead"),
             "RAG_COLLECTION": server_settings.index.collection, "RAG_INGEST_LOCK_TTL_S": "2"},
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(IndexLockedError, match="expires in"):
            ingest([corpus], server_settings)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    # No one renews it now: a writer that is willing to wait gets it after the expiry.
    patient = server_settings.model_copy(update={"ingest_lock_wait_s": 60.0})
    summary = ingest([corpus], patient)
    assert summary.ok and summary.added == 3


def test_a_live_lease_is_renewed(server_settings: Settings) -> None:
    client = make_client(server_settings, create=True)
    lease = ChromaLease(client, server_settings.index.collection, "holder", ttl_s=1.0)
    assert lease.try_acquire() is None
    try:
        time.sleep(2.5)  # over twice the ttl: only renewal keeps it
        rival = ChromaLease(client, server_settings.index.collection, "rival", ttl_s=1.0)
        holder = rival.try_acquire()
        assert holder is not None and holder["owner"] == "holder"
        lease.check()
    finally:
        lease.release()
    after = ChromaLease(client, server_settings.index.collection, "next", ttl_s=1.0)
    assert after.try_acquire() is None


def test_unreachable_server_is_a_clear_error(tmp_path: Path) -> None:
    from .chroma_server import free_port

    port = free_port()
    settings = Settings(chroma_host="127.0.0.1", chroma_port=port, index_dir=tmp_path,
                        embedding_model="hashing")
    with pytest.raises(RagError, match="cannot reach the Chroma server"):
        SearchEngine(settings)
    done = run_rag(["stats"], {"RAG_CHROMA_HOST": "127.0.0.1", "RAG_CHROMA_PORT": str(port),
                               "RAG_EMBEDDING_MODEL": "hashing"})
    assert done.returncode == 1
    assert "cannot reach the Chroma server" in done.stderr and "chroma run" in done.stderr


def test_a_reduce_on_one_machine_is_followed_by_the_others(
    chroma_server: ChromaServer, tmp_path: Path  # noqa: F811
) -> None:
    """The projection lives in the server: a reader on machine A opened before machine
    B's `rag reduce` goes on answering, in the projected space, after it."""
    from tests.test_reduce import DIMS, _corpus

    name = collection()
    local = {"collection": name, "passage_tokens": 60, "passage_overlap_tokens": 0}
    titles = _corpus(tmp_path / "articles")
    settings_a = chroma_server.settings(tmp_path / "a", **local)
    assert ingest([tmp_path / "articles"], settings_a).ok
    engine_a = SearchEngine(settings_a)
    assert engine_a.search(titles[2], 1)[0].metadata["title"] == titles[2]

    env_b = {**chroma_server.env(tmp_path / "b"), "RAG_COLLECTION": name,
             "RAG_PASSAGE_TOKENS": "60", "RAG_PASSAGE_OVERLAP_TOKENS": "0"}
    done = run_rag(["reduce", "--dims", str(DIMS)], env_b)
    assert done.returncode == 0, done.stderr

    engine_a._checked_at = 0.0  # skip the pause between revision checks
    assert engine_a.search(titles[9], 1)[0].metadata["title"] == titles[9]
    assert engine_a.index.to_index_space([1.0] * 256).shape == (DIMS,)
    stats = run_rag(["stats", "--json"], env_b)
    assert json.loads(stats.stdout)["stored_dimension"] == DIMS
