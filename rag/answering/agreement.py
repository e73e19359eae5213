"""Agreement and conflict between sources on the thing a question asks.

The question says what kind of value it wants: "how many" a number (of the noun it names),
"who" a person, "where" a place, "when" a date, "did/was/is ..." yes or no. Each article
the answer draws on (its retrieved passages) gives at most one value: from its sentence
that shares most with the question and holds a value of that kind not already in the
question. Articles whose values differ conflict; articles giving the main value (the one
in the answer's first cited sentence) corroborate it, and their distinct outlets are
counted. The same check runs on any answerer's output: it reads the citations and the
retrieved passages, not the answerer.

Sources disagree only when they report the same story: a conflict needs values of the
type the question asks for (not a fallback guess), from different outlets (an outlet's
later article with another value is a later version of its own report, not a second
source), published within ``SAME_STORY_DAYS`` of each other, and not two names for one
thing ("UK" / "United Kingdom", "NHTSA" / "National Highway Traffic Safety
Administration", "Louvre" / "Paris' Louvre"). On RealTime QA, where the passages read
often come from one outlet's articles about other weeks' events, every alarm the check
raised without these conditions was false (docs/benchmarks.md, "Conflicts on real news").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from langchain_core.documents import Document

from rag.answering import spans
from rag.answering.base import cite
from rag.core.dates import parse_day
from rag.core.schema import (
    Answer,
    AnswerSentence,
    Citation,
    Conflict,
    ConflictValue,
    Corroboration,
)
from rag.core.text import content_terms
from rag.indexing.splitting import sentence_spans

_WH = re.compile(r"\b(how (?:many|much|long|old|far)|what|which|who|whom|whose|where|when)\b", re.I)
_YES_NO = re.compile(r"^\s*(did|does|do|is|was|were|are|has|have|had|will|can)\b", re.I)
_KIND_NAMES = {
    spans.SpanType.PERSON: "person", spans.SpanType.COUNTRY: "place",
    spans.SpanType.CITY: "place", spans.SpanType.PLACE: "place",
    spans.SpanType.ORGANISATION: "name", spans.SpanType.ENTITY: "name",
    spans.SpanType.TITLE: "title",
}
_NEGATION = re.compile(r"\b(not|no|never|n't|neither|nor|without)\b|n't\b", re.I)
# Verbs whose opposite answers a yes/no question the other way.
_OPPOSITES = [
    ("approv", "reject"), ("accept", "reject"), ("accept", "declin"), ("rais", "cut"),
    ("rais", "lower"), ("open", "close"), ("win", "lost"), ("won", "lost"),
    ("confirm", "deni"), ("pass", "fail"), ("increas", "decreas"), ("allow", "ban"),
]
_MIN_OVERLAP = 0.34
#: Reports further apart than this are about different events (or a story's later stage).
SAME_STORY_DAYS = 30
#: A value typed this well for the question can stand in a conflict (fallback guesses,
#: e.g. an organisation for "who" at 0.35, cannot).
_STRONG = 0.6
_MINOR_WORDS = {"of", "and", "the", "for", "de", "du", "la", "&"}


@dataclass
class _Reading:
    """What one article says: its value, in which sentence."""

    article_id: str
    outlet: str
    date: str
    value: str
    key: str  # the value normalised for comparison
    strong: bool  # of the type the question asks for (not a fallback type)
    passage: Document
    start: int
    end: int


def asked_kind(question: str) -> str | None:
    """What the question asks for (typed by rag.answering.spans): person, place, number,
    date, ... or yes/no; None for other questions ("why", "how")."""
    expected = spans.expected_type(question)
    if expected.wants_span:
        top = max(expected.types, key=lambda t: expected.types[t])
        return _KIND_NAMES.get(top, spans.family(top))
    if _YES_NO.search(question):
        return "yes/no"
    return None


def check(question: str, answer: Answer, passages: Sequence[Document]) -> Answer:
    """The answer with ``conflicts``, ``corroboration`` and, when sources disagree, the
    sentence saying so (its citations added to the answer's)."""
    kind = asked_kind(question)
    if kind is None or answer.abstained or not answer.citations:
        return answer
    readings = _readings(kind, question, answer, passages)
    if not readings:
        return answer
    main = _main_key(answer, readings)
    agreeing = [r for r in readings if r.key == main]
    cited = {c.article_id: c.id for c in answer.citations}
    update: dict[str, object] = {}
    if agreeing:
        update["corroboration"] = Corroboration(
            outlets=list(dict.fromkeys(r.outlet or r.article_id for r in agreeing)),
            citation_ids=sorted({cited[r.article_id] for r in agreeing if r.article_id in cited}),
            claim=agreeing[0].value,
        )
    rivals = _rivals(agreeing, readings, main)
    if rivals:
        sides = {main: agreeing}
        for reading in rivals:
            sides.setdefault(reading.key, []).append(reading)
        shown = [r for group in sides.values() for r in group]
        citations = list(answer.citations)
        ids = {r.article_id: _citation_for(r, citations) for r in shown}
        conflict = Conflict(kind=kind, values=_sides(sides, ids))
        from rag.answering.news import conflict_sentence

        text = conflict_sentence(answer.model_copy(update={"conflicts": [conflict]}))
        numbers = [i for value in conflict.values for i in value.citation_ids]
        update |= {
            "citations": citations,
            "conflicts": [conflict],
            "answer": f"{answer.answer} {text}",
            "sentences": [*answer.sentences, AnswerSentence(text=text, citation_ids=numbers)],
        }
    return answer.model_copy(update=update)


def conflicting_pairs(items: Sequence[tuple[int, str, str]]) -> list[tuple[int, int]]:
    """(id, id) pairs of sentences from different outlets that give different values of
    the same kind next to the same words (for the timeline): e.g. '41 people died' and
    '29 people died'."""
    found: list[tuple[int, int]] = []
    for i, (a_id, a_text, a_outlet) in enumerate(items):
        for b_id, b_text, b_outlet in items[i + 1 :]:
            if a_outlet == b_outlet:
                continue
            if _disagree(a_text, b_text):
                found.append((a_id, b_id))
    return found


# --- reading values ----------------------------------------------------------------------
def _readings(
    kind: str, question: str, answer: Answer, passages: Sequence[Document]
) -> list[_Reading]:
    # What the question is about, without its question words ("how many" is no topic).
    q_terms = set(content_terms(_WH.sub(" ", question)))
    unit = _unit(question) if kind == "number" else ""
    cited = {c.article_id: c for c in answer.citations}
    by_article: dict[str, list[Document]] = {}
    for passage in passages:
        by_article.setdefault(str(passage.metadata.get("article_id", passage.id)), []).append(
            passage
        )
    readings = []
    for article_id, docs in by_article.items():
        best: tuple[float, _Reading] | None = None
        for passage in docs:
            for start, end in sentence_spans(passage.page_content):
                sentence = passage.page_content[start:end]
                overlap = _overlap(q_terms, sentence)
                if overlap < _MIN_OVERLAP:
                    continue
                value = _value(kind, sentence, question, unit)
                if value is None:
                    continue
                citation = cited.get(article_id)
                bonus = 0.5 if citation is not None and citation.quote.strip() in sentence else 0
                score = overlap + bonus
                if best is None or score > best[0]:
                    meta = passage.metadata
                    best = (score, _Reading(
                        article_id, str(meta.get("source") or ""), str(meta.get("date") or ""),
                        value[0], value[1], value[2], passage, start, end,
                    ))
        if best is not None:
            readings.append(best[1])
    return readings


def _overlap(q_terms: set[str], sentence: str) -> float:
    if not q_terms:
        return 0.0
    terms = set(content_terms(sentence))
    return len(q_terms & terms) / len(q_terms)


def _unit(question: str) -> str:
    """The noun a 'how many' question counts ('people' in 'How many people died?')."""
    if re.search(r"\b(percentage|percent)\b", question, re.I):
        return "percent"
    match = re.search(r"\bhow (?:many|much)\s+(?:\w+\s+)?(\w+)", question, re.I)
    if not match:
        return ""
    words = re.findall(r"\w+", question[match.start():])[2:4]
    terms = [t for w in words for t in content_terms(w)]
    return terms[0] if terms else ""


def _value(
    kind: str, sentence: str, question: str, unit: str
) -> tuple[str, str, bool] | None:
    """(value as written, comparison key, of the asked type itself) of the type asked, not
    named in the question:
    the span rag.answering.spans types best for the question (a number must count what
    the question counts: '41 people', not '212 passengers')."""
    if kind == "yes/no":
        polarity = _polarity(sentence, question)
        return (*polarity, True) if polarity else None
    expected = spans.expected_type(question)
    best: tuple[float, str, str, bool] | None = None
    for span in spans.extract(sentence):
        weight = expected.weight(span.type)
        number = spans.family(span.type) == "number"
        # A count names what it counts ("40 container ships"): only its figure must be new.
        figure = re.match(r"[\d.,]+", span.text) if number else None
        named = (
            figure.group(0) in question if figure
            else spans.named_in_question(question, span.text)
        )
        if weight < 0.5 or named:
            continue
        if number and unit:
            after = content_terms(sentence[span.start : span.end + 40])[:4]
            if not any(t.startswith(unit[:4]) or unit.startswith(t) for t in after):
                continue
        key = span.key
        if spans.family(span.type) == "name":
            key = key.split()[-1] if key.split() else key  # "Putin" ~ "Vladimir Putin"
        if best is None or weight > best[0]:
            strong = weight >= _STRONG and not _capital(
                span.type, span.start, span.text, sentence
            )
            best = (weight, span.text, key, strong)
    return (best[1], best[2], best[3]) if best else None


def _capital(span_type: spans.SpanType, start: int, text: str, sentence: str) -> bool:
    """An unknown one-word name opening the sentence: a capital letter, not a name
    ("Let", "Week", "Funeral")."""
    lead = len(sentence) - len(sentence.lstrip(" \t\n\"“'‘("))
    return span_type == spans.SpanType.ENTITY and start <= lead and " " not in text


def _polarity(sentence: str, question: str) -> tuple[str, str] | None:
    """('yes'|'no', key) for a sentence about the question's verb; None when off topic."""
    q_stems = content_terms(question)
    s_stems = content_terms(sentence)
    verb_hit = False
    flipped = False
    for q in q_stems:
        for s in s_stems:
            if s.startswith(q[:4]) or q.startswith(s[:4]):
                verb_hit = True
            for a, b in _OPPOSITES:
                if (q.startswith(a) and s.startswith(b)) or (q.startswith(b) and s.startswith(a)):
                    flipped = True
    if not (verb_hit or flipped):
        return None
    negative = bool(_NEGATION.search(sentence)) != flipped
    return ("no", "no") if negative else ("yes", "yes")


def _disagree(a: str, b: str) -> bool:
    """Two sentences giving different numbers next to the same noun."""
    a_counts = _counted(a)
    b_counts = _counted(b)
    return any(noun in b_counts and b_counts[noun] != value for noun, value in a_counts.items())


def _counted(sentence: str) -> dict[str, str]:
    found = {}
    for match in re.finditer(r"(?<![\w.])(\d[\d,]*(?:\.\d+)?)\s+(\w+)", sentence):
        noun = content_terms(match.group(2))
        if noun and not re.match(r"(19|20)\d\d$", match.group(1)):
            found[noun[0]] = match.group(1).replace(",", "")
    return found


# --- which readings disagree with the answer -------------------------------------------------
def _rivals(agreeing: list[_Reading], readings: list[_Reading], main: str) -> list[_Reading]:
    """Readings that contradict the answer's value: same story, another outlet, a value of
    the asked type that is not another name for the answer's."""
    mains = [r for r in agreeing if r.strong]
    return [
        r for r in readings
        if r.key != main and r.strong
        and not any(_same_thing(r.value, m.value) for m in mains)
        and any(_same_story(r, m) for m in mains)
    ]


def _same_story(a: _Reading, b: _Reading) -> bool:
    """Two reports that can disagree: other outlets (or, without outlets, other articles),
    published within SAME_STORY_DAYS of each other when both are dated."""
    if a.article_id == b.article_id or (a.outlet and a.outlet.lower() == b.outlet.lower()):
        return False
    days = [parse_day(a.date), parse_day(b.date)]
    if days[0] is None or days[1] is None:
        return True
    return abs((days[0] - days[1]).days) <= SAME_STORY_DAYS


def _same_thing(a: str, b: str) -> bool:
    """Two names for one thing: the words of one inside the other ("Louvre", "Paris'
    Louvre"; "Ford", "Ford Motor Co"), or an acronym of the other ("UK", "United
    Kingdom"; "NHTSA")."""
    words_a, words_b = _words(a), _words(b)
    if not words_a or not words_b:
        return False
    short, long = sorted((words_a, words_b), key=len)
    if set(short) <= set(long):
        return True
    acronym = "".join(w[0] for w in long if w not in _MINOR_WORDS)
    return len(short) == 1 and len(short[0]) >= 2 and short[0] == acronym


def _words(value: str) -> list[str]:
    return [w.lower().removesuffix("'s").removesuffix("’s") for w in re.findall(r"[\w'’]+", value)]


# --- assembling ----------------------------------------------------------------------------
def _main_key(answer: Answer, readings: list[_Reading]) -> str:
    """The value the answer leads with: that of the article its first sentence cites."""
    by_id = {c.id: c for c in answer.citations}
    for sentence in answer.sentences:
        for number in sentence.citation_ids:
            citation = by_id.get(number)
            if citation is None:
                continue
            for reading in readings:
                if reading.article_id == citation.article_id:
                    return reading.key
    return readings[0].key


def _citation_for(reading: _Reading, citations: list[Citation]) -> int:
    """The citation number of the reading's article, adding one quoting its sentence."""
    for citation in citations:
        if citation.article_id == reading.article_id:
            return citation.id
    number = max((c.id for c in citations), default=0) + 1
    citations.append(cite(number, reading.passage, reading.start, reading.end))
    return number


def _sides(groups: dict[str, list[_Reading]], ids: dict[str, int]) -> list[ConflictValue]:
    """One side per value, newest report first."""
    sides = []
    for readings in groups.values():
        readings = sorted(readings, key=lambda r: r.date, reverse=True)
        sides.append(ConflictValue(
            value=readings[0].value,
            citation_ids=sorted({ids[r.article_id] for r in readings}),
            outlets=[r.outlet for r in readings],
            dates=[r.date for r in readings],
        ))
    return sorted(sides, key=lambda s: max(s.dates, default=""), reverse=True)
