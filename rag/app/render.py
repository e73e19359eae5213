"""Plain-text rendering of an Answer for terminals and Markdown exports.

A news answer says when it was asked ("As of 27 Feb 2026"), which days its temporal
words meant, the outlet and date of every cited sentence, where sources disagree, how
many outlets report it, and how old the newest source is.
"""

from __future__ import annotations

import textwrap

from rag.answering.news import cited_with_sources, conflict_sentence, describe_window
from rag.answering.timeline import Timeline
from rag.core.dates import pretty_day, pretty_span
from rag.core.schema import Answer


def dating_line(answer: Answer) -> str:
    """'As of 27 Feb 2026 · this week: 23–27 Feb 2026' ('' when the answer has no date)."""
    if not answer.as_of:
        return ""
    line = f"As of {pretty_day(answer.as_of)}"
    if answer.window is not None:
        line += f" · {describe_window(answer.window)}"
    return line


def answer_body(answer: Answer) -> list[str]:
    """The answer's sentences, each with its outlets and dates, then the notes."""
    rows = cited_with_sources(answer)
    if answer.abstained or not any(label for _, label in rows):
        return [answer.answer]
    lines = [f"{text} ({label})" if label else text for text, label in rows]
    stated = conflict_sentence(answer)
    if any(text == stated for text, _ in rows):
        stated = ""  # the answer already says it in its own sentence
    extra = [stated, corroboration_line(answer), answer.staleness, after_note(answer)]
    return lines + [x for x in extra if x]


def after_note(answer: Answer) -> str:
    """'Published after the question date (10 Nov 2026): [1] Bay Courier, 20 Nov 2026.'
    for cited articles from after ``as_of`` ('' when there are none)."""
    if not answer.as_of or answer.abstained:
        return ""
    later: dict[str, list[int]] = {}  # one entry per article: "[1][2] Bay Courier, ..."
    for c in answer.citations:
        if c.date and c.date[:10] > answer.as_of[:10]:
            label = ", ".join(x for x in (c.source, pretty_day(c.date)) if x)
            later.setdefault(f"{c.article_id}\0{label}", []).append(c.id)
    if not later:
        return ""
    parts = ["".join(f"[{i}]" for i in ids) + " " + key.split("\0", 1)[1]
             for key, ids in later.items()]
    return f"Published after the question date ({pretty_day(answer.as_of)}): {'; '.join(parts)}."


def corroboration_line(answer: Answer) -> str:
    """"Reported by N outlets" for two or more agreeing outlets; nothing when the sources
    disagree (the conflict sentence says who says what), as in the UI."""
    found = answer.corroboration
    if found is None or found.count < 2 or answer.conflicts:
        return ""
    return f"Reported by {found.count} outlets: {', '.join(found.outlets)}."


def render_answer(answer: Answer, markdown: bool = False) -> str:
    """The answer, any unsupported-sentence warnings, then the numbered sources."""
    dated = dating_line(answer)
    lines = ([f"_{dated}_" if markdown else dated, ""] if dated else []) + answer_body(answer)
    lines.append("")
    flagged = answer.unsupported
    if flagged:
        lines.append("Unsupported (not backed by the cited passages):")
        lines += [
            f"  ! {s.text}"
            + (" (repeats an instruction planted in a cited article)" if s.planted else "")
            for s in flagged
        ]
        lines.append("")
    if answer.citations:
        lines.append("## Sources" if markdown else "Sources:")
        for c in answer.citations:
            meta = ", ".join(x for x in (c.source, c.date) if x)
            head = f"[{c.id}] {c.title}" + (f" ({meta})" if meta else "")
            lines.append(f"- {head}" if markdown else head)
            if c.url:
                lines.append(f"    {c.url}")
            quote = c.quote.replace("\n", " ")
            lines.append(f"    > {quote}" if markdown else f'    "{quote}"')
    return "\n".join(lines).rstrip() + "\n"


def wrap_lines(text: str, width: int) -> str:
    """Each line wrapped at word boundaries to ``width`` columns, continuation lines
    indented like the line they continue (a word longer than a line is left whole)."""
    out: list[str] = []
    for line in text.splitlines():
        indent = line[: len(line) - len(line.lstrip())]
        if len(line) <= width or not line.strip():
            out.append(line)
            continue
        hang = "  " if line.lstrip().startswith(("[", '"', "-")) else ""
        out += textwrap.wrap(
            line, width=max(width, len(indent) + 20), subsequent_indent=indent + hang,
            break_long_words=False, break_on_hyphens=False,
        )
    return "\n".join(out) + ("\n" if text.endswith("\n") else "")


def render_timeline(timeline: Timeline, markdown: bool = False) -> str:
    """Days oldest first, each article's key sentence cited, then the sources."""
    span = pretty_span(timeline.date_from, timeline.date_to) if timeline.date_from else (
        f"up to {pretty_day(timeline.date_to)}"
    )
    lines = [f"Timeline: {timeline.query} ({span}; as of {pretty_day(timeline.as_of)})", ""]
    if not timeline.days:
        lines.append("No indexed article matches it in these dates.")
    for group in timeline.days:
        lines.append(f"## {pretty_day(group.date) if group.date else 'Undated'}"
                     if markdown else (pretty_day(group.date) if group.date else "Undated"))
        for entry in group.entries:
            marks = []
            if entry.versions:
                marks.append(f"{len(entry.versions) + 1} versions")
            if entry.conflicts_with:
                others = ", ".join(f"[{n}]" for n in entry.conflicts_with)
                marks.append(f"disagrees with {others}")
            tail = f" ({'; '.join(marks)})" if marks else ""
            outlet = f" — {entry.outlet}" if entry.outlet else ""
            lines.append(f"  [{entry.citation.id}] {entry.sentence}{outlet}{tail}")
        lines.append("")
    entries = timeline.entries
    if entries:
        lines.append("Sources:")
        for entry in sorted(entries, key=lambda e: e.citation.id):
            meta = ", ".join(x for x in (entry.outlet, entry.date) if x)
            lines.append(f"[{entry.citation.id}] {entry.title}" + (f" ({meta})" if meta else ""))
            if entry.citation.url:
                lines.append(f"    {entry.citation.url}")
    return "\n".join(lines).rstrip() + "\n"
