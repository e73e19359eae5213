"""Every knob of rag in one pydantic-settings object (env prefix ``RAG_``).

Built at the edges (CLI, UI, eval runner, tests) and passed down; library code never
reads the environment itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

BUNDLED_MODEL = "sentence-transformers/all-MiniLM-L6-v2"


class Settings(BaseSettings):
    """Configuration for indexing, retrieval, answering and serving."""

    model_config = SettingsConfigDict(
        env_prefix="RAG_", env_file=None, extra="ignore", validate_assignment=True
    )

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

    # --- embeddings -------------------------------------------------------------
    embedding_model: str = Field(
        BUNDLED_MODEL, description="Sentence-transformers model name or folder."
    )
    embedding_device: str = "cpu"
    embedding_batch_size: int = Field(16, ge=1, le=4096)

    # --- passages ---------------------------------------------------------------
    chunk_tokens: int = Field(180, ge=16, le=2000, description="Passage size, cl100k tokens.")
    chunk_overlap_tokens: int = Field(30, ge=0, le=1000)
    near_duplicate_threshold: float = Field(0.85, gt=0.0, le=1.0)

    # --- retrieval --------------------------------------------------------------
    top_k: int = Field(5, ge=1, le=100, description="Passages given to the answerer.")
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
    staleness_days: int = Field(
        30, ge=0, le=36500,
        description="An answer whose newest source is older than this many days before "
        "the question's date ends with a staleness note (0 = never).",
    )
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
    latest_days: int = Field(
        14, ge=1, le=3650,
        description="'latest'/'most recent' in a question means this many days back.",
    )

    # --- answering --------------------------------------------------------------
    llm: Literal["none", "openai", "ollama"] = "none"
    llm_model: str = Field("gpt-4o-mini", description="Model name for the LLM backend.")
    llm_temperature: float = Field(0.0, ge=0.0, le=2.0)
    llm_timeout_s: float = Field(60.0, gt=0)
    openai_base_url: str | None = None
    openai_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("RAG_OPENAI_API_KEY", "OPENAI_API_KEY")
    )
    ollama_base_url: str = "http://127.0.0.1:11434"
    max_answer_sentences: int = Field(4, ge=1, le=20)
    answer_candidates: int = Field(
        8, ge=1, le=500, description="Sentences the grounded answerer embeds and weighs."
    )
    # Both chosen on the RealTime QA tune part (evals/calibrate_abstention.py, see
    # docs/benchmarks.md "Answers on unseen questions"), within the seed suite's floors.
    abstain_threshold: float = Field(0.44, ge=0.0, le=1.0)
    short_answer_confidence: float = Field(
        0.5, ge=0.0, le=1.0,
        description="Open the answer with the voted short answer at this confidence.",
    )
    support_threshold: float = Field(0.5, ge=0.0, le=1.0)
    max_question_chars: int = Field(2000, ge=10)

    # --- UI ---------------------------------------------------------------------
    upload_max_bytes: int = Field(5_000_000, ge=1)
    feedback_path: Path = Path("feedback/feedback.jsonl")
    conversations_path: Path | None = Field(
        None, description="SQLite file of stored conversations; None = beside the index."
    )
    log_level: str = Field(
        "WARNING", description="Log level for rag and its libraries (DEBUG shows all)."
    )

    # --- embedding runtime ---------------------------------------------------------
    # torch: sentence-transformers as is. onnx: the same model exported once to ONNX
    # (same vectors, so the same model to the index; no torch import when serving and
    # 2x faster question embedding). onnx-int8: weights quantized to int8, faster still,
    # recorded as its own model so an index never mixes it with float vectors.
    embedding_backend: Literal["torch", "onnx", "onnx-int8"] = "onnx"
    # The grounded answerer only ranks a handful of sentences against the question, so it
    # may use a faster runtime than the index ("same" = the index's own model object).
    answer_embedding_backend: Literal["same", "torch", "onnx", "onnx-int8"] = Field(
        "onnx-int8", description="Runtime the grounded answerer scores sentences with."
    )
    # Where exported ONNX models are cached (made locally from the model's own weights,
    # keyed by them, so one cache serves every index). None = ~/.cache/rag/models.
    model_cache_dir: Path | None = None

    @property
    def model_cache_path(self) -> Path:
        return self.model_cache_dir or Path.home() / ".cache" / "rag" / "models"

    @property
    def conversations_file(self) -> Path:
        """Where the UI stores conversations: beside the index folder unless set."""
        return self.conversations_path or self.index_dir.parent / "conversations.sqlite3"

    @field_validator("collection")
    @classmethod
    def _collection_name(cls, value: str) -> str:
        if not 3 <= len(value) <= 512:
            raise ValueError(
                f"collection name {value!r} must be 3-512 characters (a Chroma rule)"
            )
        return value

    @model_validator(mode="after")
    def _overlap_below_size(self) -> Settings:
        if self.chunk_overlap_tokens >= self.chunk_tokens:
            raise ValueError(
                f"chunk_overlap_tokens ({self.chunk_overlap_tokens}) must be smaller than "
                f"chunk_tokens ({self.chunk_tokens})"
            )
        return self

    # --- ingest locking ------------------------------------------------------------
    # A second `rag ingest` on the same index waits this long for the first to finish,
    # then stops with a clear message (0 = stop at once). Applies to both modes.
    ingest_lock_wait_s: float = Field(0.0, ge=0.0, le=86_400.0)
    # Server mode: the ingest lock is a lease in Chroma that the holder renews every
    # ttl/3 seconds; a writer that died is presumed gone after this long.
    ingest_lock_ttl_s: float = Field(60.0, ge=1.0, le=86_400.0)
