"""The answerer interface: turn a question and retrieved passages into a cited Answer.

One abstract method, ``write``: a generator that yields pieces of answer text and
*returns* the final Answer. Callers never see that protocol: ``stream`` wraps it in an
:class:`AnswerStream` (iterate for the text, then ``.answer()`` for the Answer, like a
simonw/llm Response) and ``answer`` drains one. ``condense`` (a standalone version of a
follow-up) belongs to the answerer too: rule-based here, LLM backends ask their model.

Passages are LangChain
``Document``s whose metadata carry ``article_id``, ``chunk_id``, ``title``, ``source``,
``date``, ``url``, ``start``, ``end`` (offsets of the passage in the article text).
The passage numbered [n] in an answer is ``passages[n - 1]``... as renumbered into
``Answer.citations`` (``Citation.id`` is the n shown in the text).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Generator, Iterator, Sequence

from langchain_core.documents import Document

from rag.answering.conversation import condense_question
from rag.core.schema import Answer, Citation, Turn

__all__ = ["AnswerStream", "Answerer", "Turn", "Writing", "cite"]

#: What ``Answerer.write`` is: yields text pieces, returns the Answer.
Writing = Generator[str, None, Answer]


class AnswerStream(Iterator[str]):
    """An answer being written: iterate for its text pieces, then call ``answer()``.

    ``answer()`` drains whatever was not read yet, so it also works on its own. ``text``
    holds the pieces read so far.
    """

    def __init__(self, writing: Writing, source: str = "answerer") -> None:
        self._writing = writing
        self._source = source
        self._answer: Answer | None = None
        self.text = ""

    def __iter__(self) -> AnswerStream:
        return self

    def __next__(self) -> str:
        if self._answer is not None:
            raise StopIteration
        try:
            piece = next(self._writing)
        except StopIteration as done:
            if not isinstance(done.value, Answer):
                raise RuntimeError(f"{self._source} produced no Answer") from None
            self._answer = done.value
            raise StopIteration from None
        self.text += piece
        return piece

    def answer(self) -> Answer:
        """The final Answer (reads the rest of the text first)."""
        for _ in self:
            pass
        assert self._answer is not None
        return self._answer


class Answerer(ABC):
    """Writes the answer. Implementations: grounded (offline, default) and LLM backends."""

    name: str = "answerer"

    @abstractmethod
    def write(
        self, question: str, passages: Sequence[Document], history: Sequence[Turn] = ()
    ) -> Writing:
        """Yield pieces of answer text as they are produced; return the final ``Answer``.

        ``question`` is the standalone question (follow-ups already condensed). The
        final Answer's ``question``/``standalone_question`` are filled by the chain.
        """

    def stream(
        self, question: str, passages: Sequence[Document], history: Sequence[Turn] = ()
    ) -> AnswerStream:
        """The answer as it is written: iterate for text, then ``.answer()``."""
        return AnswerStream(self.write(question, passages, history), f"answerer {self.name!r}")

    def answer(
        self, question: str, passages: Sequence[Document], history: Sequence[Turn] = ()
    ) -> Answer:
        return self.stream(question, passages, history).answer()

    def answer_score(self, question: str, passages: Sequence[Document]) -> float | None:
        """How well these passages answer the question (0: not at all), when the
        answerer can tell without writing (None: it cannot; an LLM would be asked)."""
        return None

    def condense(self, question: str, history: Sequence[Turn]) -> str:
        """A standalone version of a follow-up question (pronouns resolved by rules from
        the previous turn); LLM answerers ask their model instead."""
        if not history:
            return question
        return condense_question(question, list(history))

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


def check_parameters(
    counts: dict[str, int] | None = None, fractions: dict[str, float] | None = None
) -> None:
    """ValueError naming the first parameter out of range: counts must be >= 1, fractions
    within 0..1 (answerers' constructors validate with it)."""
    for name, count in (counts or {}).items():
        if count < 1:
            raise ValueError(f"{name} must be >= 1, got {count}")
    for name, value in (fractions or {}).items():
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{name} must be within 0..1, got {value}")
