"""An experiment, not shipped: would a calibrated probability abstain better than a score?

The answerer used to abstain below one fixed score of its best sentence, a cut chosen
on the one-article corpus; on the 2,397-article corpus it then abstained on answerable
questions and answered off-topic ones. Here the decision is a logistic model over a few
features of the evidence the answerer already computes (its best sentence's score and
the parts of it, how far that sentence stands above the next, how much of the
question's words the passages read hold at all, whether a span of the type asked for
was found and how strongly the spans voted; ``Answer.evidence`` in eval reports). It
is fitted on labelled eval runs (``evals/calibrate_abstention.py --fit``) on tune data
only. Fitted on RealTime QA tune and the tuned article suites, it beat the threshold on
tune and lost on validation (docs/benchmarks.md, "Calibrated abstention: tried"), so the
answerer keeps its threshold and this stays here for the next attempt.

A missing feature counts as the fitted mean. ``fit`` is plain Newton-Raphson with an L2
penalty on standardised features: no scikit-learn at run time or for calibration.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

FEATURES: tuple[str, ...] = (
    "score",  # the best sentence's score (dense, lexical, prior and bonuses)
    "dense",  # its embedding similarity to the question
    "lexical",  # its weighted share of the question's terms
    "gap",  # its score minus the next sentence's
    "coverage",  # weighted share of the question's terms any sentence read holds
    "typed_question",  # 1 when the question asks for a typed span (who, when, how many)
    "typed",  # the best sentence's expected-type weight (0: no span of that type)
    "vote",  # the top voted span's confidence (0: no vote)
    "rank",  # 1 / (1 + rank of the best sentence's passage)
    "missing_type",  # 1 when a typed question's best sentence holds no span of the type
    "why",  # 1 for a "why" question (answered by sentences: a small gap is no doubt)
)


@dataclass(frozen=True)
class ConfidenceModel:
    """A logistic model on standardised features, and the cut below which to abstain."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    cut: float
    embedding_model: str = ""  # the scores it was fitted on come from this model
    note: str = ""

    def __post_init__(self) -> None:
        n = len(self.features)
        if not (len(self.mean) == len(self.scale) == len(self.coef) == n):
            raise ValueError(
                "confidence model: features, mean, scale and coef must be the same length; "
                "refit it with evals/calibrate_abstention.py --fit"
            )
        if not 0.0 <= self.cut <= 1.0:
            raise ValueError(f"confidence model: cut {self.cut} is not a probability")

    def probability(self, values: Mapping[str, float]) -> float:
        """P(answer right | features)."""
        z = self.intercept
        for name, mean, scale, coef in zip(
            self.features, self.mean, self.scale, self.coef, strict=True
        ):
            z += coef * (float(values.get(name, mean)) - mean) / scale
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    def to_json(self) -> dict[str, Any]:
        return {
            "features": list(self.features), "mean": list(self.mean),
            "scale": list(self.scale), "coef": list(self.coef),
            "intercept": self.intercept, "cut": self.cut,
            "embedding_model": self.embedding_model, "note": self.note,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ConfidenceModel:
        return cls(
            features=tuple(data["features"]), mean=tuple(data["mean"]),
            scale=tuple(data["scale"]), coef=tuple(data["coef"]),
            intercept=float(data["intercept"]), cut=float(data["cut"]),
            embedding_model=str(data.get("embedding_model", "")),
            note=str(data.get("note", "")),
        )


def fit(
    rows: Sequence[Mapping[str, float]], labels: Sequence[int],
    features: Sequence[str] = FEATURES, l2: float = 1.0, iterations: int = 50,
) -> ConfidenceModel:
    """Logistic regression of ``labels`` (1: the answer was right) on ``rows``."""
    if len(rows) != len(labels) or not rows:
        raise ValueError("fit: need as many labels as rows, and at least one row")
    x = np.array([[float(r.get(f, 0.0)) for f in features] for r in rows])
    y = np.array(labels, dtype=float)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    z = np.hstack([np.ones((len(x), 1)), (x - mean) / scale])
    w = np.zeros(z.shape[1])
    penalty = np.diag([0.0] + [l2] * len(features))
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(z @ w, -50, 50)))
        gradient = z.T @ (p - y) + penalty @ w
        hessian = (z * (p * (1 - p))[:, None]).T @ z + penalty
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if float(np.abs(step).max()) < 1e-8:
            break
    return ConfidenceModel(
        features=tuple(features), mean=tuple(float(v) for v in mean),
        scale=tuple(float(v) for v in scale), coef=tuple(float(v) for v in w[1:]),
        intercept=float(w[0]), cut=0.5,
    )
