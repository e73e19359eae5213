"""Issue 15, data loss and robustness: each test reproduces one finding (the item number
is in its name) and failed before its fix.

Hashing embeddings and real Chroma on disk throughout; the CLI runs in process through
typer's runner unless a real process is what the finding needs (a crash of Chroma).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.app.cli import app
from rag.core.settings import Settings
from rag.indexing.embeddings import make_embeddings
from rag.indexing.ingest import ingest
from rag.indexing.store import ArticleIndex

from .conftest import write_article

HOSTILE = Path(__file__).resolve().parent / "hostile"
runner = CliRunner()


def env_for(settings: Settings) -> dict[str, str]:
    return {"RAG_INDEX_DIR": str(settings.index_dir), "RAG_EMBEDDING_MODEL": "hashing"}


def stored(settings: Settings) -> dict[str, str | None]:
    """Article id -> stored text."""
    index = ArticleIndex(settings, make_embeddings(settings))
    return {i: index.article_text(i) for i in index.records()}


@pytest.fixture
def indexed(corpus: Path, hashing_settings: Settings) -> Settings:
    assert ingest([corpus], hashing_settings).ok
    return hashing_settings


# --- 14: impossible dates --------------------------------------------------------
IMPOSSIBLE = [
    "front-matter-impossible-date.md",
    "front-matter-impossible-month.md",
    "front-matter-bad-tag.md",
    "impossible-date.jsonl",
]


def test_14_impossible_dates_are_one_line_each_and_the_rest_is_indexed(
    indexed: Settings, tmp_path: Path
) -> None:
    folder = tmp_path / "batch"
    folder.mkdir()
    for name in IMPOSSIBLE:
        shutil.copy(HOSTILE / name, folder / name)
    write_article(folder, "good.md", "Ferry resumes", "The ferry resumed service on Friday.")
    summary = ingest([folder], indexed)
    assert summary.added == 1
    assert sorted(Path(p.origin.split(":")[0]).name for p in summary.problems) == sorted(IMPOSSIBLE)
    result = runner.invoke(app, ["ingest", str(folder), "-q"], env=env_for(indexed))
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert result.stderr.count("skipped:") == len(IMPOSSIBLE)
    assert "1 unchanged" in result.stdout


def test_14_impossible_date_upload_is_refused_not_a_crash(indexed: Settings) -> None:
    from rag.app.uploads import Upload, ingest_uploads

    good = Upload("good.md", b"# Ferry resumes\n\nThe ferry resumed service on Friday.\n")
    bad = Upload(IMPOSSIBLE[0], (HOSTILE / IMPOSSIBLE[0]).read_bytes())
    result = ingest_uploads([bad, good], indexed)
    assert [p.origin for p in result.problems] == [IMPOSSIBLE[0]]
    assert "does not exist" in result.problems[0].message
    assert [p.name for p in result.saved] == ["good.md"]


# --- 21: unbounded k, invalid filters ---------------------------------------------
@pytest.mark.parametrize("k", [10**9, 0, -3, 2.5, "5", True])
def test_21_k_is_bounded_before_anything_runs(indexed: Settings, k: object) -> None:
    from rag.retrieval.hybrid import build_retriever

    with pytest.raises(ValueError, match="k must be a whole number from 1 to 100"):
        build_retriever(indexed, k=k)  # type: ignore[arg-type]


def test_21_k_set_on_the_retriever_later_is_bounded_too(indexed: Settings) -> None:
    from rag.retrieval.hybrid import build_retriever

    retriever = build_retriever(indexed, k=3)
    with pytest.raises(ValueError, match="k must be"):
        retriever.__class__(engine=retriever.engine, k=10**9)
    assert len(retriever.invoke("volcano lava")) <= 3


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"sources": 5}, "filter 'sources' must be a string or a list of strings"),
        ({"article_ids": [1, 2]}, "filter 'article_ids' must be a string or a list"),
        ({"sources": {"a": 1}}, "filter 'sources' must be"),
        ({"date_from": 20250101}, "filter 'date_from' must be a YYYY-MM-DD date"),
        ({"date_from": "2025-02-30"}, "does not exist"),
        ({"date_from": "2025-03-01", "date_to": "2025-01-01"}, "is after date_to"),
        (["sources"], "filters must be a mapping"),
    ],
)
def test_21_invalid_filters_are_refused_with_a_clear_message(
    indexed: Settings, filters: object, message: str
) -> None:
    from rag.answering.chain import build_chain
    from rag.retrieval.hybrid import build_retriever

    with pytest.raises(ValueError, match=message):
        build_retriever(indexed, filters=filters)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=message):
        build_chain(indexed).invoke({"question": "What erupted?", "filters": filters})
