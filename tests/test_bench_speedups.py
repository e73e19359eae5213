"""The speed work keeps behaviour: ONNX vectors match torch, overlapped writes stay safe."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import rag.indexing.ingest as ingest_module
from rag.core.errors import RagError
from rag.core.settings import BUNDLED_MODEL, Settings
from rag.indexing.embeddings import OnnxEmbeddings, SentenceTransformerEmbeddings, make_embeddings
from rag.indexing.ingest import ingest
from rag.indexing.store import ArticleIndex
from tests.conftest import write_article

TEXTS = [
    "Russia is withholding S-400 air defence systems from Iran.",
    "The volcano erupted near Grindavik and lava flowed toward the town. " * 12,
    "x",
]


def _many_articles(folder: Path, count: int) -> Path:
    for n in range(count):
        write_article(
            folder, f"a{n:02d}.md", f"Article number {n}",
            f"Topic {n} story. The council of town {n} voted on plan {n * 7}. "
            f"Residents of district {n} asked for road {n * 3} to be rebuilt soon.",
        )
    return folder


def test_backend_setting_picks_the_runtime(tmp_path: Path) -> None:
    torch_model = make_embeddings(Settings(index_dir=tmp_path, embedding_backend="torch"))
    onnx_model = make_embeddings(Settings(index_dir=tmp_path, embedding_backend="onnx"))
    int8 = make_embeddings(Settings(index_dir=tmp_path, embedding_backend="onnx-int8"))
    assert isinstance(torch_model, SentenceTransformerEmbeddings)
    assert isinstance(onnx_model, OnnxEmbeddings) and not onnx_model.quantized
    assert isinstance(int8, OnnxEmbeddings) and int8.quantized
    # Float ONNX is the same model to the index; int8 is kept apart.
    assert onnx_model.model_id == torch_model.model_id == BUNDLED_MODEL
    assert int8.model_id != BUNDLED_MODEL
    # One export cache serves every index (keyed by the weights), unless one is named.
    assert onnx_model.cache_dir == Path.home() / ".cache" / "rag" / "models"
    named = Settings(index_dir=tmp_path, model_cache_dir=tmp_path / "cache")
    assert make_embeddings(named.model_copy(update={"embedding_backend": "onnx"})).cache_dir == (
        tmp_path / "cache"
    )


def test_overlapped_writes_store_every_article_once(
    tmp_path: Path, hashing_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingest_module, "_WRITE_GROUP", 3)  # many groups, many overlaps
    folder = _many_articles(tmp_path / "articles", 20)
    summary = ingest([folder], hashing_settings)
    assert summary.ok and summary.added == 20
    index = ArticleIndex(hashing_settings, make_embeddings(hashing_settings))
    assert index.count_articles() == 20
    assert index.count_passages() == summary.passages_written
    again = ingest([folder], hashing_settings)
    assert again.unchanged == 20 and again.passages_embedded == 0


def test_failed_write_stops_ingest_and_a_rerun_completes(
    tmp_path: Path, hashing_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingest_module, "_WRITE_GROUP", 3)
    folder = _many_articles(tmp_path / "articles", 12)
    real_upsert = ArticleIndex.upsert_passages
    calls = {"n": 0}

    def flaky(self: ArticleIndex, *args: object, **kwargs: object) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disk full")
        real_upsert(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ArticleIndex, "upsert_passages", flaky)
    # The write error reaches the caller (as the RagError that names the fix).
    with pytest.raises((OSError, RagError), match="disk full"):
        ingest([folder], hashing_settings)
    monkeypatch.setattr(ArticleIndex, "upsert_passages", real_upsert)
    index = ArticleIndex(hashing_settings, make_embeddings(hashing_settings))
    written_first = index.count_articles()
    assert 0 < written_first < 12  # the first group made it, the failed one did not
    summary = ingest([folder], hashing_settings)
    assert summary.ok
    assert summary.unchanged == written_first and summary.added == 12 - written_first
    index = ArticleIndex(hashing_settings, make_embeddings(hashing_settings))
    assert index.count_articles() == 12
    assert index.count_passages() == sum(len(r.passage_ids) for r in index.records().values())


def test_repeated_passage_text_is_embedded_once(
    tmp_path: Path, hashing_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rag.indexing.ingest import embedding_text
    from rag.indexing.splitting import count_tokens

    # A: a whole passage on its own. Article two starts with A and goes on with longer
    # sentences, none of which fits beside A, so its first passage is A again; the
    # articles share too little text to be near-duplicates.
    sentences: list[str] = []
    used = 0
    while True:
        sentence = f"The storm closed school {len(sentences)} in the north on Tuesday."
        if used + count_tokens(sentence) > hashing_settings.index.passage_tokens:
            break
        sentences.append(sentence)
        used += count_tokens(sentence)
    shared = " ".join(sentences)
    rest = " ".join(
        f"Officials in district {n} of the eastern province reopened bridge {n} and the "
        "old coastal road by noon on Wednesday after long repairs."
        for n in range(60)
    )
    write_article(tmp_path / "a", "one.md", "Storm", shared)
    write_article(tmp_path / "a", "two.md", "Storm", shared + "\n\n" + rest)
    embeddings = make_embeddings(hashing_settings)
    seen: list[str] = []
    original = embeddings.embed_documents

    def counting(texts: list[str]) -> list[list[float]]:
        seen.extend(texts)
        return original(texts)

    monkeypatch.setattr(embeddings, "embed_documents", counting)
    summary = ingest([tmp_path / "a"], hashing_settings, embeddings=embeddings)
    assert summary.ok and summary.added == 2 and summary.duplicates == 0
    assert seen.count(embedding_text("Storm", shared)) == 1
    assert len(seen) == len(set(seen)) == summary.passages_embedded - 1
    index = ArticleIndex(hashing_settings, embeddings)
    assert index.count_passages() == summary.passages_written


@pytest.mark.integration
def test_onnx_vectors_match_torch_and_int8_stays_close(tmp_path: Path) -> None:
    torch_vectors = np.asarray(SentenceTransformerEmbeddings().encode(TEXTS))
    onnx_model = OnnxEmbeddings(cache_dir=tmp_path)
    onnx_vectors = onnx_model.encode(TEXTS)
    assert onnx_vectors.shape == torch_vectors.shape
    assert np.allclose(np.linalg.norm(onnx_vectors, axis=1), 1.0, atol=1e-5)
    assert (onnx_vectors * torch_vectors).sum(axis=1).min() > 0.9999
    int8_vectors = OnnxEmbeddings(cache_dir=tmp_path, quantized=True).encode(TEXTS)
    assert (int8_vectors * torch_vectors).sum(axis=1).min() > 0.95
    # Same token counting as torch, so passages are split the same way.
    torch_model = SentenceTransformerEmbeddings()
    for text in TEXTS:
        assert onnx_model.count_model_tokens(text) == torch_model.count_model_tokens(text)
    assert onnx_model.max_tokens == torch_model.max_tokens
    assert list(tmp_path.rglob("model.onnx")) and list(tmp_path.rglob("model-int8.onnx"))
    # A second instance loads the cached export (no new file, same vectors).
    again = OnnxEmbeddings(cache_dir=tmp_path).encode(TEXTS)
    assert np.allclose(again, onnx_vectors, atol=1e-6)


@pytest.mark.integration
def test_measured_token_ids_are_reused_and_give_the_same_vectors(tmp_path: Path) -> None:
    model = OnnxEmbeddings(cache_dir=tmp_path, batch_size=2)
    fresh = model.encode(TEXTS)
    long_text = "Lava flowed toward the town of Grindavik overnight. " * 60
    assert model.fits_all([*TEXTS, long_text]) == [True, True, True, False]
    assert model.fits(TEXTS[0]) and not model.fits(long_text)
    # Whole texts are remembered once measured; a truncated one is not.
    assert set(model._measured) == set(TEXTS)
    reused = model.encode(TEXTS)
    assert not model._measured  # each remembered text is used once
    assert np.allclose(reused, fresh, atol=1e-6)
    # A text too long for the model is still embedded, truncated, as before.
    assert model.encode([long_text]).shape == (1, fresh.shape[1])
    assert model.count_model_tokens(long_text) > model.max_tokens
