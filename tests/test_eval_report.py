"""Reports (JSON, Markdown, HTML with SVG), baselines, CI floors and the CLI."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from rag.app.cli import app
from rag.core.settings import Settings
from rag.evaluation.compare import below_floors, compare, load_report, parse_floors
from rag.evaluation.report import html_report, markdown_report, write_reports
from rag.evaluation.runner import SUMMARY_KEYS, summarise
from rag.evaluation.suite import SuiteError
from rag.indexing.ingest import ingest
from tests.conftest import write_article

EVIL = '<script>alert("x")</script>'


def case(cid: str, passed: bool | None, rank: int | None, recall: float | None = 1.0,
         latency: float = 100.0, **extra: Any) -> dict[str, Any]:
    return {
        "id": cid, "question": f"question {cid}", "history": [], "error": None,
        "expected": {"answers": [], "must_include": [["x"]], "evidence_ids": ["e"],
                     "abstain": False},
        "passed": passed, "failures": [] if passed else ["missing: x"], "answer": "an answer",
        "abstained": False, "citations": [{"id": 1, "article_id": "e", "chunk_id": "e:1",
                                           "title": "t", "quote": "a quote"}],
        "citation_recall": recall, "citation_precision": recall, "latency_ms": latency,
        "retrieval": {"first_hit_rank": rank, "recall@5": float(rank is not None and rank <= 5),
                      "recall@10": float(rank is not None), "rr@10": 1 / rank if rank else 0.0},
        **extra,
    }


def report_of(cases: list[dict[str, Any]]) -> dict[str, Any]:
    return {"suite": "s.jsonl", "created": "2026-01-01T00:00:00+00:00",
            "settings": {"answerer": "grounded", "index_dir": "i"},
            "judge": {"name": "J", "threshold": 0.5, "agreement": None},
            "summary": summarise(cases), "cases": cases}


def test_summary_of_synthetic_cases() -> None:
    summary = summarise([case("a", True, 1), case("b", False, 7, recall=0.5, latency=300.0),
                         case("c", True, None)])
    assert summary["answer_accuracy"] == pytest.approx(2 / 3, abs=1e-4)
    assert summary["recall@5"] == pytest.approx(1 / 3, abs=1e-4)
    assert summary["recall@10"] == pytest.approx(2 / 3, abs=1e-4)
    assert summary["mrr@10"] == pytest.approx((1 + 1 / 7) / 3, abs=1e-4)
    assert summary["citation_recall"] == pytest.approx(2.5 / 3, abs=1e-4)
    assert summary["latency_p50_ms"] == 100.0
    assert summary["latency_p95_ms"] == pytest.approx(280.0)


def test_baseline_deltas_and_worse_cases() -> None:
    old = report_of([case("a", True, 1), case("b", False, 3), case("gone", True, 1)])
    new = report_of([case("a", False, 4, recall=0.5), case("b", True, 1), case("new", True, 1)])
    result = compare(new, old)
    assert result["deltas"]["answer_accuracy"] == 0.0  # one lost, one gained
    assert result["deltas"]["mrr@10"] == pytest.approx(
        new["summary"]["mrr@10"] - old["summary"]["mrr@10"], abs=1e-4
    )
    [worse] = result["worse"]
    assert worse["id"] == "a"
    assert worse["changes"] == [
        "answer: pass -> fail", "evidence rank: 1 -> 4", "citation recall: 1.00 -> 0.50",
        "citation precision: 1.00 -> 0.50",
    ]
    [better] = result["better"]
    assert better["id"] == "b" and "evidence rank: 3 -> 1" in better["changes"]
    assert result["only_in_baseline"] == ["gone"] and result["new_cases"] == ["new"]
    # Two shared cases, one lost and one gained: no significant change.
    tests = result["significance"]
    assert tests["answer_accuracy"]["n"] == 2
    assert tests["answer_accuracy"]["significant"] is False
    assert tests["recall@5"]["p_value"] is None  # both cases stay within the top 5
    assert tests["mrr@10"]["p_value"] is not None


def test_baseline_names_the_settings_that_changed() -> None:
    """Comparing two runs, the analyst first asks what was different: the settings that
    differ (top_k 5 -> 2) head the comparison in every report and the CLI."""
    old = report_of([case("a", True, 1)])
    new = report_of([case("a", False, 4)])
    old["settings"] = {**old["settings"], "top_k": 5, "llm": "none"}
    new["settings"] = {**new["settings"], "top_k": 2, "llm": "none"}
    result = compare(new, old)
    assert result["settings_changed"] == {"top_k": [5, 2]}
    report = {**new, "baseline": {"path": "old/report.json", **result}}
    line = "Settings changed since the baseline: top_k 5 -> 2."
    assert line in markdown_report(report)
    assert line.replace("->", "-&gt;") in html_report(report)
    assert compare(new, new)["settings_changed"] == {}


def test_baseline_significance_of_a_real_change() -> None:
    old = report_of([case(f"c{i}", False, None) for i in range(30)])
    new = report_of([case(f"c{i}", True, 1) for i in range(30)])
    tests = compare(new, old)["significance"]
    for metric in ("answer_accuracy", "recall@5", "mrr@10"):
        assert tests[metric]["n"] == 30 and tests[metric]["significant"] is True
        assert tests[metric]["p_value"] < 0.001
    report = {**new, "baseline": {"path": "old", **compare(new, old)}}
    markdown = markdown_report(report)
    assert "paired randomisation test" in markdown and "| recall@5 | 30 | 0.000 | 1.000 |" in (
        markdown
    )


def test_floors() -> None:
    floors = parse_floors(["recall@5=0.8", "answer_accuracy=0.5"], SUMMARY_KEYS)
    assert floors == {"recall@5": 0.8, "answer_accuracy": 0.5}
    summary = {"recall@5": 0.75, "answer_accuracy": 0.9, "abstention_recall": None}
    assert below_floors(summary, floors) == ["recall@5 = 0.75 is below the floor 0.8"]
    assert "undefined" in below_floors(summary, {"abstention_recall": 0.5})[0]
    for bad, message in [("recall@5", "METRIC=VALUE"), ("recal@5=1", "unknown metric"),
                         ("recall@5=high", "not a number")]:
        with pytest.raises(ValueError, match=message):
            parse_floors([bad], SUMMARY_KEYS)


def test_a_floor_on_latency_is_refused() -> None:
    """Lower latency is better: "--fail-under latency_p50_ms=1000" would fail every fast
    run ("14 ms is below the floor 1000"). Refused up front, naming what to gate on."""
    with pytest.raises(ValueError, match="lower is better"):
        parse_floors(["latency_p50_ms=1000"], SUMMARY_KEYS)
    with pytest.raises(ValueError, match="unknown metric") as raised:
        parse_floors(["recal@5=1"], SUMMARY_KEYS)
    assert "latency" not in str(raised.value)  # not offered as a choice


def test_bad_baselines_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SuiteError, match="not found"):
        load_report(tmp_path / "none.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(SuiteError, match="not valid JSON"):
        load_report(tmp_path / "bad.json")
    (tmp_path / "other.json").write_text('{"a": 1}')
    with pytest.raises(SuiteError, match="no \"summary\""):
        load_report(tmp_path / "other.json")


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)


def test_reports_are_written_and_escape_untrusted_text(tmp_path: Path) -> None:
    cases = [case(EVIL, False, 2, question=EVIL, answer=EVIL), case("ok", True, 1)]
    report = report_of(cases)
    report["baseline"] = {"path": "old", **compare(report, report_of([case(EVIL, True, 1)]))}
    paths = write_reports(report, tmp_path / "out")
    assert json.loads(paths["json"].read_text())["summary"]["n"] == 2
    html = paths["html"].read_text()
    parser = _Collect()
    parser.feed(html)
    assert "script" not in parser.tags  # the case id, question and answer stay text
    assert "&lt;script&gt;" in html
    assert parser.tags.count("svg") == 2  # metric bars and latency histogram
    assert "Worse than the baseline (1)" in html
    md = paths["md"].read_text()
    assert "| answer_accuracy | 0.500 | 1.000 | -0.500 ▼ |" in md
    assert "## Cases with a failure (1 of 2)" in md


# --- the CLI ---------------------------------------------------------------------------


@pytest.fixture
def indexed(tmp_path: Path, hashing_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "articles"
    write_article(
        folder, "volcano.md", "Volcano erupts in Iceland",
        "A volcano erupted near Grindavik in Iceland on Monday. Lava flowed toward the town. "
        "Officials evacuated four thousand residents as a precaution.", id="volcano",
    )
    ingest([folder], hashing_settings)
    monkeypatch.setenv("RAG_EMBEDDING_MODEL", "hashing")
    monkeypatch.setenv("RAG_ABSTAIN_THRESHOLD", "0.3")
    suite = tmp_path / "suite.jsonl"
    suite.write_text(
        json.dumps({"id": "evac", "question": "How many residents were evacuated?",
                    "must_include": [["four thousand"]], "evidence_ids": ["volcano"]}) + "\n"
        + json.dumps({"id": "mars", "question": "What is the population of Mars?",
                      "abstain": True}) + "\n"
    )
    return suite


def test_cli_runs_a_suite_and_enforces_floors(
    indexed: Path, hashing_settings: Settings, tmp_path: Path
) -> None:
    runner = CliRunner()
    index = str(hashing_settings.index.index_dir)
    out = tmp_path / "run1"
    result = runner.invoke(app, ["eval", str(indexed), "--index-dir", index, "--out", str(out),
                                 "-q", "--fail-under", "recall@5=0.5"])
    assert result.exit_code == 0, result.output
    assert "recall@5" in result.output and "reports:" in result.output
    for name in ("report.json", "report.md", "report.html"):
        assert (out / name).is_file()
    first = json.loads((out / "report.json").read_text())
    assert first["summary"]["recall@5"] == 1.0

    # A floor the run does not meet fails the build, and says which metric.
    result = runner.invoke(app, ["eval", "run", str(indexed), "--index-dir", index, "--out",
                                 str(tmp_path / "run2"), "-q", "--baseline",
                                 str(out / "report.json"), "--fail-under", "recall@5=1.01"])
    assert result.exit_code == 1
    assert "recall@5 = 1 is below the floor 1.01" in result.output
    assert "baseline" in result.output  # the summary table gains baseline/delta columns
    assert "paired randomisation test" in result.output  # and the significance table


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fail-under", "recal@5=1"], "unknown metric"),
        (["--baseline", "missing.json"], "baseline missing.json not found"),
    ],
)
def test_cli_bad_input_exits_2_with_the_fix(
    indexed: Path, hashing_settings: Settings, tmp_path: Path, args: list[str], message: str
) -> None:
    result = CliRunner().invoke(app, ["eval", str(indexed), "--index-dir",
                                      str(hashing_settings.index.index_dir), "--out",
                                      str(tmp_path / "o"), "-q", *args])
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "o").exists()


def test_cli_missing_suite_and_missing_index(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["eval", str(tmp_path / "none.jsonl")])
    assert result.exit_code == 2 and "suite file" in result.output
    suite = tmp_path / "s.jsonl"
    suite.write_text('{"id": "a", "question": "q?"}\n')
    result = runner.invoke(app, ["eval", str(suite), "--index-dir", str(tmp_path / "noindex"),
                                 "--out", str(tmp_path / "o"), "-q"],
                           env={"RAG_EMBEDDING_MODEL": "hashing"})
    assert result.exit_code == 2
    assert re.search(r"error: .*index", result.output, re.I)


def test_deltas_read_the_right_way() -> None:
    from rag.evaluation.report import fmt_delta

    assert fmt_delta(0.05, "recall@5") == "+0.050 ▲"
    assert fmt_delta(-0.05, "recall@5") == "-0.050 ▼"
    assert fmt_delta(-120.0, "latency_p95_ms") == "-120.0 ▲"  # faster is better
    assert fmt_delta(111.0, "n_abstained") == "+111"  # a count, neither good nor bad
    assert fmt_delta(2.0, "errors") == "+2 ▼"
    assert fmt_delta(None, "recall@5") == ""
