"""How the ``rag`` commands start and stop: offline settings in, ``error: ...`` out.

Shared by ``rag`` (rag.app.cli), ``rag eval`` (rag.app.eval_cli) and ``rag bench``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn

import typer

from rag.core.errors import RagError

if TYPE_CHECKING:
    from rag.core.settings import Settings

#: Exit code for bad input (files, options, settings).
EXIT_BAD_INPUT = 2

#: Called as progress(done, total).
Progress = Callable[[int, int], None]


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``error: message`` on stderr and exit with ``code``."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@contextmanager
def progress_bar(unit: str, desc: str, quiet: bool = False) -> Iterator[Progress]:
    """A ``progress(done, total)`` callback that draws a tqdm bar on stderr once there is
    something to count (never when ``quiet``); the bar is closed on leaving."""
    bar: Any = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if quiet or total == 0:
            return
        if bar is None:
            from tqdm import tqdm

            bar = tqdm(total=total, unit=unit, desc=desc, file=sys.stderr)
        if total != bar.total:  # ingest's total is an estimate until all are classified
            bar.total = total
        bar.update(done - bar.n)

    try:
        yield progress
    finally:
        if bar is not None:
            bar.close()


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
    set_log_level(settings.app.log_level)
    return settings
