"""Exact and near-duplicate detection of articles, and versions of a story.

* Exact copies: the SHA-1 of the normalised words (case, punctuation, spacing ignored).
* Near copies: a 64-value MinHash of word 5-shingles (ours: numpy multiply-shift over
  CRC-32; datasketch's own ``MinHash`` was no better on the benchmark, 298 true pairs
  and 2 false at 128 permutations against our 299 and 1, no faster, and its values
  would not match the signatures stored in existing indexes), banded (16 bands x 4
  rows: pairs above ~0.6 Jaccard meet in a band; the signature similarity then decides
  against the threshold). The band index is ours: datasketch's ``MinHashLSH`` gave the
  same candidates (tests/test_dedup_bands.py) but took 8.6 s to load 97k stored
  articles, which every ingest does at a million passages; ``add_many`` loads them in
  a few numpy passes. Adding, finding and removing an article cost the same however
  many are stored.
* Versions: a near copy whose differing words include a number, a name, a date or a
  negation reports something else: it is a different version of the story, not a copy
  (:func:`fact_differences`). Sentences or lines at the top or bottom that only one copy
  has (bylines, datelines, "Updated 3:15 p.m.", footers) are left out of the comparison,
  unless they are the same long sentence reworded.

See docs/benchmarks.md ("Libraries against our own code") for the comparison.
"""

from __future__ import annotations

import difflib
import hashlib
import re
import zlib
from collections.abc import Iterable

import numpy as np

