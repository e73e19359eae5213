"""One turn of the conversation: the question, the streamed answer, its sources, feedback.

``ask`` answers a new question (streaming) and stores the turn; ``render_turn`` draws a
stored turn again on every rerun.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import streamlit as st

from rag.answering.chain import validate_question
from rag.app.conversation_export import answer_markdown, chat_history
from rag.app.conversations import StoredTurn, new_id
from rag.app.ui import conversations, resources
from rag.app.ui_render import (
    answer_html,
    article_card_html,
    copy_button_html,
    escape_markdown,
    group_by_article,
    streaming_html,
    text_html,
)
from rag.core.errors import BadQuestionError, FilterError, RagError
from rag.core.schema import Answer
from rag.core.settings import Settings
from rag.evaluation.feedback import MAX_COMMENT_CHARS, FeedbackRecord, append_feedback


def _render_sources(turn: dict[str, Any], anchor: str, ctx: dict[str, Any]) -> None:
    """One card per article, its quoted passages listed with their [n]."""
    answer: Answer = turn["answer"]
    if not answer.citations:
        return
    engine = ctx["engine"]
    revision = engine.index.revision if engine is not None else ""
    as_of = answer.as_of or turn.get("asked_on")
    cards = [
        article_card_html(
            group, anchor,
            resources.article_text(ctx["key"], revision, group[0].article_id, engine)
            if engine else None,
            as_of,
        )
        for group in group_by_article(answer.citations)
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
            conversations.save(lambda store: store.rate(turn["id"], rating))
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


def render_turn(
    turn: dict[str, Any], history: list[tuple[str, str]], ctx: dict[str, Any], last: bool
) -> None:
    """A stored turn: the question, the answer, its sources, copy/regenerate/edit, thumbs."""
    answer: Answer = turn["answer"]
    anchor = f"src-{turn['id']}"
    with st.chat_message("user", avatar=":material/person:"):
        st.html(text_html(answer.question, "rag-question"))
    with st.chat_message("assistant", avatar=":material/newsmode:"):
        st.html(answer_html(answer, anchor))
        _render_sources(turn, anchor, ctx)
        st.caption(_meta_caption(answer))
        _render_actions(turn, ctx, last)
        _render_feedback(turn, history, ctx["settings"].app.feedback_path)


def _render_actions(turn: dict[str, Any], ctx: dict[str, Any], last: bool) -> None:
    """Copy (every answer); regenerate and edit the question (the last one)."""
    answer: Answer = turn["answer"]
    if not last:
        st.html(copy_button_html(answer_markdown(answer)))
        return
    if st.session_state.get("editing") == turn["id"]:
        _edit_form(turn, ctx)
        return
    row = st.container(horizontal=True, vertical_alignment="center", gap="small")
    with row:
        st.html(copy_button_html(answer_markdown(answer)), width="content")
    with row.popover("Regenerate", icon=":material/refresh:"):
        choice = ctx["choice"]
        offline = ctx["settings"].llm.backend == "none"
        if not offline:
            st.radio(
                "Written by", ["grounded", "llm"], key="regen_answerer",
                index=0 if choice["answerer"] == "grounded" else 1, horizontal=True,
            )
        depth = other_depth(choice["k"]) if offline else choice["k"]
        st.slider("Passages to read", 1, 20, depth, key="regen_k")
        if offline:
            st.caption("The same passages give the same answer: this reads another number "
                       "of them.")
        st.button(
            "Answer again", key="regenerate", type="primary", on_click=_regenerate,
            args=(answer.question, turn["id"], choice["answerer"]),
        )
    row.button(
        "Edit question", key="edit", icon=":material/edit:",
        on_click=lambda: st.session_state.update(editing=turn["id"]),
    )


def other_depth(k: int, most: int = 20) -> int:
    """A depth other than ``k`` for Regenerate without an LLM (the grounded answerer is
    deterministic): five more passages, or five fewer near the top of the slider."""
    return k + 5 if k + 5 <= most else max(1, k - 5)


def _edit_form(turn: dict[str, Any], ctx: dict[str, Any]) -> None:
    settings: Settings = ctx["settings"]
    with st.form(key="edit_form", border=False):
        text = st.text_area(
            "Edit the question", value=turn["answer"].question, key="edit_text",
            max_chars=settings.answer.max_question_chars,
        )
        ask_col, cancel_col = st.columns(2)
        again = ask_col.form_submit_button("Ask again", type="primary")
        cancel = cancel_col.form_submit_button("Cancel")
    if again or cancel:
        st.session_state["editing"] = None
        if again:
            choice = ctx["choice"]
            _queue(text, turn["id"], choice["answerer"], choice["k"])
        st.rerun()


def _regenerate(question: str, turn_id: str, answerer: str) -> None:
    """Queue the question again with the popover's answerer and k, read when clicked
    (a callback's bound arguments would hold the values of the run before)."""
    ss = st.session_state
    _queue(question, turn_id, ss.get("regen_answerer", answerer), int(ss["regen_k"]))


def _queue(question: str, replace: str | None, answerer: str, k: int) -> None:
    """Ask ``question`` on the next run, in place of turn ``replace`` when given."""
    st.session_state["pending"] = {
        "question": question, "replace": replace, "answerer": answerer, "k": k,
    }


def queue_question(question: str, choice: dict[str, Any]) -> None:
    """Ask a new question on the next run (the welcome box's examples)."""
    _queue(question, None, choice["answerer"], choice["k"])


def _refuse(problem: BadQuestionError) -> None:
    """A polite word instead of an answer; nothing is added to the conversation."""
    lead = (
        "The filters leave no article to answer from"
        if isinstance(problem, FilterError)
        else "I need a question to answer"
    )
    st.info(escape_markdown(f"{lead}: {problem}."), icon=":material/chat_info:")


def ask(
    question: str, choice: dict[str, Any], ctx: dict[str, Any], replace: str | None = None
) -> None:
    """Answer one question, streaming, then keep it in the conversation (in place of
    turn ``replace`` for regenerate and edit) and in the conversation store."""
    settings: Settings = ctx["settings"]
    try:
        validate_question(question, settings.answer.max_question_chars)
    except BadQuestionError as exc:
        with st.chat_message("assistant", avatar=":material/newsmode:"):
            _refuse(exc)
        return
    turns = st.session_state["turns"]
    ids = [t["id"] for t in turns]
    before = turns[: ids.index(replace)] if replace in ids else turns
    history = chat_history([t["answer"] for t in before])
    with st.chat_message("user", avatar=":material/person:"):
        st.html(text_html(" ".join(question.split()), "rag-question"))
    with st.chat_message("assistant", avatar=":material/newsmode:"):
        final = _stream(question, history, choice, ctx)
    if final is None:
        return
    stored = StoredTurn(new_id(), final, None, dt.datetime.now(dt.UTC).isoformat())
    turn = conversations.as_turn(stored)
    conversation = st.session_state["conversation_id"]
    if replace is not None and replace in ids:
        turns[ids.index(replace)] = turn
        del turns[ids.index(replace) + 1 :]
        old = replace
        conversations.save(lambda store: store.replace_turn(conversation, old, stored))
    else:
        turns.append(turn)
        conversations.save(lambda store: store.add_turn(conversation, stored))
    # Drawn again from the stored turn, with sources and feedback, as every rerun will.
    st.rerun()


def _stream(
    question: str, history: list[tuple[str, str]], choice: dict[str, Any], ctx: dict[str, Any]
) -> Answer | None:
    """The answer, shown as it arrives; None (with a message) when there is none."""
    placeholder = st.empty()
    placeholder.html(streaming_html("Searching the articles…"))
    chain = resources.chain(ctx["key"], choice["answerer"], ctx["settings"])
    inputs = {
        "question": question, "chat_history": history,
        "filters": choice["filters"], "k": choice["k"],
    }
    if choice.get("as_of"):
        inputs["as_of"] = choice["as_of"]
    try:
        response = chain.respond(inputs)
        for _ in response:
            placeholder.html(streaming_html(response.text))
        final = response.answer()
    except BadQuestionError as exc:
        placeholder.empty()
        _refuse(exc)
        return None
    except (RagError, ValueError) as exc:
        placeholder.empty()
        st.error(escape_markdown(f"Could not answer: {exc}"), icon=":material/error:")
        return None
    placeholder.empty()
    return final
