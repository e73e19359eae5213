"""Evaluation suites: JSON Lines files of questions and what a right answer looks like.

One case per line::

    {"id": "q1", "question": "Who is Iran's president?", "must_include": [["Pezeshkian"]]}
    {"id": "q2", "conversation": ["Who is Iran's president?", "Who did he meet?"],
     "must_include": [["Putin"]]}

A case has ``question`` or ``conversation`` (its last turn is scored; earlier turns come
first). A conversation turn is either a question (a string: asked live, and the chain's
answer becomes history) or a fixed ``["human"|"ai", text]`` pair (given as history as
is, not asked). Expectations, all optional: ``answers`` (any one, normalised
containment), ``must_include`` (every group matched by one of its alternatives),
``evidence_ids`` (articles that hold the answer, for retrieval metrics), ``abstain``
(the corpus cannot answer), ``filters`` (passed to the chain). Unknown fields are kept in
``extra`` and otherwise ignored, so foreign benchmark files run as they are.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rag.core.errors import RagError

#: A conversation turn: a question to ask, or a fixed (role, text) history entry.
ConversationTurn = str | tuple[str, str]

_KNOWN = {
    "id", "question", "conversation", "answers", "must_include", "evidence_ids", "abstain",
    "filters",
}
_ROLES = {"human": "human", "user": "human", "ai": "ai", "assistant": "ai"}


class SuiteError(RagError):
    """A suite file that cannot be read; the message names the line and the fix."""


@dataclass(frozen=True)
class EvalCase:
    """One question of a suite and what a right answer looks like."""

    id: str
    turns: tuple[ConversationTurn, ...]  # the last one is a question (str) and is scored
    answers: tuple[str, ...] = ()
    must_include: tuple[tuple[str, ...], ...] = ()
    evidence_ids: tuple[str, ...] = ()
    abstain: bool = False
    filters: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def question(self) -> str:
        """The scored question (the last turn)."""
        last = self.turns[-1]
        assert isinstance(last, str)
        return last

    @property
    def scored(self) -> bool:
        """True when the case says what a right answer is (so answer accuracy counts it)."""
        return bool(self.answers or self.must_include or self.abstain)

    def to_json(self) -> dict[str, Any]:
        """The case as a suite line (inverse of :func:`parse_case`)."""
        row: dict[str, Any] = {"id": self.id}
        if len(self.turns) == 1:
            row["question"] = self.turns[0]
        else:
            row["conversation"] = [t if isinstance(t, str) else list(t) for t in self.turns]
        if self.answers:
            row["answers"] = list(self.answers)
        if self.must_include:
            row["must_include"] = [list(group) for group in self.must_include]
        if self.evidence_ids:
            row["evidence_ids"] = list(self.evidence_ids)
        if self.abstain:
            row["abstain"] = True
        if self.filters:
            row["filters"] = self.filters
        return {**self.extra, **row}


def unanswerable_without_evidence(cases: Iterable[EvalCase]) -> list[EvalCase]:
    """Cases with answers but no evidence article (RealTime QA questions whose answer is
    in no article of the corpus) as abstain cases; the others as they are."""
    out = []
    for case in cases:
        if case.answers and not case.evidence_ids and not case.abstain:
            kind = {"kind": case.extra.get("kind") or "no-evidence"}
            case = replace(case, answers=(), must_include=(), abstain=True,
                           extra={**case.extra, **kind})
        out.append(case)
    return out


def load_suite(path: str | Path) -> list[EvalCase]:
    """Read a suite file; SuiteError names the first bad line and how to fix it."""
    path = Path(path)
    if not path.is_file():
        raise SuiteError(f"suite file {path} not found; pass a .jsonl file of cases")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise SuiteError(f"{path} is not UTF-8 text; save the suite as UTF-8 JSON Lines") from None
    return parse_suite(lines, str(path))


def read_json_object(path: Path, what: str, fix: str) -> dict[str, Any]:
    """The JSON object in the file ``path`` (a ``what``); SuiteError saying what is wrong
    with it, then ``fix``."""
    if not path.is_file():
        raise SuiteError(f"{what} {path} not found; {fix}")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SuiteError(f"{what} {path} is not valid JSON ({exc}); {fix}") from None
    if not isinstance(raw, dict):
        raise SuiteError(f"{what} {path} is not a JSON object; {fix}")
    return raw


def parse_suite(lines: Iterable[str], origin: str = "suite") -> list[EvalCase]:
    cases: list[EvalCase] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("//"):
            continue
        where = f"{origin}:{number}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise SuiteError(
                f"{where}: not valid JSON ({exc.msg}); each line must be one JSON object"
            ) from None
        case = parse_case(row, where)
        if case.id in seen:
            raise SuiteError(
                f"{where}: id {case.id!r} already used on line {seen[case.id]}; ids must be "
                "unique (baselines compare cases by id)"
            )
        seen[case.id] = number
        cases.append(case)
    if not cases:
        raise SuiteError(f"{origin} holds no cases; add one JSON object per line")
    return cases


def parse_case(row: Any, where: str = "case") -> EvalCase:
    """One suite line (already JSON-decoded) as an EvalCase, or SuiteError."""
    if not isinstance(row, dict):
        raise SuiteError(f"{where}: expected a JSON object, got {type(row).__name__}")
    case_id = row.get("id")
    if not isinstance(case_id, str | int) or isinstance(case_id, bool) or str(case_id) == "":
        raise SuiteError(f"{where}: every case needs an \"id\" (a string)")
    case_id = str(case_id)
    where = f"{where} (id {case_id})"

    if ("question" in row) == ("conversation" in row):
        raise SuiteError(f"{where}: give exactly one of \"question\" or \"conversation\"")
    turns: list[ConversationTurn]
    if "question" in row:
        turns = [_text(row["question"], "question", where)]
    else:
        raw = row["conversation"]
        if not isinstance(raw, list) or not raw:
            raise SuiteError(f"{where}: \"conversation\" must be a non-empty list of turns")
        turns = [_turn(turn, where) for turn in raw]
        if not isinstance(turns[-1], str) and turns[-1][0] != "human":
            raise SuiteError(f"{where}: the last conversation turn must be a question")
        if not isinstance(turns[-1], str):
            turns[-1] = turns[-1][1]

    answers = _strings(row.get("answers"), "answers", where)
    must_include = _groups(row.get("must_include"), where)
    evidence_ids = _strings(row.get("evidence_ids"), "evidence_ids", where)
    abstain = row.get("abstain", False)
    if not isinstance(abstain, bool):
        raise SuiteError(f"{where}: \"abstain\" must be true or false, got {abstain!r}")
    if abstain and (answers or must_include):
        raise SuiteError(
            f"{where}: an abstain case cannot also list answers or must_include; "
            "drop one of them"
        )
    filters = row.get("filters")
    if filters is not None and not isinstance(filters, dict):
        raise SuiteError(f"{where}: \"filters\" must be an object like {{\"sources\": [...]}}")
    return EvalCase(
        id=case_id,
        turns=tuple(turns),
        answers=answers,
        must_include=must_include,
        evidence_ids=evidence_ids,
        abstain=abstain,
        filters=filters or None,
        extra={k: v for k, v in row.items() if k not in _KNOWN},
    )


def _text(value: Any, name: str, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise SuiteError(f"{where}: \"{name}\" must be a non-empty string")
    return value


def _turn(value: Any, where: str) -> ConversationTurn:
    if isinstance(value, str):
        return _text(value, "conversation turn", where)
    if isinstance(value, dict):
        value = [value.get("role"), value.get("content")]
    if (
        isinstance(value, list)
        and len(value) == 2
        and str(value[0]).lower() in _ROLES
        and isinstance(value[1], str)
    ):
        return (_ROLES[str(value[0]).lower()], value[1])
    raise SuiteError(
        f"{where}: conversation turn {value!r} is neither a question string nor a "
        "[\"human\"|\"ai\", text] pair"
    )


def _strings(value: Any, name: str, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str | int | float) for v in value):
        raise SuiteError(f"{where}: \"{name}\" must be a list of strings")
    out = tuple(str(v) for v in value if str(v).strip())
    return out


def _groups(value: Any, where: str) -> tuple[tuple[str, ...], ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise SuiteError(
            f"{where}: \"must_include\" must be a list of groups, e.g. [[\"Putin\"], "
            "[\"sanctions\", \"embargo\"]]"
        )
    groups: list[tuple[str, ...]] = []
    for group in value:
        alternatives = _strings(group, "must_include group", where)
        if not alternatives:
            raise SuiteError(f"{where}: a \"must_include\" group is empty; remove it")
        groups.append(alternatives)
    return tuple(groups)
