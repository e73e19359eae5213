"""Write a run's report as report.json (for machines and baselines), report.md and
report.html (for people: metric bars, latency distribution, every case)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from html import escape
from pathlib import Path
from typing import Any

from rag.evaluation.compare import settings_line
from rag.evaluation.plots import latency_histogram, metric_bars
from rag.evaluation.runner import LOWER_IS_BETTER, SUMMARY_KEYS

#: The summary metrics that lie in [0, 1] (plotted as bars).
RATE_KEYS = tuple(k for k in SUMMARY_KEYS if k != "n" and not k.endswith("_ms"))


def write_reports(report: Mapping[str, Any], out_dir: str | Path) -> dict[str, Path]:
    """Write report.json, report.md and report.html into ``out_dir`` (created)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "report.json", "md": out / "report.md", "html": out / "report.html"}
    paths["json"].write_text(
        json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    paths["md"].write_text(markdown_report(report), encoding="utf-8")
    paths["html"].write_text(html_report(report), encoding="utf-8")
    return paths


def fmt(value: Any, key: str = "") -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.1f}" if key.endswith("_ms") else f"{value:.3f}"
    return str(value)


def fmt_delta(delta: float | None, key: str) -> str:
    """new - old; ▲ better / ▼ worse for rates and latency, counts get no arrow."""
    if delta is None:
        return ""
    sign = "+" if delta > 0 else ""
    if key == "n" or key.startswith("n_"):
        return f"{sign}{int(delta)}"
    text = f"{sign}{delta:.1f}" if key.endswith("_ms") else f"{sign}{delta:.3f}"
    if key == "errors":
        return f"{sign}{int(delta)}" + ("" if delta == 0 else " ▼" if delta > 0 else " ▲")
    good = delta < 0 if key in LOWER_IS_BETTER else delta > 0
    return text if delta == 0 else f"{text} {'▲' if good else '▼'}"


def summary_rows(report: Mapping[str, Any]) -> list[tuple[str, str, str, str]]:
    """(metric, value, baseline, delta) rows for the summary table."""
    summary = report["summary"]
    base = report.get("baseline") or {}
    rows = []
    for key in [*SUMMARY_KEYS, *(k for k in summary if k not in SUMMARY_KEYS)]:
        old = (base.get("summary") or {}).get(key) if base else None
        delta = (base.get("deltas") or {}).get(key) if base else None
        rows.append((key, fmt(summary.get(key), key), fmt(old, key) if base else "",
                     fmt_delta(delta, key)))
    return rows


def split_rows(report: Mapping[str, Any]) -> tuple[list[str], list[list[str]]]:
    """(part names, rows of [metric, value per part]) when the run had a split."""
    splits = report.get("splits") or {}
    if not splits:
        return [], []
    parts = list(splits)
    keys = [*SUMMARY_KEYS, "answerable_accuracy", "cited_evidence_rate", "kept_answer_rate",
            "n_answer_in_read", "n_with_evidence", "n_abstained", "n_conflict_alarms"]
    rows = [[key, *(fmt(splits[p].get(key), key) for p in parts)] for key in keys]
    return parts, rows


def _judge_line(report: Mapping[str, Any]) -> str:
    judge = report.get("judge") or {}
    line = f"Support judge: {judge.get('name', '?')} at threshold {judge.get('threshold', '?')}"
    agreement = judge.get("agreement")
    if agreement:
        line += (
            f"; agreement with {agreement['n']} hand-labelled pairs: accuracy "
            f"{agreement['accuracy']:.3f}, F1 {agreement['f1']:.3f}, ROC AUC "
            f"{agreement['auc']:.3f} (leave-one-out accuracy {agreement['loo_accuracy']:.3f})"
        )
    else:
        line += "; no hand-labelled pairs found, agreement not measured"
    return line


# --- Markdown ------------------------------------------------------------------------------


