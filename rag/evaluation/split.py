"""Tune/validate splits: choose parameters on one part, report the other.

A split file is JSON: ``{"rule": "...", "tune": [ids], "validate": [ids]}`` (any part
names; ids only, never benchmark text, so a split of a licensed benchmark can live in
the repository). ``rag eval SUITE --split FILE`` reports every part's summary side by
side; ``--part NAME`` asks only that part's cases (iterate on ``tune``, look at
``validate`` rarely and never choose anything on it).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rag.evaluation.suite import EvalCase, SuiteError, read_json_object

Split = dict[str, list[str]]


def load_split(path: str | Path) -> Split:
    """The parts of a split file; SuiteError names the problem and the fix."""
    path = Path(path)
    raw = read_json_object(
        path, "split file", 'pass a JSON object of id lists, {"tune": [ids], "validate": [ids]}'
    )
    parts = {
        name: [str(i) for i in ids]
        for name, ids in raw.items()
        if isinstance(ids, list)
    }
    if not parts:
        raise SuiteError(f"{path} holds no id lists; give e.g. {{\"tune\": [...], ...}}")
    owner: dict[str, str] = {}
    for name, ids in parts.items():
        for case_id in ids:
            if case_id in owner and owner[case_id] != name:
                raise SuiteError(
                    f"{path}: id {case_id!r} is in both {owner[case_id]!r} and {name!r}; "
                    "a case belongs to one part"
                )
            owner[case_id] = name
    return parts


def select_part(cases: Sequence[EvalCase], split: Split, part: str) -> list[EvalCase]:
    """The cases of one part, in suite order."""
    if part not in split:
        raise SuiteError(f"part {part!r} is not in the split; use one of {sorted(split)}")
    wanted = set(split[part])
    chosen = [c for c in cases if c.id in wanted]
    if not chosen:
        raise SuiteError(f"no case of the suite is in part {part!r}; check the split file")
    return chosen


def check_overlap(cases: Sequence[EvalCase], split: Split) -> None:
    """SuiteError when no case of the suite is in any part (a split made for another
    suite would otherwise report no part at all, without a word)."""
    named = {case_id for ids in split.values() for case_id in ids}
    if not any(c.id in named for c in cases):
        raise SuiteError(
            f"none of the {len(cases)} cases of the suite is in the split's parts "
            f"({', '.join(sorted(split))}); pass the split file made for this suite"
        )


def split_summaries(results: Sequence[dict[str, Any]], split: Split) -> dict[str, Any]:
    """Each part's summary over the results that belong to it (parts with none omitted)."""
    from rag.evaluation.runner import summarise

    out: dict[str, Any] = {}
    for name, ids in split.items():
        wanted = set(ids)
        members = [r for r in results if r["id"] in wanted]
        if members:
            out[name] = summarise(members)
    return out
