"""The default answerer: offline, extractive, every sentence quoted from a passage.

It picks the sentences of the retrieved passages that answer the question (relevance
to the question by embedding similarity and term overlap, no redundancy, a second
reason for "why" questions), trims leading discourse markers ("Meanwhile, ..."), and
cites each one. When no sentence is relevant enough it abstains instead of citing
something loosely related. It never writes a word of its own beyond that abstention.
"""

from __future__ import annotations

import itertools
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
from langchain_core.documents import Document

from rag.answering import roles, spans
from rag.answering.base import Answerer, Turn, Writing, check_parameters, cite
from rag.answering.conversation import ABSTENTION_OPENING, role_words
from rag.answering.instructions import instruction_spans
from rag.core.citations import defuse_markers, marker
from rag.core.schema import Answer, AnswerSentence, Citation, ShortAnswer
from rag.core.settings import Settings
from rag.core.text import content_terms
from rag.indexing.embeddings import PassageEmbeddings
from rag.indexing.splitting import sentence_spans

_WHY = re.compile(r"^\s*(why|how come|for what reason|what (?:is|are) the reasons?)\b", re.I)
_CAUSAL = re.compile(
    r"\b(because|as|since|due to|owing to|amid|so as|in order to|avoid\w*|fear\w*|"
    r"concern\w*|reason\w*|refrain\w*|risk\w*|ties with|relations with)\b",
    re.I,
)
_LEAD_IN = re.compile(
    r"^(meanwhile|however|similarly|moreover|furthermore|additionally|in addition|also|"
    r"still|yet|instead|likewise|in turn|by contrast|nevertheless|nonetheless),\s+",
    re.I,
)
_PRONOUN_OPENING = re.compile(r"^\W*(?:it|its|he|his|him|she|her|they|their|them)\b", re.I)
_SENTENCE_CACHE_SIZE = 20_000
# Typed questions abstain below abstain_threshold + 0.04 (their scores carry the typed
# bonus; chosen on RealTime QA tune, docs/benchmarks.md "Answers on unseen questions").
TYPED_MARGIN = 0.04
# A later sentence joins the answer only above this score (0.8 of the fixed 0.44
# abstention cut it was chosen with, RealTime QA tune).
ADD_FLOOR = 0.352

@dataclass
class _Sentence:
    text: str
    passage: Document
    passage_rank: int
    start: int  # offset within the passage text
    end: int
    order: int  # position among all candidates (passage rank, then place in passage)
    terms: list[str] = field(default_factory=list)  # content_terms(text), computed once
    dense: float = 0.0
    lexical: float = 0.0
    score: float = 0.0
    vector: np.ndarray | None = None
    shortlisted: bool = False
    spans: list[spans.Candidate] = field(default_factory=list)  # typed, of the expected type
    typed: float = 0.0  # the best expected-type weight among its spans (0: none)
    typed_near: float = 0.0  # the same, scaled by the question's words around the span


@dataclass
class _Choice:
    """The sentences chosen, in reading order, and the voted short answer (if any)."""

    sentences: list[_Sentence]
    short: spans.SpanGroup | None = None
    short_sentence: _Sentence | None = None
    features: dict[str, float] = field(default_factory=dict)


