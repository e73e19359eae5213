"""Does a passage support a sentence? The judge behind every citation's verdict.

No NLI model is available offline, so the offline judge combines what is here:

* lexical coverage: the share of the sentence's content words (stemmed) found in the
  evidence, numbers and names weighted up;
* hard checks that catch "same topic, different claim" negatives: a number or a name in
  the sentence that the evidence lacks, a number tied to different words ("12 killed,
  40 hurt" vs "40 killed, 12 hurt"), negation present on one side only;
* semantic similarity: the best cosine between the sentence and any evidence sentence
  (or two adjacent ones), with the bundled all-MiniLM-L6-v2 or any ``Embeddings``.

How well a judge agrees with hand-labelled pairs is measured in
rag.evaluation.judge_agreement (``python -m benchmarks.judge`` prints the figures).
"""

from __future__ import annotations

import re
import threading
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from typing import TYPE_CHECKING

import numpy as np

from rag.core.citations import strip_citations
from rag.core.text import content_terms, stem_words
from rag.indexing.splitting import sentence_spans

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

    from rag.core.settings import Settings


_NUMBER_WORDS = {
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
    "eleven": "11",
    "twelve": "12",
    "twice": "2",
}
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_ORDINAL = re.compile(r"\d+(?:st|nd|rd|th)")
_NEGATION = re.compile(
    r"\b(not|no|never|nor|neither|none|nobody|nothing|without|cannot|can't|won't|"
    r"didn't|doesn't|don't|isn't|aren't|wasn't|weren't|hasn't|haven't|hadn't|"
    r"refus\w*|refrain\w*|den(?:y|ies|ied)|lack\w*)\b|n't\b",
    re.I,
)
_CAPITALISED = re.compile(r"\b[A-Z][\w’'-]*[a-z0-9][\w’'-]*|\b[A-Z]{2,}\b")
_DEFAULT_THRESHOLD = 0.5


class SupportJudge(ABC):
    """Scores how well ``evidence`` supports ``sentence``: 0 (not at all) .. 1 (fully)."""

    @abstractmethod
    def score(self, sentence: str, evidence: str) -> float:
        """Support of ``sentence`` (citation markers ignored) by ``evidence``, in 0..1."""

    def supports(self, sentence: str, evidence: str, threshold: float = _DEFAULT_THRESHOLD) -> bool:
        return self.score(sentence, evidence) >= threshold

    def best_quote(self, sentence: str, passage_text: str) -> tuple[int, int]:
        """(start, end) in ``passage_text`` of the sentence(s) that best support ``sentence``.

        One passage sentence, or two adjacent ones when together they support it clearly
        better (a claim drawn from both). The whole passage when it has no sentences.
        """
        spans = sentence_spans(passage_text)
        if not spans:
            return (0, len(passage_text))
        singles = [(self.score(sentence, passage_text[a:b]), (a, b)) for a, b in spans]
        best_score, best = max(singles, key=lambda item: item[0])
        for (a, _), (_, b) in pairwise(spans):
            joined = self.score(sentence, passage_text[a:b])
            if joined > best_score + 0.1:
                best_score, best = joined, (a, b)
        return best


@dataclass(frozen=True)
class _Facts:
    """What the lexical checks need of one text, computed once."""

    terms: frozenset[str]
    numbers: frozenset[str]
    tokens: tuple[str, ...]  # word tokens in order, hyphenated words split, numbers as digits
    negated: bool
    stems: frozenset[str]  # every token stemmed, stop words kept ("won", "more")


_TOKEN = re.compile(r"\d+(?:[.,]\d+)*(?:st|nd|rd|th)?|[a-z]+(?:'[a-z]+)*")


def _facts(text: str) -> _Facts:
    lowered = text.lower().replace("’", "'")
    tokens = tuple(_normalise_number(w) for w in _TOKEN.findall(lowered))
    terms = set(content_terms(text))
    # "pro-Western" must also match "Western", and "Su-35s" "Su-35".
    for term in list(terms):
        if "-" in term:
            terms.update(content_terms(term.replace("-", " ")))
    return _Facts(
        terms=frozenset(terms),
        numbers=frozenset(t for t in tokens if _NUMBER.fullmatch(t) or _ORDINAL.fullmatch(t)),
        tokens=tokens,
        negated=bool(_NEGATION.search(lowered)),
        stems=frozenset(_stem_all(tokens)),
    )


