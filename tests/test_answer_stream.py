"""The answerer contract: one streaming shape, iterate for text then ask for the Answer."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import pytest
from langchain_core.documents import Document

from rag.answering.base import Answerer, AnswerStream, Turn, Writing
from rag.answering.grounded import GroundedAnswerer
from rag.answering.llm import LLMAnswerer
from rag.core.schema import Answer


class Echo(Answerer):
    """Writes the question back in two pieces."""

    name = "echo"

    def write(
        self, question: str, passages: Sequence[Document], history: Sequence[Turn] = ()
    ) -> Writing:
        yield question[:3]
        yield question[3:]
        return Answer(question=question, standalone_question=question, answer=question,
                      answerer=self.name)


class Silent(Answerer):
    name = "silent"

    def write(
        self, question: str, passages: Sequence[Document], history: Sequence[Turn] = ()
    ) -> Writing:
        yield "text but"
        return None  # type: ignore[return-value]  # the bug under test


def test_iterating_gives_text_then_answer_gives_the_result() -> None:
    response = Echo().stream("volcano", [])
    assert isinstance(response, AnswerStream)
    assert list(response) == ["vol", "cano"]
    assert response.text == "volcano"
    answer = response.answer()
    assert answer.answer == "volcano" and answer.answerer == "echo"
    assert list(response) == []  # spent
    assert response.answer() is answer


def test_answer_alone_drains_the_stream() -> None:
    response = Echo().stream("budget", [])
    assert response.answer().answer == "budget"
    assert response.text == "budget"
    assert Echo().answer("cup", []).answer == "cup"


def test_an_answerer_that_returns_no_answer_is_named() -> None:
    with pytest.raises(RuntimeError, match=r"silent.*no Answer"):
        Silent().answer("q", [])


def test_condensing_belongs_to_the_answerer() -> None:
    history = [("human", "Who is Iran's president?"),
               ("ai", "Iranian President Massoud Pezeshkian visited Ashgabat [1].")]
    assert Echo().condense("Where did he go?", []) == "Where did he go?"
    standalone = Echo().condense("Who did he meet?", history)
    assert standalone != "Who did he meet?" and "he" not in standalone.split()


@pytest.mark.parametrize(
    ("make", "named"),
    [
        (lambda: GroundedAnswerer(None, candidates=0), "candidates must be >= 1, got 0"),
        (lambda: GroundedAnswerer(None, abstain_threshold=1.5),
         "abstain_threshold must be within 0..1, got 1.5"),
        (lambda: LLMAnswerer(None, None, support_threshold=-0.1),
         "support_threshold must be within 0..1, got -0.1"),
        (lambda: LLMAnswerer(None, None, max_sentences=0), "max_sentences must be >= 1, got 0"),
    ],
)
def test_answerers_refuse_parameters_out_of_range(make: Any, named: str) -> None:
    with pytest.raises(ValueError, match=re.escape(named)):
        make()
