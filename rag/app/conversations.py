"""Conversations kept in a local SQLite file, so they survive a reload and can be reopened.

Two tables: ``conversations`` (id, title, times, the library it was asked of) and
``turns`` (one row per question, the whole ``Answer`` as JSON, the reader's rating).
Every write touches only its own conversation's rows, in one transaction, so two browser
tabs (two sessions) never overwrite each other: each appends to, or replaces the last
turn of, the conversation it has open. WAL mode and a busy timeout let several UI
processes share the file.

The default file lies beside the index folder, so two indexes side by side share it: a
store opened with ``library`` (the UI passes its index) lists and deletes only that
library's conversations, plus those stored before libraries were recorded ('').
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from rag.core.schema import Answer

SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    library TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS turns (
    id TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    answer_json TEXT NOT NULL,
    rating TEXT,
    UNIQUE (conversation_id, position)
);
CREATE INDEX IF NOT EXISTS conversations_by_time ON conversations(updated_at);
"""
TITLE_CHARS = 80


@dataclass(frozen=True)
class ConversationInfo:
    """One stored conversation, as the sidebar lists it."""

    id: str
    title: str
    updated_at: str
    turns: int


@dataclass
class StoredTurn:
    """One question and its answer, with the reader's rating ("up", "down" or None)."""

    id: str
    answer: Answer
    rating: str | None = None
    asked_at: str = ""  # ISO time the answer was stored (read back from the file)


def _add_library_column(db: sqlite3.Connection) -> None:
    """Files from before the library column get it (inside the write lock, so two
    processes never both add it)."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(conversations)")}
    if "library" not in columns:
        db.execute("ALTER TABLE conversations ADD COLUMN library TEXT NOT NULL DEFAULT ''")


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def new_id() -> str:
    return uuid.uuid4().hex[:12]


class ConversationStore:
    """The conversations in one SQLite file (created on first use)."""

    def __init__(self, path: Path, library: str | None = None) -> None:
        self.path = Path(path)
        self.library = library  # None: every library's conversations

    def _scope(self) -> tuple[str, tuple[str, ...]]:
        """The SQL condition (on table alias c) and its parameters for this library."""
        if self.library is None:
            return "1", ()
        return "c.library IN (?, '')", (self.library,)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        try:
            db.execute("PRAGMA foreign_keys = ON")
            _use_wal(db)
            db.executescript(SCHEMA)
            db.execute("BEGIN IMMEDIATE")
            try:
                _add_library_column(db)
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        finally:
            db.close()

    # --- writing ---------------------------------------------------------------------
    def add_turn(self, conversation_id: str, turn: StoredTurn) -> None:
        """Append a turn; the conversation is created (titled by its question) if new."""
        now = _now()
        with self._db() as db:
            title = " ".join(turn.answer.question.split())[:TITLE_CHARS] or "Untitled"
            db.execute(
                "INSERT INTO conversations (id, title, created_at, updated_at, library) "
                "VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET updated_at = excluded.updated_at",
                (conversation_id, title, now, now, self.library or ""),
            )
            (position,) = db.execute(
                "SELECT COALESCE(MAX(position), -1) + 1 FROM turns WHERE conversation_id = ?",
                (conversation_id,),
            ).fetchone()
            db.execute(
                "INSERT INTO turns (id, conversation_id, position, created_at, answer_json, "
                "rating) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    turn.id, conversation_id, position, now, turn.answer.model_dump_json(),
                    turn.rating,
                ),
            )

    def replace_turn(self, conversation_id: str, old_id: str, turn: StoredTurn) -> None:
        """Put ``turn`` in the place of turn ``old_id`` (regenerate, edit the question)."""
        with self._db() as db:
            found = db.execute(
                "UPDATE turns SET id = ?, answer_json = ?, rating = ?, created_at = ? "
                "WHERE id = ? AND conversation_id = ?",
                (
                    turn.id, turn.answer.model_dump_json(), turn.rating, _now(), old_id,
                    conversation_id,
                ),
            ).rowcount
            self._touch(db, conversation_id)
        if not found:
            self.add_turn(conversation_id, turn)

    def rate(self, turn_id: str, rating: str) -> None:
        with self._db() as db:
            db.execute("UPDATE turns SET rating = ? WHERE id = ?", (rating, turn_id))

    def delete(self, conversation_id: str) -> None:
        with self._db() as db:
            db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))

    def delete_all(self) -> int:
        """Delete this library's conversations (all of them without a library)."""
        where, args = self._scope()
        with self._db() as db:
            return db.execute(
                f"DELETE FROM conversations AS c WHERE {where}", args
            ).rowcount

    @staticmethod
    def _touch(db: sqlite3.Connection, conversation_id: str) -> None:
        db.execute(
            "UPDATE conversations SET updated_at = ? WHERE id = ?", (_now(), conversation_id)
        )

    # --- reading ---------------------------------------------------------------------
    def conversations(self, limit: int = 50) -> list[ConversationInfo]:
        """The most recently used conversations first."""
        if not self.path.exists():
            return []
        where, args = self._scope()
        with self._db() as db:
            rows = db.execute(
                "SELECT c.id, c.title, c.updated_at, COUNT(t.id) FROM conversations c "
                f"LEFT JOIN turns t ON t.conversation_id = c.id WHERE {where} "
                "GROUP BY c.id ORDER BY c.updated_at DESC LIMIT ?",
                (*args, limit),
            ).fetchall()
        return [ConversationInfo(*row) for row in rows]

    def turns(self, conversation_id: str) -> list[StoredTurn]:
        """The conversation's turns in order (empty when it does not exist)."""
        if not self.path.exists():
            return []
        with self._db() as db:
            rows = db.execute(
                "SELECT id, answer_json, rating, created_at FROM turns "
                "WHERE conversation_id = ? ORDER BY position",
                (conversation_id,),
            ).fetchall()
        return [
            StoredTurn(tid, Answer.model_validate_json(data), rating, asked)
            for tid, data, rating, asked in rows
        ]


def _use_wal(db: sqlite3.Connection, wait_s: float = 10.0) -> None:
    """WAL mode, once per file. Switching needs the file to itself and SQLite does not
    wait for that (no busy timeout): tabs opening a new file together got "database is
    locked". Once in WAL it is a no-op, so only the first opening ever retries."""
    deadline = time.monotonic() + wait_s
    while db.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
        try:
            db.execute("PRAGMA journal_mode = WAL")
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)
