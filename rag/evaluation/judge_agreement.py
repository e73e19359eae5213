"""How well a support judge agrees with hand-labelled pairs: accuracy, F1, ROC AUC.

The pairs that ship with rag (``support_pairs.jsonl``, package data read through
importlib.resources) are scored in every eval report; ``python -m benchmarks.judge``
prints the same figures for the judge alone.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.resources import files
from itertools import pairwise
from pathlib import Path
from typing import Any

from rag.answering.support import SupportJudge
from rag.core.errors import RagError

#: The hand-labelled (sentence, evidence) pairs shipped inside the package (pip installs
#: packages as plain folders, so the resource is a real file).
BUNDLED_PAIRS = Path(str(files("rag.evaluation") / "data" / "support_pairs.jsonl"))


@dataclass(frozen=True)
class SupportPair:
    """A hand-labelled (sentence, evidence) pair: does the evidence support the sentence?"""

    sentence: str
    evidence: str
    label: bool
    kind: str = ""  # e.g. "paraphrase", "swapped-number", "negation", "same-topic"
    origin: str = ""


def load_support_pairs(path: str | Path) -> list[SupportPair]:
    """Read a pairs file (JSON Lines: {"sentence", "evidence", "label": bool, "kind"})."""
    path = Path(path)
    if not path.is_file():
        raise RagError(f"support pairs file {path} not found; pass an existing .jsonl file")
    pairs: list[SupportPair] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise RagError(f"{where}: not valid JSON ({exc.msg}); fix or remove the line") from None
        if not isinstance(row, dict):
            raise RagError(f"{where}: expected a JSON object per line")
        sentence, evidence, label = row.get("sentence"), row.get("evidence"), row.get("label")
        if not isinstance(sentence, str) or not sentence.strip():
            raise RagError(f"{where}: 'sentence' must be a non-empty string")
        if not isinstance(evidence, str) or not evidence.strip():
            raise RagError(f"{where}: 'evidence' must be a non-empty string")
        if not isinstance(label, bool):
            raise RagError(f"{where}: 'label' must be true or false, got {label!r}")
        pairs.append(SupportPair(sentence, evidence, label, str(row.get("kind", "")), where))
    if not pairs:
        raise RagError(f"{path} holds no pairs; add one JSON object per line")
    return pairs


def roc_auc(scores: Sequence[float], labels: Sequence[bool]) -> float:
    """Area under the ROC curve: P(score of a supported pair > score of an unsupported one)."""
    pos = [s for s, y in zip(scores, labels, strict=True) if y]
    neg = [s for s, y in zip(scores, labels, strict=True) if not y]
    if not pos or not neg:
        return math.nan
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def _classify(
    scores: Sequence[float], labels: Sequence[bool], threshold: float
) -> dict[str, float]:
    tp = sum(1 for s, y in zip(scores, labels, strict=True) if s >= threshold and y)
    fp = sum(1 for s, y in zip(scores, labels, strict=True) if s >= threshold and not y)
    fn = sum(1 for s, y in zip(scores, labels, strict=True) if s < threshold and y)
    tn = len(scores) - tp - fp - fn
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "accuracy": (tp + tn) / len(scores) if scores else math.nan,
        "precision": precision,
        "recall": recall,
        "f1": f1,
    }


def best_threshold(scores: Sequence[float], labels: Sequence[bool]) -> float:
    """The cut with the highest accuracy (ties: highest F1, then nearest 0.5)."""
    ordered = sorted(set(scores))
    cuts = [0.0] + [(a + b) / 2 for a, b in pairwise(ordered)] + [1.01]

    def rank(cut: float) -> tuple[float, float, float]:
        figures = _classify(scores, labels, cut)
        return (figures["accuracy"], figures["f1"], -abs(cut - 0.5))

    return max(cuts, key=rank)


def agreement(
    judge: SupportJudge, pairs: Sequence[SupportPair], threshold: float | None = None
) -> dict[str, Any]:
    """How well ``judge`` separates supported from unsupported pairs.

    With ``threshold=None`` the best cut on these pairs is chosen (and reported);
    ``loo_accuracy`` is the honest figure: each pair classified with the cut chosen on
    all the others (leave-one-out), so it does not flatter the judge.
    """
    if not pairs:
        raise ValueError("agreement needs at least one labelled pair")
    scores = [judge.score(p.sentence, p.evidence) for p in pairs]
    labels = [p.label for p in pairs]
    cut = best_threshold(scores, labels) if threshold is None else threshold
    figures: dict[str, Any] = {
        "n": len(pairs),
        "supported": sum(labels),
        "threshold": round(cut, 4),
        **_classify(scores, labels, cut),
        "auc": roc_auc(scores, labels),
    }
    hits = 0
    for i in range(len(pairs)):
        rest_scores = scores[:i] + scores[i + 1 :]
        rest_labels = labels[:i] + labels[i + 1 :]
        held_out_cut = best_threshold(rest_scores, rest_labels)
        hits += (scores[i] >= held_out_cut) == labels[i]
    figures["loo_accuracy"] = hits / len(pairs)
    by_kind: dict[str, list[bool]] = {}
    for score, pair in zip(scores, pairs, strict=True):
        by_kind.setdefault(pair.kind or "unlabelled", []).append((score >= cut) == pair.label)
    figures["accuracy_by_kind"] = {k: sum(v) / len(v) for k, v in sorted(by_kind.items())}
    figures["scores"] = scores
    return figures
