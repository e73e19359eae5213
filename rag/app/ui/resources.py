"""What the page loads once per process (model, index, chains) or caches briefly (stats).

Every cached function takes the settings' JSON as ``key`` so a change of RAG_* settings
opens a fresh engine; ``reopen_index`` drops the index handles after an upload.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from rag.answering.chain import RagChain, build_chain
from rag.app.stats import index_stats
from rag.app.ui_render import escape_markdown
from rag.core.runtime import SettingsError, load_settings
from rag.core.settings import Settings
from rag.indexing.embeddings import PassageEmbeddings, make_embeddings
from rag.indexing.store import ArticleIndex
from rag.retrieval.hybrid import SearchEngine


@st.cache_resource(show_spinner="Loading the embedding model…")
def embeddings(key: str, _settings: Settings) -> PassageEmbeddings:
    return make_embeddings(_settings)


@st.cache_resource(show_spinner="Opening the index…")
def engine(key: str, _settings: Settings) -> SearchEngine:
    opened = SearchEngine(_settings, embeddings(key, _settings))
    opened.warm_up()
    return opened


@st.cache_resource(show_spinner=False)
def chain(key: str, answerer: str, _settings: Settings) -> RagChain:
    settings = _settings if answerer == "llm" else _settings.model_copy(update={"llm": "none"})
    built = build_chain(settings, engine=engine(key, _settings))
    built.warm_up()
    return built


@st.cache_data(show_spinner=False, max_entries=8, ttl=60)
def stats(key: str, revision: str, _settings: Settings, _engine: SearchEngine) -> dict[str, Any]:
    store = _engine.index  # the engine's open Chroma index, when that is its store
    return index_stats(_settings, index=store if isinstance(store, ArticleIndex) else None)


@st.cache_data(show_spinner=False, max_entries=256)
def article_text(key: str, revision: str, article_id: str, _engine: SearchEngine) -> str:
    return _engine.index.article_text(article_id) or ""


def reopen_index() -> None:
    """Reopen the index (the model stays loaded): an open handle keeps the revision it
    was opened at, so stats and the keyword index would lag behind an ingest."""
    engine.clear()
    chain.clear()
    stats.clear()
    article_text.clear()


def settings() -> Settings:
    """The settings from RAG_*; an invalid value stops the page with the fix."""
    try:
        return load_settings()
    except SettingsError as exc:
        st.error(escape_markdown(str(exc)))
        st.stop()
        raise