class GroundedAnswerer(Answerer):
    """Extractive, cited, abstaining: needs no LLM and no network."""

    name = "grounded"

    def __init__(
        self,
        embeddings: PassageEmbeddings,
        embed_question: Callable[[str], np.ndarray] | None = None,
        *,
        max_sentences: int = 4,
        candidates: int = 8,
        abstain_threshold: float = 0.44,
        short_answer_confidence: float = 0.7,
        embed_threads: int = 2,
        typed_candidates: int = 4,
    ) -> None:
        check_parameters(
            {"max_sentences": max_sentences, "candidates": candidates,
             "embed_threads": embed_threads},
            {"abstain_threshold": abstain_threshold,
             "short_answer_confidence": short_answer_confidence},
        )
        if typed_candidates < 0:
            raise ValueError(f"typed_candidates must be >= 0, got {typed_candidates}")
        self.max_sentences = max_sentences
        self.candidates = candidates
        self.typed_candidates = typed_candidates
        self.abstain_threshold = abstain_threshold
        self.short_answer_confidence = short_answer_confidence
        self.embeddings = embeddings
        # The retriever has usually embedded the same question a moment ago.
        self.embed_question = embed_question
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._choices: OrderedDict[tuple[str, tuple[Any, ...]], _Choice] = OrderedDict()
        self.embed_threads = embed_threads
        self._pool: ThreadPoolExecutor | None = None

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        embeddings: PassageEmbeddings,
        embed_question: Callable[[str], np.ndarray] | None = None,
    ) -> GroundedAnswerer:
        """The answerer with the answer knobs of ``settings``."""
        return cls(
            embeddings,
            embed_question,
            max_sentences=settings.answer.max_sentences,
            candidates=settings.answer.candidates,
            abstain_threshold=settings.answer.abstain_threshold,
            short_answer_confidence=settings.answer.short_answer_confidence,
            typed_candidates=settings.answer.typed_candidates,
        )

    def warm_up(self) -> None:
        self.embeddings.warm_up()
        spans.warm_up()

    # --- the answer --------------------------------------------------------------
    def write(
        self, question: str, passages: Sequence[Document], history: Sequence[Turn] = ()
    ) -> Writing:
        choice = self.choose(question, passages)
        weighed = {"evidence": {k: round(v, 4) for k, v in choice.features.items()}}
        if not choice.sentences:
            text = abstention(question)
            yield text
            return Answer(
                question=question, standalone_question=question, answer=text,
                abstained=True, answerer=self.name,
                sentences=[AnswerSentence(text=text, citation_ids=[], supported=True)],
                **weighed,
            )
        citations: list[Citation] = []
        sentences: list[AnswerSentence] = []
        parts: list[str] = []
        numbers: dict[int, int] = {}
        for number, sentence in enumerate(choice.sentences, start=1):
            citations.append(cite(number, sentence.passage, sentence.start, sentence.end))
            numbers[id(sentence)] = number
        short: ShortAnswer | None = None
        if choice.short is not None and choice.short_sentence is not None:
            short = _short_answer(choice.short, numbers[id(choice.short_sentence)],
                                  choice.sentences, numbers)
            said = defuse_markers(_sentence_case(short.text)) + "."
            piece = f"{said} {marker(short.citation_ids[0])}"
            sentences.append(AnswerSentence(
                text=said, citation_ids=short.citation_ids[:1],
                supported=True, support_score=round(choice.short_sentence.score, 4),
            ))
            yield piece
            parts.append(piece)
        for sentence in choice.sentences:
            number = numbers[id(sentence)]
            shown = _tidy(sentence.text)
            piece = f"{shown} {marker(number)}"
            sentences.append(
                AnswerSentence(
                    text=shown, citation_ids=[number], supported=True,
                    support_score=round(sentence.score, 4),
                )
            )
            yield piece if not parts else " " + piece
            parts.append(piece)
        return Answer(
            question=question, standalone_question=question, answer=" ".join(parts),
            citations=citations, sentences=sentences, abstained=False, answerer=self.name,
            short_answer=short, **weighed,
        )

    # --- choosing sentences ------------------------------------------------------
    def answer_score(self, question: str, passages: Sequence[Document]) -> float:
        """The best sentence's score when the passages answer, else 0."""
        choice = self.choose(question, passages)
        return choice.features.get("score", 0.0) if choice.sentences else 0.0

    def select(self, question: str, passages: Sequence[Document]) -> list[_Sentence]:
        """The sentences that answer, in reading order (empty: abstain)."""
        return self.choose(question, passages).sentences

    def choose(self, question: str, passages: Sequence[Document]) -> _Choice:
        """The sentences that answer and the short answer; the last few choices are kept
        (the chain weighs a date window's passages before writing from them)."""
        key = (question, tuple(
            (p.page_content, *sorted((k, str(v)) for k, v in p.metadata.items()))
            for p in passages
        ))
        with self._cache_lock:
            kept = self._choices.get(key)
        if kept is None:
            kept = self._choose(question, passages)
            with self._cache_lock:
                self._choices[key] = kept
                while len(self._choices) > 4:
                    self._choices.popitem(last=False)
        return kept

    def _choose(self, question: str, passages: Sequence[Document]) -> _Choice:
        candidates = _candidates(passages)
        if not candidates or _names_missing(question, passages):
            return _Choice([])
        q_terms = set(content_terms(question))
        expected = spans.expected_type(question)
        terms = content_terms(question)
        weights = _term_weights(terms, [c.terms for c in candidates])
        _type_sentences(question, expected, candidates, weights)
        holders = _role_holders(question, expected, candidates)
        if holders is not None and not holders:
            return _Choice([])  # nobody read holds the role the question asks about
        holders = holders or {}
        shortlist = _shortlist(candidates, terms, self.candidates, weights,
                               also={i for i, fit in holders.items() if fit >= 1.0},
                               typed=self.typed_candidates if expected.wants_span else 0)
        for sentence in shortlist:
            sentence.shortlisted = True
        self._score(question, shortlist, weights)
        for sentence in shortlist:
            sentence.score += _typed_bonus(expected, sentence)
            sentence.score += 0.2 * holders.get(sentence.order, 0.0)
            if sentence.text.rstrip(" \"'”’)").endswith("?"):
                sentence.score -= 0.25  # a question in the article asks; it does not answer
        ranked = sorted(shortlist, key=lambda s: s.score, reverse=True)
        best = ranked[0]
        groups = _vote(question, expected, candidates, shortlist, weights)
        why = expected.wh == "" and bool(_WHY.search(question))
        features = _features(ranked, terms, weights, candidates, expected, groups, why)
        if not self._answers(best, q_terms, expected.wants_span):
            return _Choice([], features=features)
        short, short_sentence = None, None
        if groups and groups[0].confidence >= self.short_answer_confidence:
            short = groups[0]
            short_sentence = _stating(short, candidates)
            if short_sentence is not None and short_sentence is not best:
                best = short_sentence
                ranked = [best, *(s for s in ranked if s is not best)]
        limit = min(self.max_sentences, 3 if why else 2)
        chosen = [best]
        for sentence in ranked[1:]:
            if len(chosen) >= limit:
                break
            if not sentence.shortlisted or not self._worth_adding(
                sentence, best, chosen, why, expected.wants_span
            ):
                continue
            chosen.append(sentence)
        context = _typed_neighbour(expected, best, candidates, chosen)
        if context is None:
            context = _continuation(q_terms, best, candidates, chosen)
        if context is not None:
            chosen.append(context)
        antecedent = _antecedent(best, candidates)
        if antecedent is not None and antecedent not in chosen:
            chosen.append(antecedent)
        for extra in (_voted_sentence(groups, short, best, candidates, chosen),
                      _telling_sentence(weights, candidates, shortlist, best, chosen)):
            if extra is not None and extra not in chosen:
                chosen.append(extra)
        return _Choice(_answer_order(chosen, best), short, short_sentence, features)

    def _answers(self, best: _Sentence, q_terms: set[str], typed: bool) -> bool:
        """Abstain unless the best sentence is close to the question in meaning or words.
        A question wanting a typed span asks TYPED_MARGIN more: its sentences' scores
        carry the typed bonus (rag.answering.grounded._typed_bonus). A logistic model
        over the evidence (``_features``) fitted on RealTime QA tune did not beat this
        on validation (docs/benchmarks.md, "Calibrated abstention: tried")."""
        if not q_terms:
            return False
        return best.score >= self.abstain_threshold + (TYPED_MARGIN if typed else 0.0)

    def _worth_adding(
        self, sentence: _Sentence, best: _Sentence, chosen: list[_Sentence], why: bool,
        typed: bool,
    ) -> bool:
        # A later sentence must be nearly as relevant as the best one, say something new,
        # and, for "why", may also be a causal sentence next to a chosen one. A question
        # that wants no short span ("How do reformists and hardliners differ?") often
        # takes two sentences (0.84 chosen on RealTime QA tune: 0.88 0.317, 0.84 and
        # 0.80 0.322).
        ratio = 0.75 if why else 0.88 if typed else 0.84
        relevant = sentence.score >= ratio * best.score
        if why and not relevant:
            neighbour = (
                best.passage.id == sentence.passage.id and abs(best.order - sentence.order) == 1
            )
            relevant = (
                neighbour
                and bool(_CAUSAL.search(sentence.text))
                and sentence.score >= 0.5 * best.score
            )
        if not relevant or sentence.score < ADD_FLOOR:
            return False
        return all(_similarity(sentence, c) < 0.85 for c in chosen)

    def _score(
        self, question: str, candidates: list[_Sentence], weights: dict[str, float]
    ) -> None:
        if self.embed_question is not None:
            q_vector = self.embed_question(question)
            vectors = [q_vector, *self._vectors([c.text for c in candidates])]
        else:
            vectors = self._vectors([question] + [c.text for c in candidates])
            q_vector = vectors[0]
        why = bool(_WHY.search(question))
        lexical = _overlaps(content_terms(question), [c.terms for c in candidates], weights)
        for candidate, vector, overlap in zip(candidates, vectors[1:], lexical, strict=True):
            candidate.vector = vector
            candidate.dense = float(vector @ q_vector)
            candidate.lexical = overlap
            prior = 1.0 / (1.0 + 0.15 * candidate.passage_rank)
            causal = 0.04 if why and _CAUSAL.search(candidate.text) else 0.0
            candidate.score = (
                0.6 * candidate.dense
                + 0.3 * candidate.lexical
                + 0.1 * prior
                + causal
                + _head_noun_penalty(question, candidate.terms)
            )

    def _vectors(self, texts: list[str]) -> list[np.ndarray]:
        """Embeddings of sentences, cached: the same passages come back often."""
        out: list[np.ndarray | None] = []
        missing: list[str] = []
        with self._cache_lock:
            for text in texts:
                vector = self._cache.get(text)
                if vector is not None:
                    self._cache.move_to_end(text)
                else:
                    missing.append(text)
                out.append(vector)
        if missing:
            unique = list(dict.fromkeys(missing))
            computed = dict(zip(unique, self._embed(unique), strict=True))
            with self._cache_lock:
                for text, vector in computed.items():
                    self._cache[text] = vector
                while len(self._cache) > _SENTENCE_CACHE_SIZE:
                    self._cache.popitem(last=False)
            out = [v if v is not None else computed[t] for v, t in zip(out, texts, strict=True)]
        return [v for v in out if v is not None]

    def _embed(self, texts: list[str]) -> list[np.ndarray]:
        encode = getattr(self.embeddings, "encode", None)
        if encode is None:
            vectors = self.embeddings.embed_documents(texts)
            return [np.asarray(v, dtype=np.float32) for v in vectors]

        def one(text: str) -> np.ndarray:
            return np.asarray(encode([text], batch_size=1), dtype=np.float32)[0]

        # One sentence per batch: int8 quantizes activations per batch, so a sentence's
        # vector changed with the sentences batched beside it (cosine 0.98-0.99) and
        # answers with the questions asked before. Single sentences on two threads: one
        # short sentence keeps ONNX Runtime's own threads mostly idle, two at a time
        # took 8 sentences from 56 to 38-43 ms on 2 idle cores (docs/benchmarks.md,
        # "Sentences embedded on two threads"); the vectors are the same.
        if len(texts) < 2 or self.embed_threads < 2:
            return [one(text) for text in texts]
        return list(self._threads().map(one, texts))

    def _threads(self) -> ThreadPoolExecutor:
        with self._cache_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.embed_threads, "rag-sentences")
            return self._pool


