"""The grounded answerer embeds each sentence on its own (int8 quantises activations per
batch), on parallel threads: a sentence's vector must not depend on the threads, on
the sentences embedded beside it, or on the order they come in."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from rag.answering.grounded import GroundedAnswerer
from rag.indexing.embeddings import HashingEmbeddings, OnnxEmbeddings

SENTENCES = [
    "Although details of the discussion were kept under wraps, escalating Middle Eastern "
    "tensions were reportedly a key point.",
    "Russia's subsequent warnings to Israel against targeting Iranian nuclear sites "
    "underscore the political friction involved.",
    "The meeting also highlighted a broader debate within Iran.",
    "Moscow refrains from delivering high-grade weaponry like Su-35s and S-400s to Iran.",
    "Tehran appears set to maintain a cautious but pragmatic partnership with Moscow.",
    "Hardline lawmakers called for Pezeshkian's impeachment over diplomatic appointments.",
]


class _Recording(HashingEmbeddings):
    """The fake model, noting which threads and batch sizes it was called with."""

    def __init__(self) -> None:
        super().__init__()
        self.threads: set[str] = set()
        self.batches: list[int] = []
        self._lock = threading.Lock()

    def encode(self, texts: list[str], batch_size: int | None = None) -> Any:
        with self._lock:
            self.threads.add(threading.current_thread().name)
            self.batches.append(len(texts))
        return np.asarray(self.embed_documents(texts), dtype=np.float32)


def test_each_sentence_alone_and_in_order() -> None:
    model = _Recording()
    answerer = GroundedAnswerer(model)
    vectors = answerer._embed(SENTENCES)
    assert set(model.batches) == {1} and len(model.batches) == len(SENTENCES)
    expected = np.asarray(model.embed_documents(SENTENCES), dtype=np.float32)
    np.testing.assert_array_equal(np.vstack(vectors), expected)


def test_real_int8_vectors_do_not_depend_on_threads_or_neighbours(tmp_path: Path) -> None:
    model = OnnxEmbeddings(cache_dir=tmp_path, quantized=True)
    alone = np.vstack([model.encode([s], batch_size=1) for s in SENTENCES])
    answerer = GroundedAnswerer(model)
    for _ in range(3):
        np.testing.assert_array_equal(np.vstack(answerer._embed(SENTENCES)), alone)
    backwards = np.vstack(answerer._embed(SENTENCES[::-1]))
    np.testing.assert_array_equal(backwards, alone[::-1])
