"""Temporal words in a question, resolved against the day it is asked into a date window.

"What happened this week?" asked as of Fri 27 Feb 2026 asks about Mon 23 - Fri 27 Feb.
dateparser finds the date expressions and says what period each names (day, week, month,
year); this module turns the period into calendar days and clips it at the as-of day
(nothing published later could have been read then). "latest"/"most recent" ask for the
newest news: a soft window of the last ``latest_days`` before the as-of day.
Rolling spans ("the past 3 days", "the last two weeks") count back from the as-of day.
References to events ("since the election") are out of scope.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from typing import Any

from rag.core.dates import parse_day
from rag.core.schema import DateWindow


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# A match must hold one of these to be a time reference: dateparser also reads "S-400s"
# or "second" as times, which no news question means.
_TIME_WORDS = _words(
    "today yesterday tonight week weeks month months year years day days weekend monday "
    "tuesday wednesday thursday friday saturday sunday january february march april may "
    "june july august september october november december jan feb mar apr jun jul aug sep "
    "sept oct nov dec"
)
_MONTH_WORDS = _words(
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec"
)
_UNITS = _words("day days week weeks month months year years weekend")
_DEICTIC = _words("this last next past previous coming today yesterday tonight")
_GLUE = _words("in on at of the a an about after before by for from to and with")
_WEEKDAY = re.compile(r"\b(mon|tues|wednes|thurs|fri|satur|sun)day\b", re.I)
# Future tense: "on February 8" in "Who will play on February 8?" is the coming one.
_FUTURE = re.compile(r"\b(will|shall|going to|upcoming|scheduled|set to|next)\b", re.I)
_LATEST = re.compile(r"\b(latest|most recent|newest)\b", re.I)
_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "few": 3, "couple of": 2,
}
_ROLLING = re.compile(
    r"\b(?:in |over |during |for )?the (?:past|last|previous) "
    r"(?:(?P<count>\d+|" + "|".join(_NUMBER_WORDS) + r") )?(?P<unit>day|week|month|year)s?\b",
    re.I,
)
_UNIT_DAYS = {"day": 1, "week": 7, "month": 30, "year": 365}
_local = threading.local()


def resolve_window(question: str, as_of: dt.date, latest_days: int = 14) -> DateWindow | None:
    """The window the question's temporal words name, or None when it names none."""
    rolling = _ROLLING.search(question)
    if rolling:
        count_text = (rolling.group("count") or "1").lower()
        count = int(count_text) if count_text.isdigit() else _NUMBER_WORDS.get(count_text, 1)
        days = count * _UNIT_DAYS[rolling.group("unit").lower()]
        return _window(as_of - dt.timedelta(days=days - 1), as_of, as_of, rolling.group(0), "span")
    found = _search(question, as_of, future=_FUTURE.search(question) is not None)
    if found is not None:
        phrase, day, period = found
        start, end = _period(day, period)
        if start > as_of:
            return None  # about what is to come: the news about it is older, not newer
        return _window(start, end, as_of, phrase, period)
    latest = _LATEST.search(question)
    if latest:
        start = as_of - dt.timedelta(days=max(latest_days, 1) - 1)
        return _window(start, as_of, as_of, latest.group(0), "latest")
    return None


def _window(
    start: dt.date, end: dt.date, as_of: dt.date, phrase: str, kind: str
) -> DateWindow:
    if start <= as_of < end:
        end = as_of  # the rest of this week/month has not happened yet
    return DateWindow(
        start=start.isoformat(), end=end.isoformat(), phrase=phrase.strip(), kind=kind
    )


def _parser(as_of: dt.date, future: bool = False) -> Any:
    from dateparser.date import DateDataParser

    cache = getattr(_local, "parsers", None)
    if cache is None:
        cache = _local.parsers = {}
    parser = cache.get((as_of, future))
    if parser is None:
        if len(cache) > 64:
            cache.clear()
        parser = cache[(as_of, future)] = DateDataParser(
            languages=["en"],
            settings={
                "RELATIVE_BASE": dt.datetime.combine(as_of, dt.time()),
                "PREFER_DATES_FROM": "future" if future else "past",
                "RETURN_TIME_AS_PERIOD": True,
            },
        )
    return parser


