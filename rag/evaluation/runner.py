"""Run a suite against a chain: ask every case, score it, sum it up.

Each case is asked through the chain as a user would (earlier conversation turns first);
its latency is the wall time of the scored turn. Retrieval is measured separately with
the chain's own engine on the chain's standalone question, ``k=10`` passages, so
recall@10 is measurable although the answerer only sees ``top_k`` passages; what the
answer cited is recorded next to it.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rag.answering.support import SupportJudge
from rag.core.errors import RagError
from rag.core.schema import Answer
from rag.evaluation.metrics import (
    abstention_scores,
    citation_scores,
    contains_answer,
    first_hit_rank,
    judge_answer,
    mean,
    passage_articles,
    percentile,
    ranking_scores,
)
from rag.evaluation.suite import EvalCase

#: Passages retrieved per case for the retrieval metrics.
RETRIEVAL_K = 10

#: The summary keys, in the order reports show them.
SUMMARY_KEYS = (
    "n",
    "answer_accuracy",
    "recall@5",
    "recall@10",
    "mrr@10",
    "citation_precision",
    "citation_recall",
    "abstention_precision",
    "abstention_recall",
    "latency_p50_ms",
    "latency_p95_ms",
)
#: Summary keys where smaller is better (deltas and regressions read the other way).
LOWER_IS_BETTER = frozenset({"latency_p50_ms", "latency_p95_ms", "latency_mean_ms", "errors"})

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class RunOptions:
    """How the suite is run; recorded in the report."""

    support_threshold: float = 0.5
    retrieval_k: int = RETRIEVAL_K
    #: When set, a case's ``question_date`` (YYYY-MM-DD) becomes a date filter
    #: [question_date - date_window_days, question_date]. Off by default.
    date_window_days: int | None = None
    warm_up: bool = True
    #: Passages the answerer reads (settings.retrieval.top_k): a case's gold answer found in the
    #: first ``read_k`` retrieved passages counts as "in the passages read".
    read_k: int = 5


def run_suite(
    cases: Sequence[EvalCase],
    chain: Any,
    judge: SupportJudge,
    options: RunOptions | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Ask every case and return the report (a JSON-ready dict: summary, cases, run)."""
    options = options or RunOptions()
    if options.warm_up and hasattr(chain, "warm_up"):
        chain.warm_up()  # load the models before the clock runs on the first case
    started = time.perf_counter()
    results: list[dict[str, Any]] = []
    for done, case in enumerate(cases, start=1):
        results.append(_run_case(case, chain, judge, options))
        if progress is not None:
            progress(done, len(cases))
    return {
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "run": {
            "retrieval_k": options.retrieval_k,
            "support_threshold": options.support_threshold,
            "date_window_days": options.date_window_days,
            "seconds": round(time.perf_counter() - started, 2),
        },
        "summary": summarise(results),
        "by_kind": by_kind(results),
        "cases": results,
    }


def case_filters(case: EvalCase, options: RunOptions) -> dict[str, Any] | None:
    """The case's filters, plus the documented date hint when it is switched on."""
    filters = dict(case.filters or {})
    day = case.extra.get("question_date")
    if options.date_window_days is not None and isinstance(day, str) and day:
        try:
            asked = dt.date.fromisoformat(day[:10])
        except ValueError:
            asked = None
        if asked is not None:
            filters.setdefault(
                "date_from", (asked - dt.timedelta(days=options.date_window_days)).isoformat()
            )
            filters.setdefault("date_to", asked.isoformat())
    return filters or None


