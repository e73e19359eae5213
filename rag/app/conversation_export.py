"""A conversation as a Markdown document: each question, its answer, and the sources.

Article text and model output are untrusted: ``<`` and ``&`` are written as entities so
a ``<script>`` quoted from an article stays text in any Markdown viewer, while reading
the same as the original.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from rag.answering.base import Turn
from rag.app.render import render_answer
from rag.core.schema import Answer, AnswerSentence, Citation


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
        f"# {_inert(title)}",
        "",
        f"_Exported {moment:%Y-%m-%d %H:%M} UTC · {count} question{'s' if count != 1 else ''}_",
        "",
    ]
    for number, answer in enumerate(answers, start=1):
        lines += [f"## {number}. {_inert(' '.join(answer.question.split()))}", ""]
        if answer.standalone_question and answer.standalone_question != answer.question:
            lines += [f"_Searched as: {_inert(answer.standalone_question)}_", ""]
        if answer.abstained:
            lines += ["_No answer found in the articles._", ""]
        body = render_answer(_inert_answer(answer), markdown=True)
        # render_answer's "## Sources" sits one level below this question's heading.
        body = "\n".join(
            "### Sources" if line == "## Sources" else line for line in body.splitlines()
        )
        lines += [body, ""]
    return "\n".join(lines).rstrip() + "\n"


def export_filename(exported_at: dt.datetime | None = None) -> str:
    moment = (exported_at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    return f"rag-conversation-{moment:%Y%m%d-%H%M%S}.md"


def _inert(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;")


def _inert_answer(answer: Answer) -> Answer:
    return answer.model_copy(
        update={
            "answer": _inert(answer.answer),
            "sentences": [
                AnswerSentence(**{**s.model_dump(), "text": _inert(s.text)})
                for s in answer.sentences
            ],
            "citations": [
                Citation(
                    **{
                        **c.model_dump(),
                        "title": _inert(c.title),
                        "source": _inert(c.source),
                        "url": _inert(c.url),
                        "quote": _inert(c.quote),
                    }
                )
                for c in answer.citations
            ],
        }
    )