# Called ~7,000 times a question on the same few hundred stems: a lookup beats the test.
@lru_cache(maxsize=1 << 17)
def _term_match(a: str, b: str) -> bool:
    """Equal stems, or one a prefix of the other (Iran ~ Iranian, Russia ~ Russian)."""
    if a == b:
        return True
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    return len(short) >= 4 and long.startswith(short)


def _matcher(unique: list[str]) -> Callable[[str], list[str]]:
    """The question terms (``unique``) a sentence term matches, worked out once per
    distinct term: the same stems recur across a question's candidate sentences, and
    across the several passes over them (weights, shortlist, scores, features)."""
    return _shared_matcher(tuple(unique))


@lru_cache(maxsize=16)
def _shared_matcher(unique: tuple[str, ...]) -> Callable[[str], list[str]]:
    matches: dict[str, list[str]] = {}

    def matching(term: str) -> list[str]:
        hit = matches.get(term)
        if hit is None:
            hit = matches[term] = [q for q in unique if _term_match(q, term)]
        return hit

    return matching


def _overlaps(
    question_terms: list[str], sentences: Sequence[list[str]],
    weights: dict[str, float] | None = None,
) -> list[float]:
    """For each sentence (its content terms): the share of question terms in it (by
    ``weights`` when given, see ``_term_weights``), plus a bonus for adjacent pairs in
    order ("Iran's president" ~ "Iranian President ..."): proximity beats scattered
    words."""
    if not question_terms:
        return [0.0] * len(sentences)
    unique = list(dict.fromkeys(question_terms))
    weight = {q: (weights or {}).get(q, 1.0) for q in unique}
    total = sum(weight.values()) or 1.0
    pairs = list(itertools.pairwise(question_terms))
    matching = _matcher(unique)
    scores = []
    for terms in sentences:
        where: dict[str, set[int]] = {q: set() for q in unique}
        for i, term in enumerate(terms):
            for q in matching(term):
                where[q].add(i)
        coverage = sum(weight[q] for q, positions in where.items() if positions) / total
        if not pairs:
            scores.append(coverage)
            continue
        adjacent = sum(any(i + 1 in where[b] for i in where[a]) for a, b in pairs)
        scores.append(0.75 * coverage + 0.25 * adjacent / len(pairs))
    return scores