def _run_case(
    case: EvalCase, chain: Any, judge: SupportJudge, options: RunOptions
) -> dict[str, Any]:
    filters = case_filters(case, options)
    result: dict[str, Any] = {
        "id": case.id,
        "question": case.question,
        "history": [],
        "expected": {
            "answers": list(case.answers),
            "must_include": [list(g) for g in case.must_include],
            "evidence_ids": list(case.evidence_ids),
            "abstain": case.abstain,
        },
        "filters": filters,
        "kind": str(case.extra["kind"]) if case.extra.get("kind") else None,
        "error": None,
    }
    history: list[tuple[str, str]] = []
    try:
        for turn in case.turns[:-1]:
            if isinstance(turn, str):
                earlier = _ask(chain, turn, history, filters, case_as_of(case))
                history += [("human", turn), ("ai", earlier.answer)]
            else:
                history.append(turn)
        t0 = time.perf_counter()
        answer = _ask(chain, case.question, history, filters, case_as_of(case))
        latency = (time.perf_counter() - t0) * 1000
    except (RagError, ValueError) as exc:
        # A case the chain refuses is a failed case, not a crashed run.
        result.update(
            history=[list(t) for t in history], error=f"{type(exc).__name__}: {exc}",
            passed=False, failures=[f"error: {exc}"], answer="", abstained=False,
            citations=[], latency_ms=None, retrieval=None, citation_recall=None,
            citation_precision=None, sentences=[],
        )
        return result

    verdict = judge_answer(
        answer.answer, answer.abstained, answers=case.answers,
        must_include=case.must_include, abstain=case.abstain,
    )
    cited_articles = list(dict.fromkeys(c.article_id for c in answer.citations))
    retrieval = _retrieval(chain, answer, case, filters, options)
    failures = list(verdict.failures)
    if retrieval is not None and retrieval["first_hit_rank"] is None:
        failures.append(f"no evidence article in the top {options.retrieval_k} articles")
    scores = citation_scores(answer, judge, options.support_threshold)
    if scores.recall is not None and scores.recall < 1.0:
        failures.append(
            "citation: unsupported sentence(s): "
            + " | ".join(_clip(v.sentence, 80) for v in scores.sentences if not v.supported)
        )
    result.update(
        history=[list(t) for t in history],
        standalone_question=answer.standalone_question,
        answer=answer.answer,
        abstained=answer.abstained,
        # The answerer's own score of its best sentence (grounded): what abstention
        # thresholds are calibrated on (evals/calibrate_abstention.py).
        answer_score=max(
            (s.support_score for s in answer.sentences if s.support_score is not None),
            default=None,
        ),
        # What the answerer weighed (evals/calibrate_abstention.py replays it).
        evidence=answer.evidence,
        short_answer=answer.short_answer.model_dump() if answer.short_answer else None,
        answerer=answer.answerer,
        passed=verdict.passed,
        failures=failures,
        citations=[
            {"id": c.id, "article_id": c.article_id, "chunk_id": c.chunk_id,
             "title": c.title, "quote": c.quote}
            for c in answer.citations
        ],
        cited_articles=cited_articles,
        cited_evidence=(
            bool(set(cited_articles) & set(case.evidence_ids)) if case.evidence_ids else None
        ),
        citation_recall=scores.recall,
        citation_precision=scores.precision,
        sentences=[
            {"text": v.sentence, "citation_ids": v.citation_ids, "supported": v.supported,
             "precise_citations": v.precise}
            for v in scores.sentences
        ],
        latency_ms=round(latency, 1),
        timings_ms=answer.timings_ms,
        retrieval=retrieval,
        conflicts=[c.model_dump() for c in answer.conflicts],
        corroborating_outlets=(
            answer.corroboration.count if answer.corroboration is not None else 0
        ),
    )
    if "expect_conflict" in case.extra:
        result["expect_conflict"] = bool(case.extra["expect_conflict"])
        result["single_source"] = bool(case.extra.get("single_source"))
        result["conflict_kind"] = str(case.extra.get("conflict_kind") or "")
    return result


def case_as_of(case: EvalCase) -> str | None:
    """The day a case was asked (``as_of`` or RealTime QA's ``question_date``): the chain
    then favours news from the days before it, as a reader asking that day would."""
    day = case.extra.get("as_of") or case.extra.get("question_date")
    return str(day)[:10] if isinstance(day, str) and day else None


def _ask(
    chain: Any,
    question: str,
    history: list[tuple[str, str]],
    filters: dict[str, Any] | None,
    as_of: str | None = None,
) -> Answer:
    inputs: dict[str, Any] = {"question": question, "chat_history": list(history)}
    if filters:
        inputs["filters"] = filters
    if as_of:
        inputs["as_of"] = as_of
    answer = chain.invoke(inputs)
    if not isinstance(answer, Answer):
        raise TypeError(f"the chain returned {type(answer).__name__}, not an Answer")
    return answer


def _retrieval(
    chain: Any,
    answer: Answer,
    case: EvalCase,
    filters: dict[str, Any] | None,
    options: RunOptions,
) -> dict[str, Any] | None:
    engine = getattr(chain, "engine", None)
    if not case.evidence_ids or engine is None:
        return None
    # Article level, as in the RealTime QA reference: the first k *distinct* articles.
    from rag.answering import news
    from rag.retrieval.hybrid import Filters

    # The same search the chain made: its query and the window the question named.
    docs = news.search(
        engine, answer.search_query or answer.standalone_question, options.retrieval_k * 4,
        Filters.from_mapping(filters), answer.window, answer.as_of or case_as_of(case) or "",
    )
    ranked: list[set[str]] = []
    for doc in docs:
        articles = passage_articles(doc.metadata)
        if not any(articles <= seen for seen in ranked):
            ranked.append(articles)
    ranked = ranked[: options.retrieval_k]
    rank = first_hit_rank(ranked, case.evidence_ids)
    read = docs[: options.read_k]
    return {
        "answer_in_read": (
            any(contains_answer(d.page_content, a) for d in read for a in case.answers)
            if case.answers else None
        ),
        "first_hit_rank": rank,
        **ranking_scores({"q": ranked}, {"q": case.evidence_ids})["q"],
        "retrieved": [
            {"rank": i, "article_id": str(d.metadata.get("article_id", "")),
             "chunk_id": str(d.metadata.get("chunk_id", d.id or "")),
             "title": str(d.metadata.get("title", ""))}
            for i, d in enumerate(docs, start=1)
        ],
    }


