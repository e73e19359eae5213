"""The store hands out typed rows and can be injected into the search engine."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from rag.core.schema import RetrievedPassage, StoredArticle
from rag.core.settings import Settings
from rag.core.store import Page, PassageStore
from rag.indexing.embeddings import make_embeddings
from rag.indexing.ingest import ingest
from rag.indexing.store import ArticleIndex, passage_from
from rag.retrieval.hybrid import SearchEngine

from .conftest import write_article


class Recording:
    """A PassageStore that forwards to the real Chroma index and notes what is called."""

    def __init__(self, inner: ArticleIndex) -> None:
        self.inner = inner
        self.calls: list[str] = []

    @property
    def revision(self) -> str:
        return self.inner.revision

    def nearest(self, vector: Sequence[float], n: int,
                where: dict[str, Any] | None = None) -> list[RetrievedPassage]:
        self.calls.append("nearest")
        return self.inner.nearest(vector, n, where)

    def to_index_space(self, vector: Any) -> Any:
        return self.inner.to_index_space(vector)

    def passages_by_id(self, ids: Sequence[str]) -> list[RetrievedPassage]:
        self.calls.append("passages_by_id")
        return self.inner.passages_by_id(ids)

    def vectors_by_id(self, ids: Sequence[str]) -> tuple[list[str], Any]:
        self.calls.append("vectors_by_id")
        return self.inner.vectors_by_id(ids)

    def records(self) -> Mapping[str, StoredArticle]:
        return self.inner.records()

    def record_facts(self) -> list[tuple[str, str, str]]:
        return self.inner.record_facts()

    def article_text(self, article_id: str) -> str | None:
        return self.inner.article_text(article_id)

    def all_passages(self) -> Iterator[Page]:
        return self.inner.all_passages()

    def all_articles(self) -> Iterator[Page]:
        return self.inner.all_articles()

    def log_position(self) -> tuple[str, int]:
        return self.inner.log_position()

    def changed_articles(self, after: int, upto: int) -> list[str]:
        return self.inner.changed_articles(after, upto)

    def passages_of_articles(self, article_ids: Sequence[str]) -> Iterator[Page]:
        return self.inner.passages_of_articles(article_ids)

    def articles_by_id(self, article_ids: Sequence[str]) -> Iterator[Page]:
        return self.inner.articles_by_id(article_ids)

    def replaced(self) -> bool:
        return self.inner.replaced()

    def reopened(self) -> Recording:
        self.calls.append("reopened")
        return Recording(self.inner.reopened())


def test_an_injected_store_is_the_one_searched(corpus: Path, hashing_settings: Settings) -> None:
    ingest([corpus], hashing_settings)
    embeddings = make_embeddings(hashing_settings)
    store = Recording(ArticleIndex(hashing_settings, embeddings))
    typed: PassageStore = store  # the Protocol is all the engine needs
    engine = SearchEngine(hashing_settings, embeddings, store=typed)
    docs = engine.search("volcano lava Iceland", k=2)
    assert docs and docs[0].metadata["title"] == "Volcano erupts in Iceland"
    assert "nearest" in store.calls


def test_duplicates_are_decoded_once_into_lists(tmp_path: Path,
                                                hashing_settings: Settings) -> None:
    text = "The harbour reopened on Monday after the storm. Ferries run again."
    folder = tmp_path / "dups"
    folder.mkdir()
    write_article(folder, "one.md", "Harbour reopens", text, id="one", source="one.test",
                  url="https://one.test/harbour")
    write_article(folder, "two.md", "Harbour reopens", text, id="two", source="two.test",
                  url="https://two.test/harbour")
    ingest([folder], hashing_settings)
    engine = SearchEngine(hashing_settings)
    [doc] = engine.search("harbour reopened ferries", k=1)
    assert isinstance(doc.metadata["duplicate_ids"], list)
    assert isinstance(doc.metadata["also_published_at"], list)
    stored = {doc.metadata["article_id"], *doc.metadata["duplicate_ids"]}
    assert stored == {"one", "two"}


def test_rows_decode_stored_metadata() -> None:
    row = passage_from(
        "a:1", "Text.",
        {"article_id": "a", "chunk_id": "a:1", "date": "2025-05-01", "date_int": 20250501,
         "start": 10, "end": 15, "duplicate_ids": '["b"]', "also_published_at": "not json",
         "language": "en"},
        [1.0, 0.0], 0.25,
    )
    assert row.article_id == "a" and row.start == 10 and row.end == 15
    assert row.duplicate_ids == ("b",) and row.also_published_at == ()
    assert row.distance == 0.25 and row.vector.tolist() == [1.0, 0.0]
    assert row.metadata()["language"] == "en"  # unknown stored fields pass through
    assert row.metadata()["chunk_id"] == "a:1"


def test_articles_lifted_by_keyword_bring_passages_without_a_metadata_scan(
    corpus: Path, hashing_settings: Settings
) -> None:
    """An article ranked by whole-article BM25 whose passages nobody found brings its
    best passage in. Which passages are its own comes from the keyword index, their
    vectors by id: a Chroma metadata filter over every passage cost 150-180 ms a
    question at a million passages (the p95 tail)."""
    ingest([corpus], hashing_settings)
    only_articles = hashing_settings.model_copy(update={"retrieval": hashing_settings.retrieval
                                                        .model_copy(update={"use_dense": False,
                                                                            "use_bm25": False})})
    embeddings = make_embeddings(only_articles)
    store = Recording(ArticleIndex(only_articles, embeddings))
    engine = SearchEngine(only_articles, embeddings, store=store)
    docs = engine.search("volcano lava Iceland", k=2)
    assert docs and docs[0].metadata["title"] == "Volcano erupts in Iceland"
    assert "vectors_by_id" in store.calls
    assert "vectors_of_articles" not in store.calls
