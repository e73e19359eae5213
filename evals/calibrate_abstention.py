"""Calibrate the grounded answerer's abstention on data, not by hand.

Run the suites once with abstention off (``RAG_ABSTAIN_THRESHOLD=0``), so every case
records what the answerer weighed (``evidence``: its best sentence's score and parts,
the gap to the next, coverage, types) and whether the answer it gave was right. Then:

- without ``--fit``/``--model``: accuracy and abstention precision/recall per fixed
  threshold on the recorded best-sentence score (how ``abstain_threshold`` was chosen);
- ``--fit OUT`` on the **tune** reports only: a logistic model over the evidence
  (evals/confidence_model.py; L2 strength by 5-fold cross-validation on the same cases)
  and the probability cut with the best mean accuracy over the suites given, written
  to OUT;
- ``--model OUT``: replay any reports at that model's cut (validation figures).

    export RAG_ABSTAIN_THRESHOLD=0
    rag eval run ../shared/benchmarks/realtimeqa/questions-dev.jsonl \
        --index-dir DIR --no-evidence-abstains --out /tmp/cal0/rtqa
    rag eval run evals/unanswerable_news.jsonl --index-dir DIR --out /tmp/cal0/none
    python evals/calibrate_abstention.py --split evals/realtimeqa_split.json \
        --split evals/unanswerable_split.json --part tune --fit /tmp/model.json \
        /tmp/cal0/rtqa/report.json /tmp/cal0/none/report.json ...
    python evals/calibrate_abstention.py ... --part validate --model /tmp/model.json ...

The model was tried and not shipped: docs/benchmarks.md, "Calibrated abstention: tried".
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from confidence_model import ConfidenceModel, fit

Case = dict[str, Any]


def replay(cases: list[Case], abstains: Callable[[Case], bool]) -> dict[str, float | None]:
    """Accuracy and abstention precision/recall had ``abstains`` decided each case (a
    case the run abstained on stays abstained: the gates before the score decided it)."""
    passed = abstained = right_abstain = should = 0
    for case in cases:
        expect = bool(case["expected"]["abstain"])
        out = bool(case.get("abstained")) or abstains(case)
        should += expect
        abstained += out
        right_abstain += out and expect
        passed += out if expect else (not out) and bool(case.get("passed"))
    return {
        "accuracy": passed / len(cases) if cases else None,
        "abstention_precision": right_abstain / abstained if abstained else None,
        "abstention_recall": right_abstain / should if should else None,
        "abstained": abstained,
        "n": len(cases),
    }


def below(threshold: float) -> Callable[[Case], bool]:
    def decide(case: Case) -> bool:
        score = case.get("answer_score")
        return score is None or score < threshold
    return decide


def unsure(model: ConfidenceModel, cut: float) -> Callable[[Case], bool]:
    def decide(case: Case) -> bool:
        features = case.get("evidence") or {}
        return not features or model.probability(features) < cut
    return decide


def label(case: Case) -> int:
    """1 when answering (as the run did) was right."""
    return 0 if case["expected"]["abstain"] else int(bool(case.get("passed")))


def fittable(cases: list[Case]) -> list[Case]:
    """The cases the model can learn from: answered, with the evidence recorded."""
    return [c for c in cases if c.get("evidence") and not c.get("abstained")]


def fitted(cases: list[Case], l2: float) -> ConfidenceModel:
    rows = fittable(cases)
    return fit([c["evidence"] for c in rows], [label(c) for c in rows], l2=l2)


def choose_l2(cases: list[Case], options: tuple[float, ...] = (0.1, 1.0, 10.0, 30.0)) -> float:
    """The L2 strength with the best 5-fold cross-validated log-loss on ``cases``."""
    rows = fittable(cases)
    best = (math.inf, options[0])
    for l2 in options:
        loss = 0.0
        for fold in range(5):
            train = [c for i, c in enumerate(rows) if i % 5 != fold]
            held = [c for i, c in enumerate(rows) if i % 5 == fold]
            model = fitted(train, l2)
            for case in held:
                p = min(1 - 1e-6, max(1e-6, model.probability(case["evidence"])))
                loss -= math.log(p if label(case) else 1 - p)
        best = min(best, (loss, l2))
    return best[1]


def choose_cut(model: ConfidenceModel, suites: list[list[Case]]) -> float:
    """The cut with the best mean accuracy over the suites (each suite one use of the
    product, counted alike however many cases it has; ties: the lower cut)."""
    best = (-1.0, 0.0)
    for step in range(0, 100):
        cut = step / 100
        accuracy = sum(replay(cases, unsure(model, cut))["accuracy"] or 0.0
                       for cases in suites) / len(suites)
        if accuracy > best[0] + 1e-12:
            best = (accuracy, cut)
    return best[1]


def load(paths: list[str]) -> dict[str, list[Case]]:
    out = {}
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            out[path] = [c for c in json.load(handle)["cases"] if c.get("passed") is not None]
    return out


def show(name: str, row: dict[str, float | None]) -> None:
    p, r = row["abstention_precision"], row["abstention_recall"]
    print(f"{name:60s} n={row['n']:4} accuracy {row['accuracy']:.3f}  abstained "
          f"{row['abstained']:3}  abst_P {'n/a' if p is None else f'{p:.3f}'}  "
          f"abst_R {'n/a' if r is None else f'{r:.3f}'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reports", nargs="+", help="report.json files run at threshold 0")
    parser.add_argument("--fit", metavar="OUT", help="fit on these (tune) reports, write OUT")
    parser.add_argument("--model", metavar="JSON", help="replay at this model's cut")
    parser.add_argument("--embedding-model", default="sentence-transformers/all-MiniLM-L6-v2")
    parser.add_argument("--split", action="append", default=[], metavar="JSON",
                        help="id lists (tune/validate); cases of a listed suite outside "
                        "--part are dropped (repeatable: one per suite)")
    parser.add_argument("--part", choices=("tune", "validate"), default="tune")
    args = parser.parse_args()
    reports = load(args.reports)
    for split in args.split:
        ids = json.loads(Path(split).read_text(encoding="utf-8"))
        listed = set(ids["tune"]) | set(ids["validate"])
        keep = set(ids[args.part])
        reports = {path: [c for c in rows if c["id"] not in listed or c["id"] in keep]
                   for path, rows in reports.items()}
    cases = [c for rows in reports.values() for c in rows]
    if args.fit:
        l2 = choose_l2(cases)
        model = fitted(cases, l2)
        cut = choose_cut(model, list(reports.values()))
        note = (f"fitted by evals/calibrate_abstention.py on {len(cases)} tune cases "
                f"({', '.join(Path(p).parent.name for p in reports)}); l2 {l2} by 5-fold CV; "
                f"cut {cut} by best mean tune accuracy over the suites")
        model = ConfidenceModel.from_json({**model.to_json(), "cut": cut, "note": note,
                                           "embedding_model": args.embedding_model})
        Path(args.fit).write_text(json.dumps(model.to_json(), indent=1) + "\n", encoding="utf-8")
        print(note)
        for name, value in zip(model.features, model.coef, strict=True):
            print(f"  {name:15s} {value:+.3f}")
    if args.fit or args.model:
        model = ConfidenceModel.from_json(json.loads(Path(args.fit or args.model).read_text()))
        for path, rows in reports.items():
            show(path, replay(rows, unsure(model, model.cut)))
        show("all", replay(cases, unsure(model, model.cut)))
        return
    best = (-1.0, 0.0)
    print("threshold  accuracy  abst_P  abst_R  abstained")
    for step in range(0, 31):
        threshold = round(0.30 + 0.01 * step, 2)
        row = replay(cases, below(threshold))
        print(f"{threshold:9.2f}  {row['accuracy']:.3f}   "
              f"{row['abstention_precision'] or 0:.3f}   {row['abstention_recall'] or 0:.3f}"
              f"   {row['abstained']}")
        if row["accuracy"] is not None and row["accuracy"] > best[0]:
            best = (row["accuracy"], threshold)
    print(f"best accuracy {best[0]:.3f} at threshold {best[1]:.2f} over {len(cases)} cases")


if __name__ == "__main__":
    main()
