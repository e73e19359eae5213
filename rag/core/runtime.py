"""What every entry point (CLI, UI, eval, bench) does before building anything.

Go offline (nothing is ever fetched from a model hub at run time) and build ``Settings``
with one readable message when they are invalid. Only entry points call these: library
code reads no environment.
"""

from __future__ import annotations

import os
import time
from collections.abc import MutableMapping
from typing import TYPE_CHECKING, Any

from rag.core.errors import RagError

if TYPE_CHECKING:
    from pydantic import ValidationError

    from rag.core.settings import Settings

#: The environment that keeps Hugging Face libraries and Chroma from reaching the network.
OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "ANONYMIZED_TELEMETRY": "False",
}


class SettingsError(RagError):
    """The RAG_* variables or options do not make valid Settings."""


def go_offline(environ: MutableMapping[str, str] | None = None) -> None:
    """Set :data:`OFFLINE_ENV` in ``environ`` (the process environment by default),
    leaving values the user set alone. Call it before any model loads."""
    target = os.environ if environ is None else environ
    for name, value in OFFLINE_ENV.items():
        target.setdefault(name, value)


def describe_invalid(exc: ValidationError) -> str:
    """``group.field (RAG_NAME): problem; ...`` for every error pydantic found, naming the
    variable that sets the field."""
    from rag.core.settings import flat_name

    parts = []
    for error in exc.errors():
        loc = [str(part) for part in error["loc"]]
        where = ".".join(loc) or "settings"
        if len(loc) == 2:
            where += f" (RAG_{flat_name(*loc).upper()})"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment (RAG_*) with the non-None ``overrides`` applied;
    :class:`SettingsError` naming every bad field and the fix when they are invalid."""
    from pydantic import ValidationError
    from pydantic_settings import SettingsError as UnreadableVariable

    from rag.core.settings import Settings

    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        raise SettingsError(
            f"invalid settings: {describe_invalid(exc)}; fix the RAG_* variables or the "
            "options given"
        ) from None
    except UnreadableVariable as exc:  # the source's own error says which variable
        raise SettingsError(f"invalid settings: {exc.__cause__ or exc}") from None


def elapsed_ms(started: float) -> float:
    """Milliseconds since ``started`` (a ``time.perf_counter()`` reading), to 0.001."""
    return round((time.perf_counter() - started) * 1000, 3)
