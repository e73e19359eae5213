"""Plain-text rendering of an Answer for terminals and Markdown exports."""

from __future__ import annotations

from rag.core.schema import Answer


def render_answer(answer: Answer, markdown: bool = False) -> str:
    """The answer, any unsupported-sentence warnings, then the numbered sources."""
    lines = [answer.answer, ""]
    flagged = answer.unsupported
    if flagged:
        lines.append("Unsupported (not backed by the cited passages):")
        lines += [f"  ! {s.text}" for s in flagged]
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
