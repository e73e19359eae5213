"""Every knob of rag in one pydantic-settings object (env prefix ``RAG_``), in groups.

``Settings`` holds five groups, one per part of the design: ``index`` (where the index lives,
how passages are cut and embedded), ``retrieval``, ``answer``, ``llm`` and ``app`` (uploads,
feedback, conversations, logging). Built at the edges (CLI, UI, eval runner, tests) and
passed down; library code never reads the environment itself, and components take the
group or the values they use.

Names. Each value has a nested name, ``RAG_RETRIEVAL__TOP_K`` or
``Settings(retrieval={"top_k": 3})``, and a flat one, ``RAG_TOP_K`` or ``Settings(top_k=3)``:
the names rag had before the groups, kept working (:data:`FLAT_NAMES`; the old
``chunk_tokens`` / ``chunk_overlap_tokens`` too). When both are set the nested name wins.
``settings.model_copy(update=...)`` takes either and validates the result. ``OPENAI_API_KEY``
is read as well as ``RAG_OPENAI_API_KEY`` (the ``RAG_`` one wins). No ``.env`` file is read
unless one is passed (``Settings(_env_file=".env")``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

BUNDLED_MODEL = "sentence-transformers/all-MiniLM-L6-v2"

_GROUP_CONFIG = ConfigDict(extra="ignore", validate_assignment=True)


class IndexSettings(BaseModel):
    """Where the index lives, how articles become passages and how passages are embedded."""

    model_config = _GROUP_CONFIG

    # --- where things live -------------------------------------------------------
    index_dir: Path = Field(Path("index/chroma"), description="Chroma index folder.")
    articles_dir: Path = Field(Path("index/articles"), description="Bundled corpus folder.")
    collection: str = Field("articles", description="Chroma collection name (3-512 chars).")
    chroma_host: str | None = Field(None, description="Chroma server host; None = embedded.")
    chroma_port: int = Field(8000, ge=1, le=65535)
    chroma_ssl: bool = False
    chroma_headers: dict[str, str] = Field(
        default_factory=dict, description="Extra HTTP headers, e.g. auth tokens."
    )

    # --- passages ---------------------------------------------------------------
    passage_tokens: int = Field(
        180, ge=16, le=2000, description="Passage size, cl100k tokens."
    )
    passage_overlap_tokens: int = Field(30, ge=0, le=1000)
    near_duplicate_threshold: float = Field(0.85, gt=0.0, le=1.0)

    # --- embeddings -------------------------------------------------------------
    embedding_model: str = Field(
        BUNDLED_MODEL, description="Sentence-transformers model name or folder."
    )
    embedding_device: str = "cpu"
    embedding_batch_size: int = Field(16, ge=1, le=4096)
    # torch: sentence-transformers as is. onnx: the same model exported once to ONNX
    # (same vectors, so the same model to the index; no torch import when serving and
    # 2x faster question embedding). onnx-int8: weights quantized to int8, faster still,
    # recorded as its own model so an index never mixes it with float vectors.
    embedding_backend: Literal["torch", "onnx", "onnx-int8"] = "onnx"
    # Where exported ONNX models are cached (made locally from the model's own weights,
    # keyed by them, so one cache serves every index). None = ~/.cache/rag/models.
    model_cache_dir: Path | None = None

    # --- ingest locking ------------------------------------------------------------
    # A second `rag ingest` on the same index waits this long for the first to finish,
    # then stops with a clear message (0 = stop at once). Applies to both modes.
    ingest_lock_wait_s: float = Field(0.0, ge=0.0, le=86_400.0)
    # Server mode: the ingest lock is a lease in Chroma that the holder renews every
    # ttl/3 seconds; a writer that died is presumed gone after this long.
    ingest_lock_ttl_s: float = Field(60.0, ge=1.0, le=86_400.0)

    @property
    def model_cache_path(self) -> Path:
        return self.model_cache_dir or Path.home() / ".cache" / "rag" / "models"

    @field_validator("collection")
    @classmethod
    def _collection_name(cls, value: str) -> str:
        if not 3 <= len(value) <= 512:
            raise ValueError(
                f"collection name {value!r} must be 3-512 characters (a Chroma rule)"
            )
        return value

    @model_validator(mode="after")
    def _overlap_below_size(self) -> IndexSettings:
        if self.passage_overlap_tokens >= self.passage_tokens:
            raise ValueError(
                f"passage_overlap_tokens ({self.passage_overlap_tokens}) must be smaller "
                f"than passage_tokens ({self.passage_tokens}): lower RAG_PASSAGE_OVERLAP_TOKENS "
                "or raise RAG_PASSAGE_TOKENS"
            )
        return self


class RetrievalSettings(BaseModel):
    """How passages are found for a question: the retrievers, fusion, dates."""

    model_config = _GROUP_CONFIG

    # 12 chosen on RealTime QA tune (accuracy 5: 0.361, 8: 0.378, 10: 0.383, 12: 0.394,
    # 16: 0.422, 20: 0.417): the most read whose warm p50 at a million passages stays
    # within 100 ms (12: 88-90 ms, 16: 136 ms); docs/benchmarks.md "Answers, this session
    # (2026-12-08 ...)". In server mode it costs more (p50 110-149 ms at 1M).
    top_k: int = Field(12, ge=1, le=100, description="Passages given to the answerer.")
    fetch_k: int = Field(40, ge=1, le=1000, description="Candidates per retriever.")
    use_dense: bool = True
    use_bm25: bool = True
    use_mmr: bool = True
    rrf_k: int = Field(60, ge=1)
    dense_weight: float = Field(1.0, ge=0.0)
    bm25_weight: float = Field(1.0, ge=0.0)
    mmr_lambda: float = Field(0.9, ge=0.0, le=1.0)
    use_article_bm25: bool = Field(
        True, description="Also rank whole articles by BM25 and lift their passages."
    )
    article_weight: float = Field(1.0, ge=0.0, description="Weight of the article ranking.")
    recency_days: int = Field(
        7, ge=0, le=3650, description="With an as_of date: articles this recent are favoured."
    )
    recency_weight: float = Field(
        0.5, ge=0.0, le=10.0, description="Score boost for recent articles (0 = off)."
    )
    future_weight: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        description="With an as_of date: score factor for articles published after it "
        "(1 = no change, 0 = never retrieved first).",
    )

    # --- the question's date -------------------------------------------------------
    window_mode: Literal["filter", "boost", "off"] = Field(
        "boost",
        description="A question's date window ('this week', 'in March'): favour articles "
        "published in it (boost, window_weight; chosen on RealTime QA tune, where filter "
        "lost recall), keep retrieval to it (filter), or do not read temporal words (off). "
        "'What happened this week?' always keeps to its window.",
    )
    window_weight: float = Field(
        1.0, ge=0.0, le=20.0, description="Boost mode: score factor 1 + this in the window."
    )
    window_answer_share: float = Field(
        0.9, ge=0.0, le=1.0,
        description="Boost mode: answer from the window's articles alone when their best "
        "answer scores at least this share of the best from every date read (grounded "
        "answerer; set before measuring, RealTime QA tune flat over 0-1).",
    )
    latest_days: int = Field(
        14, ge=1, le=3650,
        description="'latest'/'most recent' in a question means this many days back.",
    )


class AnswerSettings(BaseModel):
    """How answers are made from passages, judged, and when rag abstains."""

    model_config = _GROUP_CONFIG

    max_sentences: int = Field(4, ge=1, le=20)
    candidates: int = Field(
        8, ge=1, le=500, description="Sentences the grounded answerer embeds and weighs."
    )
    typed_candidates: int = Field(
        4, ge=0, le=500,
        description="More sentences it weighs for a question wanting a name, place, date "
        "or number: those holding one, even with no word of the question.",
    )
    # Both chosen on the RealTime QA tune part (evals/calibrate_abstention.py, see
    # docs/benchmarks.md "Answers on unseen questions"), within the seed suite's floors;
    # the short-answer cut 0.5 -> 0.7 with spans.MENTION_SHARE ("Voting over mentions").
    # A fitted logistic model in place of the threshold did worse on validation
    # ("Calibrated abstention: tried").
    abstain_threshold: float = Field(0.44, ge=0.0, le=1.0)
    short_answer_confidence: float = Field(
        0.7, ge=0.0, le=1.0,
        description="Open the answer with the voted short answer at this confidence.",
    )
    support_threshold: float = Field(0.5, ge=0.0, le=1.0)
    max_question_chars: int = Field(2000, ge=10)
    staleness_days: int = Field(
        30, ge=0, le=36500,
        description="An answer whose newest source is older than this many days before "
        "the question's date ends with a staleness note (0 = never).",
    )
    # The grounded answerer only ranks a handful of sentences against the question, so it
    # may use a faster runtime than the index ("same" = the index's own model object).
    embedding_backend: Literal["same", "torch", "onnx", "onnx-int8"] = Field(
        "onnx-int8", description="Runtime the grounded answerer scores sentences with."
    )


class LLMSettings(BaseModel):
    """The optional LLM backend (``none`` = the grounded answerer only)."""

    model_config = _GROUP_CONFIG

    backend: Literal["none", "openai", "ollama"] = "none"
    model: str = Field("gpt-4o-mini", description="Model name for the LLM backend.")
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    timeout_s: float = Field(60.0, gt=0)
    openai_base_url: str | None = None
    openai_api_key: SecretStr | None = None
    ollama_base_url: str = "http://127.0.0.1:11434"


class AppSettings(BaseModel):
    """The application around the library: uploads, feedback, conversations, logging."""

    model_config = _GROUP_CONFIG

    upload_max_bytes: int = Field(5_000_000, ge=1)
    feedback_path: Path = Path("feedback/feedback.jsonl")
    conversations_path: Path | None = Field(
        None, description="SQLite file of stored conversations; None = beside the index."
    )
    log_level: str = Field(
        "WARNING", description="Log level for rag and its libraries (DEBUG shows all)."
    )


_GROUPS: dict[str, type[BaseModel]] = {
    "index": IndexSettings,
    "retrieval": RetrievalSettings,
    "answer": AnswerSettings,
    "llm": LLMSettings,
    "app": AppSettings,
}

#: Flat names whose field is named otherwise in its group.
_RENAMED = {
    "llm": ("llm", "backend"),
    "llm_model": ("llm", "model"),
    "llm_temperature": ("llm", "temperature"),
    "llm_timeout_s": ("llm", "timeout_s"),
    "max_answer_sentences": ("answer", "max_sentences"),
    "answer_candidates": ("answer", "candidates"),
    "answer_embedding_backend": ("answer", "embedding_backend"),
    "chunk_tokens": ("index", "passage_tokens"),
    "chunk_overlap_tokens": ("index", "passage_overlap_tokens"),
}


def _flat_names() -> dict[str, tuple[str, str]]:
    names: dict[str, tuple[str, str]] = {}
    renamed = set(_RENAMED.values())
    for group, model in _GROUPS.items():
        for field in model.model_fields:
            if (group, field) not in renamed:
                names[field] = (group, field)
    # passage_* keep their own flat names beside the old chunk_* ones.
    names.update({f: ("index", f) for f in ("passage_tokens", "passage_overlap_tokens")})
    names.update(_RENAMED)
    return names


#: Every flat name (``top_k``, env ``RAG_TOP_K``) and the (group, field) it sets.
FLAT_NAMES: dict[str, tuple[str, str]] = _flat_names()


def flat_name(group: str, field: str) -> str:
    """The flat name of ``group.field`` (``llm.model`` -> ``llm_model``)."""
    for name, target in _RENAMED.items():
        if target == (group, field) and not name.startswith("chunk_"):
            return name
    return field


def route_flat(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with flat names moved into their groups (a flat value overrides the
    same field given nested in the same dict); other keys are left as they are."""
    routed: dict[str, Any] = {}
    flat: list[tuple[str, str, Any]] = []
    for key, value in values.items():
        target = FLAT_NAMES.get(key)
        if target is None or (key in _GROUPS and isinstance(value, dict | BaseModel)):
            routed[key] = value
        else:
            flat.append((*target, value))
    for group, field, value in flat:
        current = routed.get(group)
        if isinstance(current, BaseModel):
            current = current.model_dump()
        routed[group] = {**(current or {}), field: value}
    return routed


