"""rag: conversational question answering over news articles, every sentence cited.

Public API (imported lazily so that ``import rag`` stays light and never loads torch)::

    from rag import Settings, ingest, build_chain, build_retriever, Answer
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "Settings": "rag.settings",
    "ingest": "rag.ingest",
    "build_chain": "rag.chain",
    "build_retriever": "rag.retrieval",
    "Answer": "rag.schema",
    "Citation": "rag.schema",
    "IngestSummary": "rag.schema",
    "RagError": "rag.errors",
}

__all__ = [  # noqa: RUF022 - grouped by role, not alphabetically
    "Settings", "ingest", "build_chain", "build_retriever",
    "Answer", "Citation", "IngestSummary", "RagError",
]

if TYPE_CHECKING:
    from rag.chain import build_chain
    from rag.errors import RagError
    from rag.ingest import ingest
    from rag.retrieval import build_retriever
    from rag.schema import Answer, Citation, IngestSummary
    from rag.settings import Settings


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'rag' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value
