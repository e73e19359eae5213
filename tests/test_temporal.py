"""Temporal words in questions resolve to the right calendar days for the as-of date."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rag.retrieval.temporal import resolve_window

from .conftest import REPO

FRIDAY = dt.date(2026, 2, 27)  # a Friday


@pytest.mark.parametrize(
    ("question", "start", "end", "kind"),
    [
        ("What happened this week?", "2026-02-23", "2026-02-27", "week"),
        ("What happened today in Gaza?", "2026-02-27", "2026-02-27", "day"),
        ("What did the president say yesterday?", "2026-02-26", "2026-02-26", "day"),
        ("Who won the vote last week?", "2026-02-16", "2026-02-22", "week"),
        ("What happened this month in Chile?", "2026-02-01", "2026-02-27", "month"),
        ("What did the minister announce last month?", "2026-01-01", "2026-01-31", "month"),
        ("What was agreed in March?", "2025-03-01", "2025-03-31", "month"),
        ("What changed in 2025?", "2025-01-01", "2025-12-31", "year"),
        ("What did the council decide on Tuesday?", "2026-02-24", "2026-02-24", "day"),
        ("What happened on 12 January?", "2026-01-12", "2026-01-12", "day"),
        ("What happened in the past 3 days?", "2026-02-25", "2026-02-27", "span"),
        ("Who was arrested over the past week?", "2026-02-21", "2026-02-27", "span"),
        ("What is the latest on the port strike?", "2026-02-14", "2026-02-27", "latest"),
        ("What are the most recent figures?", "2026-02-14", "2026-02-27", "latest"),
    ],
)
def test_windows(question: str, start: str, end: str, kind: str) -> None:
    window = resolve_window(question, FRIDAY)
    assert window is not None, question
    assert (window.start, window.end, window.kind) == (start, end, kind)
    assert window.phrase.lower() in question.lower()


@pytest.mark.parametrize(
    "question",
    [
        "Why is Russia withholding S-400s from Iran?",
        "What is the second largest city in Chile?",
        "How many people were rescued?",
        "What happened since the election?",
    ],
)
def test_no_window(question: str) -> None:
    assert resolve_window(question, FRIDAY) is None


def test_depends_on_the_as_of_day() -> None:
    window = resolve_window("What happened this week?", dt.date(2025, 11, 5))
    assert window is not None and (window.start, window.end) == ("2025-11-03", "2025-11-05")


@pytest.mark.parametrize(
    "question",
    [
        "Which country may soon face higher tariffs?",  # a verb, not the month
        "What aircraft made supersonic travel a reality 50 years ago?",  # a duration
        "It has been a year since the arrest. Where is he held?",
        "Where did the 2026 BAFTA awards take place?",  # a year naming an event
        "Which country will host the Winter Games in 2030?",  # the future
        "Which two teams will face off in the Super Bowl on February 8?",
    ],
)
def test_not_a_window(question: str) -> None:
    assert resolve_window(question, FRIDAY) is None


def test_weekday_of_the_as_of_day_is_today() -> None:
    window = resolve_window("Who was arrested on Friday?", FRIDAY)
    assert window is not None and window.start == window.end == "2026-02-27"


# --- the cheap gate before dateparser --------------------------------------------------
_SHARED_QUESTIONS = REPO.parent / "shared" / "benchmarks" / "realtimeqa" / "questions-dev.jsonl"


def _questions() -> list[str]:
    import json

    found = []
    for path in [*sorted((REPO / "evals").glob("*.jsonl")), _SHARED_QUESTIONS]:
        if path.is_file():
            for line in path.open():
                row = json.loads(line) if line.strip() else {}
                found += [row.get("question", "")] + [
                    t.get("question", "") for t in row.get("turns", []) if isinstance(t, dict)
                ]
    return [q for q in found if q]


def test_the_gate_never_hides_a_time_reference_in_any_suite_question() -> None:
    """Only a question the gate lets through is searched by dateparser (the slow part):
    it must let through every question whose search finds a time reference."""
    from rag.retrieval.temporal import _search_dates, may_name_a_time

    questions = _questions()
    assert len(questions) > 200
    for as_of in (dt.date(2025, 3, 9), dt.date(2026, 12, 7)):
        for question in questions:
            if _search_dates(question, as_of, future=False) is not None:
                assert may_name_a_time(question), question


_WORDS = [
    "what", "happened", "this", "last", "week", "month", "year", "on", "in", "the", "2024",
    "2025", "March", "may", "Friday", "today", "yesterday", "S-400", "second", "weekend",
    "days", "ago", "12", "October", "Oct.", "3rd", "since", "election", "team", "sept",
    "tonight", "past", "coming",
]


@given(st.lists(st.sampled_from(_WORDS), min_size=1, max_size=8))
@settings(max_examples=300, deadline=None)
def test_the_gate_never_hides_a_time_reference(words: list[str]) -> None:
    from rag.retrieval.temporal import _search_dates, may_name_a_time

    question = " ".join(words) + "?"
    if _search_dates(question, dt.date(2026, 2, 27), future=False) is not None:
        assert may_name_a_time(question), question


def test_the_gate_stops_questions_without_time_words() -> None:
    from rag.retrieval.temporal import may_name_a_time

    assert not may_name_a_time("Why is Russia withholding S-400s from Iran?")
    assert not may_name_a_time("Who did he meet in Ashgabat?")
    assert may_name_a_time("What happened on 3 March 2025?")
