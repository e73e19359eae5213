"""A conversation as a Markdown document: each question, its answer, and the sources.

Every field comes from outside (questions, model output, article titles, outlets, dates,
URLs, quotes) and is written so that it renders as itself: no field can open a heading,
list, quote or table of its own (line breaks inside one-line fields become spaces; a
Markdown block marker at the start of a line is escaped), and no link, image, emphasis,
code or math is made from it (their characters are backslash-escaped; ``<`` and ``&``
are written as entities, so a ``<script>`` or ``<img>`` quoted from an article stays
text in any viewer). A web URL becomes an autolink with its Markdown characters
percent-encoded; any other URL is plain text.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from rag.app.render import render_answer
from rag.core.schema import Answer, Turn
from rag.core.urls import safe_url


def chat_history(answers: Sequence[Answer]) -> list[Turn]:
    """The chain's ``chat_history`` for a conversation so far."""
    turns: list[Turn] = []
    for answer in answers:
        turns += [("human", answer.question), ("ai", answer.answer)]
    return turns


def export_markdown(
    answers: Sequence[Answer],
    *,
    title: str = "Conversation",
    exported_at: dt.datetime | None = None,
) -> str:
    """The whole conversation as Markdown, sources under each answer."""
    moment = (exported_at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    count = len(answers)
    lines = [
        f"# {_inline(title)}",
        "",
        f"_Exported {moment:%Y-%m-%d %H:%M} UTC · {count} question{'s' if count != 1 else ''}_",
        "",
    ]
    for number, answer in enumerate(answers, start=1):
        lines += [_answer_section(answer, f"## {number}. "), ""]
    return "\n".join(lines).rstrip() + "\n"


def answer_markdown(answer: Answer) -> str:
    """One question and its answer with the sources, as Markdown (the UI's Copy)."""
    return _answer_section(answer, "## ")


def _answer_section(answer: Answer, heading: str) -> str:
    lines = [f"{heading}{_inline(answer.question)}", ""]
    if answer.standalone_question and answer.standalone_question != answer.question:
        lines += [f"_Searched as: {_inline(answer.standalone_question)}_", ""]
    if answer.abstained:
        lines += ["_No answer found in the articles._", ""]
    body = render_answer(_inert_answer(answer), markdown=True)
    # render_answer's "## Sources" sits one level below this question's heading.
    body = "\n".join(
        "### Sources" if line == "## Sources" else line for line in body.splitlines()
    )
    lines.append(body)
    return "\n".join(lines).rstrip() + "\n"


def export_filename(exported_at: dt.datetime | None = None) -> str:
    moment = (exported_at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    return f"rag-conversation-{moment:%Y%m%d-%H%M%S}.md"


# Characters that make links, images, emphasis, code, tables, math or headings inline.
_INLINE = re.compile(r"([\\`*_\[\]!|~#$])")
# What opens a block at the start of a line: quote, list, heading underline, numbered item.
_BLOCK_START = re.compile(r"^(\s*|\s*\d{1,9}(?=[.)]))([>+=-]|(?<=\d)[.)])")
# Characters with a meaning in an autolink or around it.
_URL_UNSAFE = "<>[]()!\"'\\ `*_"


def _text(text: str) -> str:
    """Untrusted text, inline: Markdown characters escaped, ``&`` and ``<`` as entities."""
    text = text.replace("&", "&amp;").replace("<", "&lt;")
    return _INLINE.sub(r"\\\1", text)


def _inline(text: str) -> str:
    """A one-line field: every line break (also \\u2028 and friends) becomes a space."""
    return _BLOCK_START.sub(r"\1\\\2", _text(" ".join(text.split())))


def _lines(text: str) -> str:
    """A multi-line field (an answer): each line escaped, none opens a block."""
    lines = (_BLOCK_START.sub(r"\1\\\2", _text(line.strip())) for line in text.splitlines())
    return "\n".join(lines)


def _url(url: str) -> str:
    web = safe_url(url)
    if web is None:
        return _inline(url)
    return "<" + "".join(quote(ch, safe="") if ch in _URL_UNSAFE else ch for ch in web) + ">"


def _inert_answer(answer: Answer) -> Answer:
    """The answer with every text field escaped: the answer text line by line, URLs as
    autolinks, and every other string (sentences, outlets, conflicts, corroboration,
    titles, quotes, notes, fields added later) as one line of text."""
    escaped = _escaped(answer.model_dump())
    escaped["answer"] = _lines(answer.answer)
    return Answer.model_validate(escaped)


def _escaped(value: Any, key: str = "") -> Any:
    if isinstance(value, str):
        return _url(value) if key == "url" else _inline(value)
    if isinstance(value, dict):
        return {k: _escaped(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_escaped(v, key) for v in value]
    return value
