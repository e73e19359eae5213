"""This machine's copy of the article records, kept in step with Chroma by the change log.

Every ingest needs every article record (duplicates are found against all of them) and
so does a reader's library (outlets, ids, dates for filters). Read from Chroma that is
~14 s at a million passages, each time. ``ArticleIndex.records`` keeps a copy here and
reads from Chroma only the articles the change log names since the copy's position, as
the keyword folder does (rag.indexing.keyword).

The copy is a SQLite file beside the keyword indexes (one per machine and collection):
a row per record and the (generation, position) the rows hold. Rules that keep it equal
to Chroma with several processes reading and writing:
- a copy of another generation (a rebuild happened) is not used;
- rows are written with the committed position read *before* they were read from
  Chroma, so every write up to that position is in them; entries past it (an ingest
  still writing, or killed) are re-read by every reader until committed;
- a process never moves the copy back: it writes only when the stored position is not
  ahead of its own (in one transaction).
A copy that cannot be read or written is ignored (the records then come from Chroma).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import sqlite3
from collections.abc import Iterator, Mapping
from pathlib import Path

from rag.core.schema import StoredArticle

_FIELDS = tuple(f.name for f in dataclasses.fields(StoredArticle))
# The copy's layout: a copy of another layout (fields added) is read as no copy.
_LAYOUT = "1:" + ",".join(_FIELDS)


class RecordCache:
    """Read and update the copy at ``path`` (see the module docstring)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self, generation: str) -> tuple[int, dict[str, StoredArticle]] | None:
        """(position, records) when the copy is of ``generation``; else None."""
        if not generation or not self.path.is_file():
            return None
        try:
            with self._open() as db:
                state = self._state(db)
                if state is None or state[0] != generation:
                    return None
                seq = state[1]
                rows = db.execute("SELECT id, row FROM records").fetchall()
            return seq, {i: StoredArticle(i, *json.loads(row)) for i, row in rows}
        except sqlite3.DatabaseError:  # not a database (damaged): start a new copy
            with contextlib.suppress(OSError):
                self.path.unlink()
            return None
        except (sqlite3.Error, OSError, ValueError, TypeError):
            return None

    def position(self, generation: str) -> int | None:
        """The change-log position the copy holds when it is of ``generation``."""
        if not generation or not self.path.is_file():
            return None
        try:
            with self._open() as db:
                state = self._state(db)
        except (sqlite3.Error, OSError, ValueError):
            return None
        return state[1] if state is not None and state[0] == generation else None

    def facts(self, generation: str) -> list[tuple[str, str, str]] | None:
        """(id, source, date) of every record in the copy, decoding nothing else."""
        source, date = (f"$[{_FIELDS.index(name) - 1}]" for name in ("source", "date"))
        try:
            with self._open() as db:
                state = self._state(db)
                if state is None or state[0] != generation:
                    return None
                rows = db.execute("SELECT id, json_extract(row, ?), json_extract(row, ?) "
                                  "FROM records", (source, date)).fetchall()
        except (sqlite3.Error, OSError):
            return None
        return [(str(i), str(s or ""), str(d or "")) for i, s, d in rows]

    def write(
        self, generation: str, seq: int, changed: Mapping[str, StoredArticle | None],
        whole: bool = False,
    ) -> None:
        """Set ``changed`` rows (None: gone) and the position; ``whole``: ``changed``
        is every record. Skipped when another process already holds a later position."""
        if not generation:
            return
        with contextlib.suppress(sqlite3.Error, OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._open() as db:
                db.execute("BEGIN IMMEDIATE")
                state = self._state(db)
                ours = state is not None and state[0] == generation
                # Behind another process, or rows of another generation that only a
                # whole read may replace: leave the copy as it is.
                if (ours and state is not None and state[1] > seq) or not (ours or whole):
                    db.execute("ROLLBACK")
                    return
                if whole:
                    db.execute("DELETE FROM records")
                db.executemany("DELETE FROM records WHERE id = ?",
                               [(i,) for i, r in changed.items() if r is None])
                db.executemany(
                    "INSERT OR REPLACE INTO records (id, row) VALUES (?, ?)",
                    [(i, _row(r)) for i, r in changed.items() if r is not None],
                )
                db.execute("INSERT OR REPLACE INTO state (key, value) VALUES "
                           "('generation', ?), ('seq', ?), ('layout', ?)",
                           (generation, str(seq), _LAYOUT))
                db.execute("COMMIT")

    @contextlib.contextmanager
    def _open(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            db.execute("CREATE TABLE IF NOT EXISTS records (id TEXT PRIMARY KEY, row TEXT)")
            db.execute("CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT)")
            yield db
        finally:
            db.close()

    @staticmethod
    def _state(db: sqlite3.Connection) -> tuple[str, int] | None:
        state = dict(db.execute("SELECT key, value FROM state").fetchall())
        if state.get("layout") != _LAYOUT or "generation" not in state:
            return None
        return state["generation"], int(state["seq"])


def _row(record: StoredArticle) -> str:
    return json.dumps([getattr(record, name) for name in _FIELDS[1:]])