def markdown_report(report: Mapping[str, Any]) -> str:
    lines = [f"# Evaluation: {report.get('suite', 'suite')}", ""]
    lines += [
        f"Run {report.get('created', '')}; {report['summary']['n']} cases; "
        f"answerer {report.get('settings', {}).get('answerer', '?')}; index "
        f"{report.get('settings', {}).get('index_dir', '?')}.",
        "",
        _judge_line(report) + ".",
        "",
    ]
    base = report.get("baseline")
    if base and settings_line(base):
        lines += [_md(settings_line(base)), ""]
    header = "| metric | value | baseline | delta |" if base else "| metric | value |"
    lines += [header, "|---|---|---|---|" if base else "|---|---|"]
    for key, value, old, delta in summary_rows(report):
        lines.append(f"| {key} | {value} | {old} | {delta} |" if base else f"| {key} | {value} |")
    lines.append("")
    parts, rows = split_rows(report)
    if parts:
        lines += ["Split parts side by side (`tune` = chosen on; report the others):", ""]
        lines += ["| metric | " + " | ".join(parts) + " |", "|---" * (len(parts) + 1) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        lines.append("")
    if report.get("by_kind"):
        lines += ["| kind | cases | answer_accuracy |", "|---|---|---|"]
        lines += [
            f"| {_md(kind)} | {row['n']} | {fmt(row['answer_accuracy'])} |"
            for kind, row in report["by_kind"].items()
        ]
        lines.append("")
    if base and base.get("significance"):
        lines += significance_lines(base["significance"])
    if base:
        lines += [f"## Worse than the baseline ({len(base['worse'])})", ""]
        lines += [f"- `{_md(w['id'])}`: {_md('; '.join(w['changes']))}" for w in base["worse"]]
        lines += ["", f"## Better than the baseline ({len(base['better'])})", ""]
        lines += [f"- `{_md(b['id'])}`: {_md('; '.join(b['changes']))}" for b in base["better"]]
        lines.append("")
    failed = [c for c in report["cases"] if c.get("failures")]
    lines += [f"## Cases with a failure ({len(failed)} of {len(report['cases'])})", ""]
    for case in failed:
        lines += [
            f"### `{_md(case['id'])}` {'FAIL' if case.get('passed') is False else ''}",
            "",
            f"- question: {_md(case['question'])}",
        ]
        if case.get("standalone_question") and case["standalone_question"] != case["question"]:
            lines.append(f"- searched as: {_md(case['standalone_question'])}")
        lines.append(f"- answer: {_md(case.get('answer') or '')}")
        for failure in case["failures"]:
            lines.append(f"- failed: {_md(failure)}")
        lines.append("")
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


# --- HTML ----------------------------------------------------------------------------------

_CSS = """
body{font-family:system-ui,sans-serif;margin:2rem;max-width:1200px;color:#222}
table{border-collapse:collapse;margin:1rem 0}th,td{border:1px solid #ddd;padding:4px 8px;
vertical-align:top;text-align:left}th{background:#f3f5f8}.num{text-align:right}
.pass{color:#2a7a3f;font-weight:600}.fail{color:#b0302a;font-weight:600}.muted{color:#777}
.cases td{font-size:13px}.quote{color:#555;font-style:italic}details summary{cursor:pointer}
"""


def html_report(report: Mapping[str, Any]) -> str:
    summary = report["summary"]
    base = report.get("baseline") or None
    title = f"Evaluation: {report.get('suite', 'suite')}"
    out = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f"<p>Run {escape(str(report.get('created', '')))}; {summary['n']} cases; answerer "
        f"{escape(str(report.get('settings', {}).get('answerer', '?')))}; index "
        f"{escape(str(report.get('settings', {}).get('index_dir', '?')))}.</p>",
        f"<p>{escape(_judge_line(report))}.</p>",
    ]
    if base and settings_line(base):
        out.append(f"<p><strong>{escape(settings_line(base))}</strong></p>")
    out += ["<h2>Summary</h2><table><tr><th>metric</th><th>value</th>"]
    if base:
        out.append("<th>baseline</th><th>delta</th>")
    out.append("</tr>")
    for key, value, old, delta in summary_rows(report):
        out.append(f"<tr><td>{escape(key)}</td><td class=num>{escape(value)}</td>")
        if base:
            out.append(f"<td class=num>{escape(old)}</td><td class=num>{escape(delta)}</td>")
        out.append("</tr>")
    out.append("</table>")
    parts, rows = split_rows(report)
    if parts:
        out.append("<h2>Split parts</h2><table><tr><th>metric</th>")
        out += [f"<th>{escape(p)}</th>" for p in parts]
        out.append("</tr>")
        for row in rows:
            out.append("<tr><td>" + escape(row[0]) + "</td>")
            out += [f"<td class=num>{escape(v)}</td>" for v in row[1:]]
            out.append("</tr>")
        out.append("</table>")
    if report.get("by_kind"):
        out.append("<table><tr><th>kind</th><th>cases</th><th>answer_accuracy</th></tr>")
        out += [
            f"<tr><td>{escape(kind)}</td><td class=num>{row['n']}</td>"
            f"<td class=num>{fmt(row['answer_accuracy'])}</td></tr>"
            for kind, row in report["by_kind"].items()
        ]
        out.append("</table>")
    rates = {k: summary.get(k) for k in RATE_KEYS}
    old_rates = {k: (base.get("summary") or {}).get(k) for k in RATE_KEYS} if base else None
    out += ["<h2>Metrics</h2>", metric_bars(rates, old_rates)]
    if base:
        out.append('<p class="muted">Thin grey bars: the baseline.</p>')
    latencies = [c["latency_ms"] for c in report["cases"] if c.get("latency_ms") is not None]
    out += ["<h2>Latency per case (scored turn)</h2>", latency_histogram(latencies)]
    if base:
        out.append(f"<h2>Worse than the baseline ({len(base['worse'])})</h2><ul>")
        out += [
            f"<li><code>{escape(w['id'])}</code>: {escape('; '.join(w['changes']))}</li>"
            for w in base["worse"]
        ]
        out.append(f"</ul><h2>Better than the baseline ({len(base['better'])})</h2><ul>")
        out += [
            f"<li><code>{escape(b['id'])}</code>: {escape('; '.join(b['changes']))}</li>"
            for b in base["better"]
        ]
        out.append("</ul>")
    out += [
        "<h2>Cases</h2><table class=cases><tr><th>id</th><th>result</th><th>question</th>"
        "<th>answer and citations</th><th>evidence rank</th><th>cit. R / P</th>"
        "<th>ms</th><th>what failed</th></tr>",
    ]
    for case in report["cases"]:
        out.append(_case_row(case))
    out.append("</table></body></html>")
    return "\n".join(out) + "\n"