def _term_weights(question_terms: list[str], sentences: Sequence[list[str]]) -> dict[str, float]:
    """How much each question term tells the read sentences apart (an idf over them):
    "meeting", in every passage retrieval found, says little; "details", in one
    sentence, says which one answers. A term no sentence holds keeps the weight of one
    held by a single sentence, so it lowers every sentence alike."""
    unique = list(dict.fromkeys(question_terms))
    n = len(sentences)
    df = dict.fromkeys(unique, 0)
    matching = _matcher(unique)
    for terms in sentences:
        held: set[str] = set()
        for term in set(terms):
            held.update(matching(term))
        for q in held:
            df[q] += 1
    return {q: math.log(1.0 + (n + 0.5) / (max(1, df[q]) + 0.5)) for q in unique}


def _features(
    ranked: list[_Sentence], terms: list[str], weights: dict[str, float],
    candidates: list[_Sentence], expected: spans.ExpectedType,
    groups: list[spans.SpanGroup], why: bool,
) -> dict[str, float]:
    """What the answerer weighed, for evaluation reports (``Answer.evidence``) and
    calibration experiments (evals/calibrate_abstention.py)."""
    best = ranked[0]
    held = [q for q in weights if any(_term_match(q, t) for c in candidates for t in c.terms)]
    total = sum(weights.values()) or 1.0
    return {
        "score": best.score,
        "dense": best.dense,
        "lexical": best.lexical,
        "gap": best.score - ranked[1].score if len(ranked) > 1 else best.score,
        "coverage": sum(weights[q] for q in held) / total if terms else 0.0,
        "typed_question": 1.0 if expected.wants_span else 0.0,
        "typed": best.typed,
        "vote": groups[0].confidence if groups else 0.0,
        "rank": 1.0 / (1.0 + best.passage_rank),
        "missing_type": 1.0 if expected.wants_span and best.typed <= 0 else 0.0,
        "why": 1.0 if why else 0.0,
    }


