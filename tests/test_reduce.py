"""`rag reduce`: an index keeps its passage vectors in fewer dimensions.

The projection's algebra (hypothesis), then the command on real Chroma with the weightless
hashing embeddings: every passage kept with text and metadata, search and ingest go on
in the projected space, a reader opened before the reduce follows it, a second reduce is
refused, and each state a kill can leave between the copy and the swap is finished or
undone by the next writer. Answer quality with the real model is measured on RealTime QA
(docs/benchmarks.md), not here.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from rag.core.errors import RagError
from rag.core.runtime import OFFLINE_ENV
from rag.core.settings import Settings
from rag.indexing.embeddings import make_embeddings
from rag.indexing.ingest import ingest
from rag.indexing.projection import Projection, fit, from_records, to_records
from rag.indexing.reduce import REDUCED_SUFFIX, UNREDUCED_SUFFIX, finish_reduce, reduce_index
from rag.indexing.store import ArticleIndex, make_client
from tests.conftest import write_article
from tests.reliability_crash import article_text

DIMS = 16
RAG = Path(sys.executable).parent / "rag"


# --- the projection ------------------------------------------------------------------
@hsettings(max_examples=25, deadline=None)
@given(rows=st.integers(40, 120), width=st.integers(8, 24), seed=st.integers(0, 2**16))
def test_a_fitted_projection_is_orthonormal_and_gives_unit_vectors(
    rows: int, width: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(rows, width)).astype(np.float32)
    dims = max(1, width // 3)
    projection = fit(vectors, dims)
    gram = projection.components.T @ projection.components
    assert np.allclose(gram, np.eye(dims), atol=1e-4)
    out = projection.apply(vectors)
    assert out.shape == (rows, dims)
    assert np.allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-4)
    assert projection.apply(vectors[0]).shape == (dims,)  # one vector in, one out
    assert fit(vectors, dims).fingerprint == projection.fingerprint  # one corpus, one result


@hsettings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**16))
def test_a_projection_survives_its_records_in_any_order(seed: int) -> None:
    rng = np.random.default_rng(seed)
    projection = fit(rng.normal(size=(60, 12)).astype(np.float32), 5)
    records = to_records(projection)
    order = list(range(5))
    random.Random(seed).shuffle(order)
    back = from_records([records["ids"][i] for i in order],
                        [records["embeddings"][i] for i in order])
    assert back.fingerprint == projection.fingerprint


def test_vectors_low_in_rank_keep_their_similarities() -> None:
    """Vectors that live in a few directions lose nothing when those are kept."""
    rng = np.random.default_rng(3)
    basis = np.linalg.qr(rng.normal(size=(32, 6)))[0]
    vectors = (rng.normal(size=(80, 6)) @ basis.T).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    projected = fit(vectors, 6).apply(vectors)
    assert np.allclose(projected @ projected.T, vectors @ vectors.T, atol=1e-4)


@pytest.mark.parametrize(
    ("rows", "dims", "says"),
    [(100, 0, "between 1 and"), (100, 8, "between 1 and"), (10, 4, "too few")],
)
def test_a_projection_that_cannot_be_fitted_says_what_to_do(
    rows: int, dims: int, says: str
) -> None:
    with pytest.raises(ValueError, match=says):
        fit(np.ones((rows, 8), dtype=np.float32), dims)


def test_vectors_of_another_model_are_refused() -> None:
    projection = Projection(np.eye(8, 4, dtype=np.float32))
    with pytest.raises(ValueError, match="index's own model"):
        projection.apply(np.ones(6))


# --- the command on real Chroma ---------------------------------------------------------
def _corpus(folder: Path, count: int = 40, seed: int = 5) -> list[str]:
    rng = random.Random(seed)
    titles = []
    for i in range(count):
        title = f"Report {i} on {' '.join(article_text(rng, 1).split()[:3])}"
        write_article(folder, f"a{i:03d}.md", title, article_text(rng, 14),
                      source=f"outlet{i % 3}.test", date=f"2025-0{1 + i % 9}-1{i % 10}")
        titles.append(title)
    return titles


def _settings(tmp_path: Path) -> Settings:
    return Settings(index_dir=tmp_path / "index", articles_dir=tmp_path / "articles",
                    embedding_model="hashing", passage_tokens=60, passage_overlap_tokens=0,
                    feedback_path=tmp_path / "fb.jsonl")


@pytest.fixture
def built(tmp_path: Path) -> tuple[Settings, list[str]]:
    settings = _settings(tmp_path)
    titles = _corpus(tmp_path / "articles")
    assert ingest([tmp_path / "articles"], settings).ok
    return settings, titles


def _rows(settings: Settings) -> dict[str, tuple[str, str]]:
    index = ArticleIndex(settings, make_embeddings(settings))
    got = index.passages.get(include=["documents", "metadatas"])
    rows = zip(got["ids"], got["documents"], got["metadatas"], strict=True)
    return {i: (d, json.dumps(m, sort_keys=True)) for i, d, m in rows}


def test_reduce_keeps_every_passage_and_searches_in_the_projected_space(
    built: tuple[Settings, list[str]],
) -> None:
    from rag.retrieval.hybrid import SearchEngine

    settings, titles = built
    before = _rows(settings)
    assert len(before) >= 4 * DIMS
    done = reduce_index(settings, make_embeddings(settings), DIMS)
    assert done["passages"] == len(before) and done["dims"] == DIMS
    assert _rows(settings) == before  # ids, texts and metadata unchanged
    embeddings = make_embeddings(settings)
    index = ArticleIndex(settings, embeddings)
    assert index.vector_dims == DIMS
    _, vectors = index.vectors_by_id(list(before)[:5])
    assert vectors.shape == (5, DIMS)
    # Each passage is its own nearest neighbour, asked with the model's vector.
    for passage_id in list(before)[:8]:
        text = before[passage_id][0]
        meta_title = ArticleIndex(settings, embeddings).passages_by_id([passage_id])[0].title
        vector = embeddings.embed_query(f"{meta_title}\n{text}")
        assert index.nearest(vector, 1)[0].id == passage_id
    found = SearchEngine(settings).search(titles[7], k=3)
    assert found[0].metadata["title"] == titles[7]
    # Only live collections keep a vector folder.
    live = set(_segment_ids(settings))
    folders = {p.name for p in Path(settings.index.index_dir).iterdir() if _is_uuid(p.name)}
    assert folders <= live


def test_articles_ingested_after_a_reduce_are_stored_projected_and_found(
    built: tuple[Settings, list[str]], tmp_path: Path,
) -> None:
    from rag.retrieval.hybrid import SearchEngine

    settings, _ = built
    reduce_index(settings, make_embeddings(settings), DIMS)
    new = tmp_path / "new"
    # Words like the corpus's: a projection fitted on hashed syllables keeps their
    # directions (the real model's shared space is measured on RealTime QA instead).
    text = article_text(random.Random(99), 3)
    write_article(new, "geyser.md", "Geyser erupts", text, source="park.test",
                  date="2025-06-01")
    summary = ingest([new], settings)
    assert summary.ok and summary.added == 1
    embeddings = make_embeddings(settings)
    index = ArticleIndex(settings, embeddings)
    rows = {p: stored for p, (stored, _) in _rows(settings).items() if stored in text}
    assert rows
    _, vectors = index.vectors_by_id(list(rows))
    assert vectors.shape == (len(rows), DIMS)
    for passage_id, stored in rows.items():
        vector = embeddings.embed_query(f"Geyser erupts\n{stored}")
        assert index.nearest(vector, 1)[0].id == passage_id
    found = SearchEngine(settings).search("Geyser erupts", k=1)
    assert found[0].metadata["title"] == "Geyser erupts"


def test_a_reader_opened_before_the_reduce_follows_it(
    built: tuple[Settings, list[str]], monkeypatch: pytest.MonkeyPatch,
) -> None:
    import rag.retrieval.hybrid as hybrid
    from rag.retrieval.hybrid import SearchEngine

    settings, titles = built
    reader = SearchEngine(settings)
    assert reader.search(titles[3], k=1)[0].metadata["title"] == titles[3]
    done = subprocess.run([str(RAG), "reduce", "--dims", str(DIMS), "--json"],
                          capture_output=True, text=True, timeout=300,
                          env=_env(settings))
    assert done.returncode == 0, done.stderr
    monkeypatch.setattr(hybrid, "_REVISION_CHECK_S", 0.0)
    assert reader.search(titles[11], k=1)[0].metadata["title"] == titles[11]
    assert reader.index.to_index_space(np.ones(256)).shape == (DIMS,)


def test_a_second_reduce_and_a_bad_dimension_are_refused_with_the_fix(
    built: tuple[Settings, list[str]],
) -> None:
    settings, _ = built
    bad = subprocess.run([str(RAG), "reduce", "--dims", "256"], capture_output=True,
                         text=True, timeout=300, env=_env(settings))
    assert bad.returncode != 0 and "between 1 and 255" in bad.stderr
    assert ArticleIndex(settings, make_embeddings(settings)).projection is None  # untouched
    reduce_index(settings, make_embeddings(settings), DIMS)
    with pytest.raises(RagError, match="build a new index"):
        reduce_index(settings, make_embeddings(settings), DIMS // 2)


@pytest.mark.parametrize("killed_at", ["copied", "aside", "renamed"])
def test_a_reduce_killed_between_its_steps_is_finished_or_undone(
    built: tuple[Settings, list[str]], killed_at: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The three states a kill can leave after the copy: the next writer (here an
    ingest) finishes a swap that had begun and drops a copy that was never swapped."""
    import rag.indexing.reduce as reduce

    settings, titles = built
    before = _rows(settings)
    steps = {"copied": 0, "aside": 1, "renamed": 2}[killed_at]

    def stop_after(client, settings_):  # type: ignore[no-untyped-def]
        live = settings_.index.collection
        moves = [(live, live + UNREDUCED_SUFFIX), (live + REDUCED_SUFFIX, live)]
        for old, new in moves[:steps]:
            client.get_collection(old).modify(name=new)
        raise KeyboardInterrupt  # the kill

    monkeypatch.setattr(reduce, "_swap", stop_after)
    with pytest.raises(KeyboardInterrupt):
        reduce_index(settings, make_embeddings(settings), DIMS)
    monkeypatch.undo()
    finish_reduce(settings)
    index = ArticleIndex(settings, make_embeddings(settings))
    assert index.vector_dims == (256 if killed_at == "copied" else DIMS)
    assert _rows(settings) == before
    client = make_client(settings, create=False)
    names = {c.name for c in client.list_collections()}
    assert not names & {"articles" + REDUCED_SUFFIX, "articles" + UNREDUCED_SUFFIX}
    from rag.retrieval.hybrid import SearchEngine

    assert SearchEngine(settings).search(titles[5], k=1)[0].metadata["title"] == titles[5]


