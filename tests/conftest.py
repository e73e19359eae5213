"""Shared fixtures: temporary indexes with the fake (hashing) and the real bundled model."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag.core.runtime import go_offline
from rag.core.settings import Settings

# The edge of the test run: nothing may be fetched from a model hub.
go_offline()

REPO = Path(__file__).resolve().parent.parent
SEED_DIR = REPO / "index" / "articles"
SEED_ARTICLE = SEED_DIR / "iran-russia-article.md"
SHARED = REPO.parent / "shared"
REALTIMEQA = SHARED / "benchmarks" / "realtimeqa"
S400_QUESTION = "Why is Russia withholding S-400s from Iran?"


def write_article(
    folder: Path, name: str, title: str, text: str, **meta: str
) -> Path:
    """A Markdown article with front matter, for tests."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["---", f"title: {title!r}"] + [f"{k}: {v!r}" for k, v in meta.items()] + ["---"]
    path = folder / name
    path.write_text("\n".join(lines) + "\n\n" + text + "\n", encoding="utf-8")
    return path


@pytest.fixture
def hashing_settings(tmp_path: Path) -> Settings:
    """Settings on a fresh temporary index with the weightless fake embeddings."""
    return Settings(
        index_dir=tmp_path / "index",
        articles_dir=tmp_path / "articles",
        embedding_model="hashing",
        feedback_path=tmp_path / "feedback.jsonl",
    )


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """Three short articles from two outlets on different dates."""
    folder = tmp_path / "articles"
    write_article(
        folder, "volcano.md", "Volcano erupts in Iceland",
        "A volcano erupted near Grindavik in Iceland on Monday. Lava flowed toward the town. "
        "Officials evacuated four thousand residents as a precaution.",
        source="example.com", date="2025-01-10", url="https://example.com/volcano",
    )
    write_article(
        folder, "budget.md", "Parliament passes budget",
        "The parliament passed the annual budget after a long debate. The vote was 301 to "
        "250. The finance minister said taxes on fuel will rise next year.",
        source="news.test", date="2025-02-20", url="https://news.test/budget",
    )
    write_article(
        folder, "football.md", "Local club wins the cup",
        "The local football club won the national cup on Saturday. The striker scored twice "
        "in the final. Fans celebrated in the streets until midnight.",
        source="example.com", date="2025-03-05",
    )
    return folder


@pytest.fixture(scope="session")
def real_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """An index of the bundled articles built once with the real bundled model."""
    from rag.indexing.ingest import ingest

    root = tmp_path_factory.mktemp("real")
    settings = Settings(
        index_dir=root / "index", articles_dir=SEED_DIR, feedback_path=root / "fb.jsonl"
    )
    summary = ingest([SEED_ARTICLE], settings)  # not the folder: local uploads land there
    assert summary.ok, summary.problems
    return settings


@pytest.fixture(scope="session")
def real_chain(real_settings: Settings):  # type: ignore[no-untyped-def]
    from rag.answering.chain import build_chain

    return build_chain(real_settings)


@pytest.fixture
def copy_of_seed(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "seed"
    folder.mkdir()
    shutil.copy(SEED_ARTICLE, folder / SEED_ARTICLE.name)
    yield folder
