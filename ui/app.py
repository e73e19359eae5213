"""The chat UI: ask about the indexed news, watch the answer arrive, open its sources.

Thin on purpose: the chain answers, rag.app.ui_render builds the (escaped) HTML,
rag.app.uploads saves and indexes uploads, rag.evaluation.feedback records verdicts,
rag.app.conversation_export writes the Markdown export. Settings come from the environment
(RAG_*), built here at the edge.
Run with ``make run`` or ``rag ui``.
"""

from __future__ import annotations

import os

# Nothing may be fetched from a model hub at run time (set before the model loads).
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import datetime as dt
import math
import uuid
from typing import Any

import streamlit as st
from pydantic import ValidationError

from rag.answering.chain import RagChain, build_chain, validate_question
from rag.app.conversation_export import chat_history, export_filename, export_markdown
from rag.app.stats import index_stats
from rag.app.ui_render import (
    STYLE,
    answer_html,
    escape_markdown,
    source_html,
    streaming_html,
    text_html,
    welcome_html,
)
from rag.app.uploads import Upload, ingest_uploads
from rag.core.errors import BadQuestionError, IndexMissingError, RagError
from rag.core.schema import Answer
from rag.core.settings import Settings
from rag.evaluation.feedback import MAX_COMMENT_CHARS, FeedbackRecord, append_feedback
from rag.indexing.embeddings import PassageEmbeddings, make_embeddings
from rag.indexing.loaders import SUPPORTED_SUFFIXES
from rag.retrieval.hybrid import SearchEngine

st.set_page_config(
    page_title="Ask the news · rag", page_icon=":material/newsmode:", layout="centered"
)


# --- loaded once per process ---------------------------------------------------------
@st.cache_resource(show_spinner="Loading the embedding model…")
def _embeddings(key: str, _settings: Settings) -> PassageEmbeddings:
    return make_embeddings(_settings)


@st.cache_resource(show_spinner="Opening the index…")
def _engine(key: str, _settings: Settings) -> SearchEngine:
    engine = SearchEngine(_settings, _embeddings(key, _settings))
    engine.warm_up()
    return engine


@st.cache_resource(show_spinner=False)
def _chain(key: str, answerer: str, _settings: Settings) -> RagChain:
    settings = _settings if answerer == "llm" else _settings.model_copy(update={"llm": "none"})
    chain = build_chain(settings, engine=_engine(key, _settings))
    chain.warm_up()
    return chain


@st.cache_data(show_spinner=False, max_entries=8, ttl=60)
def _stats(key: str, revision: str, _settings: Settings, _engine: SearchEngine) -> dict[str, Any]:
    return index_stats(_settings, index=_engine.index)


@st.cache_data(show_spinner=False, max_entries=256)
def _article_text(key: str, revision: str, article_id: str, _engine: SearchEngine) -> str:
    return _engine.index.article_text(article_id) or ""


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        details = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors()
        )
        st.error(escape_markdown(f"The settings are invalid: {details}. Fix the RAG_* variables."))
        st.stop()
        raise


# --- state ---------------------------------------------------------------------------
def _state() -> dict[str, Any]:
    ss = st.session_state
    ss.setdefault("turns", [])  # [{"id", "answer": Answer, "rating": str | None}]
    ss.setdefault("upload_round", 0)  # bumping it empties the file uploader
    ss.setdefault("upload_report", None)
    return ss  # type: ignore[return-value]


def _new_chat() -> None:
    st.session_state["turns"] = []


