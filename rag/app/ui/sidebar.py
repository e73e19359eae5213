"""The sidebar: library figures, filters, answerer and depth, uploads, the conversation.

``sidebar`` returns the reader's choice (filters, k, answerer) for the next question.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import streamlit as st

from rag.app.conversation_export import export_filename, export_markdown
from rag.app.conversations import new_id
from rag.app.ui import conversations, resources
from rag.app.ui_render import escape_markdown
from rag.app.uploads import Upload, ingest_uploads
from rag.core.dates import pretty_day, pretty_span
from rag.core.errors import RagError
from rag.core.settings import Settings
from rag.indexing.loaders import SUPPORTED_SUFFIXES
from rag.retrieval.hybrid import SearchEngine


def state() -> dict[str, Any]:
    """The page's Session State, with its defaults."""
    ss = st.session_state
    ss.setdefault("turns", [])  # [{"id", "answer": Answer, "rating": str | None}]
    ss.setdefault("upload_round", 0)  # bumping it empties the file uploader
    ss.setdefault("upload_report", None)
    ss.setdefault("conversation_id", new_id())  # this tab's conversation in the store
    ss.setdefault("pending", None)  # a question to answer on this run (regenerate, edit)
    ss.setdefault("editing", None)  # the turn whose question is being edited
    ss.setdefault("confirm_delete_all", False)
    ss.setdefault("f_dates", ())  # the widget reads its default from here (no warning)
    return ss  # type: ignore[return-value]


# --- sidebar -------------------------------------------------------------------------
_EARLIEST, _LATEST = dt.date(1800, 1, 1), dt.date(2200, 12, 31)
def sidebar(
    settings: Settings, key: str, engine: SearchEngine | None, stats: dict[str, Any] | None
) -> dict[str, Any]:
    """Library stats, filters, answerer and depth, uploads, conversation tools."""
    choice: dict[str, Any] = {"filters": {}, "k": settings.retrieval.top_k, "answerer": "grounded"}
    with st.sidebar:
        choice["view"] = st.segmented_control(
            "View", ["chat", "timeline"], key="view", default="chat",
            format_func=lambda v: "Chat" if v == "chat" else "Timeline",
            label_visibility="collapsed",
        ) or "chat"
        _question_date(choice)
        st.markdown("#### :material/library_books: Library")
        if stats is None:
            st.caption("No articles indexed yet.")
        else:
            cols = st.columns(3)
            cols[0].metric("Articles", f"{stats['articles']:,}")
            cols[1].metric("Passages", f"{stats['passages']:,}")
            cols[2].metric("Outlets", f"{len(stats['sources']):,}")
            if stats["date_min"]:
                first, last = stats["date_min"], stats["date_max"]
                span = f"on {first}" if first == last else f"{first} to {last}"
                st.caption(escape_markdown(f"Published {span}"))

            st.markdown("#### :material/filter_alt: Filters")
            _filters(stats, choice)

            st.markdown("#### :material/tune: Answers")
            if settings.llm.backend != "none":
                choice["answerer"] = st.radio(
                    "Written by", ["grounded", "llm"], key="answerer",
                    format_func=lambda a: "Grounded: quotes the articles, offline"
                    if a == "grounded"
                    else f"LLM: {settings.llm.backend} · {settings.llm.model}",
                )
            else:
                st.caption(
                    "Answers quote the articles word for word, offline. "
                    "Set RAG\\_LLM to offer an LLM too."
                )
            choice["k"] = st.slider(
                "Passages to read", 1, 20, min(settings.retrieval.top_k, 20), key="k",
                help="How many passages are retrieved for each question (k).",
            )

        st.markdown("#### :material/upload_file: Add articles")
        _uploader(settings, key)

        st.markdown("#### :material/forum: Conversations")
        _conversations()
    return choice


def _question_date(choice: dict[str, Any]) -> None:
    """The day questions are asked as of (default today): 'this week', 'in March' and
    the staleness note are read against it."""
    today = dt.date.today()
    # A default beside a Session State value makes Streamlit warn: give it once.
    initial: dict[str, Any] = {} if "as_of" in st.session_state else {"value": today}
    day = st.date_input(
        "Asked as of", key="as_of", format="YYYY-MM-DD", **initial,
        help="The day the question is asked. 'This week', 'yesterday' or 'in March' are "
        "read against it, and later articles count less.",
    )
    if not isinstance(day, dt.date):
        day = today
    choice["as_of"] = day.isoformat()
    monday = day - dt.timedelta(days=day.weekday())
    when = "today" if day == today else pretty_day(day)
    st.caption(
        escape_markdown(f"Questions are asked as of {when}: 'this week' means "
                        f"{pretty_span(monday, day)}.")
    )


#: Why the filters are off on a library without outlets or dates, and how to change it.
NO_METADATA = (
    "The indexed articles have no {missing}, so there is nothing to filter by. Add dated "
    "articles from outlets under *Add articles* (Markdown front matter with `source:` and "
    "`date:`, or HTML pages), or run `rag ingest FOLDER`."
)


