"""rag: conversational question answering over news articles, every sentence cited.

Public API (imported lazily so that ``import rag`` stays light and never loads torch)::

    from rag import Settings, ingest, build_chain, build_retriever, Answer
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rag.core.lazy import lazy_exports

__version__ = "0.1.0"

_EXPORTS = {
    "Settings": "rag.core.settings",
    "ingest": "rag.indexing.ingest",
    "build_chain": "rag.answering.chain",
    "build_retriever": "rag.retrieval.hybrid",
    "build_timeline": "rag.answering.timeline",
    "Timeline": "rag.answering.timeline",
    "Answer": "rag.core.schema",
    "Citation": "rag.core.schema",
    "IngestSummary": "rag.core.schema",
    "RagError": "rag.core.errors",
}

__all__ = [  # noqa: RUF022 - grouped by role, not alphabetically
    "Settings", "ingest", "build_chain", "build_retriever", "build_timeline", "Timeline",
    "Answer", "Citation", "IngestSummary", "RagError",
]

if TYPE_CHECKING:
    from rag.answering.chain import build_chain
    from rag.answering.timeline import Timeline, build_timeline
    from rag.core.errors import RagError
    from rag.core.schema import Answer, Citation, IngestSummary
    from rag.core.settings import Settings
    from rag.indexing.ingest import ingest
    from rag.retrieval.hybrid import build_retriever


__getattr__ = lazy_exports(__name__, _EXPORTS)
