"""One turn of the conversation: the question, the streamed answer, its sources, feedback.

``ask`` answers a new question (streaming) and stores the turn; ``render_turn`` draws a
stored turn again on every rerun.
"""

from __future__ import annotations

import uuid
from typing import Any

import streamlit as st

from rag.answering.chain import validate_question
from rag.app.conversation_export import chat_history
from rag.app.ui import resources
from rag.app.ui_render import (
    answer_html,
    escape_markdown,
    source_html,
    streaming_html,
    text_html,
)
from rag.core.errors import BadQuestionError, RagError
from rag.core.schema import Answer
from rag.core.settings import Settings
from rag.evaluation.feedback import MAX_COMMENT_CHARS, FeedbackRecord, append_feedback


def _render_sources(answer: Answer, anchor: str, key: str, engine: Any) -> None:
    if not answer.citations:
        return
    revision = engine.index.revision if engine is not None else ""
    cards = [
        source_html(
            citation, anchor,
            resources.article_text(key, revision, citation.article_id, engine) if engine else None,
        )
        for citation in answer.citations
    ]
    st.html('<div class="rag-sources-label">Sources</div>' + "".join(cards))


def _render_feedback(turn: dict[str, Any], history: list[tuple[str, str]], path: Any) -> None:
    answer: Answer = turn["answer"]
    if turn.get("rating"):
        thumb = "thumb_up" if turn["rating"] == "up" else "thumb_down"
        st.caption(f":material/{thumb}: Thanks, your feedback was saved.")
        return
    choice = st.feedback("thumbs", key=f"thumbs-{turn['id']}")
    if choice is None:
        return
    rating = "up" if choice == 1 else "down"
    with st.form(key=f"fbform-{turn['id']}", border=False):
        comment = st.text_input(
            "What was good or wrong? (optional)", max_chars=MAX_COMMENT_CHARS,
            key=f"comment-{turn['id']}",
            placeholder="e.g. the second source does not say that",
        )
        if st.form_submit_button("Send feedback"):
            record = FeedbackRecord.from_answer(answer, history, rating, comment)
            try:
                append_feedback(path, record)
            except OSError as exc:
                st.error(
                    escape_markdown(
                        f"Could not save feedback to {path} ({exc.strerror or exc}); "
                        "check RAG_FEEDBACK_PATH is writable."
                    )
                )
                return
            turn["rating"] = rating
            st.rerun()


def _meta_caption(answer: Answer) -> str:
    seconds = answer.timings_ms.get("total_ms", 0.0) / 1000
    sources = len({c.article_id for c in answer.citations})
    parts = [f"{answer.answerer} answer"]
    if sources:
        parts.append(f"{sources} article{'s' if sources != 1 else ''}")
    if seconds:
        # Grounded answers take tens of milliseconds: "0.0 s" would read as a glitch.
        parts.append(f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s")
    if answer.standalone_question and answer.standalone_question != answer.question:
        # A follow-up was read with the conversation: say how, so a miss is explainable.
        parts.append(f"searched for: {answer.standalone_question}")
    return escape_markdown(" · ".join(parts))


def render_turn(turn: dict[str, Any], history: list[tuple[str, str]], ctx: dict[str, Any]) -> None:
    answer: Answer = turn["answer"]
    anchor = f"src-{turn['id']}"
    with st.chat_message("user", avatar=":material/person:"):
        st.html(text_html(answer.question, "rag-question"))
    with st.chat_message("assistant", avatar=":material/newsmode:"):
        st.html(answer_html(answer, anchor))
        _render_sources(answer, anchor, ctx["key"], ctx["engine"])
        st.caption(_meta_caption(answer))
        _render_feedback(turn, history, ctx["settings"].feedback_path)


def _refuse(problem: BadQuestionError) -> None:
    """A polite word instead of an answer; nothing is added to the conversation."""
    st.info(
        escape_markdown(f"I need a question to answer: {problem}."), icon=":material/chat_info:"
    )


def ask(question: str, choice: dict[str, Any], ctx: dict[str, Any]) -> None:
    """Answer one question, streaming, then keep it in the conversation."""
    settings: Settings = ctx["settings"]
    try:
        validate_question(question, settings.max_question_chars)
    except BadQuestionError as exc:
        with st.chat_message("assistant", avatar=":material/newsmode:"):
            _refuse(exc)
        return
    turns = st.session_state["turns"]
    history = chat_history([t["answer"] for t in turns])
    with st.chat_message("user", avatar=":material/person:"):
        st.html(text_html(" ".join(question.split()), "rag-question"))
    with st.chat_message("assistant", avatar=":material/newsmode:"):
        placeholder = st.empty()
        placeholder.html(streaming_html("Searching the articles…"))
        chain = resources.chain(ctx["key"], choice["answerer"], settings)
        inputs = {
            "question": question, "chat_history": history,
            "filters": choice["filters"], "k": choice["k"],
        }
        text = ""
        final: Answer | None = None
        try:
            for piece in chain.stream(inputs):
                if isinstance(piece, Answer):
                    final = piece
                else:
                    text += piece
                    placeholder.html(streaming_html(text))
        except BadQuestionError as exc:
            placeholder.empty()
            _refuse(exc)
            return
        except (RagError, ValueError) as exc:
            placeholder.empty()
            st.error(escape_markdown(f"Could not answer: {exc}"), icon=":material/error:")
            return
        assert final is not None
        placeholder.empty()
    turn = {"id": uuid.uuid4().hex[:10], "answer": final, "rating": None}
    turns.append(turn)
    # Drawn again from the stored turn, with sources and feedback, as every rerun will.
    st.rerun()
