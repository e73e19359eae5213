"""How well the offline support judge agrees with the hand-labelled pairs.

``python -m benchmarks.judge [pairs.jsonl] [--hashing] [--verbose]``: accuracy, F1, ROC
AUC, the best threshold and leave-one-out accuracy, for the lexical part alone and the
full judge (default pairs: the ones bundled with rag).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

from rag.answering.support import OfflineSupportJudge, make_judge
from rag.core.runtime import go_offline
from rag.core.settings import Settings
from rag.evaluation.judge_agreement import BUNDLED_PAIRS, agreement, load_support_pairs


def main(argv: Sequence[str] | None = None) -> int:
    """Print the judge's agreement with the labelled pairs (the benchmark figures)."""
    args = list(sys.argv[1:] if argv is None else argv)
    hashing = "--hashing" in args
    verbose = "--verbose" in args
    args = [a for a in args if not a.startswith("--")]
    go_offline()
    path = Path(args[0]) if args else BUNDLED_PAIRS
    settings = Settings.model_validate({"embedding_model": "hashing"} if hashing else {})
    judge = make_judge(settings)
    pairs = load_support_pairs(path)
    lexical = agreement(OfflineSupportJudge(None), pairs)
    full = agreement(judge, pairs)
    at_setting = agreement(judge, pairs, threshold=settings.answer.support_threshold)
    rows = [
        ("lexical only", lexical),
        (f"{judge!r}", full),
        (f"same, at support_threshold={settings.answer.support_threshold}", at_setting),
    ]
    print(f"{len(pairs)} pairs ({full['supported']} supported) from {path}")
    for name, figures in rows:
        print(
            f"{name}: accuracy {figures['accuracy']:.3f}  f1 {figures['f1']:.3f}  "
            f"auc {figures['auc']:.3f}  threshold {figures['threshold']:.3f}  "
            f"leave-one-out accuracy {figures['loo_accuracy']:.3f}"
        )
    print(
        "accuracy by kind:",
        json.dumps({k: round(v, 2) for k, v in full["accuracy_by_kind"].items()}),
    )
    if verbose:
        for pair, score in zip(pairs, full["scores"], strict=True):
            if (score >= full["threshold"]) != pair.label:
                print(f"MISS {pair.origin} {pair.kind} label={pair.label} score={score:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
