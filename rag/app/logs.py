"""Log levels for the programs (UI, CLI): quiet by default, ``RAG_LOG_LEVEL`` opens them.

Some libraries set their own loggers to DEBUG on import (bm25s does); a normal run shows
warnings from our code and nothing else. Called at the edges with the settings' level.
"""

from __future__ import annotations

import logging

#: Libraries whose loggers are set to the chosen level, whatever they set themselves.
NOISY = ("bm25s", "chromadb", "httpx", "sentence_transformers", "onnxruntime", "urllib3")


def set_log_level(level: str) -> None:
    """Route our and the libraries' logs at ``level`` (DEBUG, INFO, WARNING, ERROR)."""
    number = logging.getLevelName(level.upper())
    if not isinstance(number, int):
        number = logging.WARNING
    quiet = max(number, logging.ERROR) if number >= logging.WARNING else number
    for name in NOISY:
        logging.getLogger(name).setLevel(quiet)
    logging.getLogger("rag").setLevel(number)
    root = logging.getLogger()
    if number < logging.WARNING and not root.handlers:
        # Asked for detail: show it (Python's last-resort handler prints warnings only).
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    if number < logging.WARNING:
        root.setLevel(number)
