"""Ingestion into real Chroma on disk: idempotent, replacing, pruning, deduplicating."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.app.stats import index_stats
from rag.core.errors import IndexLockedError, ModelMismatchError
from rag.core.settings import Settings
from rag.indexing.embeddings import make_embeddings
from rag.indexing.ingest import ingest, ingest_lock, keyword_dir
from rag.indexing.keyword import KeywordStore
from rag.indexing.store import ArticleIndex

from .conftest import write_article


def open_index(settings: Settings) -> ArticleIndex:
    return ArticleIndex(settings, make_embeddings(settings))


def passage_ids(settings: Settings) -> list[str]:
    index = open_index(settings)
    return sorted(i for ids, _, _ in index.all_passages() for i in ids)


def test_first_run_then_nothing_to_do(corpus: Path, hashing_settings: Settings) -> None:
    first = ingest([corpus], hashing_settings)
    assert (first.added, first.updated, first.unchanged) == (3, 0, 0)
    assert first.passages_embedded == first.passages_written > 0
    before = passage_ids(hashing_settings)

    again = ingest([corpus], hashing_settings)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 3)
    assert again.passages_embedded == 0 and again.passages_written == 0
    assert passage_ids(hashing_settings) == before


def test_changed_article_replaces_its_passages(corpus: Path, hashing_settings: Settings) -> None:
    ingest([corpus], hashing_settings)
    write_article(
        corpus, "budget.md", "Parliament passes budget",
        "The parliament rejected the budget. A new vote is planned for May.",
        source="news.test", date="2025-02-20", url="https://news.test/budget",
    )
    summary = ingest([corpus], hashing_settings)
    assert (summary.added, summary.updated, summary.unchanged) == (0, 1, 2)
    index = open_index(hashing_settings)
    texts = [d for _, _, docs in index.all_passages() for d in docs]
    assert any("rejected the budget" in t for t in texts)
    assert not any("301 to 250" in t for t in texts)
    # The keyword side follows the dense side.
    keyword = KeywordStore(keyword_dir(hashing_settings)).open().passages
    assert sorted(keyword.passage_ids()) == passage_ids(hashing_settings)


def test_prune_removes_articles_whose_files_are_gone(
    corpus: Path, hashing_settings: Settings
) -> None:
    ingest([corpus], hashing_settings)
    (corpus / "football.md").unlink()
    kept = ingest([corpus], hashing_settings)
    assert kept.removed == 0  # without --prune nothing is removed
    pruned = ingest([corpus], hashing_settings, prune=True)
    assert pruned.removed == 1
    stats = index_stats(hashing_settings)
    assert stats["articles"] == 2
    assert not any("football" in t for _, _, d in open_index(hashing_settings).all_passages()
                   for t in d)


def test_jsonl_line_removed_is_pruned(tmp_path: Path, hashing_settings: Settings) -> None:
    path = tmp_path / "c.jsonl"
    rows = [{"id": f"a{i}", "title": f"T{i}", "text": f"Story number {i} about topic {i}."}
            for i in range(3)]
    path.write_text("\n".join(json.dumps(r) for r in rows))
    ingest([path], hashing_settings)
    path.write_text("\n".join(json.dumps(r) for r in rows[:2]))
    summary = ingest([path], hashing_settings, prune=True)
    assert summary.removed == 1 and summary.unchanged == 2


def test_duplicates_are_stored_once_with_other_urls(
    tmp_path: Path, hashing_settings: Settings
) -> None:
    body = (
        "Storms battered the coast on Tuesday, cutting power to thousands of homes. "
        "Emergency crews worked through the night to clear fallen trees from roads. "
        "The weather service said more rain is expected later in the week across the region. "
        "Schools in three districts stayed closed, and the regional rail operator cancelled "
        "dozens of trains after a landslide blocked the main line north of the harbour. "
        "Insurers said it was too early to estimate the damage, but farmers reported "
        "flooded fields and drowned livestock in the lowlands. The mayor asked residents "
        "to avoid unnecessary travel and to check on elderly neighbours."
    )
    folder = tmp_path / "wire"
    write_article(folder, "a.md", "Storms hit coast", body, url="https://one.test/storm")
    write_article(folder, "b.md", "Storms hit coast", body, url="https://two.test/storm")
    write_article(
        folder, "c.md", "Storms hit the coast",
        body.replace("Tuesday", "Tuesday night") + " Reporting by the wire service.",
        url="https://three.test/storm",
    )
    summary = ingest([folder], hashing_settings)
    assert summary.duplicates == 2
    stats = index_stats(hashing_settings)
    assert stats["articles"] == 1 and stats["duplicates"] == 2
    index = open_index(hashing_settings)
    metas = [m for _, ms, _ in index.all_passages() for m in ms]
    also = json.loads(metas[0]["also_published_at"])
    assert sorted(also) == ["https://three.test/storm", "https://two.test/storm"]
    # Re-running changes nothing; pruning a duplicate's file drops its URL.
    again = ingest([folder], hashing_settings)
    assert again.unchanged == 3 and again.passages_embedded == 0
    (folder / "b.md").unlink()
    ingest([folder], hashing_settings, prune=True)
    metas = [m for _, ms, _ in open_index(hashing_settings).all_passages() for m in ms]
    assert json.loads(metas[0]["also_published_at"]) == ["https://three.test/storm"]


def test_bad_input_skips_but_keeps_everything_indexed(
    corpus: Path, tmp_path: Path, hashing_settings: Settings
) -> None:
    ingest([corpus], hashing_settings)
    before = passage_ids(hashing_settings)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "empty.md").write_text("")
    (bad / "bin.txt").write_bytes(b"\x00\x01\x02")
    write_article(bad, "good.md", "A good one", "This article is fine and has text.")
    summary = ingest([bad, corpus, tmp_path / "missing"], hashing_settings)
    assert len(summary.problems) == 3
    assert summary.added == 1 and summary.unchanged == 3
    after = passage_ids(hashing_settings)
    assert set(before) < set(after) and len(after) == len(set(after))


def test_empty_corpus_is_a_problem(tmp_path: Path, hashing_settings: Settings) -> None:
    empty = tmp_path / "nothing"
    empty.mkdir()
    summary = ingest([empty], hashing_settings)
    assert summary.problems and not summary.ok


def test_other_model_is_refused(corpus: Path, hashing_settings: Settings) -> None:
    ingest([corpus], hashing_settings)
    other = hashing_settings.model_copy(update={"embedding_model": "hashing:64"})
    with pytest.raises(ModelMismatchError, match="rebuild"):
        ingest([corpus], other)
    # --rebuild re-embeds everything with the new model.
    summary = ingest([corpus], other, rebuild=True)
    assert summary.added == 3
    assert index_stats(other)["model"] == "hashing:64"


def test_mismatch_message_names_the_fix_for_each_kind_of_model_id() -> None:
    from rag.indexing.embeddings import EXPORT_VERSION
    from rag.indexing.store import mismatch_fix

    base = "sentence-transformers/all-MiniLM-L6-v2"
    current_int8 = f"{base}+int8.v{EXPORT_VERSION}"
    assert "RAG_EMBEDDING_MODEL=hashing:64" in mismatch_fix("hashing:64", base)
    # An int8 index opened with float settings: the backend is the switch, not the model.
    fix = mismatch_fix(current_int8, base)
    assert "RAG_EMBEDDING_BACKEND=onnx-int8" in fix and "RAG_EMBEDDING_MODEL" not in fix
    # An older int8 export cannot be made again: rebuilding is the only way.
    old = mismatch_fix(f"{base}+int8", current_int8)
    assert "--rebuild" in old and "earlier int8 export" in old and "RAG_" not in old


def test_second_writer_is_stopped(corpus: Path, hashing_settings: Settings) -> None:
    with ingest_lock(hashing_settings), pytest.raises(IndexLockedError, match="wait"):
        ingest([corpus], hashing_settings)


def test_stats_keys(corpus: Path, hashing_settings: Settings) -> None:
    ingest([corpus], hashing_settings)
    stats = index_stats(hashing_settings)
    for key in ("articles", "passages", "sources", "date_min", "date_max", "model", "bytes"):
        assert key in stats
    assert stats["articles"] == 3
    assert stats["sources"] == {"example.com": 2, "news.test": 1}
    assert (stats["date_min"], stats["date_max"]) == ("2025-01-10", "2025-03-05")
    assert stats["bytes"] > 0
