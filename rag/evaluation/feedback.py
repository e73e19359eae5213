"""Reader feedback on answers: one JSON object per line, appended to a local file.

The evaluation suite turns these lines into test cases, so each record carries what is
needed to ask the same question again: the question, the conversation before it, the
standalone question the chain searched with, the answer and its citations, and the
reader's verdict. Appends are locked so two browser sessions never interleave lines.

An append writes whole lines or nothing: a write that fails midway (a full disk) is cut
back to where the file ended, and a line torn by a crash (power loss) is closed with a
newline before the next record, so it can never swallow that record. Reading skips a
torn line (a JSON record cut short) with a warning; any other bad line is an error.
"""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import json
import logging
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, field_validator

from rag.core.schema import Answer, Turn

log = logging.getLogger(__name__)
Rating = Literal["up", "down"]
MAX_COMMENT_CHARS = 2000


class FeedbackCitation(BaseModel):
    id: int
    article_id: str
    chunk_id: str
    title: str = ""
    quote: str = ""


class FeedbackRecord(BaseModel):
    """One line of the feedback file (the format the eval exporter reads)."""

    ts: str = Field(description="ISO 8601 time the feedback was given, UTC.")
    question: str
    chat_history: list[tuple[Literal["human", "ai"], str]] = Field(default_factory=list)
    standalone_question: str = ""
    answer: str
    abstained: bool = False
    citations: list[FeedbackCitation] = Field(default_factory=list)
    rating: Rating
    comment: str = ""
    answerer: str = ""

    @field_validator("comment")
    @classmethod
    def _comment_length(cls, value: str) -> str:
        value = value.strip()
        if len(value) > MAX_COMMENT_CHARS:
            raise ValueError(
                f"comment is {len(value):,} characters, over the limit of "
                f"{MAX_COMMENT_CHARS:,}; shorten it"
            )
        return value

    @classmethod
    def from_answer(
        cls,
        answer: Answer,
        chat_history: Sequence[Turn],
        rating: str,
        comment: str = "",
        *,
        now: dt.datetime | None = None,
    ) -> FeedbackRecord:
        """The record for a reader's verdict on ``answer``; ValueError on a bad rating."""
        if rating not in ("up", "down"):
            raise ValueError(f"rating must be 'up' or 'down', got {rating!r}")
        moment = now or dt.datetime.now(dt.UTC)
        return cls(
            ts=moment.astimezone(dt.UTC).isoformat(timespec="seconds"),
            question=answer.question,
            chat_history=[(role, text) for role, text in chat_history],
            standalone_question=answer.standalone_question,
            answer=answer.answer,
            abstained=answer.abstained,
            citations=[
                FeedbackCitation(
                    id=c.id, article_id=c.article_id, chunk_id=c.chunk_id, title=c.title,
                    quote=c.quote,
                )
                for c in answer.citations
            ],
            rating=rating,
            comment=comment,
            answerer=answer.answerer,
        )


def append_feedback(path: Path, record: FeedbackRecord) -> None:
    """Append one record as one whole line (or nothing); creates the folder; safe across
    processes. OSError (with the reason in words) when it cannot be written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(record.model_dump(mode="json"), ensure_ascii=False) + "\n").encode()
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        end = os.fstat(fd).st_size
        if end and os.pread(fd, 1, end - 1) != b"\n":
            line = b"\n" + line  # close a line torn by a crash; never glue onto it
        try:
            _write_all(fd, line)
            os.fsync(fd)
        except OSError as exc:
            os.ftruncate(fd, end)  # no partial line left behind
            raise _write_error(path, exc) from exc
    finally:
        os.close(fd)  # releases the lock


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _write_error(path: Path, exc: OSError) -> OSError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        why = "the disk is full; free space and send it again"
    else:
        why = f"{exc.strerror or exc}; check that the file is writable"
    return OSError(exc.errno, f"feedback not saved: {why}", str(path))


def read_feedback(path: Path) -> Iterator[FeedbackRecord]:
    """Every record of a feedback file; a torn line (cut short by a crash) is skipped with
    a warning; any other malformed line raises ValueError naming it."""
    with Path(path).open(encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield FeedbackRecord.model_validate_json(line)
            except ValidationError as exc:
                if _torn(line):
                    log.warning("%s:%d: skipped a record cut short by a failed write",
                                path, number)
                    continue
                raise ValueError(
                    f"{path}:{number}: not a feedback record ({exc.errors()[0]['msg']}); "
                    "fix or remove this line"
                ) from None


def _torn(line: str) -> bool:
    """True for a JSON object cut short: the parser ran out of text, nothing else."""
    text = line.strip()
    if not text.startswith("{"):
        return False
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        return exc.pos >= len(text) or "Unterminated string" in exc.msg
    return False
