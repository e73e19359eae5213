"""An answer asked "as of" a day that cites an article published after that day says so,
in the CLI and the UI (retrieval only weighs such articles down; when nothing else
matches they are still quoted, and a reader asking as of a past day must be told)."""

from __future__ import annotations

from rag.app.render import answer_body
from rag.app.ui_render import answer_html
from rag.core.schema import Answer, AnswerSentence, Citation


def _answer(as_of: str, published: str) -> Answer:
    quote = "The tunnel cost 1.2 billion euros."
    return Answer(
        question="How much did the tunnel cost?", standalone_question="q", as_of=as_of,
        answer=f"{quote} [1]",
        sentences=[AnswerSentence(text=quote, citation_ids=[1], outlets=["Bay Courier"],
                                  dates=[published])],
        citations=[Citation(id=1, article_id="t", chunk_id="t:0", quote=quote,
                            source="Bay Courier", date=published)],
    )


def test_a_source_from_after_the_question_date_is_named() -> None:
    answer = _answer("2026-11-10", "2026-11-20")
    note = "Published after the question date (10 Nov 2026): [1] Bay Courier, 20 Nov 2026."
    assert note in answer_body(answer)
    assert note in answer_html(answer, "src-t")


def test_sources_from_before_the_question_date_need_no_note() -> None:
    answer = _answer("2026-12-01", "2026-11-20")
    assert not any("after the question date" in line for line in answer_body(answer))
    assert "after the question date" not in answer_html(answer, "src-t")


def test_one_article_is_named_once() -> None:
    answer = _answer("2026-11-10", "2026-11-20")
    second = answer.citations[0].model_copy(update={"id": 2})
    answer = answer.model_copy(update={"citations": [*answer.citations, second]})
    assert ("Published after the question date (10 Nov 2026): [1][2] Bay Courier, "
            "20 Nov 2026.") in answer_body(answer)
