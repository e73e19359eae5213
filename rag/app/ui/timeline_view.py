"""The timeline view: a story over time, its articles' key sentences by day, each cited.

Chosen with the sidebar's View switch; reads the sidebar's question date and filters.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import streamlit as st

from rag.answering.timeline import build_timeline
from rag.app.ui_render import escape_markdown, timeline_html
from rag.core.errors import RagError
from rag.core.settings import Settings
from rag.retrieval.hybrid import SearchEngine

#: Why an undated library has no timeline, and how to give it one.
UNDATED = (
    "The indexed articles have no publication date, so there is no timeline to draw. Add "
    "dated articles under *Add articles* (Markdown front matter with `date:`, or HTML "
    "pages), or run `rag ingest FOLDER`."
)


def timeline_view(
    settings: Settings, engine: SearchEngine | None, choice: dict[str, Any], dated: bool = True
) -> None:
    """The story form and its timeline; ``dated`` False (no article has a date) says why
    there is none instead."""
    st.markdown("## :material/timeline: A story over time")
    st.caption(
        "The articles matching a story, one key sentence each, by day. Numbers open the "
        "article; marks show other versions and outlets that disagree."
    )
    if engine is None:
        st.info("Add articles to build timelines.", icon=":material/inbox:")
        return
    if not dated:
        st.info(UNDATED, icon=":material/event_busy:")
        return
    with st.form("timeline-form", border=False):
        query = st.text_input("Story", key="tl_query", placeholder="e.g. port strike Valencia")
        left, right = st.columns(2)
        start = left.date_input("From", value=None, key="tl_from", format="YYYY-MM-DD")
        end = right.date_input("To", value=None, key="tl_to", format="YYYY-MM-DD",
                               help="Default: the question date in the sidebar.")
        shown = st.form_submit_button("Show timeline", type="primary")
    if not (shown or st.session_state.get("tl_shown")) or not query.strip():
        return
    st.session_state["tl_shown"] = True
    inputs = {
        "query": query, "as_of": choice.get("as_of"),
        "date_from": start.isoformat() if isinstance(start, dt.date) else None,
        "date_to": end.isoformat() if isinstance(end, dt.date) else None,
        "filters": {"sources": choice["filters"].get("sources")},
    }
    try:
        timeline = build_timeline(settings, engine=engine).invoke(inputs)
    except (RagError, ValueError) as exc:
        st.error(escape_markdown(f"Could not build the timeline: {exc}"), icon=":material/error:")
        return
    st.html(timeline_html(timeline))
