"""Hybrid retrieval on a real on-disk index (fake embeddings): filters, parts, freshness."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.core.settings import Settings
from rag.indexing.ingest import ingest
from rag.retrieval.hybrid import Filters, SearchEngine, build_retriever

from .conftest import write_article

META_KEYS = {"article_id", "chunk_id", "title", "source", "date", "url", "start", "end"}


@pytest.fixture
def engine(corpus: Path, hashing_settings: Settings) -> SearchEngine:
    ingest([corpus], hashing_settings)
    return SearchEngine(hashing_settings)


def titles(docs: list) -> list[str]:  # type: ignore[type-arg]
    return [d.metadata["title"] for d in docs]


def test_retriever_is_a_langchain_retriever(corpus: Path, hashing_settings: Settings) -> None:
    from langchain_core.retrievers import BaseRetriever

    ingest([corpus], hashing_settings)
    retriever = build_retriever(hashing_settings, k=2)
    assert isinstance(retriever, BaseRetriever)
    docs = retriever.invoke("volcano lava Iceland")
    assert 1 <= len(docs) <= 2
    assert docs[0].metadata["title"] == "Volcano erupts in Iceland"
    assert set(docs[0].metadata) >= META_KEYS
    assert [d.metadata["rank"] for d in docs] == list(range(1, len(docs) + 1))
    batch = retriever.batch(["budget vote", "football cup"])
    assert titles(batch[0])[0] == "Parliament passes budget"
    assert titles(batch[1])[0] == "Local club wins the cup"


def test_filters_restrict_results(engine: SearchEngine) -> None:
    query = "what happened"
    only_news = engine.search(query, 5, Filters(sources=("news.test",)))
    assert only_news and {d.metadata["source"] for d in only_news} == {"news.test"}
    dated = engine.search(query, 5, Filters(date_from="2025-02-01", date_to="2025-02-28"))
    assert titles(dated) == ["Parliament passes budget"]
    volcano_id = engine.search("volcano", 1)[0].metadata["article_id"]
    by_id = engine.search("football cup", 5, Filters(article_ids=(volcano_id,)))
    assert {d.metadata["article_id"] for d in by_id} == {volcano_id}
    nothing = engine.search(query, 5, Filters(sources=("nowhere.test",)))
    assert nothing == []


def test_filters_validate() -> None:
    with pytest.raises(ValueError, match="unknown filter"):
        Filters.from_mapping({"outlet": "x"})
    with pytest.raises(ValueError, match="ISO date"):
        Filters.from_mapping({"date_from": "yesterday"})
    assert Filters.from_mapping({"sources": "a.test"}).sources == ("a.test",)


@pytest.mark.parametrize(
    "switches",
    [
        {"use_dense": False},
        {"use_bm25": False},
        {"use_mmr": False},
        {"use_dense": False, "use_mmr": False},
    ],
)
def test_each_part_can_be_switched_off(
    corpus: Path, hashing_settings: Settings, switches: dict[str, bool]
) -> None:
    ingest([corpus], hashing_settings)
    settings = hashing_settings.model_copy(update=switches)
    docs = SearchEngine(settings).search("budget vote parliament", 3)
    assert docs[0].metadata["title"] == "Parliament passes budget"
    if not settings.retrieval.use_dense and not settings.retrieval.use_mmr:
        assert all(d.metadata["dense_score"] is None for d in docs)
    if not settings.retrieval.use_bm25:
        assert all(d.metadata["bm25_score"] is None for d in docs)


def test_mmr_avoids_near_copies(tmp_path: Path, hashing_settings: Settings) -> None:
    folder = tmp_path / "many"
    text = "The central bank raised interest rates by half a point to fight inflation."
    for i in range(4):
        # Same story, different outlets: different enough not to be merged as duplicates.
        write_article(folder, f"rate{i}.md", f"Rates up {i}", f"{text} Outlet note {i}.")
    write_article(folder, "other.md", "Bank and jobs",
                  "Interest rates matter to the jobs market, the labour minister said.")
    ingest([folder], hashing_settings)
    with_mmr = SearchEngine(hashing_settings.model_copy(update={"mmr_lambda": 0.3}))
    docs = with_mmr.search("central bank interest rates", 2)
    assert "Bank and jobs" in titles(docs)


def test_reader_sees_another_writers_articles(corpus: Path, hashing_settings: Settings) -> None:
    ingest([corpus], hashing_settings)
    engine = SearchEngine(hashing_settings)
    assert engine.search("glacier melting record", 3)[0].metadata["title"] != "Glacier"
    extra = corpus.parent / "extra"
    write_article(extra, "glacier.md", "Glacier", "The glacier melting set a record this summer.")
    ingest([extra], hashing_settings)  # as another process would
    engine._checked_at = 0.0  # skip the wait between revision checks
    assert engine.search("glacier melting record", 3)[0].metadata["title"] == "Glacier"


def test_as_of_favours_that_week_and_holds_back_later_news(
    tmp_path: Path, hashing_settings: Settings
) -> None:
    folder = tmp_path / "dated"
    # Undated, the later article matches best and the one from that week least.
    stories = {
        "later": ("2025-06-02", "River flooding: the mayor ordered the bridge evacuation."),
        "old": ("2025-01-06", "River flooding closed the bridge; the mayor spoke."),
        "week": ("2025-03-03", "The river bridge closed after heavy rain in the town."),
    }
    for tag, (day, text) in stories.items():
        write_article(folder, f"{tag}.md", f"Flood {tag}", text, date=day)
    ingest([folder], hashing_settings)
    question = "river flooding bridge evacuation mayor"

    def ranking(as_of: str | None, **update: float) -> list[str]:
        engine = SearchEngine(hashing_settings.model_copy(update=update))
        return titles(engine.search(question, 3, as_of=as_of))

    undated = ranking(None)
    assert undated == ["Flood later", "Flood old", "Flood week"]
    assert ranking("2025-03-05")[0] == "Flood week"  # the article from that week wins
    # Written after the day: never first when future_weight is 0, as undated when it is 1.
    assert ranking("2025-03-05", recency_weight=0.0, future_weight=0.0)[-1] == "Flood later"
    assert ranking("2025-03-05", recency_weight=0.0, future_weight=1.0) == undated
    # A day of slack for time zones: an article dated the day after is not held back.
    assert ranking("2025-06-01", recency_weight=0.0, future_weight=0.0) == undated


def test_article_ranking_alone_brings_in_complete_passages(
    tmp_path: Path, hashing_settings: Settings
) -> None:
    """With the passage lists off, every result comes from the whole-article BM25 list:
    each article's passage closest to the question, fetched whole (text, metadata,
    scores) like any other."""
    folder = tmp_path / "spread"
    filler = "The committee met again on Tuesday and discussed the schedule at length. "
    parts = [f"{filler * 6}The glacier retreat was measured by the survey team. ",
             f"{filler * 6}A volcano nearby showed new activity this month. ",
             f"{filler * 6}Officials also issued a tsunami warning for the coast. "]
    write_article(folder, "report.md", "Annual hazards report", "".join(parts))
    write_article(folder, "brief.md", "Brief", "Volcano news: the volcano story of the day.")
    write_article(folder, "other.md", "Other", "The football club won the cup on Saturday.")
    ingest([folder], hashing_settings)
    only_articles = {"use_dense": False, "use_bm25": False, "use_mmr": True}
    engine = SearchEngine(hashing_settings.model_copy(update=only_articles))
    docs = engine.search("glacier volcano tsunami", 3)
    assert titles(docs)[0] == "Annual hazards report"
    assert "Other" not in titles(docs)  # BM25 gives it nothing
    for doc in docs:
        assert doc.page_content and doc.metadata["article_id"] and doc.metadata["chunk_id"]
        assert doc.metadata["dense_score"] is not None and doc.metadata["bm25_score"] is None
    # Of the report's passages, the one that names a question term was chosen.
    assert any(w in docs[0].page_content for w in ("glacier", "volcano", "tsunami"))


def test_no_filters_need_no_library(
    corpus: Path, hashing_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Checking filters reads every article record (the library: 97k records took 14.6 of
    a cold `rag ask`'s 20 s at 1M passages); a question without filters has nothing to
    check and must not pay for it. Filters are still checked against the library."""
    from rag.core.errors import FilterError

    ingest([corpus], hashing_settings)
    engine = SearchEngine(hashing_settings)
    reads: list[int] = []
    records = engine.index.records
    monkeypatch.setattr(engine.index, "records", lambda: reads.append(1) or records())
    engine.check_filters(Filters())
    assert reads == []
    with pytest.raises(FilterError):
        engine.check_filters(Filters(sources=("nowhere.test",)))
    assert reads == [1]


def test_a_warmed_engine_has_read_the_library(
    corpus: Path, hashing_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The library (every article record) is read by warm-up, not by the first question
    that needs the indexed dates (a date window): 32 s of one question at 1M passages."""
    ingest([corpus], hashing_settings)
    engine = SearchEngine(hashing_settings)
    engine.warm_up()
    reads: list[int] = []
    records = engine.index.records
    monkeypatch.setattr(engine.index, "records", lambda: reads.append(1) or records())
    assert engine.date_range() == ("2025-01-10", "2025-03-05")
    assert reads == []
