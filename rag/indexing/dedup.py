"""Exact and near-duplicate detection of articles (MinHash over word 5-shingles + LSH)."""

from __future__ import annotations

import hashlib
import re
import zlib
from collections import defaultdict

import numpy as np

_PERMUTATIONS = 64
_BANDS = 16  # 16 bands x 4 rows: pairs above ~0.6 Jaccard almost always meet in a band
_ROWS = _PERMUTATIONS // _BANDS
_rng = np.random.default_rng(20241011)
# Multiply-shift hashing (wrapping uint64 arithmetic): odd multipliers, random offsets.
_A = _rng.integers(0, 2**63, size=_PERMUTATIONS, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
_B = _rng.integers(0, 2**63, size=_PERMUTATIONS, dtype=np.uint64)


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


def similarity(sig_a: str, sig_b: str) -> float:
    """Estimated Jaccard similarity of two signatures."""
    a = np.frombuffer(bytes.fromhex(sig_a), dtype=">u4")
    b = np.frombuffer(bytes.fromhex(sig_b), dtype=">u4")
    if a.shape != b.shape or not len(a):
        return 0.0
    return float(np.mean(a == b))


class DuplicateFinder:
    """Finds, for a new article, an already kept article with the same or near text."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        self._by_text: dict[str, str] = {}
        self._signatures: dict[str, str] = {}
        self._buckets: dict[tuple[int, str], set[str]] = defaultdict(set)

    def add(self, article_id: str, text_hash_: str, signature: str) -> None:
        self._by_text.setdefault(text_hash_, article_id)
        self._signatures[article_id] = signature
        for band in range(_BANDS):
            key = signature[band * _ROWS * 8 : (band + 1) * _ROWS * 8]
            self._buckets[(band, key)].add(article_id)

    def remove(self, article_id: str) -> None:
        signature = self._signatures.pop(article_id, "")
        for key, value in list(self._by_text.items()):
            if value == article_id:
                del self._by_text[key]
        for band in range(_BANDS):
            key = signature[band * _ROWS * 8 : (band + 1) * _ROWS * 8]
            self._buckets.get((band, key), set()).discard(article_id)

    def find(self, article_id: str, text_hash_: str, signature: str) -> str | None:
        exact = self._by_text.get(text_hash_)
        if exact is not None and exact != article_id:
            return exact
        candidates: set[str] = set()
        for band in range(_BANDS):
            key = signature[band * _ROWS * 8 : (band + 1) * _ROWS * 8]
            candidates |= self._buckets.get((band, key), set())
        candidates.discard(article_id)
        best, best_score = None, self.threshold
        for other in sorted(candidates):
            score = similarity(signature, self._signatures[other])
            if score >= best_score:
                best, best_score = other, score
        return best
