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
from rag.app.ui import resources
from rag.app.ui.sidebar import sidebar, state
from rag.app.ui.turns import ask, render_turn
from rag.app.ui_render import STYLE, escape_markdown, welcome_html
from rag.core.errors import IndexMissingError, RagError
from rag.core.runtime import go_offline
from rag.retrieval.hybrid import SearchEngine


def main() -> None:
    go_offline()  # nothing is fetched from a model hub (set before the model loads)
    st.set_page_config(
        page_title="Ask the news · rag", page_icon=":material/newsmode:", layout="centered"
    )
    settings = resources.settings()
    key = settings.model_dump_json()
    state()
    st.html(STYLE)

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

    st.markdown("## :material/newsmode: Ask the news")
    st.caption(
        "Answers are quoted from the indexed articles. Click a number to see the passage "
        "it comes from."
    )
    if problem == "empty" or (stats is not None and not stats["articles"]):
        st.info(
            "The library is empty. Add articles in the sidebar, or run `make index` "
            "to index the folder of articles.",
            icon=":material/inbox:",
        )
    elif problem:
        st.error(escape_markdown(problem), icon=":material/error:")
    elif stats is not None and not st.session_state["turns"]:
        st.html(
            welcome_html(
                stats["articles"], len(stats["sources"]), stats["date_min"], stats["date_max"]
            )
        )

    ctx = {"settings": settings, "key": key, "engine": engine}
    turns = st.session_state["turns"]
    answers = [t["answer"] for t in turns]
    for number, turn in enumerate(turns):
        render_turn(turn, chat_history(answers[:number]), ctx)

    ready = engine is not None and not problem
    question = st.chat_input(
        "Ask about the news…" if ready else "Add articles to start asking",
        disabled=not ready, max_chars=settings.max_question_chars, key="question",
    )
    if question is not None and ready:
        ask(question, choice, ctx)
