"""Evaluation suites: answer accuracy, retrieval, citations, abstention and latency.

    from rag import Settings
    from rag.evaluation import evaluate
    report = evaluate("evals/seed_article.jsonl", Settings(), out_dir="eval-report")
    report["summary"]["recall@5"]

The CLI is ``rag eval SUITE [--index-dir DIR] [--out DIR] [--baseline OLD/report.json]
[--fail-under METRIC=VALUE ...]``; see docs/evaluation.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rag.core.lazy import lazy_exports

_EXPORTS = {
    "evaluate": "rag.evaluation.api",
    "EvalCase": "rag.evaluation.suite",
    "SuiteError": "rag.evaluation.suite",
    "load_suite": "rag.evaluation.suite",
    "RunOptions": "rag.evaluation.runner",
    "run_suite": "rag.evaluation.runner",
    "write_reports": "rag.evaluation.report",
    "compare": "rag.evaluation.compare",
    "export_feedback": "rag.evaluation.feedback_export",
}

__all__ = [
    "EvalCase",
    "RunOptions",
    "SuiteError",
    "compare",
    "evaluate",
    "export_feedback",
    "load_suite",
    "run_suite",
    "write_reports",
]

if TYPE_CHECKING:
    from rag.evaluation.api import evaluate
    from rag.evaluation.compare import compare
    from rag.evaluation.feedback_export import export_feedback
    from rag.evaluation.report import write_reports
    from rag.evaluation.runner import RunOptions, run_suite
    from rag.evaluation.suite import EvalCase, SuiteError, load_suite


__getattr__ = lazy_exports(__name__, _EXPORTS)
