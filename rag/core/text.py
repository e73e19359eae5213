"""Word-level text normalisation shared by BM25 and the grounded answerer."""

from __future__ import annotations

import re
import threading
from typing import Any

from bm25s.stopwords import STOPWORDS_EN_PLUS

_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
_STOPWORDS = frozenset(STOPWORDS_EN_PLUS) | {"s", "t", "said", "says", "also", "would", "could"}
_local = threading.local()  # PyStemmer objects are not safe to share across threads


def _stemmer() -> Any:
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:
        import Stemmer

        stemmer = _local.stemmer = Stemmer.Stemmer("english")
    return stemmer


def stem_words(tokens: list[str]) -> list[str]:
    """Snowball English stems of already lower-cased word tokens."""
    return list(_stemmer().stemWords(tokens))


def words(text: str) -> list[str]:
    """Lower-cased word tokens; apostrophes normalised (Russia’s -> russia's)."""
    return _WORD.findall(text.lower().replace("’", "'"))


def content_terms(text: str) -> list[str]:
    """Stemmed words without English stop words; possessive 's dropped."""
    tokens = []
    for word in words(text):
        if word.endswith("'s"):
            word = word[:-2]
        for part in word.replace("'", " ").split():
            if part not in _STOPWORDS and (len(part) > 1 or part.isdigit()):
                tokens.append(part)
    return stem_words(tokens)

#: Bump when content_terms changes: saved keyword indexes are then rebuilt.
TOKENIZER_VERSION = 2
