"""Compare a report with a baseline, and check figures against CI floors.

Besides the summary deltas and the cases that changed, every per-case figure both runs
have gets a paired randomisation test (rag.evaluation.metrics.paired_test): a delta
with p >= 0.05 is within what chance moves on this many cases.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeGuard

from rag.evaluation.metrics import paired_test
from rag.evaluation.suite import SuiteError, read_json_object

#: p-value under which a change between two runs is reported as significant.
SIGNIFICANCE_LEVEL = 0.05


def load_report(path: str | Path) -> dict[str, Any]:
    """A report.json written by an earlier run; SuiteError when it is not one."""
    path = Path(path)
    if path.is_dir():
        path = path / "report.json"
    report = read_json_object(path, "baseline", "pass the report.json of an earlier run")
    if not isinstance(report.get("summary"), dict):
        raise SuiteError(f"baseline {path} has no \"summary\"; pass a report.json of rag eval")
    report.setdefault("cases", [])
    return report


def compare(report: Mapping[str, Any], baseline: Mapping[str, Any]) -> dict[str, Any]:
    """Summary deltas (new - old) and the cases that got worse or better, by id."""
    new_summary, old_summary = report["summary"], baseline["summary"]
    deltas = {
        key: round(new_summary[key] - old_summary[key], 4)
        for key in new_summary
        if _number(new_summary.get(key)) and _number(old_summary.get(key))
    }
    old_cases = {c.get("id"): c for c in baseline.get("cases", []) if isinstance(c, dict)}
    worse: list[dict[str, Any]] = []
    better: list[dict[str, Any]] = []
    for case in report["cases"]:
        old = old_cases.get(case["id"])
        if old is None:
            continue
        lost, gained = case_changes(old, case)
        if lost:
            worse.append({"id": case["id"], "question": case["question"], "changes": lost})
        if gained:
            better.append({"id": case["id"], "question": case["question"], "changes": gained})
    new_ids = {c["id"] for c in report["cases"]}
    return {
        "settings_changed": settings_changed(report, baseline),
        "summary": {k: old_summary.get(k) for k in new_summary},
        "deltas": deltas,
        "significance": significance(old_cases, report["cases"]),
        "worse": worse,
        "better": better,
        "only_in_baseline": sorted(str(i) for i in set(old_cases) - new_ids),
        "new_cases": sorted(str(i) for i in new_ids - set(old_cases)),
    }


def settings_changed(report: Mapping[str, Any], baseline: Mapping[str, Any]) -> dict[str, list]:
    """{setting: [baseline value, this run's value]} for the settings that differ."""
    new, old = report.get("settings") or {}, baseline.get("settings") or {}
    return {
        key: [old.get(key), new.get(key)]
        for key in sorted(set(new) | set(old))
        if key != "index_dir" and old.get(key) != new.get(key)
    }


def settings_line(base: Mapping[str, Any]) -> str:
    """'Settings changed since the baseline: top_k 5 -> 2.' ('' when none did)."""
    changed = base.get("settings_changed") or {}
    if not changed:
        return ""
    parts = [f"{key} {old} -> {new}" for key, (old, new) in changed.items()]
    return f"Settings changed since the baseline: {', '.join(parts)}."


#: Per-case figures tested for a significant change, by summary name.
PAIRED_METRICS: dict[str, Callable[[Mapping[str, Any]], float | None]] = {
    "answer_accuracy": lambda c: None if c.get("passed") is None else float(bool(c["passed"])),
    "recall@5": lambda c: _retrieval(c, "recall@5"),
    "recall@10": lambda c: _retrieval(c, "recall@10"),
    "mrr@10": lambda c: _retrieval(c, "rr@10"),
    "citation_recall": lambda c: _as_float(c.get("citation_recall")),
    "citation_precision": lambda c: _as_float(c.get("citation_precision")),
}


def significance(
    old_cases: Mapping[Any, Mapping[str, Any]], new_cases: Iterable[Mapping[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Per metric: cases compared, both means, and the paired randomisation test's p."""
    out: dict[str, dict[str, Any]] = {}
    for name, value in PAIRED_METRICS.items():
        pairs = []
        for case in new_cases:
            old = old_cases.get(case.get("id"))
            if old is not None:
                a, b = value(old), value(case)
                if a is not None and b is not None:
                    pairs.append((a, b))
        if not pairs:
            continue
        olds, news = [a for a, _ in pairs], [b for _, b in pairs]
        p = paired_test(olds, news)
        out[name] = {
            "n": len(pairs),
            "baseline": round(sum(olds) / len(olds), 4),
            "value": round(sum(news) / len(news), 4),
            "p_value": None if p is None else round(p, 4),
            "significant": p is not None and p < SIGNIFICANCE_LEVEL,
        }
    return out


def _retrieval(case: Mapping[str, Any], key: str) -> float | None:
    retrieval = case.get("retrieval")
    if case.get("error") is not None:  # as the summary counts it: a miss
        return 0.0 if (case.get("expected") or {}).get("evidence_ids") else None
    return _as_float(retrieval.get(key)) if isinstance(retrieval, dict) else None


def _as_float(value: Any) -> float | None:
    return float(value) if _number(value) else None


def case_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """(what got worse, what got better) between two runs of one case."""
    worse: list[str] = []
    better: list[str] = []
    if old.get("passed") is True and new.get("passed") is False:
        worse.append("answer: pass -> fail")
    elif old.get("passed") is False and new.get("passed") is True:
        better.append("answer: fail -> pass")
    old_rank = _rank(old)
    new_rank = _rank(new)
    if old_rank is not None or new_rank is not None:
        before = old_rank if old_rank is not None else float("inf")
        after = new_rank if new_rank is not None else float("inf")
        text = f"evidence rank: {_show_rank(old_rank)} -> {_show_rank(new_rank)}"
        if after > before:
            worse.append(text)
        elif after < before:
            better.append(text)
    for key in ("citation_recall", "citation_precision"):
        a, b = old.get(key), new.get(key)
        if _number(a) and _number(b) and abs(b - a) > 1e-9:
            (worse if b < a else better).append(f"{key.replace('_', ' ')}: {a:.2f} -> {b:.2f}")
    if old.get("error") is None and new.get("error") is not None:
        worse.append(f"error: {new['error']}")
    return worse, better


def _rank(case: Mapping[str, Any]) -> int | None:
    retrieval = case.get("retrieval")
    if isinstance(retrieval, dict):
        rank = retrieval.get("first_hit_rank")
        return rank if isinstance(rank, int) else None
    return None


def _show_rank(rank: int | None) -> str:
    return "none" if rank is None else str(rank)


def _number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


# --- CI floors -----------------------------------------------------------------------------


def parse_floors(specs: Iterable[str], known: Iterable[str]) -> dict[str, float]:
    """``["recall@5=0.8", ...]`` as {metric: floor}; ValueError naming a bad spec."""
    known = [k for k in known if not k.startswith("latency")]
    floors: dict[str, float] = {}
    for spec in specs:
        metric, sep, value = spec.partition("=")
        metric = metric.strip()
        if not sep or not metric:
            raise ValueError(f"--fail-under {spec!r} is not METRIC=VALUE, e.g. recall@5=0.8")
        if metric.startswith("latency"):
            raise ValueError(
                f"--fail-under {metric}: lower is better for latency, so a floor would fail "
                "fast runs; gate on a quality metric (e.g. recall@5=0.8) and read latency "
                "in the report"
            )
        if metric not in known:
            raise ValueError(
                f"--fail-under: unknown metric {metric!r}; use one of {', '.join(known)}"
            )
        try:
            floors[metric] = float(value)
        except ValueError:
            raise ValueError(f"--fail-under {spec!r}: {value!r} is not a number") from None
    return floors


def below_floors(summary: Mapping[str, Any], floors: Mapping[str, float]) -> list[str]:
    """One message per metric under its floor (an undefined metric fails too)."""
    messages: list[str] = []
    for metric, floor in floors.items():
        value = summary.get(metric)
        if not _number(value):
            messages.append(f"{metric} is undefined on this suite (floor {floor:g})")
        elif value < floor:
            messages.append(f"{metric} = {value:.4g} is below the floor {floor:g}")
    return messages
