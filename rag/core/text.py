"""Word-level text normalisation shared by keyword search and the grounded answerer.

The one home of tokenisation: every keyword index and every word-overlap score uses
:func:`content_terms`, so they always agree. Any script is tokenised:

* words are Unicode letter/digit runs, apostrophes and hyphens kept inside a word,
  case-folded; accents on Latin letters are dropped ("Montréal", "MONTREAL" and
  "montreal" match, as "Beyoncé" matched "Beyonce" when é was a separator), other
  scripts keep theirs (й is not и; the Greek stemmer folds Greek accents itself);
* scripts written without spaces (Han, Hiragana, Katakana, Thai, Lao, Khmer, Myanmar)
  become overlapping character bigrams, the usual index unit for them (Lucene's
  CJKAnalyzer): "预算将增加" -> 预算 算将 将增 增加;
* stems come from the Snowball stemmer of the word's script: English for Latin (as
  before), Russian for Cyrillic, Greek, Arabic, Hindi for Devanagari; other scripts keep
  the word. Stop words are English.

Text whose letters and digits are all ASCII (most English news, curly quotes and dashes
included) takes the old fast path and gives exactly the tokens it gave before.
"""

from __future__ import annotations

import importlib.util
import re
import threading
import unicodedata
from pathlib import Path
from typing import Any

_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
_UNICODE_WORD = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*")
# Scripts written without spaces between words.
_NO_SPACE = re.compile(
    "[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff"
    "\uf900-\ufaff\U00020000-\U0003134f]+"
)


def _bm25s_stopwords() -> frozenset[str]:
    """bm25s's English stop words, read from its ``stopwords`` module alone: importing
    it the usual way runs the bm25s package, which loads scipy (0.23 s of every cold
    start; the keyword engine is tantivy, only this list comes from bm25s)."""
    package = importlib.util.find_spec("bm25s")
    if package is None or not package.submodule_search_locations:
        raise ImportError("bm25s is not installed; run `pip install bm25s`")
    path = Path(next(iter(package.submodule_search_locations))) / "stopwords.py"
    spec = importlib.util.spec_from_file_location("_bm25s_stopwords", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot read bm25s's stop words at {path}; reinstall bm25s")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return frozenset(module.STOPWORDS_EN_PLUS)


_STOPWORDS = _bm25s_stopwords() | {"s", "t", "said", "says", "also", "would", "could"}
# First code point of a word -> Snowball algorithm (None: not stemmed).
_SCRIPT_STEMMERS = (
    (0x0370, 0x0400, "greek"),
    (0x1F00, 0x2000, "greek"),
    (0x0400, 0x0530, "russian"),
    (0x0600, 0x0700, "arabic"),
    (0x0900, 0x0980, "hindi"),
)
# A letter or digit beyond ASCII, or a combining accent: the text needs the Unicode path.
_NEEDS_UNICODE = re.compile(r"[\u0300-\u036f]|(?![\x00-\x7f])\w")
_LATIN_MARKS = re.compile("(?<=[\x00-\u024f])[\u0300-\u036f]+")
_local = threading.local()  # PyStemmer objects are not safe to share across threads


def is_stop_word(word: str) -> bool:
    """An English stop word (case-insensitive), as content_terms drops them."""
    return word.lower() in _STOPWORDS


def _stemmer(language: str = "english") -> Any:
    stemmers = getattr(_local, "stemmers", None)
    if stemmers is None:
        stemmers = _local.stemmers = {}
    stemmer = stemmers.get(language)
    if stemmer is None:
        import Stemmer

        stemmer = stemmers[language] = Stemmer.Stemmer(language)
    return stemmer


def _language(word: str) -> str | None:
    first = ord(word[0])
    if first < 0x250:  # Basic Latin to Latin Extended-B
        return "english"
    for low, high, language in _SCRIPT_STEMMERS:
        if low <= first < high:
            return language
    return None


def stem_words(tokens: list[str]) -> list[str]:
    """Snowball stems of already lower-cased word tokens, by each word's script."""
    if "".join(tokens).isascii():
        return list(_stemmer().stemWords(tokens))
    out = list(tokens)
    by_language: dict[str, list[int]] = {}
    for i, token in enumerate(tokens):
        language = _language(token) if token else None
        if language:
            by_language.setdefault(language, []).append(i)
    for language, positions in by_language.items():
        stems = _stemmer(language).stemWords([tokens[i] for i in positions])
        for i, stem in zip(positions, stems, strict=True):
            out[i] = stem
    return out


def _bigrams(run: str) -> list[str]:
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


def _fold_latin_accents(text: str) -> str:
    """Drop combining marks that sit on Latin letters; NFC for the rest."""
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", _LATIN_MARKS.sub("", decomposed))


def words(text: str) -> list[str]:
    """Lower-cased word tokens; apostrophes normalised (Russia’s -> russia's).

    Text in a script without spaces gives character bigrams (see the module docstring).
    """
    if not _NEEDS_UNICODE.search(text):
        # Other characters beyond ASCII (quotes, dashes, bullets) only separate words.
        return _WORD.findall(text.lower().replace("’", "'"))
    text = _fold_latin_accents(text.casefold().replace("’", "'"))
    if not _NO_SPACE.search(text):
        return _UNICODE_WORD.findall(text)
    tokens: list[str] = []
    for word in _UNICODE_WORD.findall(text):
        if not _NO_SPACE.search(word):
            tokens.append(word)
            continue
        cursor = 0
        for run in _NO_SPACE.finditer(word):
            tokens.extend(p for p in re.split(r"[-']", word[cursor : run.start()]) if p)
            tokens.extend(_bigrams(run.group()))
            cursor = run.end()
        tokens.extend(p for p in re.split(r"[-']", word[cursor:]) if p)
    return tokens


def content_terms(text: str) -> list[str]:
    """Stemmed words without English stop words; possessive 's dropped."""
    tokens = []
    for word in words(text):
        if word.endswith("'s"):
            word = word[:-2]
        for part in word.replace("'", " ").split():
            if part not in _STOPWORDS and (
                len(part) > 1 or part.isdigit() or _NO_SPACE.match(part)
            ):
                tokens.append(part)
    return stem_words(tokens)


#: Bump when content_terms changes: saved keyword indexes are then rebuilt.
TOKENIZER_VERSION = 3
