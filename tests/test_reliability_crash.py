"""Crash safety and idempotence of ingestion.

* Every write of an ingest run is a crash point: the run is stopped right before write
  number N (for every N), then the same ingest runs again, and the index must be exactly
  what the corpus says (tests/reliability_crash.py:check_index).
* A few real SIGKILLs of a real `rag ingest` process at random moments (the full 20-trial
  run is the script; its figures are in docs/reliability.md).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from rag.core.settings import Settings
from rag.indexing.ingest import ingest
from rag.indexing.keyword import KeywordStore
from rag.indexing.store import ArticleIndex
from rag.retrieval.hybrid import SearchEngine
from tests import reliability_crash as crash

# Every method through which an ingest writes (Chroma, its change log, the BM25 cache).
WRITES: list[tuple[Any, str]] = [
    (ArticleIndex, "upsert_passages"),
    (ArticleIndex, "update_passage_metadata"),
    (ArticleIndex, "delete_passages"),
    (ArticleIndex, "put_record"),
    (ArticleIndex, "delete_records"),
    (ArticleIndex, "stamp"),
    (ArticleIndex, "log_changes"),
    (KeywordStore, "_write_state"),
]


class Crash(BaseException):
    """Not an Exception: nothing in rag catches it, as nothing survives a SIGKILL."""


@pytest.fixture
def crash_at(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[int], list[str]]]:
    """``crash_at(n)`` arms a crash right before the n-th write; returns the write log."""
    log: list[str] = []
    target = {"n": 0}

    def wrap(owner: Any, name: str) -> None:
        original = getattr(owner, name)

        def counted(*args: Any, **kwargs: Any) -> Any:
            log.append(name)
            if len(log) == target["n"]:
                raise Crash(f"crash before write {target['n']} ({name})")
            return original(*args, **kwargs)

        monkeypatch.setattr(owner, name, counted)

    for owner, name in WRITES:
        wrap(owner, name)

    def arm(n: int) -> list[str]:
        log.clear()
        target["n"] = n
        return log

    yield arm


def change_corpus(corpus: Any) -> None:
    """Edits, additions, a deletion, a new duplicate and the loss of an original."""
    first = sorted(corpus.texts)
    corpus.edit(2)
    corpus.add(2)
    corpus.duplicate(1)
    # Delete an original that has a duplicate: the duplicate must take its place.
    original = next(i for i in first if any(
        j != i and corpus.texts[j] == corpus.texts[i] for j in corpus.texts))
    (corpus.folder / f"{original}.md").unlink()
    del corpus.texts[original]


def test_a_crash_before_any_write_is_repaired_by_the_next_run(
    tmp_path: Path, crash_at: Callable[[int], list[str]]
) -> None:
    base = crash.Corpus(tmp_path / "corpus", random.Random(3))
    base.add(4)
    base.duplicate(2)
    snapshot = {p.name: p.read_text() for p in base.folder.iterdir()}
    texts_v1 = dict(base.texts)
    change_corpus(base)
    texts_v2 = dict(base.texts)
    files_v2 = {p.name: p.read_text() for p in base.folder.iterdir()}

    n = 1
    points: list[str] = []
    while True:
        folder = tmp_path / f"run{n}"
        settings = Settings(index_dir=folder / "index", embedding_model="hashing")
        corpus_dir = folder / "corpus"
        corpus_dir.mkdir(parents=True)
        for name, text in snapshot.items():
            (corpus_dir / name).write_text(text)
        crash_at(0)
        assert ingest([corpus_dir], settings).ok
        assert crash.check_index(settings.index.index_dir, texts_v1) == []
        reader = SearchEngine(settings)
        reader.keyword()

        for name in snapshot:
            (corpus_dir / name).unlink()
        for name, text in files_v2.items():
            (corpus_dir / name).write_text(text)
        log = crash_at(n)
        try:
            ingest([corpus_dir], settings, prune=True)
        except Crash:
            points.append(log[-1])
        else:
            break  # fewer than n writes: every crash point was tried
        crash_at(0)
        # The crashed index still answers, then the same command repairs it.
        assert reader.search("story", 3) is not None
        summary = ingest([corpus_dir], settings, prune=True)
        assert summary.ok, summary.problems
        assert crash.check_index(settings.index.index_dir, texts_v2) == [], f"crash point {n}"
        reader._checked_at = 0.0
        passages = sorted(i for ids, _, _ in reader.index.all_passages() for i in ids)
        held = sorted(reader.keyword().passages.passage_ids())
        assert held == passages, f"reader after crash {n}"
        again = ingest([corpus_dir], settings, prune=True)
        assert again.passages_embedded == 0 and again.added == again.removed == 0
        n += 1
    # The runs crossed every kind of write (so the loop above tested something).
    assert {"upsert_passages", "put_record", "delete_passages", "stamp", "log_changes",
            "_write_state"} <= set(points)
    assert len(points) >= 10


def test_random_sigkills_of_real_ingest_processes(tmp_path: Path) -> None:
    results = crash.trials(articles=30, count=1, seed=11, root=tmp_path, log=False)
    assert results["killed"] == 1
    assert results["failures"] == [] and results["unreadable_after_kill"] == []
