"""Issue 15 item 20: a file of very many articles starts writing early, memory flat.

Classification streams into the writes (the first group is written before the last
article is classified) and near-duplicate bookkeeping costs the same per article
however many are stored. Timings live in benchmarks/ingest_scale.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rag.core.settings import Settings
from rag.indexing import ingest as ingest_module
from rag.indexing.dedup import DuplicateFinder, minhash, text_hash
from rag.indexing.store import ArticleIndex


def test_first_write_comes_before_the_last_article_is_classified(
    tmp_path: Path, hashing_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "many.jsonl"
    with open(path, "w", encoding="utf-8") as handle:
        for i in range(300):
            text = " ".join(f"Sentence {i} number {j} about topic {i * 7 + j}." for j in range(40))
            handle.write(json.dumps({"id": f"a{i}", "title": f"T{i}", "text": text}) + "\n")
    classified: list[str] = []
    at_first_write: list[int] = []
    real_classify = ingest_module._Ingestion._classify
    real_upsert = ArticleIndex.upsert_passages

    def classify(self: Any, article: Any) -> Any:
        classified.append(article.id)
        return real_classify(self, article)

    def upsert(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not at_first_write:
            at_first_write.append(len(classified))
        return real_upsert(self, *args, **kwargs)

    monkeypatch.setattr(ingest_module._Ingestion, "_classify", classify)
    monkeypatch.setattr(ArticleIndex, "upsert_passages", upsert)
    seen: list[tuple[int, int]] = []
    summary = ingest_module.ingest(
        [path], hashing_settings, progress=lambda d, t: seen.append((d, t))
    )
    assert summary.added == 300 and not summary.problems
    assert at_first_write and at_first_write[0] < 300
    assert seen[-1][0] == seen[-1][1] == summary.passages_embedded > 0
    assert all(done <= total for done, total in seen)


def test_duplicate_bookkeeping_does_not_grow_with_the_store() -> None:
    finder = DuplicateFinder(0.85)
    texts = [f"article {i} " + " ".join(f"word{i}x{j}" for j in range(30)) for i in range(3000)]
    for i, text in enumerate(texts):
        finder.add(f"a{i}", text_hash(text), minhash(text))
    # Removing and re-adding touches only the article's own entries.
    for i in range(0, 3000, 7):
        finder.remove(f"a{i}")
        assert finder.find("probe", text_hash(texts[i]), minhash(texts[i])) is None
        finder.add(f"a{i}", text_hash(texts[i]), minhash(texts[i]))
        assert finder.find("probe", text_hash(texts[i]), minhash(texts[i])) == f"a{i}"
    assert len(finder._text_of) == len(finder._signatures) == 3000
