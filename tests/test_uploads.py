"""Uploads: safe names inside the corpus folder, limits, loader checks, indexing."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.answering.chain import build_chain
from rag.app.stats import index_stats
from rag.app.uploads import (
    Upload,
    UploadRejected,
    ingest_uploads,
    safe_filename,
    save_upload,
    uploads_dir,
)
from rag.core.errors import IndexLockedError
from rag.core.settings import Settings
from rag.indexing.ingest import ingest_lock
from tests.ui_fixtures import BRIDGE as ARTICLE


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("report.md", "report.md"),
        ("../../etc/passwd.md", "passwd.md"),
        ("..\\..\\windows\\evil.txt", "evil.txt"),
        ("/abs/path/story.HTML", "story.html"),
        ("...hidden.md", "hidden.md"),
        ("my story (final) v2!.md", "my-story-final-v2.md"),
        ("Nachrichten über Köln.md", "Nachrichten-über-Köln.md"),
        ("a\x00b\nc.jsonl", "abc.jsonl"),
        (".md", "upload.md"),
        ("x" * 300 + ".txt", "x" * 100 + ".txt"),
    ],
)
def test_safe_filename_keeps_only_a_plain_name(name: str, expected: str) -> None:
    assert safe_filename(name) == expected


@pytest.mark.parametrize("name", ["../../etc/passwd", "photo.png", "archive.tar.gz", "noext"])
def test_unsupported_types_are_refused_with_the_supported_list(name: str) -> None:
    with pytest.raises(UploadRejected, match=r"unsupported file type .*\.jsonl"):
        safe_filename(name)


def test_traversal_name_is_saved_inside_the_uploads_folder(
    hashing_settings: Settings, tmp_path: Path
) -> None:
    path, problems = save_upload(Upload("../../../../outside.md", ARTICLE), hashing_settings)
    assert problems == []
    assert path is not None
    root = uploads_dir(hashing_settings).resolve()
    assert path.parent == root
    assert path.read_bytes() == ARTICLE
    assert not (tmp_path / "outside.md").exists()
    # Nothing but the saved file is left behind (no temporary files).
    assert [p.name for p in root.iterdir()] == ["outside.md"]


def test_passwd_traversal_is_refused_and_writes_nothing(hashing_settings: Settings) -> None:
    path, problems = save_upload(Upload("../../etc/passwd", b"root:x:0:0"), hashing_settings)
    assert path is None
    assert "unsupported file type" in problems[0].message
    assert problems[0].origin == "../../etc/passwd"
    assert not uploads_dir(hashing_settings).exists()


def test_size_limit(hashing_settings: Settings) -> None:
    small = hashing_settings.model_copy(update={"upload_max_bytes": 100})
    path, problems = save_upload(Upload("big.md", ARTICLE), small)
    assert path is None
    assert "over the upload limit of 100 bytes" in problems[0].message
    assert not uploads_dir(small).exists()


def test_existing_symlink_at_the_target_is_replaced_not_followed(
    hashing_settings: Settings, tmp_path: Path
) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    folder = uploads_dir(hashing_settings)
    folder.mkdir(parents=True)
    (folder / "story.md").symlink_to(victim)
    path, problems = save_upload(Upload("story.md", ARTICLE), hashing_settings)
    assert problems == [] and path is not None
    assert victim.read_text() == "keep me"
    assert not path.is_symlink()
    assert path.read_bytes() == ARTICLE


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty file"),
        (b"---\ntitle: [unclosed\n---\nbody text here\n", "malformed YAML front matter"),
        (b"\xff\xfe not utf8", "not valid UTF-8"),
        (b"---\ntitle: x\ndate: yesterday\n---\nSome text.\n", "is not an ISO date"),
    ],
)
def test_files_that_hold_no_article_are_not_kept(
    hashing_settings: Settings, data: bytes, message: str
) -> None:
    path, problems = save_upload(Upload("bad.md", data), hashing_settings)
    assert path is None
    assert problems and message in problems[0].message
    assert problems[0].origin == "bad.md"
    assert list(uploads_dir(hashing_settings).iterdir()) == []


def test_ingest_uploads_indexes_articles_and_reports_line_problems(
    hashing_settings: Settings,
) -> None:
    jsonl = (
        b'{"id": "j1", "title": "Harbour strike ends", "text": "Dock workers ended their '
        b'strike after a pay deal was signed on Friday.", "source": "port.test"}\n'
        b"{not json}\n"
    )
    seen: list[tuple[int, int]] = []
    result = ingest_uploads(
        [Upload("bridge.md", ARTICLE), Upload("lines.jsonl", jsonl), Upload("x.pdf", b"%PDF")],
        hashing_settings,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert result.summary is not None
    assert result.summary.added == 2
    assert [p.name for p in result.saved] == ["bridge.md", "lines.jsonl"]
    messages = [str(p) for p in result.problems]
    assert any(m.startswith("x.pdf: unsupported file type .pdf") for m in messages)
    # The bad JSONL line is named as the user named the file, with its line number.
    assert any(m.startswith("lines.jsonl:2: malformed JSON") for m in messages)
    assert seen and seen[-1][0] == seen[-1][1] > 0
    stats = index_stats(hashing_settings)
    assert stats["articles"] == 2
    assert set(stats["sources"]) == {"city.test", "port.test"}

    chain = build_chain(hashing_settings.model_copy(update={"abstain_threshold": 0.3}))
    answer = chain.invoke({"question": "When did the old river bridge reopen?"})
    assert answer.citations and answer.citations[0].title == "Bridge reopens after repairs"


def test_uploading_the_same_name_again_updates_the_article(hashing_settings: Settings) -> None:
    first = ingest_uploads([Upload("bridge.md", ARTICLE)], hashing_settings)
    assert first.summary is not None and first.summary.added == 1
    changed = ARTICLE.replace(b"two years", b"three years")
    again = ingest_uploads([Upload("bridge.md", changed)], hashing_settings)
    assert again.summary is not None
    assert (again.summary.added, again.summary.updated) == (0, 1)
    assert index_stats(hashing_settings)["articles"] == 1
    assert len(list(uploads_dir(hashing_settings).iterdir())) == 1


def test_a_locked_index_leaves_no_new_file_behind(hashing_settings: Settings) -> None:
    with ingest_lock(hashing_settings), pytest.raises(IndexLockedError, match="wait for it"):
        ingest_uploads([Upload("bridge.md", ARTICLE)], hashing_settings)
    assert list(uploads_dir(hashing_settings).iterdir()) == []