# --- sidebar -------------------------------------------------------------------------
def _sidebar(
    settings: Settings, key: str, engine: SearchEngine | None, stats: dict[str, Any] | None
) -> dict[str, Any]:
    """Library stats, filters, answerer and depth, uploads, conversation tools."""
    choice: dict[str, Any] = {"filters": {}, "k": settings.top_k, "answerer": "grounded"}
    with st.sidebar:
        st.markdown("#### :material/library_books: Library")
        if stats is None:
            st.caption("No articles indexed yet.")
        else:
            cols = st.columns(3)
            cols[0].metric("Articles", f"{stats['articles']:,}")
            cols[1].metric("Passages", f"{stats['passages']:,}")
            cols[2].metric("Outlets", f"{len(stats['sources']):,}")
            if stats["date_min"]:
                st.caption(
                    escape_markdown(f"Published {stats['date_min']} to {stats['date_max']}")
                )

            st.markdown("#### :material/filter_alt: Filters")
            outlets = list(stats["sources"])
            picked = st.multiselect(
                "Outlets", outlets, key="f_sources", placeholder="All outlets",
                disabled=not outlets,
                help=None if outlets else "The indexed articles name no outlet.",
            )
            if picked:
                choice["filters"]["sources"] = picked
            if stats["date_min"]:
                low = dt.date.fromisoformat(stats["date_min"])
                high = dt.date.fromisoformat(stats["date_max"])
                dates = st.date_input(
                    "Published between", value=(), min_value=low, max_value=high,
                    key="f_dates", help="Leave empty for any date. Undated articles are "
                    "left out once a range is set.",
                )
                if isinstance(dates, tuple | list) and dates:
                    choice["filters"]["date_from"] = dates[0].isoformat()
                    if len(dates) > 1:
                        choice["filters"]["date_to"] = dates[1].isoformat()

            st.markdown("#### :material/tune: Answers")
            if settings.llm != "none":
                choice["answerer"] = st.radio(
                    "Written by", ["grounded", "llm"], key="answerer",
                    format_func=lambda a: "Grounded: quotes the articles, offline"
                    if a == "grounded"
                    else f"LLM: {settings.llm} · {settings.llm_model}",
                )
            else:
                st.caption(
                    "Answers quote the articles word for word, offline. "
                    "Set RAG\\_LLM to offer an LLM too."
                )
            choice["k"] = st.slider(
                "Passages to read", 1, 20, min(settings.top_k, 20), key="k",
                help="How many passages are retrieved for each question (k).",
            )

        st.markdown("#### :material/upload_file: Add articles")
        _uploader(settings, key)

        st.markdown("#### :material/forum: Conversation")
        answers = [t["answer"] for t in st.session_state["turns"]]
        left, right = st.columns(2)
        left.button("New chat", on_click=_new_chat, icon=":material/add_comment:", width="stretch")
        right.download_button(
            "Export", data=export_markdown(answers, title="Conversation with rag"),
            file_name=export_filename(), mime="text/markdown", icon=":material/download:",
            disabled=not answers, width="stretch", key="export",
            help="The conversation as Markdown, with the sources.",
        )
    return choice


def _uploader(settings: Settings, key: str) -> None:
    suffixes = sorted(s.lstrip(".") for s in SUPPORTED_SUFFIXES)
    limit_mb = max(1, math.ceil(settings.upload_max_bytes / (1024 * 1024)))
    files = st.file_uploader(
        "Article files", type=suffixes, accept_multiple_files=True,
        key=f"uploads-{st.session_state['upload_round']}", max_upload_size=limit_mb,
        help=f"Markdown (front matter: title, source, date, url), text, HTML or JSON Lines; "
        f"up to {settings.upload_max_bytes:,} bytes each.",
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
                embeddings=_embeddings(key, settings), progress=progress,
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
        # Reopen the index (the model stays loaded): an open index handle keeps the
        # revision it was opened at, so stats and the keyword index would lag behind.
        _engine.clear()
        _chain.clear()
        _stats.clear()
        _article_text.clear()
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
            escape_markdown(f"Articles: {', '.join(done)}; {report['passages']:,} passages."),
            icon=":material/check_circle:",
        )
    for problem in report["problems"]:
        st.warning(escape_markdown(problem), icon=":material/warning:")


# --- the conversation ----------------------------------------------------------------
def _render_sources(answer: Answer, anchor: str, key: str, engine: Any) -> None:
    if not answer.citations:
        return
    revision = engine.index.revision if engine is not None else ""
    cards = [
        source_html(
            citation, anchor,
            _article_text(key, revision, citation.article_id, engine) if engine else None,
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


def _render_turn(turn: dict[str, Any], history: list[tuple[str, str]], ctx: dict[str, Any]) -> None:
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


def _ask(question: str, choice: dict[str, Any], ctx: dict[str, Any]) -> None:
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
        chain = _chain(ctx["key"], choice["answerer"], settings)
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


def main() -> None:
    settings = _settings()
    key = settings.model_dump_json()
    _state()
    st.html(STYLE)

    engine: SearchEngine | None = None
    stats: dict[str, Any] | None = None
    problem = ""
    try:
        engine = _engine(key, settings)
        stats = _stats(key, engine.index.revision, settings, engine)
    except IndexMissingError:
        problem = "empty"
    except RagError as exc:
        problem = str(exc)

    choice = _sidebar(settings, key, engine, stats)

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
        _render_turn(turn, chat_history(answers[:number]), ctx)

    ready = engine is not None and not problem
    question = st.chat_input(
        "Ask about the news…" if ready else "Add articles to start asking",
        disabled=not ready, max_chars=settings.max_question_chars, key="question",
    )
    if question is not None and ready:
        _ask(question, choice, ctx)


main()