def _filters(stats: dict[str, Any], choice: dict[str, Any]) -> None:
    """Outlet and date filters; disabled with the reason when the library has neither."""
    outlets = list(stats["sources"])
    picked = st.multiselect(
        "Outlets", outlets, key="f_sources", placeholder="All outlets",
        disabled=not outlets,
        help=None if outlets else "The indexed articles name no outlet.",
    )
    if picked:
        choice["filters"]["sources"] = picked
    if stats["date_min"]:
        # No min/max: a date typed outside them was refused by the widget with a red
        # error and the question then ran with no date filter at all. Any range is
        # taken; one outside the library's dates is refused by the chain, which says so.
        dates = st.date_input(
            "Published between", min_value=_EARLIEST, max_value=_LATEST, key="f_dates",
            help=(
                f"Articles run from {stats['date_min']} to {stats['date_max']}. Leave empty "
                "for any date. Undated articles are left out once a range is set."
            ),
        )
        if isinstance(dates, tuple | list) and dates:
            choice["filters"]["date_from"] = dates[0].isoformat()
            if len(dates) > 1:
                choice["filters"]["date_to"] = dates[1].isoformat()
    else:
        st.date_input(
            "Published between", value=None, disabled=True, key="f_dates_off",
            help="The indexed articles carry no publication date.",
        )
    missing = [
        name for name, has in (("outlet", outlets), ("publication date", stats["date_min"]))
        if not has
    ]
    if missing:
        st.caption(NO_METADATA.format(missing=" or ".join(missing)))


def _conversations() -> None:
    """New chat, export (from the stored copy), the stored conversations, delete."""
    current = st.session_state["conversation_id"]
    stored = conversations.save(lambda s: s.turns(current)) or []
    answers = [t.answer for t in stored] or [t["answer"] for t in st.session_state["turns"]]
    left, right = st.columns(2)
    left.button(
        "New chat", on_click=conversations.start_new, icon=":material/add_comment:",
        width="stretch", key="new_chat",
    )
    right.download_button(
        "Export", data=export_markdown(answers, title="Conversation with rag"),
        file_name=export_filename(), mime="text/markdown", icon=":material/download:",
        disabled=not answers, width="stretch", key="export",
        help="The conversation as Markdown, with the sources (from the stored copy).",
    )
    listed = conversations.save(lambda s: s.conversations()) or []
    if not listed:
        st.caption("Conversations are kept here and survive a reload.")
        return
    for info in listed:
        title, remove = st.columns([5, 1], vertical_alignment="center")
        title.button(
            info.title, key=f"open-{info.id}", width="stretch",
            type="primary" if info.id == current else "secondary",
            on_click=conversations.reopen, args=(info.id,),
            help=f"{info.turns} question{'s' if info.turns != 1 else ''} · "
            f"last used {info.updated_at[:16].replace('T', ' ')} UTC",
        )
        remove.button(
            "", key=f"delete-{info.id}", icon=":material/delete:", help="Delete this conversation",
            on_click=conversations.delete, args=(info.id,),
        )
    if st.session_state["confirm_delete_all"]:
        st.warning(f"Delete all {len(listed)} conversations? This cannot be undone.")
        yes, no = st.columns(2)
        yes.button(
            "Delete all", key="delete_all_yes", type="primary",
            on_click=conversations.delete_all,
        )
        no.button(
            "Keep them", key="delete_all_no",
            on_click=lambda: st.session_state.update(confirm_delete_all=False),
        )
    else:
        st.button(
            "Delete all conversations", key="delete_all", icon=":material/delete_sweep:",
            on_click=lambda: st.session_state.update(confirm_delete_all=True),
        )


def _uploader(settings: Settings, key: str) -> None:
    suffixes = sorted(s.lstrip(".") for s in SUPPORTED_SUFFIXES)
    limit_mb = max(1, math.ceil(settings.app.upload_max_bytes / (1024 * 1024)))
    files = st.file_uploader(
        "Article files", type=suffixes, accept_multiple_files=True,
        key=f"uploads-{st.session_state['upload_round']}", max_upload_size=limit_mb,
        help=f"Markdown (front matter: title, source, date, url), text, HTML or JSON Lines; "
        f"up to {settings.app.upload_max_bytes:,} bytes each.",
        label_visibility="collapsed",
    )
    if files and st.button("Add to the library", type="primary", key="ingest", width="stretch"):
        bar = st.progress(0.0, text="Reading the files…")

        def progress(done: int, total: int) -> None:
            share = done / total if total else 1.0
            bar.progress(share, text=f"Embedding passages: {done:,} of {total:,}")

        try:
            result = ingest_uploads(
                [Upload(f.name, f.getvalue()) for f in files], settings,
                embeddings=resources.embeddings(key, settings), progress=progress,
            )
        except RagError as exc:
            st.session_state["upload_report"] = {"error": str(exc)}
        else:
            summary = result.summary
            st.session_state["upload_report"] = {
                "added": summary.added if summary else 0,
                "updated": summary.updated if summary else 0,
                "unchanged": summary.unchanged if summary else 0,
                "duplicates": summary.duplicates if summary else 0,
                "passages": summary.passages_written if summary else 0,
                "problems": [str(p) for p in result.problems],
            }
        st.session_state["upload_round"] += 1
        resources.reopen_index()
        st.rerun()
    report = st.session_state.get("upload_report")
    if report:
        _upload_report(report)


def _upload_report(report: dict[str, Any]) -> None:
    if "error" in report:
        st.error(escape_markdown(report["error"]), icon=":material/error:")
        return
    done = [
        f"{report[k]} {label}" for k, label in (
            ("added", "added"), ("updated", "updated"), ("unchanged", "unchanged"),
            ("duplicates", "duplicate(s) linked"),
        ) if report[k]
    ]
    if done:
        st.success(
            escape_markdown(f"Articles: {', '.join(done)}; {report['passages']:,} "
                            f"passage{'s' if report['passages'] != 1 else ''}."),
            icon=":material/check_circle:",
        )
    for problem in report["problems"]:
        st.warning(escape_markdown(problem), icon=":material/warning:")