def _env(settings: Settings) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    return {**env, **OFFLINE_ENV, "RAG_INDEX_DIR": str(settings.index.index_dir),
            "RAG_EMBEDDING_MODEL": "hashing", "RAG_PASSAGE_TOKENS": "60",
            "RAG_PASSAGE_OVERLAP_TOKENS": "0"}


def _segment_ids(settings: Settings) -> list[str]:
    import sqlite3

    db = sqlite3.connect(Path(settings.index.index_dir) / "chroma.sqlite3")
    try:
        return [str(r[0]) for r in db.execute("SELECT id FROM segments")]
    finally:
        db.close()


def _is_uuid(name: str) -> bool:
    try:
        return str(uuid.UUID(name)) == name
    except ValueError:
        return False


def test_a_rebuild_of_a_reduced_index_keeps_it_reduced(
    built: tuple[Settings, list[str]], tmp_path: Path,
) -> None:
    """`rag ingest --rebuild` (and `--repair`, which rebuilds) re-embeds everything: the
    index stays reduced, with a projection fitted on the new vectors."""
    settings, titles = built
    reduce_index(settings, make_embeddings(settings), DIMS)
    done = subprocess.run([str(RAG), "ingest", "--rebuild", str(tmp_path / "articles"), "-q"],
                          capture_output=True, text=True, timeout=300, env=_env(settings))
    assert done.returncode == 0, done.stderr
    index = ArticleIndex(settings, make_embeddings(settings))
    assert index.vector_dims == DIMS
    from rag.retrieval.hybrid import SearchEngine

    assert SearchEngine(settings).search(titles[4], k=1)[0].metadata["title"] == titles[4]
    folders = {p.name for p in Path(settings.index.index_dir).iterdir() if _is_uuid(p.name)}
    assert folders <= set(_segment_ids(settings))
