"""How the ``rag`` commands start and stop: offline settings in, ``error: ...`` out.

Shared by ``rag`` (rag.app.cli), ``rag eval`` (rag.app.eval_cli) and ``rag bench``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NoReturn

import typer

from rag.core.errors import RagError

if TYPE_CHECKING:
    from rag.core.settings import Settings

#: Exit code for bad input (files, options, settings).
EXIT_BAD_INPUT = 2


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``error: message`` on stderr and exit with ``code``."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def command_settings(**overrides: Any) -> Settings:
    """Offline Settings from the environment and the command's options (None = unset);
    exits with code 2 and the reason when they are invalid."""
    from rag.app.logs import set_log_level
    from rag.core.runtime import go_offline, load_settings

    go_offline()
    try:
        settings = load_settings(**overrides)
    except RagError as exc:
        fail(str(exc), EXIT_BAD_INPUT)
    set_log_level(settings.log_level)
    return settings