def _stem_all(tokens: Sequence[str]) -> list[str]:
    return stem_words(list(tokens))


def _normalise_number(word: str) -> str:
    if word in _NUMBER_WORDS:
        return _NUMBER_WORDS[word]
    if _NUMBER.fullmatch(word):
        return word.replace(",", "")
    return word


def _matches(term: str, terms: frozenset[str]) -> bool:
    """Exact stem, or a shared prefix long enough for inflections ("isra"/"israel")."""
    if term in terms:
        return True
    if len(term) < 4 or term[0].isdigit():
        return False
    for other in terms:
        if other[:4] != term[:4]:
            continue
        common = len(_common_prefix(term, other))
        if common >= min(len(term), len(other)) - 2 and common >= 4:
            return True
    return False


def _common_prefix(a: str, b: str) -> str:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return a[:n]


def _entities(sentence: str, evidence: str = "") -> tuple[list[str], list[str]]:
    """Names in the sentence: (every stem, first stem of each run), in order.

    Runs of capitalised words are names ("Porto Verde"). The sentence's first word is
    capitalised anyway; it counts only when it is also capitalised later in the
    sentence or mid-sentence in the evidence (a name, not "The" or "Striker").
    """
    stems: list[str] = []
    heads: list[str] = []
    later = {m.group() for m in _CAPITALISED.finditer(sentence) if m.start() > 0}
    for match in _CAPITALISED.finditer(evidence):
        before = evidence[: match.start()].rstrip()
        if before and before[-1] not in ".!?\n\"“”'’:":
            later.add(match.group())
    for match in _NAME_RUN.finditer(sentence):
        run = match.group()
        if match.start() == 0:
            first, _, rest = run.partition(" ")
            if first not in later and not first.isupper():
                run = rest
        terms = content_terms(run)
        if terms and terms[0] not in heads:
            heads.append(terms[0])
        stems.extend(t for t in terms if t not in stems)
    return stems, heads


_NAME_RUN = re.compile(
    r"\b(?:[A-Z][\w’'-]*[a-z0-9][\w’'-]*|[A-Z]{2,}[\w-]*)(?:\s+(?:[A-Z][\w’'-]*|[A-Z]{2,}))*"
)

# Words of opposite meaning that news claims swap ("profit rose" vs "profit fell").
# Each entry is two groups; a claim word from one group, missing from the evidence,
# while the evidence's best window has a word from the other group and none from the
# claim's group, marks a contradiction.
_OPPOSITES: tuple[tuple[str, str], ...] = (
    (
        "rise rose risen rising increase increased grow grew gain gained higher raise raised "
        "boost up climb jump soar",
        "fall fell fallen falling drop dropped decrease decreased decline declined lower "
        "lowered cut reduce reduced shrink down slump plunge",
    ),
    (
        "praise praised welcome welcomed support supported back approve approved endorse "
        "accept accepted favor",
        "criticize criticized criticise condemn condemned oppose opposed reject rejected "
        "unease uneasy object ban refuse refused impeach impeachment",
    ),
    ("lift lifted ease eased remove removed", "impose imposed tighten tightened extend extended"),
    ("strong stronger robust solid", "weak weaker weaken weakened soft"),
    ("held hold withstood succeed succeeded", "fail failed failure collapse collapsed breach"),
    ("north northern", "south southern"),
    ("east eastern", "west western"),
    ("new newer", "old older"),
    ("score scored convert converted", "miss missed"),
    ("win wins won victory beat", "lose loses lost defeat defeated"),
    ("first earliest", "last latest"),
    ("before earlier", "after later"),
    ("open opened", "close closed shut"),
    ("confirm confirmed", "deny denied"),
    ("buy bought purchase", "sell sold"),
    ("import imported", "export exported"),
    ("begin began start started", "finish finished end ended"),
    ("more", "less fewer"),
    ("ally allies", "enemy enemies rival"),
    ("peace ceasefire", "war"),
    ("land landed landing", "orbit"),
)


