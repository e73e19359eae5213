"""The [n] citation-marker grammar, in one place: find, parse, strip and renumber markers.

A marker is ``[`` numbers ``]`` where numbers are digits separated by commas (spaces
allowed): ``[1]``, ``[1, 3]``; ``[2][4]`` is two markers. Answerers write them, the
support check and the metrics strip them, the UI turns them into links. Every one of
those uses this module, so the grammar cannot drift between them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

#: One marker; group 1 holds its numbers ("1, 3").
MARKER = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
# A marker with the spaces before it, so that stripping leaves "It rose." not "It rose ."
_SPACED_MARKER = re.compile(r"\s*" + MARKER.pattern)
# A "[" at the end of streamed text that may still grow into a marker.
_OPEN_MARKER = re.compile(r"\[[\d,\s]{0,24}$")
#: What a marker naming no passage becomes when renumbered.
INVALID = "[?]"


@dataclass(frozen=True)
class Marker:
    """One marker found in a text: where it is and the numbers it names."""

    start: int
    end: int
    numbers: tuple[int, ...]


def marker(number: int) -> str:
    """The marker for one number: ``[n]``."""
    return f"[{number}]"


def _numbers(body: str) -> tuple[int, ...]:
    return tuple(int(raw) for raw in body.split(","))


def find_markers(text: str) -> Iterator[Marker]:
    """Every marker in ``text``, in order."""
    for match in MARKER.finditer(text):
        yield Marker(match.start(), match.end(), _numbers(match.group(1)))


def cited_numbers(text: str) -> list[int]:
    """The numbers ``text`` cites, each once, in order of first use."""
    return list(dict.fromkeys(n for m in find_markers(text) for n in m.numbers))


def defuse_markers(text: str) -> str:
    """Quoted text whose own "[2]" can never read as a marker: full-width brackets (［2］)."""
    return MARKER.sub(r"［\1］", text)


def strip_citations(text: str) -> str:
    """``text`` without its markers (and the spaces before them), trimmed."""
    return _SPACED_MARKER.sub("", text).strip()


class Renumberer:
    """Rewrites markers in streamed text: passage numbers -> 1..m by first use.

    A marker split across pieces ("[", "2]") is held back until it closes, so the text
    the reader sees while streaming already has the final numbers. A number naming no
    passage becomes :data:`INVALID`.
    """

    def __init__(self, passage_count: int) -> None:
        self.passage_count = passage_count
        self.order: list[int] = []  # passage numbers (1-based) in order of first use
        self.text = ""
        self._pending = ""

    def feed(self, piece: str) -> str:
        """The part of the text so far that is ready to show, renumbered."""
        self._pending += piece
        held = _OPEN_MARKER.search(self._pending)
        ready, self._pending = (
            (self._pending[: held.start()], self._pending[held.start() :])
            if held
            else (self._pending, "")
        )
        return self._emit(ready)

    def flush(self) -> str:
        """Whatever was held back, at the end of the stream."""
        ready, self._pending = self._pending, ""
        return self._emit(ready)

    def _emit(self, text: str) -> str:
        out = MARKER.sub(self._replace, text)
        self.text += out
        return out

    def _replace(self, match: re.Match[str]) -> str:
        rendered = []
        for number in _numbers(match.group(1)):
            if not 1 <= number <= self.passage_count:
                rendered.append(INVALID)
                continue
            if number not in self.order:
                self.order.append(number)
            rendered.append(marker(self.order.index(number) + 1))
        return "".join(rendered)