def summarise(results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The summary figures over per-case results (see SUMMARY_KEYS; None = undefined)."""
    ok = [r for r in results if r["error"] is None]
    scored = [r for r in results if r.get("passed") is not None]
    with_evidence = [r for r in results if r["expected"]["evidence_ids"]]

    def retrieval(key: str) -> float | None:
        return mean(
            (r["retrieval"] or {}).get(key, 0.0) if r["error"] is None else 0.0
            for r in with_evidence
        )

    answered = [r for r in ok if not r["abstained"]]
    precision, recall = abstention_scores(
        [r["expected"]["abstain"] for r in ok], [r["abstained"] for r in ok]
    )
    latencies = [r["latency_ms"] for r in ok if r["latency_ms"] is not None]
    answerable = [r for r in scored if not r["expected"]["abstain"]]
    in_read = [r for r in scored if (r.get("retrieval") or {}).get("answer_in_read")]
    summary: dict[str, Any] = {
        "n": len(results),
        "answer_accuracy": mean(1.0 if r["passed"] else 0.0 for r in scored),
        "recall@5": retrieval("recall@5"),
        "recall@10": retrieval("recall@10"),
        "mrr@10": retrieval("rr@10"),
        "citation_precision": mean(r["citation_precision"] for r in answered),
        "citation_recall": mean(r["citation_recall"] for r in answered),
        "abstention_precision": precision,
        "abstention_recall": recall,
        "latency_p50_ms": _round(percentile(latencies, 50), 1),
        "latency_p95_ms": _round(percentile(latencies, 95), 1),
        # Context for reading the figures above.
        "answerable_accuracy": mean(1.0 if r["passed"] else 0.0 for r in answerable),
        "cited_evidence_rate": mean(
            1.0 if r.get("cited_evidence") else 0.0 for r in with_evidence
        ),
        # Of the cases whose gold answer is in the passages read, the share answered right.
        "kept_answer_rate": mean(1.0 if r["passed"] else 0.0 for r in in_read),
        "n_answer_in_read": len(in_read),
        "latency_mean_ms": _round(mean(latencies), 1),
        "n_scored": len(scored),
        "n_with_evidence": len(with_evidence),
        "n_expect_abstain": sum(1 for r in results if r["expected"]["abstain"]),
        "n_abstained": sum(1 for r in ok if r["abstained"]),
        "errors": len(results) - len(ok),
        # Answers that say "Sources disagree" (on any suite: on real news most are false).
        "n_conflict_alarms": sum(1 for r in ok if r.get("conflicts")),
    }
    summary |= conflict_scores(ok)
    return {k: _round(v, 4) if isinstance(v, float) else v for k, v in summary.items()}


def conflict_scores(results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Conflict precision and recall, and the false-alarm rate on agreeing sources, over
    cases that say whether their sources disagree (``expect_conflict``); {} otherwise."""
    judged = [r for r in results if r.get("expect_conflict") is not None]
    if not judged:
        return {}
    flagged = [r for r in judged if r.get("conflicts")]
    true = [r for r in flagged if r["expect_conflict"]]
    expected = [r for r in judged if r["expect_conflict"]]
    agreeing = [r for r in judged if not r["expect_conflict"] and not r.get("single_source")]
    single = [r for r in judged if r.get("single_source")]
    kinds = sorted({r.get("conflict_kind") or "" for r in expected})
    return {
        "conflict_precision": len(true) / len(flagged) if flagged else None,
        "conflict_recall": len(true) / len(expected) if expected else None,
        "conflict_false_alarm_rate": (
            sum(1 for r in agreeing if r.get("conflicts")) / len(agreeing) if agreeing else None
        ),
        "conflict_single_source_alarms": sum(1 for r in single if r.get("conflicts")),
        "conflict_recall_by_kind": {
            kind: round(
                sum(1 for r in expected if r.get("conflict_kind") == kind and r.get("conflicts"))
                / sum(1 for r in expected if r.get("conflict_kind") == kind), 4,
            )
            for kind in kinds
        },
        "corroboration_2plus_rate_agreeing": (
            sum(1 for r in agreeing if r.get("corroborating_outlets", 0) >= 2) / len(agreeing)
            if agreeing else None
        ),
        "n_conflict_cases": len(judged),
    }


def by_kind(results: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Answer accuracy per case ``kind`` (a free field of the suite), when cases have one."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for result in results:
        if result.get("kind"):
            groups.setdefault(result["kind"], []).append(result)
    out: dict[str, dict[str, Any]] = {}
    for kind, members in sorted(groups.items()):
        scored = [r for r in members if r.get("passed") is not None]
        accuracy = mean(1.0 if r["passed"] else 0.0 for r in scored)
        out[kind] = {"n": len(members), "answer_accuracy": _round(accuracy, 4)}
    return out


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"