@cache
def _opposite_groups() -> list[tuple[frozenset[str], frozenset[str]]]:
    return [
        (frozenset(_stem_all(left.split())), frozenset(_stem_all(right.split())))
        for left, right in _OPPOSITES
    ]


def _contradicted_terms(claim: _Facts, window: _Facts, evidence: _Facts) -> set[str]:
    flagged: set[str] = set()
    for left, right in _opposite_groups():
        for mine, theirs in ((left, right), (right, left)):
            for term in claim.stems & mine:
                if term in evidence.stems:
                    continue
                if window.stems & theirs and not window.stems & mine:
                    flagged.add(term)
    return flagged


def _order_flipped(anchors: list[str], window: _Facts) -> bool:
    """True when the claim names things in the opposite order to the evidence.

    "Castelmar beat Porto Verde" against "Porto Verde won ... against Castelmar".
    Only anchors (names, numbers) found in the window count; more discordant than
    concordant pairs is a flip.
    """
    positions: list[int] = []
    stems = [content_terms(t)[:1] or [t] for t in window.tokens]
    for anchor in anchors:
        where = next((i for i, s in enumerate(stems) if s[0] == anchor), None)
        if where is not None:
            positions.append(where)
    concordant = discordant = 0
    for i in range(len(positions)):
        for j in range(i + 1, len(positions)):
            if positions[i] < positions[j]:
                concordant += 1
            elif positions[i] > positions[j]:
                discordant += 1
    return discordant > concordant


class OfflineSupportJudge(SupportJudge):
    """Lexical coverage, hard checks and embedding similarity, no network, no NLI model.

    ``embeddings`` (optional) is used lazily, on the first ``score``; without it the
    judge is lexical only. Vectors are cached, so judging many sentences against the
    same few passages embeds each text once.
    """

    #: Cosine (of unit vectors) mapped to 0 at ``cos_low`` and 1 at ``cos_high``.
    cos_low = 0.25
    cos_high = 0.85
    lexical_weight = 0.55
    missing_number_factor = 0.3
    moved_number_factor = 0.5
    missing_entity_factor = 0.55
    negation_factor = 0.45
    opposite_factor = 0.45
    order_factor = 0.6

    def __init__(self, embeddings: Embeddings | None = None, cache_size: int = 4096) -> None:
        if cache_size < 1:
            raise ValueError(f"cache_size must be >= 1, got {cache_size}")
        self.embeddings = embeddings
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        model = getattr(self.embeddings, "model_id", type(self.embeddings).__name__)
        return f"OfflineSupportJudge(embeddings={model!r})"

    # --- the score ---------------------------------------------------------------

    def score(self, sentence: str, evidence: str) -> float:
        return self.explain(sentence, evidence)["score"]

    def explain(self, sentence: str, evidence: str) -> dict[str, float]:
        """The score and the parts it is made of (for tuning and for the benchmark)."""
        claim = strip_citations(sentence)
        mine, theirs = _facts(claim), _facts(evidence)
        parts: dict[str, float] = {"score": 0.0}
        if not mine.terms or not evidence.strip():
            return parts
        entities, heads = _entities(claim, evidence)
        weights = {
            t: 2.0 if t in mine.numbers else 1.5 if t in entities else 1.0 for t in mine.terms
        }
        covered = sum(w for t, w in weights.items() if _matches(t, theirs.terms))
        lexical = covered / sum(weights.values())
        parts["lexical"] = lexical

        cosine, best_window = self._best_cosine(claim, _windows(evidence))
        parts["cosine"] = cosine
        if self.embeddings is not None:
            semantic = (cosine - self.cos_low) / (self.cos_high - self.cos_low)
            semantic = min(1.0, max(0.0, semantic))
            base = self.lexical_weight * lexical + (1 - self.lexical_weight) * semantic
        else:
            base = lexical

        window = _facts(best_window) if best_window is not None else theirs
        missing_numbers = mine.numbers - theirs.numbers
        moved = _moved_numbers(mine, theirs) - missing_numbers
        missing_entities = [e for e in entities if not _matches(e, theirs.terms)]
        contradicted = _contradicted_terms(mine, window, theirs)
        # Names carry who-did-what; numbers break ties only when fewer than two names.
        anchors = (
            heads
            if len(heads) >= 2
            else [*heads, *dict.fromkeys(t for t in mine.tokens if t in mine.numbers)]
        )
        flipped = _order_flipped(anchors, window)
        factor = (
            self.missing_number_factor ** len(missing_numbers)
            * self.moved_number_factor ** len(moved)
            * self.missing_entity_factor ** min(2, len(missing_entities))
            * (self.negation_factor if mine.negated != window.negated else 1.0)
            * (self.opposite_factor if contradicted else 1.0)
            * (self.order_factor if flipped else 1.0)
        )
        parts.update(
            missing_numbers=len(missing_numbers),
            moved_numbers=len(moved),
            missing_entities=len(missing_entities),
            negation=float(mine.negated != window.negated),
            opposites=len(contradicted),
            flipped=float(flipped),
            factor=factor,
        )
        parts["score"] = float(min(1.0, max(0.0, base * factor)))
        return parts

    def _best_cosine(self, claim: str, windows: list[str]) -> tuple[float, str | None]:
        """Best cosine between the claim and an evidence window, and that window.

        Without embeddings the best window is the one with the most shared terms.
        """
        if not windows:
            return 0.0, None
        if self.embeddings is None:
            terms = set(content_terms(claim))
            best = max(windows, key=lambda w: len(terms & set(content_terms(w))))
            return 0.0, best
        vectors = self._vectors([claim, *windows])
        sims = vectors[1:] @ vectors[0]
        i = int(np.argmax(sims))
        return float(sims[i]), windows[i]

    def _vectors(self, texts: list[str]) -> np.ndarray:
        assert self.embeddings is not None
        with self._lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if missing:
            raw = np.asarray(self.embeddings.embed_documents(missing), dtype=np.float32)
            norms = np.linalg.norm(raw, axis=1, keepdims=True)
            raw = (raw / np.where(norms == 0, 1.0, norms)).astype(np.float32)
            with self._lock:
                for text, vector in zip(missing, raw, strict=True):
                    self._cache[text] = vector
                    self._cache.move_to_end(text)
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        with self._lock:
            cached = {t: self._cache.get(t) for t in texts}
        found: dict[str, np.ndarray] = {}
        for text, vector in cached.items():
            # A text evicted between the two locked sections is embedded again.
            found[text] = vector if vector is not None else self._vectors([text])[0]
        return np.stack([found[t] for t in texts])


