"""Reading articles: every supported format, and a clear one-line problem for bad input."""

from __future__ import annotations

import json
from pathlib import Path

from rag.core.schema import Article, Problem
from rag.indexing.loaders import iter_files, load_path

from .conftest import SEED_ARTICLE


def load_one(path: Path) -> Article | Problem:
    items = list(load_path(path))
    assert len(items) == 1
    return items[0]


def test_seed_article_front_matter() -> None:
    article = load_one(SEED_ARTICLE)
    assert isinstance(article, Article)
    assert article.id == "iran-russia-ashgabat"
    assert article.title == "How US, EU policies pushing Iran closer to Russia?"
    assert article.source == "" and article.date == "" and article.url == ""
    assert article.text.startswith("A recent article by Responsible Statecraft")
    assert "S-400s" in article.text


def test_plain_text_first_line_is_title(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("Headline here\nBody sentence one. Body two.\n", encoding="utf-8")
    article = load_one(path)
    assert isinstance(article, Article)
    assert article.title == "Headline here"
    assert article.text == "Body sentence one. Body two."


def test_html_visible_text_and_title(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(
        "<html><head><title>The Title</title><style>p{color:red}</style></head>"
        "<body><script>alert(1)</script><p>First para.</p><p>Second &amp; last.</p></body>"
        "</html>",
        encoding="utf-8",
    )
    article = load_one(path)
    assert isinstance(article, Article)
    assert article.title == "The Title"
    assert "alert" not in article.text and "color" not in article.text
    assert "First para." in article.text and "Second & last." in article.text


def test_jsonl_articles_and_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    good = {"id": "a1", "title": "T", "text": "Some text here.", "date": "2025-01-02"}
    path.write_text(
        json.dumps(good) + "\n{not json\n" + json.dumps({"id": "a2"}) + "\n[1, 2]\n",
        encoding="utf-8",
    )
    items = list(load_path(path))
    articles = [i for i in items if isinstance(i, Article)]
    problems = [str(i) for i in items if isinstance(i, Problem)]
    assert [a.id for a in articles] == ["a1"]
    assert articles[0].date == "2025-01-02"
    assert any(":2: malformed JSON" in p for p in problems)
    assert any(":3: " in p and "text" in p for p in problems)
    assert any(":4: " in p and "not a JSON object" in p for p in problems)


def test_bad_files_give_one_line_problems(tmp_path: Path) -> None:
    cases = {
        "empty.md": b"",
        "binary.txt": b"\x89PNG\x00\x00\x01",
        "latin1.txt": "Caf\xe9 story\nBody.".encode("latin-1"),
        "yaml.md": b"---\ntitle: [unclosed\n---\nBody text.",
        "open.md": b"---\ntitle: x\nBody never closed",
        "date.md": b"---\ntitle: x\ndate: last tuesday\n---\nBody text.",
        "onlymeta.md": b"---\ntitle: x\n---\n",
    }
    expected = {
        "empty.md": "empty file",
        "binary.txt": "binary file",
        "latin1.txt": "not valid UTF-8",
        "yaml.md": "malformed YAML",
        "open.md": "never closed",
        "date.md": "not an ISO date",
        "onlymeta.md": "no article text",
    }
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        result = load_one(path)
        assert isinstance(result, Problem), name
        assert expected[name] in result.message, (name, result.message)
        assert "\n" not in str(result)
        assert str(path) in str(result)


def test_missing_and_unsupported_paths(tmp_path: Path) -> None:
    (tmp_path / "doc.pdf").write_bytes(b"%PDF")
    (tmp_path / ".hidden").write_text("x")
    (tmp_path / "ok.md").write_text("Title\nText.")
    items = list(iter_files([tmp_path, tmp_path / "nope"]))
    problems = [str(i) for i in items if isinstance(i, Problem)]
    files = [i for i in items if isinstance(i, Path)]
    assert files == [tmp_path / "ok.md"]
    assert any("unsupported file type .pdf" in p for p in problems)
    assert any("no such file or folder" in p for p in problems)
    assert not any(".hidden" in p for p in problems)


def test_ids_are_stable_and_url_based(tmp_path: Path) -> None:
    path = tmp_path / "u.md"
    path.write_text("---\ntitle: T\nurl: https://x.test/a\n---\nBody one.")
    first = load_one(path)
    path.write_text("---\ntitle: T\nurl: https://x.test/a\n---\nBody changed.")
    second = load_one(path)
    assert isinstance(first, Article) and isinstance(second, Article)
    assert first.id == second.id  # same article, new text: it will be replaced
