"""What retrieval needs from a store, as a Protocol: typed rows in, nothing Chroma-shaped.

:class:`rag.indexing.store.ArticleIndex` (Chroma) is the implementation; another store
(a server database, an in-memory one for tests) needs these methods and nothing more to
be injected into :class:`rag.retrieval.hybrid.SearchEngine`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Protocol

from rag.core.schema import RetrievedPassage, StoredArticle

#: A page of rows: (ids, metadatas, texts), as the keyword index is built from.
Page = tuple[list[str], list[dict[str, Any]], list[str]]


class PassageStore(Protocol):
    """Read access to stored passages and articles for search."""

    @property
    def revision(self) -> str:
        """Changes whenever the stored passages change (caches compare it)."""
        ...

    def nearest(
        self, vector: Sequence[float], n: int, where: dict[str, Any] | None = None
    ) -> list[RetrievedPassage]:
        """The ``n`` passages nearest ``vector``, best first, with vectors and distances;
        ``where`` is a Chroma-style metadata filter."""
        ...

    def to_index_space(self, vector: Any) -> Any:
        """A model vector as the stored vectors are (float32): the same, or projected
        when the store keeps fewer dimensions. ``nearest`` takes model vectors."""
        ...

    def passages_by_id(self, ids: Sequence[str]) -> list[RetrievedPassage]:
        """These passages (the ones that exist), with their vectors."""
        ...

    def vectors_by_id(self, ids: Sequence[str]) -> tuple[list[str], Any]:
        """Ids and vectors (one float32 row each) of these passages (those that exist)."""
        ...

    def records(self) -> Mapping[str, StoredArticle]:
        """Every article record, by id."""
        ...

    def record_facts(self) -> list[tuple[str, str, str]]:
        """(id, source, date) of every article record (lighter than ``records``)."""
        ...

    def article_text(self, article_id: str) -> str | None:
        """The article's full text, None when it is not stored."""
        ...

    def all_passages(self) -> Iterator[Page]:
        """Every passage, a page at a time."""
        ...

    def all_articles(self) -> Iterator[Page]:
        """Every article record with its full text, a page at a time."""
        ...

    # --- following changes made by other processes (the keyword index, reopening) ----
    def log_position(self) -> tuple[str, int]:
        """(generation, committed change-log position); the generation changes when the
        store is rebuilt, the position when an ingest commits."""
        ...

    def changed_articles(self, after: int, upto: int) -> list[str]:
        """Ids of the articles changed by log entries ``after`` < seq <= ``upto``."""
        ...

    def passages_of_articles(self, article_ids: Sequence[str]) -> Iterator[Page]:
        """Every passage of these articles, with metadata and text."""
        ...

    def articles_by_id(self, article_ids: Sequence[str]) -> Iterator[Page]:
        """These article records (those that exist), with metadata and full text."""
        ...

    def replaced(self) -> bool:
        """True when what this handle reads was dropped or replaced (a rebuild)."""
        ...

    def reopened(self) -> PassageStore:
        """Fresh handles on the store as it is now (other processes' writes included)."""
        ...

