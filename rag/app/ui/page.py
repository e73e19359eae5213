"""The chat page: ask about the indexed news, watch the answer arrive, open its sources.

Thin on purpose: the chain answers, rag.app.ui_render builds the (escaped) HTML,
rag.app.uploads saves and indexes uploads, rag.evaluation.feedback records verdicts,
rag.app.conversation_export writes the Markdown export. Settings come from the environment
(RAG_*), built here at the edge. ``main`` draws one run of the page.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from rag.app.conversation_export import chat_history
from rag.app.logs import set_log_level
from rag.app.ui import conversations, resources
from rag.app.ui.sidebar import sidebar, state
from rag.app.ui.timeline_view import timeline_view
from rag.app.ui.turns import ask, queue_question, render_turn
from rag.app.ui_render import COPY_SCRIPT, STYLE, escape_markdown, welcome_html
from rag.core.errors import IndexMissingError, RagError
from rag.core.runtime import go_offline
from rag.retrieval.hybrid import SearchEngine

#: The bundled article's id and questions its text answers (checked by tests/test_ui_app.py
#: with the real model).
BUNDLED_EXAMPLES = (
    "iran-russia-ashgabat",
    (
        "Why is Russia withholding S-400s from Iran?",
        "What did Russia warn Israel against?",
        "Why could Pezeshkian be impeached?",
    ),
)


def main() -> None:
    go_offline()  # nothing is fetched from a model hub (set before the model loads)
    st.set_page_config(
        page_title="Ask the news · rag", page_icon=":material/newsmode:", layout="centered"
    )
    settings = resources.settings()
    set_log_level(settings.app.log_level)
    key = settings.model_dump_json()
    state()
    st.session_state["store_path"] = str(settings.conversations_file)
    st.session_state["store_library"] = conversations.library_of(settings)
    st.html(STYLE)
    st.html(COPY_SCRIPT, unsafe_allow_javascript=True)

    engine: SearchEngine | None = None
    stats: dict[str, Any] | None = None
    problem = ""
    try:
        engine = resources.engine(key, settings)
        stats = resources.stats(key, engine.index.revision, settings, engine)
    except IndexMissingError:
        problem = "empty"
    except RagError as exc:
        problem = str(exc)

    choice = sidebar(settings, key, engine, stats)
    if choice.get("view") == "timeline":
        dated = stats is None or bool(stats["date_min"])
        timeline_view(settings, None if problem else engine, choice, dated=dated)
        return

    st.markdown("## :material/newsmode: Ask the news")
    st.caption(
        "Answers are quoted from the indexed articles. Click a number to see the passage "
        "it comes from."
    )
    if problem == "empty" or (stats is not None and not stats["articles"]):
        folder = str(settings.index.articles_dir).replace("`", "")  # shown in a code span
        st.info(
            "The library is empty. Add articles in the sidebar, or index a folder of "
            f"articles with `rag ingest {folder}` (`make index` in a clone).",
            icon=":material/inbox:",
        )
    elif problem:
        st.error(escape_markdown(problem), icon=":material/error:")
    elif stats is not None and not st.session_state["turns"] and not st.session_state["pending"]:
        st.html(
            welcome_html(
                stats["articles"], len(stats["sources"]), stats["date_min"], stats["date_max"]
            )
        )
        _examples(key, engine, choice)

    ctx = {"settings": settings, "key": key, "engine": engine, "choice": choice}
    pending = st.session_state["pending"]
    st.session_state["pending"] = None
    turns = st.session_state["turns"]
    shown = turns
    if pending and pending["replace"] in [t["id"] for t in turns]:
        shown = turns[: [t["id"] for t in turns].index(pending["replace"])]
    answers = [t["answer"] for t in shown]
    for number, turn in enumerate(shown):
        last = number == len(turns) - 1
        render_turn(turn, chat_history(answers[:number]), ctx, last=last)

    ready = engine is not None and not problem
    question = st.chat_input(
        "Ask about the news…" if ready else "Add articles to start asking",
        disabled=not ready, max_chars=settings.answer.max_question_chars, key="question",
    )
    if pending and ready:
        asked = {**choice, "answerer": pending["answerer"], "k": pending["k"]}
        ask(pending["question"], asked, ctx, replace=pending["replace"])
    elif question is not None and ready:
        ask(question, choice, ctx)


def _examples(key: str, engine: SearchEngine | None, choice: dict[str, Any]) -> None:
    """Questions that work on the bundled article, offered while it is in the library."""
    article, questions = BUNDLED_EXAMPLES
    if engine is None or not resources.article_text(key, engine.index.revision, article, engine):
        return
    st.caption("Try one of these:")
    for number, question in enumerate(questions):
        st.button(
            question, key=f"example-{number}", icon=":material/chat_bubble:",
            on_click=queue_question, args=(question, choice),
        )
