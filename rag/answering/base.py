"""The answerer interface: turn a question and retrieved passages into a cited Answer.

One abstract method, ``stream``; ``answer`` is built on it. Passages are LangChain
``Document``s whose metadata carry ``article_id``, ``chunk_id``, ``title``, ``source``,
``date``, ``url``, ``start``, ``end`` (offsets of the passage in the article text).
The passage numbered [n] in an answer is ``passages[n - 1]``... as renumbered into
``Answer.citations`` (``Citation.id`` is the n shown in the text).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence

from langchain_core.documents import Document

from rag.core.schema import Answer, Citation

#: A conversation turn: ("human" | "ai", text).
Turn = tuple[str, str]


class Answerer(ABC):
    """Writes the answer. Implementations: grounded (offline, default) and LLM backends."""

    name: str = "answerer"

    @abstractmethod
    def stream(
        self, question: str, passages: Sequence[Document], history: Sequence[Turn] = ()
    ) -> Iterator[str | Answer]:
        """Yield pieces of answer text as they are produced, then the final ``Answer``.

        ``question`` is the standalone question (follow-ups already condensed). The
        final Answer's ``question``/``standalone_question`` are filled by the chain.
        """

    def answer(
        self, question: str, passages: Sequence[Document], history: Sequence[Turn] = ()
    ) -> Answer:
        final: Answer | None = None
        for piece in self.stream(question, passages, history):
            if isinstance(piece, Answer):
                final = piece
        if final is None:
            raise RuntimeError(f"answerer {self.name!r} produced no Answer")
        return final

    def condense(self, question: str, history: Sequence[Turn]) -> str:
        """A standalone version of a follow-up question; the default keeps it as is."""
        return question

    def warm_up(self) -> None:  # noqa: B027 - optional hook, most answerers load nothing
        """Load whatever the first answer would otherwise wait for."""


def cite(
    number: int, passage: Document, start: int, end: int, supported: bool = True
) -> Citation:
    """Citation [number] quoting ``passage.page_content[start:end]``; the quote's article
    offsets come from the passage's ``start`` metadata (-1 when it is unknown)."""
    meta = passage.metadata
    raw = meta.get("start")
    offset = raw if isinstance(raw, int) else -1
    return Citation(
        id=number,
        article_id=str(meta.get("article_id", "")),
        chunk_id=str(meta.get("chunk_id", passage.id or "")),
        title=str(meta.get("title", "")),
        source=str(meta.get("source", "")),
        date=str(meta.get("date", "")),
        url=str(meta.get("url", "")),
        quote=passage.page_content[start:end],
        supported=supported,
        passage=passage.page_content,
        quote_start=offset + start if offset >= 0 else -1,
        quote_end=offset + end if offset >= 0 else -1,
    )
