"""Choose the grounded answerer's abstention threshold on data, not by hand.

Run the suites once with abstention off (``RAG_ABSTAIN_THRESHOLD=0``), then replay every
threshold on the recorded per-case ``answer_score`` (the answerer's score of its best
sentence): below the threshold the answerer would have abstained, above it the recorded
answer stands. Prints accuracy and abstention precision/recall per threshold and the
threshold with the best accuracy (ties: the lower one).

    RAG_ABSTAIN_THRESHOLD=0 rag eval ../shared/benchmarks/realtimeqa/questions-dev.jsonl \\
        --index-dir DIR --split evals/realtimeqa_split.json --part tune \\
        --no-evidence-abstains --out /tmp/t0-rtqa
    RAG_ABSTAIN_THRESHOLD=0 rag eval evals/unanswerable_news.jsonl --index-dir DIR \
        --out /tmp/t0-none
    python evals/calibrate_abstention.py /tmp/t0-rtqa/report.json /tmp/t0-none/report.json

Choose on the tune part only; report the validate part at the chosen threshold.
"""

from __future__ import annotations

import argparse
import json
from typing import Any


def replay(cases: list[dict[str, Any]], threshold: float) -> dict[str, float | None]:
    """Accuracy and abstention precision/recall had the threshold been ``threshold``."""
    passed = abstained = right_abstain = should = 0
    for case in cases:
        expect = bool(case["expected"]["abstain"])
        score = case.get("answer_score")
        abstains = case.get("abstained") or score is None or score < threshold
        should += expect
        abstained += abstains
        right_abstain += abstains and expect
        if expect:
            passed += abstains
        else:
            passed += (not abstains) and bool(case.get("passed"))
    return {
        "accuracy": passed / len(cases) if cases else None,
        "abstention_precision": right_abstain / abstained if abstained else None,
        "abstention_recall": right_abstain / should if should else None,
        "abstained": abstained,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reports", nargs="+", help="report.json files run at threshold 0")
    args = parser.parse_args()
    cases: list[dict[str, Any]] = []
    for path in args.reports:
        with open(path, encoding="utf-8") as handle:
            cases += [c for c in json.load(handle)["cases"] if c.get("passed") is not None]
    best = (-1.0, 0.0)
    print("threshold  accuracy  abst_P  abst_R  abstained")
    for step in range(0, 31):
        threshold = round(0.30 + 0.01 * step, 2)
        row = replay(cases, threshold)
        print(f"{threshold:9.2f}  {row['accuracy']:.3f}   "
              f"{row['abstention_precision'] or 0:.3f}   {row['abstention_recall'] or 0:.3f}"
              f"   {row['abstained']}")
        if row["accuracy"] is not None and row["accuracy"] > best[0]:
            best = (row["accuracy"], threshold)
    print(f"best accuracy {best[0]:.3f} at threshold {best[1]:.2f} over {len(cases)} cases")


if __name__ == "__main__":
    main()
