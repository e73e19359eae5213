"""Uploads add articles, never replace ones they did not add (issue 15, item 6).

An upload that reuses an indexed article's id, or only its URL (ids derive from URLs),
is refused before anything is written; the original keeps its text. Re-uploading a
file under the same name still updates that upload's own article. Inputs:
tests/hostile/security/uploads/.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.app.uploads import Upload, ingest_uploads, uploads_dir
from rag.core.settings import Settings
from rag.indexing.embeddings import make_embeddings
from rag.indexing.ingest import ingest
from rag.indexing.store import ArticleIndex

UPLOADS = Path(__file__).parent / "hostile" / "security" / "uploads"
VOLCANO_URL = "https://example.com/volcano"


@pytest.fixture
def indexed(corpus: Path, hashing_settings: Settings) -> Settings:
    assert ingest([corpus], hashing_settings).ok
    return hashing_settings


def _texts(settings: Settings) -> dict[str, str | None]:
    index = ArticleIndex(settings, make_embeddings(settings))
    return {i: index.article_text(i) for i in index.records()}


def _volcano_id(settings: Settings) -> str:
    index = ArticleIndex(settings, make_embeddings(settings))
    return next(r.id for r in index.records().values() if r.url == VOLCANO_URL)


@pytest.mark.parametrize(
    "name", ["forged-by-id.md", "forged-by-url.md", "forged-url-new-id.md", "forged-lines.jsonl"]
)
def test_upload_cannot_replace_an_indexed_article(name: str, indexed: Settings) -> None:
    before = _texts(indexed)
    data = (UPLOADS / name).read_text().replace("{id}", _volcano_id(indexed)).encode()
    result = ingest_uploads([Upload(name, data)], indexed)
    assert result.saved == [] and result.summary is None
    [problem] = result.problems
    assert problem.origin == name
    assert "already indexed" in problem.message and "Volcano erupts in Iceland" in problem.message
    assert _texts(indexed) == before
    assert not any(uploads_dir(indexed).glob("*"))


def test_upload_may_update_its_own_article(indexed: Settings) -> None:
    first = b"---\ntitle: Ferry\nid: ferry-1\n---\n\nThe ferry leaves at nine.\n"
    assert ingest_uploads([Upload("ferry.md", first)], indexed).summary.added == 1  # type: ignore[union-attr]
    again = first.replace(b"nine", b"ten")
    result = ingest_uploads([Upload("ferry.md", again)], indexed)
    assert result.problems == []
    assert result.summary is not None and result.summary.updated == 1
    assert _texts(indexed)["ferry-1"] == "The ferry leaves at ten."


def test_another_upload_cannot_take_an_uploaded_articles_id(indexed: Settings) -> None:
    first = b"---\ntitle: Ferry\nid: ferry-1\n---\n\nThe ferry leaves at nine.\n"
    assert ingest_uploads([Upload("ferry.md", first)], indexed).problems == []
    other = ingest_uploads([Upload("other.md", first.replace(b"nine", b"ten"))], indexed)
    assert other.saved == [] and "already indexed" in other.problems[0].message
    assert _texts(indexed)["ferry-1"] == "The ferry leaves at nine."