def may_name_a_time(question: str) -> bool:
    """Whether the question holds a word every time reference needs (``_TIME_WORDS``) or a
    year: a match without one is no time reference (``_is_time_reference``), so the
    question need not be searched. dateparser's search was ~5 ms of every question."""
    words = set(re.findall(r"[a-z]+", question.lower()))
    return bool(words & _TIME_WORDS) or re.search(r"(19|20)\d\d", question) is not None


def _search(question: str, as_of: dt.date, future: bool) -> tuple[str, dt.date, str] | None:
    """(phrase, a day in the period, period) of the first time reference in the question."""
    return _search_dates(question, as_of, future) if may_name_a_time(question) else None


def _search_dates(
    question: str, as_of: dt.date, future: bool
) -> tuple[str, dt.date, str] | None:
    """``_search`` without the gate: dateparser reads the whole question."""
    from dateparser.search import search_dates

    base = dt.datetime.combine(as_of, dt.time())
    hits = search_dates(
        question,
        languages=["en"],
        settings={
            "RELATIVE_BASE": base,
            "PREFER_DATES_FROM": "future" if future else "past",
            "RETURN_TIME_AS_PERIOD": True,
        },
    )
    for phrase, _ in hits or []:
        phrase = _trim(phrase)
        if not _is_time_reference(phrase):
            continue
        data = _parser(as_of, future).get_date_data(phrase)
        day = parse_day(data.date_obj) if data.date_obj else None
        if day is not None and data.period in {"day", "week", "month", "year"}:
            if data.period == "day" and _WEEKDAY.search(phrase) and (as_of - day).days == 7:
                day = as_of  # "on Thursday" asked on a Thursday means today
            return phrase, day, str(data.period)
    return None


def _trim(phrase: str) -> str:
    """Drop the words dateparser swallows around the date ('this week in' -> 'this week')."""
    words = phrase.split()
    while words and words[-1].lower().strip(",.;") in _GLUE:
        words.pop()
    return " ".join(words).strip(" ,.;")


def _is_time_reference(phrase: str) -> bool:
    """A date the question is about, not a duration ('50 years ago', 'a year since'), a
    modal verb ('may soon'), or a year used as a name ('the 2026 Games')."""
    words = re.findall(r"[A-Za-z]+", phrase)
    lower = {w.lower() for w in words}
    if "ago" in lower:
        return False
    months = [w for w in words if w.lower() in _MONTH_WORDS]
    if any(not w[0].isupper() for w in months):
        return False  # "may", "march" as verbs; month names are capitalised
    if lower & _UNITS and not lower & _DEICTIC:
        return False
    if re.search(r"\b(19|20)\d\d\b", phrase) and not months:
        return re.search(r"\b(?:in|during|throughout)\s+(19|20)\d\d\b", phrase, re.I) is not None
    return bool(lower & _TIME_WORDS)


def _period(day: dt.date, period: str) -> tuple[dt.date, dt.date]:
    """The calendar days of the day/week (Monday-Sunday)/month/year holding ``day``."""
    if period == "week":
        start = day - dt.timedelta(days=day.weekday())
        return start, start + dt.timedelta(days=6)
    if period == "month":
        start = day.replace(day=1)
        following = (start + dt.timedelta(days=32)).replace(day=1)
        return start, following - dt.timedelta(days=1)
    if period == "year":
        return day.replace(month=1, day=1), day.replace(month=12, day=31)
    return day, day


def strip_window(question: str, window: DateWindow | None) -> str:
    """The question without its temporal words ('Which chain filed for bankruptcy this
    week?' -> 'Which chain filed for bankruptcy?'): the window already says when, and
    the words would only dilute what the question is about."""
    if window is None or not window.phrase:
        return question
    lead = r"(?:\b(?:in|on|during|over|for|from|at|of|since)\s+)?(?:\bthe\s+)?"
    pattern = re.compile(lead + re.escape(window.phrase), re.I)
    stripped = " ".join(pattern.sub(" ", question, count=1).split())
    stripped = re.sub(r"\s+([?.!,;])", r"\1", stripped)
    return stripped if any(ch.isalnum() for ch in stripped) else question
