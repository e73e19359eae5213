"""Hostile input through every entry point: Python, the CLI (in process and as a real
process) and UI uploads (rag.app.uploads). Each must give a clear message naming the
problem, a non-zero exit for the CLI, and lose nothing already indexed.

The small inputs live in tests/hostile/ (expected.json lists the message each must
give); the big or special ones (huge files, deep nesting, a FIFO, a symlink loop) are
made at test time.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.app.cli import app
from rag.core.settings import Settings
from rag.indexing.embeddings import make_embeddings
from rag.indexing.ingest import ingest
from rag.indexing.loaders import MAX_ARTICLE_BYTES
from rag.indexing.store import ArticleIndex

from .conftest import REPO

HOSTILE = Path(__file__).resolve().parent / "hostile"
EXPECTED: dict[str, list[str]] = json.loads((HOSTILE / "expected.json").read_text())
runner = CliRunner()


def _huge_md(folder: Path) -> Path:
    path = folder / "huge.md"
    with path.open("wb") as handle:  # sparse: the size check comes before any read
        handle.truncate(MAX_ARTICLE_BYTES + 1)
    return path


def _huge_line(folder: Path) -> Path:
    path = folder / "huge-line.jsonl"
    text = "word " * ((MAX_ARTICLE_BYTES // 5) + 10)
    path.write_text(json.dumps({"id": "big", "title": "Big", "text": text}) + "\n")
    return path


def _deep_json(folder: Path) -> Path:
    path = folder / "deep-nesting.jsonl"
    path.write_text("[" * 100_000 + "]" * 100_000 + "\n")
    return path


def _deep_yaml(folder: Path) -> Path:
    path = folder / "deep-front-matter.md"
    path.write_text("---\ntitle: " + "[" * 5000 + "]" * 5000 + "\n---\n\nBody text.\n")
    return path


def _fifo(folder: Path) -> Path:
    path = folder / "pipe.md"  # reading a FIFO would block forever
    os.mkfifo(path)
    return path


def _empty_folder(folder: Path) -> Path:
    path = folder / "empty-folder"
    path.mkdir()
    (path / ".hidden.md").write_text("# Hidden\n\nHidden files are skipped.\n")
    return path


GENERATED: dict[str, tuple[Callable[[Path], Path], list[str]]] = {
    "huge.md": (_huge_md, [f"over the {MAX_ARTICLE_BYTES:,}-byte limit"]),
    "huge-line.jsonl": (_huge_line, [f"over the {MAX_ARTICLE_BYTES:,}-byte limit"]),
    "deep-nesting.jsonl": (_deep_json, ["nested too deeply"]),
    "deep-front-matter.md": (_deep_yaml, ["nested too deeply"]),
    "pipe.md": (_fifo, ["empty file"]),
    "empty-folder": (_empty_folder, ["folder holds no article files"]),
    "missing.md": (lambda folder: folder / "missing.md", ["no such file or folder"]),
}
CASES = sorted(EXPECTED) + sorted(GENERATED)


def test_every_committed_input_is_listed() -> None:
    # security/ holds inputs that are accepted but must not steer (tests/test_instructions.py);
    # languages/ articles that must be accepted and found (tests/test_languages.py).
    on_disk = {p.name for p in HOSTILE.iterdir()} - {
        "expected.json", "README", "security", "languages"
    }
    assert on_disk == set(EXPECTED)


@pytest.fixture
def indexed(corpus: Path, hashing_settings: Settings) -> Iterator[Settings]:
    summary = ingest([corpus], hashing_settings)
    assert summary.ok
    yield hashing_settings


Snapshot = tuple[dict[str, str | None], list[str]]


def snapshot(settings: Settings) -> Snapshot:
    index = ArticleIndex(settings, make_embeddings(settings))
    texts = {i: index.article_text(i) for i in index.records()}
    passages = sorted(i for ids, _, _ in index.all_passages() for i in ids)
    return texts, passages


def assert_nothing_lost(settings: Settings, before: Snapshot) -> None:
    texts, passages = snapshot(settings)
    for article_id, text in before[0].items():
        assert texts.get(article_id) == text, f"{article_id} changed or lost"
    assert set(before[1]) <= set(passages)
    assert len(passages) == len(set(passages))


def make_case(name: str, folder: Path) -> tuple[Path, list[str]]:
    if name in EXPECTED:
        path = folder / name
        shutil.copy(HOSTILE / name, path)
        return path, EXPECTED[name]
    build, messages = GENERATED[name]
    return build(folder), messages


@pytest.mark.parametrize("name", CASES)
def test_python_and_cli_give_clear_messages_and_keep_the_index(
    name: str, indexed: Settings, tmp_path: Path
) -> None:
    folder = tmp_path / "hostile"
    folder.mkdir()
    path, messages = make_case(name, folder)
    before = snapshot(indexed)

    summary = ingest([path], indexed)
    problems = [str(p) for p in summary.problems]
    assert problems, f"{name} raised no problem"
    for message in messages:
        assert any(message in p for p in problems), (message, problems)
    assert all(p.startswith(str(path)) for p in problems)  # each names the input
    assert_nothing_lost(indexed, before)

    result = runner.invoke(
        app, ["ingest", str(path), "-q"],
        env={"RAG_INDEX_DIR": str(indexed.index.index_dir), "RAG_EMBEDDING_MODEL": "hashing"},
    )
    assert result.exit_code == 1, result.output
    for message in messages:
        assert message in result.stderr
    assert "Traceback" not in result.output
    assert_nothing_lost(indexed, before)


def test_uploads_refuse_every_hostile_file(indexed: Settings, tmp_path: Path) -> None:
    from rag.app.uploads import Upload, ingest_uploads

    folder = tmp_path / "hostile"
    folder.mkdir()
    before = snapshot(indexed)
    uploads = []
    for name in CASES:
        path, _ = make_case(name, folder)
        if path.is_file() and not path.is_fifo():
            uploads.append(Upload(name, path.read_bytes()))
    result = ingest_uploads(uploads, indexed)
    refused = {p.origin.split(":")[0] for p in result.problems}
    # Every upload is refused with a message, except the good first line of
    # duplicate-ids.jsonl, which is indexed while its second line is refused.
    assert refused == {u.name for u in uploads}
    assert all(p.message for p in result.problems)
    assert [p.name for p in result.saved] == ["duplicate-ids.jsonl"]
    sizes = [p for p in result.problems if p.origin == "huge.md"]
    assert sizes and "upload limit" in sizes[0].message
    assert_nothing_lost(indexed, before)


def test_symlink_loop_in_a_corpus_folder(indexed: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "loop"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "back").symlink_to(folder, target_is_directory=True)
    (folder / "good.md").write_text("# A river\n\nThe river rose by two metres overnight.\n")
    summary = ingest([folder], indexed)
    assert summary.added == 1 and summary.ok


def test_all_at_once_in_a_real_process(indexed: Settings, tmp_path: Path) -> None:
    """The console script over the whole hostile corpus: exit 1, one line per input."""
    folder = tmp_path / "all"
    folder.mkdir()
    paths = [make_case(name, folder)[0] for name in CASES]
    before = snapshot(indexed)
    done = subprocess.run(
        [str(Path(sys.executable).parent / "rag"), "ingest", "-q", *map(str, paths)],
        capture_output=True, text=True, cwd=REPO, timeout=300,
        env={"PATH": "/usr/bin:/bin", "RAG_INDEX_DIR": str(indexed.index.index_dir),
             "RAG_EMBEDDING_MODEL": "hashing", "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)},
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    for name in CASES:
        assert name in done.stderr
    assert "1 added" in done.stdout  # the first version in duplicate-ids.jsonl
    assert_nothing_lost(indexed, before)