def _case_row(case: Mapping[str, Any]) -> str:
    passed = case.get("passed")
    result = (
        '<span class="pass">pass</span>' if passed is True
        else '<span class="fail">fail</span>' if passed is False
        else '<span class="muted">n/a</span>'
    )
    question = escape(case["question"])
    if case.get("history"):
        turns = "<br>".join(f"{escape(r)}: {escape(t)}" for r, t in case["history"])
        question = f"<details><summary>{question}</summary>{turns}</details>"
    if case.get("standalone_question") and case["standalone_question"] != case["question"]:
        searched = escape(case["standalone_question"])
        question += f'<br><span class="muted">searched as: {searched}</span>'
    answer = escape(case.get("answer") or "")
    if case.get("abstained"):
        answer = f'<span class="muted">[abstained]</span> {answer}'
    cites = "".join(
        f'<li>[{c["id"]}] <code>{escape(c["article_id"])}</code> '
        f'<span class="quote">{escape(c["quote"])}</span></li>'
        for c in case.get("citations") or []
    )
    if cites:
        answer += f"<details><summary>citations</summary><ul>{cites}</ul></details>"
    retrieval = case.get("retrieval")
    rank = fmt(retrieval.get("first_hit_rank")) if retrieval else ""
    cit = (
        f"{fmt(case.get('citation_recall'))} / {fmt(case.get('citation_precision'))}"
        if case.get("citation_recall") is not None else ""
    )
    failures = "<br>".join(escape(f) for f in case.get("failures") or [])
    return (
        f"<tr><td><code>{escape(case['id'])}</code></td><td>{result}</td><td>{question}</td>"
        f"<td>{answer}</td><td class=num>{escape(rank)}</td><td class=num>{cit}</td>"
        f"<td class=num>{fmt(case.get('latency_ms'), '_ms')}</td><td>{failures}</td></tr>"
    )


def significance_lines(tests: dict[str, Any]) -> list[str]:
    """The baseline comparison's paired tests as a Markdown table."""
    lines = [
        "## Change against the baseline: paired randomisation test",
        "",
        "Cases both runs scored; p < 0.05 is unlikely to be chance.",
        "",
        "| metric | cases | baseline | now | p | significant |",
        "|---|---|---|---|---|---|",
    ]
    for name, row in tests.items():
        p = "-" if row["p_value"] is None else f"{row['p_value']:.4f}"
        lines.append(
            f"| {name} | {row['n']} | {row['baseline']:.3f} | {row['value']:.3f} | {p} | "
            f"{'yes' if row['significant'] else 'no'} |"
        )
    return [*lines, ""]
