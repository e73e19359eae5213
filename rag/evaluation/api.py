"""``evaluate``: the whole evaluation in one call, as ``rag eval`` runs it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rag.answering.support import SupportJudge
from rag.core.settings import Settings
from rag.evaluation.compare import compare, load_report
from rag.evaluation.judge_agreement import BUNDLED_PAIRS
from rag.evaluation.judges import judge_agreement, make_support_judge
from rag.evaluation.report import write_reports
from rag.evaluation.runner import Progress, RunOptions, run_suite
from rag.evaluation.split import (
    Split,
    check_overlap,
    load_split,
    select_part,
    split_summaries,
)
from rag.evaluation.suite import EvalCase, SuiteError, load_suite

#: The hand-labelled (sentence, evidence) pairs the judge is measured on (package data).
SUPPORT_PAIRS = BUNDLED_PAIRS


def evaluate(
    suite: str | Path | list[EvalCase],
    settings: Settings,
    *,
    out_dir: str | Path | None = None,
    baseline: str | Path | dict[str, Any] | None = None,
    chain: Any = None,
    judge: SupportJudge | None = None,
    judge_kind: str = "auto",
    date_window_days: int | None = None,
    support_pairs: str | Path | None = SUPPORT_PAIRS,
    progress: Progress | None = None,
    split: str | Path | Split | None = None,
    part: str | None = None,
) -> dict[str, Any]:
    """Run ``suite`` against the chain for ``settings`` and return the report.

    ``chain`` defaults to ``build_chain(settings)``; ``judge`` to the LLM judge when
    ``settings.llm.backend`` is set, else the offline judge over the chain's embedding model
    (``judge_kind`` "offline" or "llm" forces one).
    With ``split`` (a split file or its parts) the report gains ``splits``: every part's
    summary side by side; ``part`` asks only that part's cases.
    With ``out_dir`` the report is also written as report.json/.md/.html; with
    ``baseline`` (a report.json path or a loaded report) it gains deltas and the lists
    of cases that got worse or better.
    """
    cases = suite if isinstance(suite, list) else load_suite(suite)
    parts = None
    if split is not None:
        parts = split if isinstance(split, dict) else load_split(split)
        check_overlap(cases, parts)
        if part is not None:
            cases = select_part(cases, parts, part)
    elif part is not None:
        raise SuiteError("--part needs --split FILE (the file that names the parts)")
    old = None
    if baseline is not None:  # fail on a bad baseline before the long run, not after
        old = baseline if isinstance(baseline, dict) else load_report(baseline)
    if chain is None:
        from rag.answering.chain import build_chain

        chain = build_chain(settings)
    engine = getattr(chain, "engine", None)
    if judge is None:
        judge = make_support_judge(
            settings, getattr(engine, "embeddings", None), kind=judge_kind
        )
    options = RunOptions(
        support_threshold=settings.answer.support_threshold, date_window_days=date_window_days,
        read_k=settings.retrieval.top_k,
    )
    report = run_suite(cases, chain, judge, options, progress)
    answerers = sorted({c.get("answerer", "") for c in report["cases"] if c.get("answerer")})
    report = {
        "suite": str(suite) if not isinstance(suite, list) else "(in memory)",
        "created": report.pop("created"),
        "settings": {
            "index_dir": str(settings.index.index_dir),
            "embedding_model": settings.index.embedding_model,
            "top_k": settings.retrieval.top_k,
            "fetch_k": settings.retrieval.fetch_k,
            "use_dense": settings.retrieval.use_dense,
            "use_bm25": settings.retrieval.use_bm25,
            "use_mmr": settings.retrieval.use_mmr,
            "llm": settings.llm.backend,
            "llm_model": settings.llm.model if settings.llm.backend != "none" else None,
            "abstain_threshold": settings.answer.abstain_threshold,
            "answerer": ", ".join(answerers) or None,
        },
        "judge": {
            "name": repr(judge),
            "threshold": settings.answer.support_threshold,
            "agreement": (
                judge_agreement(judge, support_pairs, settings.answer.support_threshold)
                if support_pairs is not None else None
            ),
        },
        **report,
    }
    if parts is not None:
        report["split"] = {"file": str(split) if not isinstance(split, dict) else None,
                           "part": part}
        report["splits"] = split_summaries(report["cases"], parts)
    if old is not None:
        report["baseline"] = {
            "path": str(baseline) if not isinstance(baseline, dict) else "(in memory)",
            **compare(report, old),
        }
    if out_dir is not None:
        write_reports(report, out_dir)
    return report
