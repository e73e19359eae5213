"""Hostile conditions around the index and the question: missing, corrupt, other model,
read-only, full disk; a 100,000-character question, punctuation only, control bytes.

Each gives a clear message (CLI: non-zero exit, no traceback) and loses nothing that
was already indexed. Tests run as root, so read-only means a read-only bind mount and
a full disk a tiny tmpfs; both skip cleanly where mounting is not permitted.
"""

from __future__ import annotations

import contextlib
import json
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.answering.chain import build_chain
from rag.app.stats import index_stats
from rag.core.errors import BadQuestionError, ModelMismatchError, RagError
from rag.core.settings import Settings
from rag.indexing.ingest import ingest, keyword_dir

from .conftest import write_article

runner = CliRunner()


def env_for(settings: Settings, **extra: str) -> dict[str, str]:
    return {"RAG_INDEX_DIR": str(settings.index.index_dir), "RAG_EMBEDDING_MODEL": "hashing",
            "RAG_ABSTAIN_THRESHOLD": "0.3", **extra}


def cli(settings: Settings, *args: str, **extra: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app(), list(args), env=env_for(settings, **extra))


def app():  # type: ignore[no-untyped-def]
    from rag.app.cli import app as typer_app

    return typer_app


@pytest.fixture
def indexed(corpus: Path, hashing_settings: Settings) -> Settings:
    assert ingest([corpus], hashing_settings).ok
    return hashing_settings.model_copy(update={"abstain_threshold": 0.3})


def articles(settings: Settings) -> int:
    return int(index_stats(settings)["articles"])


# --- questions -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("question", "message"),
    [
        ("x" * 100_000, "over the limit"),
        ("?!... ,,, ;;; !!!", "no words"),
        ("   \t\n  ", "question is empty"),
    ],
)
def test_bad_questions(indexed: Settings, question: str, message: str) -> None:
    with pytest.raises(BadQuestionError, match=message):
        build_chain(indexed).invoke({"question": question})
    result = cli(indexed, "ask", question)
    assert result.exit_code == 1 and message in result.stderr
    assert "Traceback" not in result.output


def test_control_bytes_and_odd_scripts_in_a_question_still_answer(indexed: Settings) -> None:
    chain = build_chain(indexed)
    answer = chain.invoke({"question": "Who scored\x00 twice\x1b[31m in the final?"})
    assert answer.citations and answer.citations[0].title == "Local club wins the cup"
    other = chain.invoke({"question": "Кто забил дважды? 谁进了两个球? ‮"})
    assert other.abstained or other.citations  # an answer or an abstention, never a crash


# --- the index ---------------------------------------------------------------------
def test_missing_index(tmp_path: Path) -> None:
    settings = Settings(index_dir=tmp_path / "none", embedding_model="hashing")
    for args in (["ask", "What happened?"], ["stats"]):
        result = cli(settings, *args)
        assert result.exit_code == 1 and "no index at" in result.stderr
        assert "rag ingest" in result.stderr