def _windows(evidence: str) -> list[str]:
    """Evidence sentences and pairs of adjacent ones (a claim may draw on two)."""
    spans = sentence_spans(evidence)
    if not spans:
        return [evidence] if evidence.strip() else []
    singles = [evidence[a:b] for a, b in spans]
    pairs = [evidence[a:d] for (a, _), (_, d) in pairwise(spans)]
    return singles + pairs


def _moved_numbers(mine: _Facts, theirs: _Facts, reach: int = 2) -> set[str]:
    """Numbers of the claim present in the evidence but never next to the same words.

    "12 killed and 40 injured" against "40 killed and 12 injured": every number is
    there, but 12 stands by other words. Neighbours are the ``reach`` nearest content
    words on each side.
    """
    moved: set[str] = set()
    for number in mine.numbers & theirs.numbers:
        near_mine = _neighbours(mine.tokens, number, reach)
        if near_mine and not near_mine & _neighbours(theirs.tokens, number, reach):
            moved.add(number)
    return moved


def _neighbours(tokens: tuple[str, ...], number: str, reach: int) -> set[str]:
    stems: list[str | None] = [
        None
        if _NUMBER.fullmatch(t) or _ORDINAL.fullmatch(t)
        else next(iter(content_terms(t)), None)
        for t in tokens
    ]
    near: set[str] = set()
    for i, token in enumerate(tokens):
        if token != number:
            continue
        left = [s for s in stems[:i] if s][-reach:]
        right = [s for s in stems[i + 1 :] if s][:reach]
        near.update(left + right)
    return near


def make_judge(settings: Settings, embeddings: Embeddings | None = None) -> SupportJudge:
    """The offline judge over ``embeddings`` or the embedding model the settings name."""
    if embeddings is None:
        from rag.indexing.embeddings import make_embeddings

        embeddings = make_embeddings(settings)
    return OfflineSupportJudge(embeddings)
