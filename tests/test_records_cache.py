"""Article records kept on this machine, brought up to date from the change log (issue 17).

Reading every record from Chroma took ~14 s at a million passages, in every ingest and
in the first filtered question after each ingest. ``ArticleIndex.records`` now reads
the records of the articles logged since its cached position only, and must always
equal a full read from Chroma, whatever happened in between: adds, edits, removals,
duplicates (which rewrite the original's links), moved files, rebuilds, a run killed
after logging, a damaged cache file.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from rag.core.settings import Settings
from rag.indexing.embeddings import make_embeddings
from rag.indexing.ingest import ingest
from rag.indexing.records import RecordCache
from rag.indexing.store import ArticleIndex, StoredArticle, record_from, records_cache_path

from .conftest import write_article

WORDS = ["harbour", "council", "budget", "pilots", "channel", "storms", "fees", "boats",
         "terminal", "spring", "port", "schedule", "mayor", "debate", "vote", "fishing",
         "container", "winter", "northern", "review"]


def _text(seed: int) -> str:
    rng = random.Random(seed)
    return " ".join(
        " ".join(rng.choice(WORDS) for _ in range(14)).capitalize() + "." for _ in range(6)
    )


def write(folder: Path, name: str, title: str, text: str, **meta: str) -> Path:
    """An article whose id is its file name (``a3.md`` is ``a3``)."""
    return write_article(folder, name, title, text, id=name.removesuffix(".md"), **meta)


def _index(settings: Settings) -> ArticleIndex:
    return ArticleIndex(settings, make_embeddings(settings), create=False)


def _full_read(index: ArticleIndex) -> dict[str, StoredArticle]:
    got = index.articles.get(include=["metadatas"])
    return {i: record_from(i, m or {}) for i, m in zip(got["ids"], got["metadatas"],
                                                       strict=True)}


class _Counting:
    """Wraps the article collection and counts the records each ``get`` returns."""

    def __init__(self, collection: Any) -> None:
        self.collection, self.read = collection, 0

    def get(self, *args: Any, **kwargs: Any) -> Any:
        got = self.collection.get(*args, **kwargs)
        self.read += len(got["ids"])
        return got

    def __getattr__(self, name: str) -> Any:
        return getattr(self.collection, name)


def _counted(settings: Settings) -> tuple[ArticleIndex, _Counting]:
    index = _index(settings)
    counting = _Counting(index.articles)
    index.articles = counting
    return index, counting


def test_records_after_an_ingest_read_only_what_it_changed(
    hashing_settings: Settings, tmp_path: Path
) -> None:
    folder = tmp_path / "articles"
    for n in range(12):
        write(folder, f"a{n}.md", f"Story {n}", _text(n), source=f"s{n % 3}.test",
                      date=f"2025-01-{n + 1:02d}")
    assert ingest([folder], hashing_settings).ok
    first, counting = _counted(hashing_settings)
    assert first.records() == _full_read(first)
    assert records_cache_path(hashing_settings).is_file()
    # Nothing changed since: the cache answers without reading a record from Chroma.
    again, counting = _counted(hashing_settings)
    assert again.records() == _full_read(again)
    assert counting.read == 12  # the full read of the check only
    write(folder, "a3.md", "Story 3, updated", _text(103), source="s0.test")
    write(folder, "new.md", "A new story", _text(200), source="s9.test")
    (folder / "a5.md").unlink()
    assert ingest([folder], hashing_settings, prune=True).ok
    later, counting = _counted(hashing_settings)
    records = later.records()
    assert counting.read <= 3  # a3, new and (gone) a5: not the other ten
    assert records == _full_read(later)
    assert records["a3"].title == "Story 3, updated" and "a5" not in records


def test_duplicate_links_and_moved_files_reach_the_cache(
    hashing_settings: Settings, tmp_path: Path
) -> None:
    folder = tmp_path / "articles"
    write(folder, "orig.md", "Original", _text(1), source="a.test",
                  url="https://a.test/1")
    assert ingest([folder], hashing_settings).ok
    _index(hashing_settings).records()  # cached
    # A copy from another outlet: stored once, the original's record gains its links.
    write(folder, "copy.md", "Copy", _text(1), source="b.test", url="https://b.test/1")
    assert ingest([folder], hashing_settings).ok
    index = _index(hashing_settings)
    records = index.records()
    assert records == _full_read(index)
    assert records["orig"].duplicate_ids == ["copy"]
    # The file moves: only the record's origin changes.
    moved = tmp_path / "moved"
    shutil.move(str(folder), str(moved))
    assert ingest([moved], hashing_settings).ok
    index = _index(hashing_settings)
    assert index.records() == _full_read(index)
    assert index.records()["orig"].origin.startswith(str(moved))


def test_a_rebuild_a_killed_run_and_a_damaged_cache_are_read_right(
    hashing_settings: Settings, tmp_path: Path
) -> None:
    folder = tmp_path / "articles"
    for n in range(4):
        write(folder, f"a{n}.md", f"Story {n}", _text(n))
    assert ingest([folder], hashing_settings).ok
    _index(hashing_settings).records()
    # A rebuild is a new generation: the cache of the old one is not used.
    (folder / "a0.md").unlink()
    assert ingest([folder], hashing_settings, rebuild=True).ok
    index = _index(hashing_settings)
    assert set(index.records()) == {"a1", "a2", "a3"} == set(_full_read(index))
    # A run killed after logging and writing a record, before committing the log.
    killed = index.records()["a1"]
    index.log_changes(["a1"])
    index.put_record(StoredArticle(**{**killed.__dict__, "title": "half-written"}), "text")
    assert index.records()["a1"].title == "half-written"
    assert _index(hashing_settings).records()["a1"].title == "half-written"
    # A damaged cache file is read around, not trusted.
    records_cache_path(hashing_settings).write_bytes(b"\x00 not a database " * 50)
    index = _index(hashing_settings)
    assert index.records() == _full_read(index)


@hsettings(max_examples=6, deadline=None,
           suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["add", "edit", "remove", "copy"]),
                          st.integers(0, 5)), min_size=1, max_size=6))
def test_any_sequence_of_ingests_keeps_the_cache_equal_to_chroma(
    tmp_path_factory: Any, steps: list[tuple[str, int]]
) -> None:
    root = tmp_path_factory.mktemp("seq")
    settings = Settings(index_dir=root / "index", embedding_model="hashing",
                        articles_dir=root / "articles", feedback_path=root / "fb.jsonl")
    folder = root / "articles"
    write(folder, "base.md", "Base", _text(999))
    assert ingest([folder], settings).ok
    for version, (op, n) in enumerate(steps):
        _change(folder, op, n, version)
        assert ingest([folder], settings, prune=True).ok
        index = _index(settings)
        assert index.records() == _full_read(index), (op, n)


def _change(folder: Path, op: str, n: int, version: int, dated: bool = False) -> None:
    """One step of a generated history: add, edit, remove or copy article ``x<n>``."""
    if op == "remove":
        (folder / f"x{n}.md").unlink(missing_ok=True)
    elif op == "copy":
        write(folder, f"x{n}.md", f"Copy {n}", _text(999), source=f"o{n}.test")
    else:
        meta = ({"source": f"s{version}.test", "date": f"2025-03-{version + 1:02d}"}
                if dated else {})
        write(folder, f"x{n}.md", f"T {n} v{version}", _text(n * 10 + version), **meta)


def _record(article_id: str, title: str) -> StoredArticle:
    return StoredArticle(article_id, title, "s", "2025-01-01", "", "", "c", "t", "m",
                         ["p1"], "", [], [], [])


def test_the_copy_never_moves_back_nor_mixes_generations(tmp_path: Path) -> None:
    cache = RecordCache(tmp_path / "records.sqlite3")
    assert cache.read("g1") is None
    cache.write("g1", 5, {"a": _record("a", "new")}, whole=True)
    cache.write("g1", 3, {"a": _record("a", "old")})  # a slower process, behind
    assert cache.read("g1") == (5, {"a": _record("a", "new")})
    cache.write("g1", 7, {"b": _record("b", "b"), "a": None})
    assert cache.read("g1") == (7, {"b": _record("b", "b")})
    cache.write("g2", 1, {"c": _record("c", "c")})  # part of another generation: ignored
    assert cache.read("g2") is None and cache.read("g1") is not None
    cache.write("g2", 1, {"c": _record("c", "c")}, whole=True)
    assert cache.read("g1") is None and cache.read("g2") == (1, {"c": _record("c", "c")})


def _facts(records: dict[str, StoredArticle]) -> list[tuple[str, str, str]]:
    return sorted((r.id, r.source, r.date) for r in records.values())


@hsettings(max_examples=8, deadline=None,
           suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["add", "edit", "remove", "copy"]),
                          st.integers(0, 4), st.booleans()), min_size=1, max_size=5))
def test_the_library_facts_follow_every_ingest_without_decoding_the_records(
    tmp_path_factory: Any, steps: list[tuple[str, int, bool]]
) -> None:
    """A reader's library reads (id, source, date) from the copy, brought up to date by
    the changed articles only; it must equal a full read whether or not ``records()``
    ran first, and with no copy at all."""
    root = tmp_path_factory.mktemp("facts")
    settings = Settings(index_dir=root / "index", embedding_model="hashing",
                        articles_dir=root / "articles", feedback_path=root / "fb.jsonl")
    folder = root / "articles"
    write(folder, "base.md", "Base", _text(999), source="base.test", date="2025-02-01")
    assert ingest([folder], settings).ok
    for version, (op, n, records_first) in enumerate(steps):
        _change(folder, op, n, version, dated=True)
        assert ingest([folder], settings, prune=True).ok
        index, counting = _counted(settings)
        if records_first:
            index.records()
        expected = _facts(_full_read(index))
        counting.read = 0
        assert sorted(index.record_facts()) == expected, (op, n)
        assert counting.read <= 2  # the changed articles, never all of them
    records_cache_path(settings).unlink()
    index = _index(settings)
    assert sorted(index.record_facts()) == _facts(_full_read(index))
