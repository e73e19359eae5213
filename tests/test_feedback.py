"""Feedback records: the agreed JSONL format, appends from many threads, bad input."""

from __future__ import annotations

import datetime as dt
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from pydantic import ValidationError

from rag.core.schema import Answer, AnswerSentence, Citation
from rag.evaluation.feedback import FeedbackRecord, append_feedback, read_feedback


def _answer() -> Answer:
    return Answer(
        question="Who did he meet?",
        standalone_question="Who did Iran's president meet?",
        answer="He met Vladimir Putin in Ashgabat. [1]",
        citations=[
            Citation(
                id=1, article_id="a1", chunk_id="a1:c0", title="Forum in Ashgabat",
                source="example.com", quote="He met Vladimir Putin in Ashgabat.",
                passage="Long passage. He met Vladimir Putin in Ashgabat.",
            )
        ],
        sentences=[AnswerSentence(text="He met Vladimir Putin in Ashgabat.", citation_ids=[1])],
        answerer="grounded",
    )


HISTORY = [("human", "Who is Iran's president?"), ("ai", "Massoud Pezeshkian. [1]")]


def test_record_has_exactly_the_agreed_fields(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "feedback.jsonl"
    when = dt.datetime(2025, 5, 1, 12, 30, tzinfo=dt.UTC)
    record = FeedbackRecord.from_answer(_answer(), HISTORY, "down", "  wrong person  ", now=when)
    append_feedback(path, record)
    line = json.loads(path.read_text(encoding="utf-8"))
    assert set(line) == {
        "ts", "question", "chat_history", "standalone_question", "answer", "abstained",
        "citations", "rating", "comment", "answerer",
    }
    assert line["ts"] == "2025-05-01T12:30:00+00:00"
    assert line["chat_history"] == [list(turn) for turn in HISTORY]
    assert line["standalone_question"] == "Who did Iran's president meet?"
    assert line["rating"] == "down"
    assert line["comment"] == "wrong person"
    assert line["abstained"] is False
    assert line["citations"] == [
        {"id": 1, "article_id": "a1", "chunk_id": "a1:c0", "title": "Forum in Ashgabat",
         "quote": "He met Vladimir Putin in Ashgabat."}
    ]
    assert line["answerer"] == "grounded"


def test_appends_keep_earlier_lines_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "feedback.jsonl"
    append_feedback(path, FeedbackRecord.from_answer(_answer(), [], "up"))
    append_feedback(path, FeedbackRecord.from_answer(_answer(), HISTORY, "down", "no"))
    records = list(read_feedback(path))
    assert [r.rating for r in records] == ["up", "down"]
    assert records[1].chat_history == HISTORY


def test_many_threads_never_interleave_lines(tmp_path: Path) -> None:
    path = tmp_path / "feedback.jsonl"
    long_comment = "x" * 1500  # long lines are where torn writes would show

    def give(n: int) -> None:
        append_feedback(
            path, FeedbackRecord.from_answer(_answer(), HISTORY, "up", f"{n} {long_comment}")
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(give, range(200)))
    records = list(read_feedback(path))
    assert len(records) == 200
    assert sorted(int(r.comment.split()[0]) for r in records) == list(range(200))


def test_bad_rating_and_long_comment_are_refused() -> None:
    with pytest.raises(ValueError, match="rating must be 'up' or 'down'"):
        FeedbackRecord.from_answer(_answer(), [], "meh")
    with pytest.raises(ValidationError, match="over the limit"):
        FeedbackRecord.from_answer(_answer(), [], "up", "x" * 5000)


def test_a_malformed_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "feedback.jsonl"
    append_feedback(path, FeedbackRecord.from_answer(_answer(), [], "up"))
    with path.open("a") as handle:
        handle.write('{"rating": "sideways"}\n')
    with pytest.raises(ValueError, match=r"feedback.jsonl:2: not a feedback record"):
        list(read_feedback(path))