def _continuation(
    q_terms: set[str], best: _Sentence, candidates: list[_Sentence], chosen: list[_Sentence]
) -> _Sentence | None:
    """'The meeting also highlighted a broader debate within Iran.' says little beyond
    the question; the sentence after it carries the substance."""
    novel = [t for t in best.terms if not any(_term_match(t, q) for q in q_terms)]
    if len(novel) > 3 or len(chosen) > 1:
        return None
    return next(
        (
            c
            for c in candidates
            if c.passage.id == best.passage.id
            and c.order == best.order + 1
            and c.score >= 0.5 * best.score
        ),
        None,
    )


def _antecedent(best: _Sentence, candidates: list[_Sentence]) -> _Sentence | None:
    """"It is the most endangered of the world's marine mammal species" does not say
    what "it" is: the sentence before it in the passage usually does, and is read
    with it. Only a personal pronoun as the sentence's first word counts ("This
    divide ..." names its subject); nothing is taken from another passage."""
    if not _PRONOUN_OPENING.match(best.text):
        return None
    return next(
        (c for c in candidates
         if c.passage.id == best.passage.id and c.order == best.order - 1),
        None,
    )


def _names_missing(question: str, passages: Sequence[Document]) -> bool:
    """The question names someone or something (a capitalised name past its first word)
    and no passage read mentions any of them: the passages are about something else."""
    names = [
        s.text for s in spans.extract(question)
        if spans.family(s.type) == "name" and s.start > 0 and len(s.text) >= 4
    ]
    text = " ".join(p.page_content for p in passages).lower()
    if any(not _mentioned(w, text) for w in role_words(question)):
        return True  # "Iran's supreme leader" in passages that never say "supreme"
    if not names:
        return False
    raw = " ".join(p.page_content for p in passages)
    return not any(_mentioned(name, text) or _coded(name, raw) for name in names)


