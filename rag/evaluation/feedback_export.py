"""Turn reader feedback (the UI's feedback.jsonl) into suite cases.

* thumbs-up on an answer: a regression case. ``must_include`` holds the key facts of
  each quote the answer cited (names and numbers, else a short verbatim phrase) that
  appear in the answer text, and ``evidence_ids`` the cited articles, so a later
  change that loses the answer, or stops retrieving its article, fails the case;
* thumbs-up on an abstention: an ``abstain`` case (the reader agrees nothing answers);
* thumbs-down: a case to fix. Nobody has said yet what the right answer is, so it has
  no expectation (it is run and reported, not scored) and carries ``"todo"`` and the
  rejected answer; an analyst adds ``answers``/``must_include`` (or ``abstain``).

The conversation before the question is kept verbatim as fixed history turns, so the
follow-up is asked in the context the reader saw. The same question in the same
context is exported once (its latest verdict). Ids are stable (a hash of the
conversation), so exporting again into the same file adds only new cases.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from rag.evaluation.metrics import light_normalise
from rag.evaluation.suite import SuiteError, load_suite

_NAME = re.compile(r"\b[A-Z][\w’'-]+(?:\s+[A-Z][\w’'-]+)*")
_NUMBER = re.compile(r"\b\d[\d,.]*(?:\s?(?:%|percent|million|billion))?")
_LEAD_IN = re.compile(r"^\W*\w+,\s+")
MAX_GROUPS = 4


def case_id(question: str, history: Iterable[Iterable[str]]) -> str:
    key = json.dumps([question, [list(t) for t in history]], ensure_ascii=False)
    return "fb-" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:12]


def key_facts(quote: str, answer_text: str) -> list[str]:
    """Names and numbers of ``quote`` that the answer shows, else a short phrase of it."""
    shown = light_normalise(answer_text)
    facts: list[str] = []
    names = [m for m in _NAME.finditer(quote) if m.start() > 0]  # not the capitalised opener
    for match in [*names, *_NUMBER.finditer(quote)]:
        fact = match.group().strip(" ,.’'")
        if len(fact) > 1 and light_normalise(fact) in shown and fact not in facts:
            facts.append(fact)
    if facts:
        return facts
    words = _LEAD_IN.sub("", quote.strip()).split()
    for size in (6, 4):
        for start in range(0, max(1, len(words) - size + 1)):
            phrase = " ".join(words[start : start + size]).strip(" ,.;:")
            if phrase and light_normalise(phrase) in shown:
                return [phrase]
    return []


def record_to_case(record: Any) -> dict[str, Any]:
    """One feedback record (rag.evaluation.feedback.FeedbackRecord) as a suite line."""
    history = [[role, text] for role, text in record.chat_history]
    row: dict[str, Any] = {"id": case_id(record.question, history)}
    if history:
        row["conversation"] = [*history, record.question]
    else:
        row["question"] = record.question
    row["feedback"] = {
        "rating": record.rating,
        "ts": record.ts,
        "comment": record.comment,
        "answer": record.answer,
        "answerer": record.answerer,
    }
    if record.rating == "up" and record.abstained:
        row["abstain"] = True
    elif record.rating == "up":
        groups: list[list[str]] = []
        for citation in record.citations:
            for fact in key_facts(citation.quote, record.answer):
                if [fact] not in groups:
                    groups.append([fact])
        if groups:
            row["must_include"] = groups[:MAX_GROUPS]
        evidence = list(dict.fromkeys(c.article_id for c in record.citations if c.article_id))
        if evidence:
            row["evidence_ids"] = evidence
        if not groups:
            row["todo"] = "no key fact found in the cited quotes; add must_include by hand"
    else:
        row["todo"] = (
            "the reader rejected this answer"
            + (" (an abstention)" if record.abstained else "")
            + "; add answers/must_include (or \"abstain\": true) saying what is right"
        )
    return row


def export_feedback(feedback_path: str | Path, out_path: str | Path) -> tuple[int, int]:
    """Append the feedback's cases to ``out_path``: (cases written, already there)."""
    from rag.evaluation.feedback import read_feedback

    feedback_path, out_path = Path(feedback_path), Path(out_path)
    if not feedback_path.is_file():
        raise SuiteError(
            f"feedback file {feedback_path} not found; the UI writes it to "
            "settings.app.feedback_path (feedback/feedback.jsonl by default)"
        )
    try:
        records = list(read_feedback(feedback_path))
    except ValueError as exc:
        raise SuiteError(str(exc)) from None
    latest: dict[str, dict[str, Any]] = {}
    for record in sorted(records, key=lambda r: r.ts):
        row = record_to_case(record)
        latest[row["id"]] = row  # a later verdict on the same question replaces an earlier
    existing: set[str] = set()
    if out_path.exists() and out_path.stat().st_size:
        existing = {case.id for case in load_suite(out_path)}
    new = [row for cid, row in latest.items() if cid not in existing]
    out_path.parent.mkdir(parents=True, exist_ok=True)
    needs_newline = bool(existing) and not out_path.read_bytes().endswith(b"\n")
    with out_path.open("a", encoding="utf-8") as handle:
        if needs_newline:
            handle.write("\n")
        for row in new:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return len(new), len(latest) - len(new)
