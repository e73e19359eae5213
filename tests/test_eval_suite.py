"""Suite files: parsing, validation messages, foreign fields, the shipped suites."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.evaluation.suite import EvalCase, SuiteError, load_suite, parse_suite
from tests.conftest import REALTIMEQA, REPO

SEED_SUITE = REPO / "evals" / "seed_article.jsonl"


def lines(*rows: object) -> list[str]:
    return [json.dumps(row) for row in rows]


def test_question_case_with_every_field() -> None:
    [case] = parse_suite(
        lines(
            {
                "id": "q1", "question": "Who met Putin?", "answers": ["Pezeshkian"],
                "must_include": [["Putin"], ["Ashgabat", "Turkmenistan"]],
                "evidence_ids": ["a1"], "filters": {"sources": ["x.com"]},
                "question_date": "2026-01-02", "choices": ["a", "b"],
            }
        )
    )
    assert case.question == "Who met Putin?"
    assert case.turns == ("Who met Putin?",)
    assert case.answers == ("Pezeshkian",)
    assert case.must_include == (("Putin",), ("Ashgabat", "Turkmenistan"))
    assert case.evidence_ids == ("a1",)
    assert case.filters == {"sources": ["x.com"]}
    # Unknown fields are kept (for date hints and reports) and otherwise ignored.
    assert case.extra == {"question_date": "2026-01-02", "choices": ["a", "b"]}
    assert case.scored


def test_conversation_mixes_live_questions_and_fixed_history() -> None:
    [case] = parse_suite(
        lines(
            {
                "id": "c1",
                "conversation": [
                    "Who is Iran's president?",
                    ["ai", "Massoud Pezeshkian [1]"],
                    {"role": "user", "content": "Thanks."},
                    "Who did he meet?",
                ],
                "abstain": False,
            }
        )
    )
    assert case.turns == (
        "Who is Iran's president?",
        ("ai", "Massoud Pezeshkian [1]"),
        ("human", "Thanks."),
        "Who did he meet?",
    )
    assert case.question == "Who did he meet?"
    assert not case.scored  # nothing says what a right answer is


def test_round_trip_through_to_json() -> None:
    row = {
        "id": "r", "conversation": ["a?", ["ai", "b"], "c?"], "must_include": [["x", "y"]],
        "evidence_ids": ["e"], "kind": "multi-turn",
    }
    [case] = parse_suite(lines(row))
    assert parse_suite(lines(case.to_json())) == [case]


def test_blank_lines_are_skipped_and_ids_may_be_numbers() -> None:
    cases = parse_suite(["", json.dumps({"id": 7, "question": "q?"}), "   "])
    assert [c.id for c in cases] == ["7"]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("{not json", "not valid JSON"),
        (json.dumps(["a"]), "expected a JSON object"),
        (json.dumps({"question": "q?"}), 'needs an "id"'),
        (json.dumps({"id": "x"}), 'exactly one of "question" or "conversation"'),
        (json.dumps({"id": "x", "question": "q", "conversation": ["q"]}), "exactly one of"),
        (json.dumps({"id": "x", "question": "  "}), '"question" must be a non-empty string'),
        (json.dumps({"id": "x", "conversation": []}), "non-empty list of turns"),
        (json.dumps({"id": "x", "conversation": ["q", ["bot", "hi"]]}), "neither a question"),
        (json.dumps({"id": "x", "conversation": ["q", ["ai", "hi"]]}), "must be a question"),
        (json.dumps({"id": "x", "question": "q", "must_include": "Putin"}), "list of groups"),
        (json.dumps({"id": "x", "question": "q", "must_include": [[]]}), "group is empty"),
        (json.dumps({"id": "x", "question": "q", "answers": {"a": 1}}), "list of strings"),
        (json.dumps({"id": "x", "question": "q", "abstain": "yes"}), "true or false"),
        (
            json.dumps({"id": "x", "question": "q", "abstain": True, "answers": ["a"]}),
            "cannot also list answers",
        ),
        (json.dumps({"id": "x", "question": "q", "filters": ["a"]}), '"filters" must be'),
    ],
)
def test_bad_lines_are_named_with_the_fix(row: str, message: str) -> None:
    with pytest.raises(SuiteError, match=message) as info:
        parse_suite([row], "s.jsonl")
    assert "s.jsonl:1" in str(info.value)


def test_duplicate_ids_name_both_lines() -> None:
    rows = lines({"id": "a", "question": "q?"}, {"id": "b", "question": "q?"},
                 {"id": "a", "question": "r?"})
    with pytest.raises(SuiteError, match=r"s:3: id 'a' already used on line 1"):
        parse_suite(rows, "s")


def test_missing_empty_and_binary_files(tmp_path: Path) -> None:
    with pytest.raises(SuiteError, match="not found"):
        load_suite(tmp_path / "nope.jsonl")
    (tmp_path / "empty.jsonl").write_text("\n\n")
    with pytest.raises(SuiteError, match="holds no cases"):
        load_suite(tmp_path / "empty.jsonl")
    (tmp_path / "bin.jsonl").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(SuiteError, match="not UTF-8"):
        load_suite(tmp_path / "bin.jsonl")


def test_seed_suite_shape() -> None:
    cases = load_suite(SEED_SUITE)
    assert len(cases) >= 30
    kinds = [c.extra.get("kind") for c in cases]
    assert sum(c.abstain for c in cases) >= 6
    assert kinds.count("multi-turn") >= 3
    assert kinds.count("why") >= 2
    assert kinds.count("paraphrase") >= 3
    # Every answerable case says what a right answer must contain and where it is.
    for case in cases:
        assert case.abstain or (case.must_include and case.evidence_ids), case.id
    follow_up = next(c for c in cases if c.turns[-1] == "Who did he meet in Ashgabat?")
    assert follow_up.turns[0] == "Who is Iran's president?"
    assert follow_up.must_include == (("Putin",),)


def test_seed_suite_expectations_occur_in_the_article() -> None:
    """must_include must be reachable by an extractive answerer quoting the article."""
    from rag.evaluation.metrics import light_normalise

    article = light_normalise((REPO / "index/articles/iran-russia-article.md").read_text())
    for case in load_suite(SEED_SUITE):
        for group in case.must_include:
            assert any(light_normalise(alt) in article for alt in group), (case.id, group)


@pytest.mark.skipif(not REALTIMEQA.is_dir(), reason="RealTime QA benchmark not present")
def test_realtimeqa_dev_questions_load_as_they_are() -> None:
    cases = load_suite(REALTIMEQA / "questions-dev.jsonl")
    assert len(cases) == 257
    with_evidence = [c for c in cases if c.evidence_ids]
    assert len(with_evidence) == 151
    assert all(c.answers and isinstance(c, EvalCase) for c in cases)
    assert all("question_date" in c.extra for c in cases)
