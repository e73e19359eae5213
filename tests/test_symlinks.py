"""Links out of an ingested folder are not followed unless asked (issue 15, item 12).

A symbolic link inside a corpus folder that points outside it (to /etc/passwd, to a
private folder) is reported in one line naming ``--follow-links`` and not indexed; the
rest of the folder is. ``follow_links=True`` (``rag ingest --follow-links``) indexes it.
Links that stay inside the folder and link loops are skipped quietly (what they point
at is indexed anyway).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.app.cli import app
from rag.core.settings import Settings
from rag.indexing.embeddings import make_embeddings
from rag.indexing.ingest import ingest
from rag.indexing.loaders import iter_files
from rag.indexing.store import ArticleIndex

SECRET = "The private ledger lists the account number of the harbour fund."


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    outside = tmp_path / "private"
    (outside / "deeper").mkdir(parents=True)
    (outside / "secret.md").write_text(f"# Ledger\n\n{SECRET}\n")
    (outside / "deeper" / "notes.md").write_text("# Notes\n\nThe notes say the fund is closed.\n")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "good.md").write_text("# A river\n\nThe river rose by two metres overnight.\n")
    (corpus / "ledger.md").symlink_to(outside / "secret.md")
    (corpus / "private-dir").symlink_to(outside / "deeper", target_is_directory=True)
    (corpus / "same.md").symlink_to(corpus / "good.md")  # inside: indexed once anyway
    return corpus


def _texts(settings: Settings) -> list[str]:
    index = ArticleIndex(settings, make_embeddings(settings))
    return [index.article_text(i) or "" for i in index.records()]


def test_links_out_of_the_folder_are_reported_not_followed(
    folder: Path, hashing_settings: Settings
) -> None:
    found = list(iter_files([folder]))
    files = [f for f in found if isinstance(f, Path)]
    problems = [p for p in found if not isinstance(p, Path)]
    assert files == [folder / "good.md"]
    assert sorted(Path(p.origin).name for p in problems) == ["ledger.md", "private-dir"]
    assert all("--follow-links" in p.message and "outside" in p.message for p in problems)
    summary = ingest([folder], hashing_settings)
    assert summary.added == 1
    assert not any(SECRET in t for t in _texts(hashing_settings))


def test_etc_passwd_link_is_not_indexed(tmp_path: Path, hashing_settings: Settings) -> None:
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "good.md").write_text("# A river\n\nThe river rose by two metres overnight.\n")
    (corpus / "passwd.txt").symlink_to("/etc/passwd")
    summary = ingest([corpus], hashing_settings)
    assert summary.added == 1
    assert any("symbolic link" in p.message for p in summary.problems)
    assert not any("root:" in t for t in _texts(hashing_settings))


def test_follow_links_indexes_them(folder: Path, hashing_settings: Settings) -> None:
    summary = ingest([folder], hashing_settings, follow_links=True)
    assert summary.added == 3 and summary.ok
    assert any(SECRET in t for t in _texts(hashing_settings))


def test_cli_flag(folder: Path, tmp_path: Path) -> None:
    env = {"RAG_INDEX_DIR": str(tmp_path / "idx"), "RAG_EMBEDDING_MODEL": "hashing"}
    refused = CliRunner().invoke(app, ["ingest", str(folder)], env=env)
    assert refused.exit_code != 0
    assert "--follow-links" in refused.output and "Traceback" not in refused.output
    followed = CliRunner().invoke(app, ["ingest", "--follow-links", str(folder)], env=env)
    assert followed.exit_code == 0, followed.output
    assert "2 added" in followed.output