def _coded(name: str, text: str) -> bool:
    """The text writes the place by its code ("EU" for Europe, "US"), as a word."""
    return any(re.search(rf"\b{code}\b", text) for code in spans.place_codes(name))


def _mentioned(name: str, text: str) -> bool:
    """A word of the name, allowing other endings ("Israeli" ~ "Israel"), is in text."""
    words = [w for w in re.split(r"[^\w]+", name.lower()) if len(w) >= 3]
    return any(w[: max(4, len(w) - 3)] in text for w in words)


def _typed_neighbour(
    expected: spans.ExpectedType, best: _Sentence, candidates: list[_Sentence],
    chosen: list[_Sentence],
) -> _Sentence | None:
    """When no chosen sentence holds a span of the kind asked for (a place, a date, a
    number), the sentence just before or after the best one often does ("...a forum held
    in Ashgabat..." / "The forum's central focus was the meeting...")."""
    if not expected.wants_span or best.typed >= 0.5:
        return None
    for distance in (1, 2):
        for sentence in candidates:
            if (
                sentence.passage.id == best.passage.id
                and abs(sentence.order - best.order) == distance
                and sentence not in chosen
                and sentence.typed >= 0.5
            ):
                return sentence
    return None


def _type_sentences(
    question: str, expected: spans.ExpectedType, candidates: list[_Sentence],
    weights: dict[str, float],
) -> None:
    """Give every sentence its spans of the expected type not named by the question,
    and how closely the question's words surround the best of them."""
    if not expected.wants_span:
        return
    for sentence in candidates:
        found = spans.sentence_candidates(
            sentence.passage, sentence.passage_rank, sentence.start, sentence.end
        )
        sentence.spans = [
            c for c in found
            if expected.weight(c.type) > 0 and not spans.named_in_question(question, c)
        ]
        sentence.typed = max((expected.weight(c.type) for c in sentence.spans), default=0.0)
        sentence.typed_near = max(
            (expected.weight(c.type) * (0.3 + 0.7 * _surrounded(c, weights))
             for c in sentence.spans),
            default=0.0,
        )


def _answer_order(chosen: list[_Sentence], best: _Sentence) -> list[_Sentence]:
    """The answer opens with the best sentence; sentences next to each other in a
    passage stay together in the order the article tells them, and the rest follow in
    reading order."""
    runs: list[list[_Sentence]] = []
    for sentence in sorted(chosen, key=lambda s: s.order):
        last = runs[-1][-1] if runs else None
        if (last is not None and last.passage is sentence.passage
                and sentence.order == last.order + 1):
            runs[-1].append(sentence)
        else:
            runs.append([sentence])
    runs.sort(key=lambda run: best not in run)  # stable: the rest keep reading order
    return [sentence for run in runs for sentence in run]


def _role_holders(
    question: str, expected: spans.ExpectedType, candidates: list[_Sentence]
) -> dict[int, float] | None:
    """For a role question ("Who is Iran's president?"): each sentence (by position)
    holding a person who holds that role, with how surely (rag.answering.roles). None
    when the question asks no role."""
    if expected.weight(spans.SpanType.PERSON) < 1.0:
        return None
    asked = roles.role_question(question)
    if asked is None:
        return None
    fits = {
        sentence.order: max((roles.holds(asked, c) for c in sentence.spans), default=0.0)
        for sentence in candidates
    }
    return {order: fit for order, fit in fits.items() if fit > 0}


def _surrounded(span: spans.Candidate, weights: dict[str, float]) -> float:
    """The weighted share of the question's terms within six words either side of the
    span: "Iranian President Massoud Pezeshkian" answers "Who is Iran's president?";
    "Vice President Kamala Harris", far from "Iran", less so."""
    before = span.sentence[: span.start].split()[-6:]
    after = span.sentence[span.end:].split()[:6]
    window = content_terms(" ".join(before + after))
    total = sum(weights.values())
    if not total:
        return 0.0
    return sum(w for q, w in weights.items() if any(_term_match(q, t) for t in window)) / total


def _typed_bonus(expected: spans.ExpectedType, sentence: _Sentence) -> float:
    """Prefer a sentence holding a span of the kind asked for over one that only repeats
    the question's words; penalise one with none."""
    if not expected.wants_span:
        return 0.0
    return 0.12 * sentence.typed_near if sentence.typed > 0 else -0.1