class _GroupsNotFlat(EnvSettingsSource):
    """Nested ``RAG_GROUP__FIELD`` variables; a plain ``RAG_LLM=openai`` is the flat name
    of ``llm.backend`` (read by :class:`_FlatEnvSource`), not JSON for the whole group."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        value, key, is_complex = super().get_field_value(field, field_name)
        if isinstance(value, str) and not value.lstrip().startswith("{"):
            value = None
        return value, key, is_complex

    def prepare_field_value(
        self, field_name: str, field: FieldInfo, value: Any, value_is_complex: bool
    ) -> Any:
        try:
            return super().prepare_field_value(field_name, field, value, value_is_complex)
        except ValueError as exc:
            raise SettingsError(
                f"a RAG_{field_name.upper()}__* variable is not readable ({exc}): a mapping "
                "such as RAG_INDEX__CHROMA_HEADERS must be a JSON object, e.g. "
                '\'{"Authorization": "Bearer <token>"}\''
            ) from None


class _NestedDotEnv(_GroupsNotFlat, DotEnvSettingsSource):
    """The ``.env`` file (only when one is passed) with the same reading of ``RAG_LLM``."""


class _FlatEnvSource(PydanticBaseSettingsSource):
    """Flat ``RAG_TOP_K``-style variables (and ``OPENAI_API_KEY``) routed into groups;
    the process environment first, then the ``.env`` file when one is passed."""

    def __init__(self, settings_cls: type[BaseSettings], dotenv: dict[str, str | None]):
        super().__init__(settings_cls)
        self._environ = _lowered(os.environ)
        self._dotenv = _lowered(dotenv)

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, "", False  # __call__ reads every name at once

    def __call__(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for name, (group, field) in FLAT_NAMES.items():
            env = f"rag_{name}"
            raw = self._environ.get(env, self._dotenv.get(env))
            if raw is None and (group, field) == ("llm", "openai_api_key"):
                raw = self._environ.get("openai_api_key", self._dotenv.get("openai_api_key"))
            if raw is not None:
                found.setdefault(group, {})[field] = _decoded(group, field, raw)
        return found


def _lowered(environ: Any) -> dict[str, str]:
    return {k.lower(): v for k, v in environ.items() if v is not None}


def _decoded(group: str, field: str, raw: str) -> Any:
    """JSON for dict-valued fields (``RAG_CHROMA_HEADERS='{...}'``), the string otherwise."""
    annotation = _GROUPS[group].model_fields[field].annotation
    if getattr(annotation, "__origin__", None) is not dict:
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        raise SettingsError(
            f"RAG_{flat_name(group, field).upper()} must be a JSON object, e.g. "
            '\'{"Authorization": "Bearer <token>"}\''
        ) from None


class _RoutedInit(PydanticBaseSettingsSource):
    """Keyword arguments with flat names (``Settings(top_k=3)``) moved into their groups,
    so they merge with the environment group by group."""

    def __init__(self, settings_cls: type[BaseSettings], inner: PydanticBaseSettingsSource):
        super().__init__(settings_cls)
        self._inner = inner

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, "", False

    def __call__(self) -> dict[str, Any]:
        return route_flat(self._inner())


class Settings(BaseSettings):
    """Configuration for indexing, retrieval, answering and serving, in five groups."""

    model_config = SettingsConfigDict(
        env_prefix="RAG_",
        env_nested_delimiter="__",
        env_file=None,
        extra="ignore",
        validate_assignment=True,
    )

    index: IndexSettings = Field(default_factory=IndexSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    answer: AnswerSettings = Field(default_factory=AnswerSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    app: AppSettings = Field(default_factory=AppSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        env_file = getattr(dotenv_settings, "env_file", None)
        encoding = getattr(dotenv_settings, "env_file_encoding", None)
        dotenv = _NestedDotEnv(settings_cls, env_file=env_file, env_file_encoding=encoding)
        return (
            _RoutedInit(settings_cls, init_settings),
            _GroupsNotFlat(settings_cls),
            _FlatEnvSource(settings_cls, dict(getattr(dotenv, "env_vars", {}))),
            dotenv,
            file_secret_settings,
        )

    @model_validator(mode="before")
    @classmethod
    def _flat_names(cls, values: Any) -> Any:
        """``Settings.model_validate({"top_k": 3})`` as well as nested dicts."""
        return route_flat(values) if isinstance(values, dict) else values

    def model_copy(
        self, *, update: Mapping[str, Any] | None = None, deep: bool = False
    ) -> Settings:
        """A copy with ``update`` applied (flat or nested names) and validated."""
        if not update:
            return super().model_copy(deep=deep)
        data = self.model_dump()
        for group, fields in route_flat(dict(update)).items():
            if group in _GROUPS and isinstance(fields, dict):
                data[group] = {**data[group], **fields}
            else:
                data[group] = fields
        return type(self).model_validate(data)

    @property
    def conversations_file(self) -> Path:
        """Where the UI stores conversations: beside the index folder unless set."""
        return self.app.conversations_path or self.index.index_dir.parent / "conversations.sqlite3"
