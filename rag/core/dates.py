"""Calendar days as news readers see them: ISO strings in, "24 Feb 2026" out.

Shared by the temporal resolver, the staleness note, the renderers and the timeline.
"""

from __future__ import annotations

import datetime as dt


def parse_day(value: str | dt.date | None) -> dt.date | None:
    """The day of an ISO date or datetime string (None when empty or not a date)."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def pretty_day(value: str | dt.date) -> str:
    """'2026-02-24' -> '24 Feb 2026' (the input back when it is not a date)."""
    day = parse_day(value)
    if day is None:
        return str(value)
    return f"{day.day} {day:%b %Y}"


def pretty_span(start: str | dt.date, end: str | dt.date) -> str:
    """'23-27 Feb 2026', '28 Feb - 3 Mar 2026', or one day."""
    first, last = parse_day(start), parse_day(end)
    if first is None or last is None:
        return f"{start} - {end}"
    if first == last:
        return pretty_day(first)
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}–{last.day} {last:%b %Y}"
    if first.year == last.year:
        return f"{first.day} {first:%b} – {last.day} {last:%b %Y}"
    return f"{pretty_day(first)} – {pretty_day(last)}"


def gap_words(days: int) -> str:
    """A distance in days as a reader says it: '12 days', '5 months', '2 years'."""
    if days < 60:
        return f"{days} day" + ("" if days == 1 else "s")
    if days < 730:
        months = round(days / 30.44)
        return f"{months} months"
    return f"{round(days / 365.25)} years"