def _vote(
    question: str, expected: spans.ExpectedType, candidates: list[_Sentence],
    shortlist: list[_Sentence], weights: dict[str, float],
) -> list[spans.SpanGroup]:
    """Typed spans of all sentences read, voted; a sentence that was not embedded is
    judged by its words, scaled to the embedded sentences' range."""
    if not expected.wants_span:
        return []
    floor = min((s.dense for s in shortlist), default=0.0)
    unscored = [s for s in candidates if s.spans and not s.shortlisted]
    for sentence, overlap in zip(
        unscored, _overlaps(content_terms(question), [s.terms for s in unscored], weights),
        strict=True,
    ):
        sentence.lexical = overlap
    fit: dict[tuple[str, int], float] = {}
    items: list[spans.Candidate] = []
    for sentence in candidates:
        if not sentence.spans:
            continue
        if sentence.shortlisted:
            score = sentence.score
        else:
            prior = 1.0 / (1.0 + 0.15 * sentence.passage_rank)
            score = 0.8 * (0.6 * floor + 0.3 * sentence.lexical + 0.1 * prior)
        for span in sentence.spans:
            fit[(span.chunk_id, span.sentence_start)] = score
            items.append(span)
    return spans.vote(
        question, items, lambda c: fit[(c.chunk_id, c.sentence_start)], expected
    )


def _stating(group: spans.SpanGroup, candidates: list[_Sentence]) -> _Sentence | None:
    """The best-scored sentence holding a mention of the group."""
    where = {(m.chunk_id, m.sentence_start) for m in group.members}
    holding = [
        s for s in candidates
        if (str(s.passage.metadata.get("chunk_id", s.passage.id or "")), s.start) in where
    ]
    return max(holding, key=lambda s: (s.shortlisted, s.score), default=None)


def _telling_sentence(
    weights: dict[str, float], candidates: list[_Sentence], shortlist: list[_Sentence],
    best: _Sentence, chosen: list[_Sentence],
) -> _Sentence | None:
    """The question's most telling word that the answer lacks (the rarest among the
    sentences read: "discussed" once "Putin", "Pezeshkian" and "meeting" are in) should
    be in it: the best sentence holding it joins if it scores 0.4 of the best (RealTime
    QA tune 0.328 -> 0.339 at 0.4 and 0.6 alike; 0.4 also answers "What was discussed at
    the Putin-Pezeshkian meeting?")."""
    held = [q for q in weights if any(_term_match(q, t) for c in candidates for t in c.terms)]
    missing = [q for q in held if not any(_term_match(q, t) for c in chosen for t in c.terms)]
    key = max(missing, key=lambda q: weights[q], default=None)
    if key is None:
        return None
    holding = [
        c for c in shortlist
        if c not in chosen and c.score >= 0.4 * best.score
        and any(_term_match(key, t) for t in c.terms)
    ]
    return max(holding, key=lambda c: c.score, default=None)


def _voted_sentence(
    groups: list[spans.SpanGroup], short: spans.SpanGroup | None, best: _Sentence,
    candidates: list[_Sentence], chosen: list[_Sentence],
) -> _Sentence | None:
    """Below the short answer's confidence, the sentence stating the most voted span when
    no chosen sentence holds it and it is nearly as relevant as the best (0.8 of its
    score; 0.5, 0.65 and 0.8 scored alike on RealTime QA tune, 0.8 adds least)."""
    if not groups or short is not None:
        return None
    stating = _stating(groups[0], candidates)
    if (stating is None or stating in chosen or not stating.shortlisted
            or stating.score < 0.8 * best.score
            or any(_holds_group(c, groups[0]) for c in chosen)):
        return None
    return stating


def _holds_group(sentence: _Sentence, group: spans.SpanGroup) -> bool:
    key = (str(sentence.passage.metadata.get("chunk_id", sentence.passage.id or "")),
           sentence.start)
    return any((m.chunk_id, m.sentence_start) == key for m in group.members)


def _short_answer(
    group: spans.SpanGroup, number: int, chosen: list[_Sentence], numbers: dict[int, int]
) -> ShortAnswer:
    """The short answer with the citations of the chosen sentences that state it."""
    keys = {(m.chunk_id, m.sentence_start) for m in group.members}
    cited = [number] + [
        numbers[id(s)] for s in chosen
        if numbers[id(s)] != number
        and (str(s.passage.metadata.get("chunk_id", s.passage.id or "")), s.start) in keys
    ]
    return ShortAnswer(
        text=group.text, type=group.type.value, confidence=group.confidence,
        citation_ids=cited, outlets=group.outlets,
    )


