"""Tune/validate splits: id lists in the repo, parts reported side by side."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.evaluation.split import check_overlap, load_split, select_part
from rag.evaluation.suite import SuiteError, parse_case
from tests.conftest import REPO


def test_shipped_realtimeqa_split_follows_its_rule() -> None:
    split = load_split(REPO / "evals" / "realtimeqa_split.json")
    assert len(split["tune"]) == 180 and len(split["validate"]) == 77
    assert not set(split["tune"]) & set(split["validate"])
    questions = Path("/work/shared/benchmarks/realtimeqa/questions-dev.jsonl")
    if not questions.is_file():
        pytest.skip("RealTime QA benchmark not present")
    dates = {r["id"]: r["question_date"] for r in map(json.loads, questions.open())}
    assert all(dates[i] < "2026-01-01" for i in split["tune"])
    assert all(dates[i] >= "2026-01-01" for i in split["validate"])


def test_bad_split_files_name_the_fix(tmp_path: Path) -> None:
    missing = tmp_path / "none.json"
    with pytest.raises(SuiteError, match="not found"):
        load_split(missing)
    both = tmp_path / "both.json"
    both.write_text(json.dumps({"tune": ["a"], "validate": ["a"]}))
    with pytest.raises(SuiteError, match="one part"):
        load_split(both)
    split = {"tune": ["x"], "validate": ["y"]}
    suite = [parse_case({"id": "x", "question": "q?"}), parse_case({"id": "z", "question": "r?"})]
    assert [c.id for c in select_part(suite, split, "tune")] == ["x"]
    with pytest.raises(SuiteError, match="not in the split"):
        select_part(suite, split, "test")
    with pytest.raises(SuiteError, match="no case"):
        select_part(suite, split, "validate")


def test_a_split_that_names_no_case_of_the_suite_is_refused() -> None:
    """--split with another suite's split would report no part at all, silently."""
    suite = [parse_case({"id": "x", "question": "q?"}), parse_case({"id": "z", "question": "r?"})]
    check_overlap(suite, {"tune": ["x"], "validate": ["y"]})  # one case in: fine
    with pytest.raises(SuiteError, match="none of the 2 cases"):
        check_overlap(suite, {"tune": ["a"], "validate": ["b"]})