_PERMUTATIONS = 64
_BANDS = 16
_ROWS = _PERMUTATIONS // _BANDS
_rng = np.random.default_rng(20241011)
# Multiply-shift hashing (wrapping uint64 arithmetic): odd multipliers, random offsets.
_A = _rng.integers(0, 2**63, size=_PERMUTATIONS, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
_B = _rng.integers(0, 2**63, size=_PERMUTATIONS, dtype=np.uint64)
# Odd multipliers that mix a band's 4 values into one 64-bit key (see _band_keys).
_BAND_MIX = _rng.integers(0, 2**63, size=_ROWS, dtype=np.uint64) * np.uint64(2) + np.uint64(1)


def normalise(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def text_hash(text: str) -> str:
    return hashlib.sha1(normalise(text).encode("utf-8")).hexdigest()


def minhash(text: str, shingle: int = 5) -> str:
    """A 64-value MinHash signature of the text's word 5-shingles, as hex."""
    words = normalise(text).split()
    if len(words) < shingle:
        grams = {" ".join(words)}
    else:
        grams = {" ".join(words[i : i + shingle]) for i in range(len(words) - shingle + 1)}
    hashes = np.fromiter((zlib.crc32(g.encode()) for g in grams), dtype=np.uint64)
    with np.errstate(over="ignore"):
        mixed = (_A[:, None] * hashes[None, :] + _B[:, None]) >> np.uint64(32)
    signature = mixed.min(axis=1)
    return signature.astype(">u4").tobytes().hex()


def _values(signature: str) -> np.ndarray:
    return np.frombuffer(bytes.fromhex(signature), dtype=">u4")


def similarity(sig_a: str, sig_b: str) -> float:
    """Estimated Jaccard similarity of two signatures."""
    a, b = _values(sig_a), _values(sig_b)
    if a.shape != b.shape or not len(a):
        return 0.0
    return float(np.mean(a == b))


class DuplicateFinder:
    """Finds, for a new article, an already kept article with the same or near text."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        self._by_text: dict[str, str] = {}
        self._text_of: dict[str, str] = {}
        self._signatures: dict[str, str] = {}
        # Band index: (band, hash of the band's 4 values) -> ids (a str when only one,
        # which most buckets are), and each id's keys for removal.
        self._buckets: dict[int, str | list[str]] = {}
        self._keys: dict[str, tuple[int, ...]] = {}

    def add(self, article_id: str, text_hash_: str, signature: str) -> None:
        self.add_many([(article_id, text_hash_, signature)])

    def add_many(self, rows: Iterable[tuple[str, str, str]]) -> None:
        """Add (article id, text hash, signature) rows; signatures hashed in bulk."""
        banded: list[tuple[str, str]] = []
        for article_id, text_hash_, signature in rows:
            self.remove(article_id)
            self._by_text.setdefault(text_hash_, article_id)
            self._text_of[article_id] = text_hash_
            if len(signature) == _PERMUTATIONS * 8:
                self._signatures[article_id] = signature
                banded.append((article_id, signature))
        if not banded:
            return
        keys = _band_keys([signature for _, signature in banded])
        for (article_id, _), row in zip(banded, keys.tolist(), strict=True):
            self._keys[article_id] = tuple(row)
            for key in row:
                held = self._buckets.get(key)
                if held is None:
                    self._buckets[key] = article_id
                elif isinstance(held, str):
                    self._buckets[key] = [held, article_id]
                else:
                    held.append(article_id)

    def remove(self, article_id: str) -> None:
        text = self._text_of.pop(article_id, None)
        if text is not None and self._by_text.get(text) == article_id:
            del self._by_text[text]
        self._signatures.pop(article_id, None)
        for key in self._keys.pop(article_id, ()):
            held = self._buckets.get(key)
            if held == article_id:
                del self._buckets[key]
            elif isinstance(held, list):
                held.remove(article_id)
                if len(held) == 1:
                    self._buckets[key] = held[0]

    def find(self, article_id: str, text_hash_: str, signature: str) -> str | None:
        exact = self._by_text.get(text_hash_)
        if exact is not None and exact != article_id:
            return exact
        if len(signature) != _PERMUTATIONS * 8:
            return None
        candidates: set[str] = set()
        for key in _band_keys([signature]).tolist()[0]:
            held = self._buckets.get(key)
            if held is not None:
                candidates.update((held,) if isinstance(held, str) else held)
        candidates.discard(article_id)
        best, best_score = None, self.threshold
        for other in sorted(candidates):
            score = similarity(signature, self._signatures[other])
            if score >= best_score:
                best, best_score = other, score
        return best


def _band_keys(signatures: list[str]) -> np.ndarray:
    """(n, 16) keys: each band's 4 values hashed with its band number. Two signatures
    share a key when a band's values are equal (or, rarely, collide: a candidate is
    only counted when its similarity reaches the threshold)."""
    values = np.frombuffer(bytes.fromhex("".join(signatures)), dtype=">u4")
    rows = values.astype(np.uint64).reshape(len(signatures), _BANDS, _ROWS)
    with np.errstate(over="ignore"):
        keys = (rows * _BAND_MIX).sum(axis=2, dtype=np.uint64)
        keys += np.arange(_BANDS, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    return keys >> np.uint64(1)  # non-negative as Python ints


# --- versions of a story -------------------------------------------------------------

_TOKEN = re.compile(r"\w+(?:['’]\w+)*")
_NUMBER_WORDS = frozenset(
    [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
        "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
        "nineteen", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
        "hundred", "thousand", "million", "billion", "trillion", "dozen", "half", "quarter",
        "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth",
        "tenth", "once", "twice",
    ]
)
_DATE_WORDS = frozenset(
    [
        "january", "february", "march", "april", "june", "july", "august", "september", "october",
        "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept",
        "oct", "nov", "dec", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
        "sunday", "today", "yesterday", "tomorrow", "tonight",
    ]
)
_NEGATIONS = frozenset(
    [
        "not", "no", "never", "none", "nobody", "nothing", "neither", "nor", "without", "cannot",
        "nowhere",
    ]
)


def _kind(token: str, sentence_start: bool) -> str | None:
    """'number', 'date', 'negation' or 'name' when the word carries such a fact."""
    lowered = token.lower().replace("’", "'")
    if any(ch.isdigit() for ch in token) or lowered in _NUMBER_WORDS:
        return "number"
    if lowered in _DATE_WORDS or token == "May":
        return "date"
    if lowered in _NEGATIONS or lowered.endswith("n't"):
        return "negation"
    if token[0].isupper() and (not sentence_start or (token.isupper() and len(token) > 1)):
        return "name"
    return None


def _tokens(text: str) -> list[tuple[str, bool]]:
    """(word, first word of a sentence or line) for each word of ``text``."""
    out: list[tuple[str, bool]] = []
    previous_end = 0
    for match in _TOKEN.finditer(text):
        gap = text[previous_end : match.start()]
        out.append((match.group(), not out or bool(re.search(r"[.!?:\n\"“]", gap))))
        previous_end = match.end()
    return out


# An edge sentence differing in both copies is the same sentence reworded (compared) when
# the two are this similar and this long; else it is a byline, dateline or footer.
_PARAGRAPH_SIMILARITY = 0.6
_PARAGRAPH_WORDS = 8
# Bounds that keep the comparison linear on hostile input (long, repetitive texts): more
# pairs of edge sentences than this are not paired; a differing block of more words than
# this is not diffed word by word but taken as a different version (nothing is lost).
_MAX_PAIRINGS = 400
_MAX_BLOCK_WORDS = 3000
_MAX_SENTENCES = 5000


class _Sentence(str):
    """A sentence, knowing whether it stands alone on its line (a byline, a dateline)."""

    alone: bool = False


def _sentences(text: str) -> list[_Sentence]:
    """Sentences (and lines): units that survive re-flowing the text's whitespace."""
    from rag.indexing.splitting import sentence_spans

    out = []
    for a, b in sentence_spans(text):
        sentence = _Sentence(text[a:b])
        line_end = text.find("\n", b)
        sentence.alone = not text[text.rfind("\n", 0, a) + 1 : a].strip() and not text[
            b : len(text) if line_end < 0 else line_end
        ].strip()
        out.append(sentence)
    return out


def _comparable(sentence: _Sentence, words: list[str]) -> bool:
    """Long sentences, and short ones inside a paragraph, are content; a short line of
    its own at the top or bottom (byline, dateline, "Updated 3:15 p.m.") is not."""
    return len(words) <= _MAX_BLOCK_WORDS and (
        len(words) >= _PARAGRAPH_WORDS or not sentence.alone
    )


def _reworded(mine: list[_Sentence], theirs: list[_Sentence]) -> list[tuple[str, str]]:
    """Pairs of edge sentences, one per copy, that are the same sentence reworded."""
    if len(mine) * len(theirs) > _MAX_PAIRINGS:
        return list(zip(mine, theirs, strict=False))  # too many to pair: compare in order
    pairs: list[tuple[str, str]] = []
    for line in mine:
        words = normalise(line).split()
        if len(words) > _MAX_BLOCK_WORDS:
            pairs += [(line, other) for other in theirs[:1]]  # compared, and found long
            continue
        if not _comparable(line, words):
            continue
        best, best_ratio = None, _PARAGRAPH_SIMILARITY
        for other in theirs:
            other_words = normalise(other).split()
            if not _comparable(other, other_words):
                continue
            ratio = difflib.SequenceMatcher(None, words, other_words, autojunk=False).ratio()
            if ratio >= best_ratio:
                best, best_ratio = other, ratio
        if best is not None:
            pairs.append((line, best))
    return pairs


def _word_kinds(old: str, new: str, edge: bool) -> set[str]:
    """Fact kinds among the words two short texts differ in. At an edge of the article,
    words only one side has at its very start or end are left out (a byline merged into
    the first sentence, a footer into the last)."""
    a, b = _tokens(old), _tokens(new)
    if max(len(a), len(b)) > _MAX_BLOCK_WORDS:
        return {"long difference"}
    matcher = difflib.SequenceMatcher(
        None, [t[0].lower() for t in a], [t[0].lower() for t in b], autojunk=False
    )
    kinds: set[str] = set()
    opcodes = matcher.get_opcodes()
    for n, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        if tag == "equal" or (edge and tag != "replace" and n in (0, len(opcodes) - 1)):
            continue
        for word, first in a[i1:i2] + b[j1:j2]:
            kind = _kind(word, first)
            if kind:
                kinds.add(kind)
    return kinds


def fact_differences(old: str, new: str) -> set[str]:
    """Kinds of fact ('number', 'name', 'date', 'negation') in which two near-identical
    texts differ; empty when they differ only in wording, spacing or edge boilerplate.

    Sentences are aligned first (linear for near copies), then only the differing blocks
    are compared word by word. A block of sentences only one copy has at the top or the
    bottom is boilerplate, unless a long sentence in it is a reworded one of the other's.
    """
    sa, sb = _sentences(old), _sentences(new)
    if max(len(sa), len(sb)) > _MAX_SENTENCES:
        return {"long difference"}
    # autojunk: a sentence repeated over and over (hostile input) cannot make this slow.
    matcher = difflib.SequenceMatcher(None, [normalise(x) for x in sa], [normalise(x) for x in sb])
    opcodes = [op for op in matcher.get_opcodes() if op[0] != "equal"]
    kinds: set[str] = set()
    for _, i1, i2, j1, j2 in opcodes:
        at_edge = (i1 == 0 and j1 == 0) or (i2 == len(sa) and j2 == len(sb))
        block_a: list[str] = list(sa[i1:i2])
        block_b: list[str] = list(sb[j1:j2])
        if at_edge:
            pairs = _reworded(sa[i1:i2], sb[j1:j2])
            block_a, block_b = [x for x, _ in pairs], [y for _, y in pairs]
        if block_a or block_b:
            kinds |= _word_kinds("\n".join(block_a), "\n".join(block_b), at_edge)
    return kinds
