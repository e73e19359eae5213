"""Versions of a story (issue 14 item 2): a near copy that changes a fact is kept.

Two reports identical but for one fact (a count, a name, a date, a negation) are two
versions: both indexed, linked both ways. Copies that differ only in spacing, bylines,
datelines or footers stay collapsed into one article with ``also_published_at``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.core.settings import Settings
from rag.indexing.dedup import DuplicateFinder, fact_differences, minhash, text_hash
from rag.indexing.ingest import ingest, keyword_dir
from rag.indexing.keyword import KeywordStore
from rag.indexing.store import ArticleIndex

from .conftest import REALTIMEQA, write_article

REPORT = (
    "The Harbour City council approved the new port budget on Monday by a vote of 7 to 2, "
    "after a debate that lasted most of the afternoon.\n\n"
    "Mayor Ana Lopez said the plan would fund forty new pilots and dredge the northern "
    "channel before the winter storms arrive. Critics said the plan raises fees for "
    "small fishing boats and favours the container terminal.\n\n"
    "The council will review the spending again next spring, and the budget takes effect "
    "in July once the port authority publishes its schedule."
)
FACT_CHANGES = {
    "number": ("by a vote of 7 to 2", "by a vote of 6 to 3"),
    "name": ("Mayor Ana Lopez", "Mayor Maria Chen"),
    "date": ("on Monday", "on Tuesday"),
    "negation": ("council approved", "council did not approve"),
}
BOILERPLATE = {
    "byline": lambda t: "By Jane Doe, Associated Press\n\n" + t,
    "dateline": lambda t: "Updated 3:15 p.m. ET, March 4, 2026\n\n" + t,
    "footer": lambda t: t + "\n\nCopyright 2026 The Associated Press. All rights reserved.",
    "spacing": lambda t: t.replace("\n\n", "\n").replace(". ", ".  "),
    "all": lambda t: "By Jane Doe\n\nReuters\n\n" + t + "\n\nContributing: Sam Roe. Follow "
    "him on X.",
}


@pytest.mark.parametrize("kind", sorted(FACT_CHANGES))
def test_one_changed_fact_is_a_version(kind: str) -> None:
    old, new = FACT_CHANGES[kind]
    changed = REPORT.replace(old, new)
    assert kind in fact_differences(REPORT, changed)
    # ...and the two still look like near copies to MinHash, so the check matters.
    finder = DuplicateFinder(0.5)
    finder.add("a", text_hash(REPORT), minhash(REPORT))
    assert finder.find("b", text_hash(changed), minhash(changed)) == "a"


@pytest.mark.parametrize("kind", sorted(BOILERPLATE))
def test_boilerplate_only_is_a_copy(kind: str) -> None:
    assert fact_differences(REPORT, BOILERPLATE[kind](REPORT)) == set()
    assert fact_differences(BOILERPLATE[kind](REPORT), REPORT) == set()


def test_duplicate_finder_removes_in_constant_time_per_article() -> None:
    finder = DuplicateFinder(0.85)
    finder.add("a", text_hash(REPORT), minhash(REPORT))
    finder.remove("a")
    assert finder.find("b", text_hash(REPORT), minhash(REPORT)) is None
    finder.add("a", text_hash(REPORT), minhash(REPORT))
    finder.add("a", text_hash(REPORT), minhash(REPORT))  # re-adding replaces
    assert finder.find("b", text_hash(REPORT), minhash(REPORT)) == "a"


def _ingest_pair(tmp_path: Path, settings: Settings, second: str) -> ArticleIndex:
    folder = tmp_path / "articles"
    write_article(folder, "a.md", "Port budget", REPORT, id="wire-a", url="https://a.test/1",
                  date="2026-03-02")
    write_article(folder, "b.md", "Port budget", second, id="wire-b", url="https://b.test/1",
                  date="2026-03-03")
    summary = ingest([folder], settings)
    assert summary.added == 2 and not summary.problems
    from rag.indexing.embeddings import make_embeddings

    return ArticleIndex(settings, make_embeddings(settings), create=False)


def test_versions_are_both_indexed_and_linked_both_ways(
    tmp_path: Path, hashing_settings: Settings
) -> None:
    changed = REPORT.replace("Mayor Ana Lopez", "Mayor Maria Chen")
    index = _ingest_pair(tmp_path, hashing_settings, changed)
    records = index.records()
    assert records["wire-a"].versions == ["wire-b"]
    assert records["wire-b"].versions == ["wire-a"]
    assert not records["wire-b"].duplicate_of and records["wire-b"].passage_ids
    for article_id, other in (("wire-a", "wire-b"), ("wire-b", "wire-a")):
        got = index.passages.get(where={"article_id": article_id}, include=["metadatas"])
        assert got["ids"]
        assert all(json.loads(m["versions"]) == [other] for m in got["metadatas"])
    # Retrieval finds each version's own fact.
    keyword = KeywordStore(keyword_dir(hashing_settings)).open()
    for name, article_id in (("Maria Chen", "wire-b"), ("Ana Lopez", "wire-a")):
        hits = keyword.passages.search(name, 3)
        assert hits[0].article_id == article_id


def test_boilerplate_copy_stays_collapsed(tmp_path: Path, hashing_settings: Settings) -> None:
    index = _ingest_pair(tmp_path, hashing_settings, BOILERPLATE["all"](REPORT))
    records = index.records()
    assert records["wire-b"].duplicate_of == "wire-a"
    assert records["wire-a"].also_published_at == ["https://b.test/1"]
    assert records["wire-a"].versions == [] and records["wire-b"].versions == []


def test_pruned_version_is_unlinked(tmp_path: Path, hashing_settings: Settings) -> None:
    changed = REPORT.replace("7 to 2", "6 to 3")
    _ingest_pair(tmp_path, hashing_settings, changed)
    (tmp_path / "articles" / "b.md").unlink()
    summary = ingest([tmp_path / "articles"], hashing_settings, prune=True)
    assert summary.removed == 1
    from rag.indexing.embeddings import make_embeddings

    index = ArticleIndex(hashing_settings, make_embeddings(hashing_settings), create=False)
    assert index.records()["wire-a"].versions == []


# Near copies in the RealTime QA corpus (found by evals/dedup_compare.py, read by hand):
# the same text under two URLs, and updates of a story whose counts and dates changed.
REAL_COPIES = [
    ("rtqa-04a9b9447930", "rtqa-0d0b1f448a4c"),
    ("rtqa-48548d5424a1", "rtqa-58bdfdd6f445"),
]
REAL_VERSIONS = [
    ("rtqa-e819964d02c7", "rtqa-4bf3928d04da"),  # "March 6", "March 11" added
    ("rtqa-5d2a057b813d", "rtqa-ed9ea0709054"),  # "3" -> "1", "11:30" -> "2:00"
]


def _corpus(limit: int | None = None) -> dict[str, str]:
    texts = {}
    with open(REALTIMEQA / "corpus.jsonl", encoding="utf-8") as handle:
        for n, line in enumerate(handle):
            if limit is not None and n >= limit:
                break
            row = json.loads(line)
            texts[row["id"]] = row["text"]
    return texts


@pytest.mark.skipif(not (REALTIMEQA / "corpus.jsonl").exists(), reason="no benchmark corpus")
def test_real_copies_and_versions() -> None:
    texts = _corpus()
    for first, second in REAL_COPIES:
        assert fact_differences(texts[first], texts[second]) == set()
    for first, second in REAL_VERSIONS:
        assert fact_differences(texts[first], texts[second]) & {"number", "date"}


@pytest.mark.skipif(not (REALTIMEQA / "corpus.jsonl").exists(), reason="no benchmark corpus")
@pytest.mark.parametrize("kind", ["byline", "dateline", "footer", "all"])
def test_real_articles_syndicated_with_boilerplate_stay_copies(kind: str) -> None:
    texts = list(_corpus(60).values())
    called_versions = [t[:40] for t in texts if fact_differences(t, BOILERPLATE[kind](t))]
    assert called_versions == []


def test_short_fact_change_inside_a_paragraph_is_a_version() -> None:
    changed = REPORT.replace("takes effect in July", "takes effect in June")
    assert "date" in fact_differences(REPORT, changed)


def test_hostile_repetitive_texts_are_compared_quickly() -> None:
    import time

    began = time.perf_counter()
    assert fact_differences("x " * 100_000, "x " * 100_001)  # too long to diff: a version
    line = "Word one two three four five six seven eight nine. "
    assert fact_differences(line * 3000, line * 3001) == set()
    assert time.perf_counter() - began < 30
