"""The page's side of the conversation store: save turns, reopen and delete conversations.

Each browser session holds its own ``conversation_id``; writes go through ``save`` so a
read-only or broken store file shows a warning instead of losing the answer on screen.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import streamlit as st

from rag.app.conversations import ConversationStore, StoredTurn, new_id
from rag.app.ui_render import escape_markdown
from rag.core.settings import Settings


def library_of(settings: Settings) -> str:
    """The library a conversation is asked of: the index folder, or the Chroma server's
    collection (conversations of another index beside it are not listed)."""
    index = settings.index
    if index.chroma_host:
        return f"chroma://{index.chroma_host}:{index.chroma_port}/{index.collection}"
    return f"{index.index_dir.resolve()}#{index.collection}"


def store() -> ConversationStore:
    return ConversationStore(
        st.session_state["store_path"], library=st.session_state.get("store_library")
    )


def save(action: Callable[[ConversationStore], Any]) -> Any:
    """Run one write (or read) on the store; a failure is shown, never raised."""
    try:
        return action(store())
    except (sqlite3.Error, OSError) as exc:
        st.warning(
            escape_markdown(
                f"Conversations cannot be stored in {st.session_state['store_path']} ({exc}); "
                "set RAG_CONVERSATIONS_PATH to a writable file."
            ),
            icon=":material/warning:",
        )
        return None


def as_turn(stored: StoredTurn) -> dict[str, Any]:
    """A stored turn in the shape the page keeps in Session State."""
    return {
        "id": stored.id, "answer": stored.answer, "rating": stored.rating,
        "asked_on": stored.asked_at[:10],
    }


def start_new() -> None:
    """An empty conversation with a fresh id (stored once it has a first turn)."""
    st.session_state.update(turns=[], conversation_id=new_id(), editing=None, pending=None)


def reopen(conversation_id: str) -> None:
    stored = save(lambda s: s.turns(conversation_id)) or []
    st.session_state.update(
        turns=[as_turn(t) for t in stored], conversation_id=conversation_id,
        editing=None, pending=None,
    )


def delete(conversation_id: str) -> None:
    save(lambda s: s.delete(conversation_id))
    if st.session_state.get("conversation_id") == conversation_id:
        start_new()


def delete_all() -> None:
    save(lambda s: s.delete_all())
    st.session_state["confirm_delete_all"] = False
    start_new()