def test_corrupt_index_database(indexed: Settings, corpus: Path) -> None:
    database = Path(indexed.index.index_dir) / "chroma.sqlite3"
    database.write_bytes(random.Random(1).randbytes(database.stat().st_size))
    for args in (["ask", "What happened?"], ["stats"], ["ingest", str(corpus)]):
        result = cli(indexed, *args)
        assert result.exit_code == 1, args
        assert "unreadable" in result.stderr and "--rebuild" in result.stderr
        assert "Traceback" not in result.output
    # The way out that the message names works: move it away, rebuild (in a new
    # process: Chroma caches the broken database per path inside this one).
    Path(indexed.index.index_dir).rename(Path(indexed.index.index_dir).with_name("broken-index"))
    done = subprocess.run(
        [str(Path(sys.executable).parent / "rag"), "ingest", "--rebuild", "-q", str(corpus)],
        capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", **env_for(indexed)},
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    done = subprocess.run(
        [str(Path(sys.executable).parent / "rag"), "stats", "--json"],
        capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", **env_for(indexed)},
        timeout=300,
    )
    assert json.loads(done.stdout)["articles"] == 3


def test_corrupt_keyword_cache_is_rebuilt(indexed: Settings) -> None:
    folder = keyword_dir(indexed)
    for path in folder.rglob("*"):
        if path.is_file():
            path.write_bytes(b"\x00garbage")
    bm25_only = indexed.model_copy(update={"use_dense": False})
    answer = build_chain(bm25_only).invoke({"question": "Who scored twice in the final?"})
    assert answer.citations[0].title == "Local club wins the cup"
    assert json.loads((folder / "state.json").read_text())["files"]  # rewritten


def test_index_of_another_embedding_model(indexed: Settings, corpus: Path) -> None:
    other = {"RAG_EMBEDDING_MODEL": "hashing:64"}
    for args in (["ask", "What happened?"], ["ingest", str(corpus)]):
        result = cli(indexed, *args, **other)
        assert result.exit_code == 1
        assert "built with hashing:256" in result.stderr and "--rebuild" in result.stderr
    with pytest.raises(ModelMismatchError):
        build_chain(indexed.model_copy(update={"embedding_model": "hashing:64"}))
    assert articles(indexed) == 3


@contextlib.contextmanager
def mounted(*args: str) -> Iterator[None]:
    done = subprocess.run(["mount", *args], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount here ({done.stderr.strip()}); needs root and mount rights")
    try:
        yield
    finally:
        subprocess.run(["umount", "-l", args[-1]], check=False)


def test_read_only_index(indexed: Settings, corpus: Path, tmp_path: Path) -> None:
    view = tmp_path / "read-only-view"
    view.mkdir()
    with mounted("--bind", "-o", "ro", str(indexed.index.index_dir), str(view)):
        if subprocess.run(["touch", str(view / "probe")], capture_output=True).returncode == 0:
            pytest.skip("the bind mount is writable here")
        settings = indexed.model_copy(update={"index_dir": view})
        write_article(corpus, "new.md", "New", "A new article about trains and timetables.")
        for args in (["ingest", str(corpus)], ["stats"], ["ask", "What happened?"]):
            result = cli(settings, *args)
            assert result.exit_code == 1, args
            assert "read-only" in result.stderr or "cannot write" in result.stderr
            assert "--rebuild" not in result.stderr  # never advise destroying a good index
            assert "Traceback" not in result.output
    assert articles(indexed) == 3  # the index itself, writable again, is intact


def test_full_disk(corpus: Path, tmp_path: Path) -> None:
    disk = tmp_path / "tiny-disk"
    disk.mkdir()
    with mounted("-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk)):
        settings = Settings(index_dir=disk / "index", embedding_model="hashing",
                            abstain_threshold=0.3)
        assert ingest([corpus], settings).ok
        big = tmp_path / "big"
        rng = random.Random(5)
        for n in range(60):
            words = " ".join(f"w{rng.randrange(10**6)}" for _ in range(400))
            write_article(big, f"b{n}.md", f"Bulk {n}", words + ".")
        result = cli(settings, "ingest", str(big))
        assert result.exit_code == 1
        assert "MB free" in result.stderr or "disk" in result.stderr
        assert "run the same `rag ingest` again" in result.stderr
        assert "Traceback" not in result.output
        # Nothing lost: the three articles still answer, and stats still reads.
        assert articles(settings) == 3
        answer = build_chain(settings).invoke({"question": "Who scored twice in the final?"})
        assert answer.citations[0].title == "Local club wins the cup"
        assert cli(settings, "stats").exit_code == 0


def test_errors_are_rag_errors(tmp_path: Path) -> None:
    """Python callers can catch one base class for every condition above."""
    with pytest.raises(RagError):
        build_chain(Settings(index_dir=tmp_path / "none", embedding_model="hashing"))