def _sentence_case(text: str) -> str:
    return text[:1].upper() + text[1:]


# "Who is the president of X?": the head noun (president) names what the answer is;
# a sentence without it answers something else.
_HEAD_NOUN = re.compile(
    r"^\s*(?:who|what)\s+(?:is|was|are|were)\s+(?:the|a|an)\s+(?P<head>[a-z]+)\s+of\b",
    re.I,
)


def _head_noun_penalty(question: str, sentence_terms: list[str]) -> float:
    """"What is the outlook for ...": a sentence without "outlook" is likely not the
    answer. Not "What is the name of ...": a sentence stating a name never says "name"."""
    match = _HEAD_NOUN.match(question)
    if not match:
        return 0.0
    head = content_terms(match.group("head"))
    if not head or head[0] == "name" or any(_term_match(head[0], t) for t in sentence_terms):
        return 0.0
    return -0.15


def _shortlist(
    candidates: list[_Sentence], question_terms: list[str], size: int,
    weights: dict[str, float], also: set[int] = frozenset(),  # type: ignore[assignment]
    typed: int = 0,
) -> list[_Sentence]:
    """Embedding every sentence of every passage is the answerer's main cost: keep the
    sentences sharing most words with the question (and their neighbours, which may
    carry the reason or the place), earlier passages first on ties, those at the
    positions ``also``, and up to ``typed`` more holding a span of the asked type
    (closest to the question's words first): "Most of the damage was in Bangladesh"
    answers "Which country suffered the worst flooding?" without sharing its words.
    ``typed`` 4 chosen on RealTime QA tune (2, 4, 8 and 12 alike, 0.339 -> 0.361; the
    middle of that plateau), docs/benchmarks.md "Answers, this session (2026-12-08 ...)"."""
    if len(candidates) <= size:
        return candidates
    overlap = _overlaps(question_terms, [c.terms for c in candidates], weights)
    order = sorted(
        range(len(candidates)), key=lambda i: (-overlap[i], candidates[i].passage_rank, i)
    )
    keep: set[int] = set(also)
    for i in order:
        if len(keep) >= size:
            break
        for j in (i, i - 1, i + 1):
            if 0 <= j < len(candidates) and candidates[j].passage is candidates[i].passage:
                keep.add(j)
    holding = [i for i, c in enumerate(candidates) if c.typed_near > 0 and i not in keep]
    holding.sort(key=lambda i: (-candidates[i].typed_near - overlap[i], i))
    keep.update(holding[:typed])
    return [candidates[i] for i in sorted(keep)]


def _candidates(passages: Sequence[Document]) -> list[_Sentence]:
    """Every sentence of the passages once (overlapping passages repeat sentences), but
    never one that gives orders to a model: an article's "ANSWER: ..." is not an answer."""
    seen: set[str] = set()
    out: list[_Sentence] = []
    for rank, passage in enumerate(passages):
        planted = set(instruction_spans(passage.page_content))
        for start, end in sentence_spans(passage.page_content):
            if (start, end) in planted:
                continue
            text = passage.page_content[start:end]
            key = " ".join(text.split()).lower()
            if key in seen:
                continue
            terms = content_terms(text)
            if len(terms) < 2:
                continue
            seen.add(key)
            out.append(_Sentence(text, passage, rank, start, end, order=len(out), terms=terms))
    return out


def _similarity(a: _Sentence, b: _Sentence) -> float:
    if a.vector is None or b.vector is None:
        return 0.0
    return float(a.vector @ b.vector)


def _tidy(text: str) -> str:
    """Drop a leading discourse marker that only made sense in the article's flow, and
    write bracketed numbers in full-width brackets so they never read as citations."""
    # "[2]" in an article is the article's footnote, not one of this answer's citations.
    text = defuse_markers(" ".join(text.split()))
    trimmed = _LEAD_IN.sub("", text, count=1)
    if trimmed != text and trimmed:
        trimmed = trimmed[0].upper() + trimmed[1:]
    return trimmed


def abstention(question: str) -> str:
    """The sentence said instead of an answer when the articles do not answer."""
    topic = question.strip().rstrip("?.! ")
    if len(topic) > 160:
        topic = topic[:157].rstrip() + "…"
    return f'{ABSTENTION_OPENING} None of the retrieved passages answers "{topic}".'
