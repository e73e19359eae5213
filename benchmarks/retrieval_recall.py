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
    from rag.retrieval.hybrid import Filters, SearchEngine

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index-dir", required=True)
    parser.add_argument("--questions", default=str(DEFAULT_QUESTIONS))
    parser.add_argument("--as-of", action="store_true", help="use question_date as as_of")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--name", default="")
    args = parser.parse_args()
    if not Path(args.questions).exists():
        raise SystemExit(f"no question file at {args.questions}; pass --questions")
    overrides = dict(item.split("=", 1) for item in args.set)
    settings = Settings(index_dir=args.index_dir, **overrides)
    with open(args.questions, encoding="utf-8") as handle:
        questions = [json.loads(line) for line in handle]
    questions = [q for q in questions if q.get("evidence_ids")]
    engine = SearchEngine(settings)
    engine.warm_up()
    hits5 = hits10 = 0
    mrr = 0.0
    started = time.perf_counter()
    for q in questions:
        as_of = q.get("question_date") if args.as_of else None
        docs = engine.search(q["question"], 40, Filters(), {}, as_of=as_of)
        ranked: list[set[str]] = []
        for doc in docs:
            duplicates = list(doc.metadata.get("duplicate_ids") or [])
            ids = {doc.metadata["article_id"], *duplicates}
            if not any(ids <= seen for seen in ranked):
                ranked.append(ids)
        evidence = set(q["evidence_ids"])
        first = next((i for i, ids in enumerate(ranked[:10]) if ids & evidence), None)
        hits5 += first is not None and first < 5
        hits10 += first is not None
        mrr += 1 / (first + 1) if first is not None else 0.0
    n = len(questions)
    ms = (time.perf_counter() - started) / n * 1000
    name = args.name or ", ".join(args.set + (["as_of"] if args.as_of else [])) or "default"
    print(f"| {name} | {hits5 / n:.3f} | {hits10 / n:.3f} | {mrr / n:.3f} | {ms:.0f} ms/q |")


if __name__ == "__main__":
    main()
