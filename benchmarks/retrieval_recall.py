"""Article-level recall@5/10 and MRR@10 of the chain's retrieval on a question set.

    python -m benchmarks.retrieval_recall --index-dir /tmp/rtqa-index \\
        [--questions ../shared/benchmarks/realtimeqa/questions-dev.jsonl] [--as-of] \\
        [--set use_mmr=false --set bm25_weight=2 ...]

A hit is an evidence article among the first 5 (10) distinct articles of the ranking
(duplicates count for the articles they duplicate). ``--as-of`` passes each question's
``question_date`` as the chain's ``as_of``. Prints one Markdown table row.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

DEFAULT_QUESTIONS = (
    Path(__file__).resolve().parent.parent.parent
    / "shared" / "benchmarks" / "realtimeqa" / "questions-dev.jsonl"
)


def main() -> None:
    from rag.core.runtime import go_offline

    go_offline()
    from rag.core.settings import Settings
    from rag.evaluation.metrics import passage_articles
    from rag.retrieval.hybrid import Filters, SearchEngine

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index-dir", required=True)
    parser.add_argument("--questions", default=str(DEFAULT_QUESTIONS))
    parser.add_argument("--as-of", action="store_true", help="use question_date as as_of")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--name", default="")
    parser.add_argument("--save", help="write the rankings and evidence to this JSON file")
    parser.add_argument("--from-run", help="only score a run saved with --save")
    args = parser.parse_args()
    if args.from_run:
        from_saved(args.from_run)
        return
    if not Path(args.questions).exists():
        raise SystemExit(f"no question file at {args.questions}; pass --questions")
    overrides = dict(item.split("=", 1) for item in args.set)
    settings = Settings(index_dir=args.index_dir, **overrides)
    with open(args.questions, encoding="utf-8") as handle:
        questions = [json.loads(line) for line in handle]
    questions = [q for q in questions if q.get("evidence_ids")]
    engine = SearchEngine(settings)
    engine.warm_up()
    rankings: dict[str, list[set[str]]] = {}
    started = time.perf_counter()
    for n, q in enumerate(questions):
        as_of = q.get("question_date") if args.as_of else None
        docs = engine.search(q["question"], 40, Filters(), {}, as_of=as_of)
        ranked: list[set[str]] = []
        for doc in docs:
            ids = passage_articles(doc.metadata)
            if not any(ids <= seen for seen in ranked):
                ranked.append(ids)
        rankings[str(q.get("id") or n)] = ranked[:10]
    ms = (time.perf_counter() - started) / len(questions) * 1000
    evidence = {str(q.get("id") or n): q["evidence_ids"] for n, q in enumerate(questions)}
    if args.save:
        run = {qid: {"ranking": [sorted(ids) for ids in ranked], "evidence": evidence[qid]}
               for qid, ranked in rankings.items()}
        Path(args.save).write_text(json.dumps(run, indent=1))
    name = args.name or ", ".join(args.set + (["as_of"] if args.as_of else [])) or "default"
    print(f"| {name} | {table_row(rankings, evidence)} | {ms:.0f} ms/q |")


def table_row(rankings: dict[str, list[set[str]]], evidence: dict[str, list[str]]) -> str:
    """recall@5 | recall@10 | MRR@10, from rag.evaluation.metrics (ir-measures)."""
    from rag.evaluation.metrics import ranking_scores

    scores = ranking_scores(rankings, evidence).values()
    n = len(scores)
    return " | ".join(
        f"{sum(s[key] for s in scores) / n:.3f}" for key in ("recall@5", "recall@10", "rr@10")
    )


def from_saved(path: str) -> None:
    """The table row of a run saved with --save (no index needed)."""
    run = json.loads(Path(path).read_text())
    rankings = {qid: [set(ids) for ids in row["ranking"]] for qid, row in run.items()}
    print(f"| {path} | {table_row(rankings, {q: r['evidence'] for q, r in run.items()})} |")

if __name__ == "__main__":
    main()
