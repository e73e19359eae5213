"""The abstention calibration experiment (evals/confidence_model.py): fitting and
probabilities, and the evidence the grounded answerer records for it in every answer."""

from __future__ import annotations

import json
import random
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st
from langchain_core.documents import Document

from rag.answering.grounded import GroundedAnswerer
from rag.indexing.embeddings import HashingEmbeddings

from .conftest import REPO

sys.path.insert(0, str(REPO / "evals"))
from confidence_model import FEATURES, ConfidenceModel, fit


def _rows(n: int, seed: int = 7) -> tuple[list[dict[str, float]], list[int]]:
    """Right answers score higher; the other features are noise."""
    rng = random.Random(seed)
    rows, labels = [], []
    for _ in range(n):
        right = rng.random() < 0.5
        rows.append({"score": rng.gauss(0.6 if right else 0.4, 0.08),
                     "coverage": rng.random(), "rank": rng.random()})
        labels.append(int(right))
    return rows, labels


def test_fit_learns_the_signal_and_ignores_noise() -> None:
    rows, labels = _rows(400)
    model = fit(rows, labels, features=("score", "coverage", "rank"))
    assert model.coef[0] > 1.0
    assert abs(model.coef[1]) < 0.5 and abs(model.coef[2]) < 0.5
    assert model.probability({"score": 0.7, "coverage": 0.5, "rank": 0.5}) > 0.9
    assert model.probability({"score": 0.3, "coverage": 0.5, "rank": 0.5}) < 0.1
    held_rows, held_labels = _rows(200, seed=8)
    right = sum((model.probability(r) >= 0.5) == bool(y)
                for r, y in zip(held_rows, held_labels, strict=True))
    assert right / 200 > 0.85  # on rows it was not fitted on


@given(st.floats(0, 1), st.floats(0, 1))
def test_probability_rises_with_a_positive_feature(a: float, b: float) -> None:
    model = ConfidenceModel(("score",), (0.5,), (0.1,), (2.0,), 0.0, 0.5)
    low, high = sorted((a, b))
    assert 0.0 <= model.probability({"score": low}) <= model.probability({"score": high}) <= 1.0


def test_a_missing_feature_counts_as_its_mean_and_json_round_trips() -> None:
    model = ConfidenceModel(("score", "gap"), (0.5, 0.1), (0.1, 0.05), (2.0, 1.0), 0.3, 0.4,
                            embedding_model="m")
    assert model.probability({"score": 0.5}) == pytest.approx(model.probability(
        {"score": 0.5, "gap": 0.1}))
    again = ConfidenceModel.from_json(json.loads(json.dumps(model.to_json())))
    assert again == model


def test_a_broken_model_names_the_fix() -> None:
    with pytest.raises(ValueError, match=r"calibrate_abstention\.py --fit"):
        ConfidenceModel(("score", "gap"), (0.5,), (0.1,), (2.0,), 0.0, 0.5)
    with pytest.raises(ValueError, match="not a probability"):
        ConfidenceModel(("score",), (0.5,), (0.1,), (2.0,), 0.0, 1.5)
    with pytest.raises(ValueError, match="as many labels"):
        fit([{"score": 1.0}], [1, 0])


PASSAGES = [Document(
    page_content="Putin met Pezeshkian in Ashgabat on October 11. The talks were secret.",
    id="c1", metadata={"article_id": "a1", "chunk_id": "c1", "title": "t", "source": "s"},
)]


def _result(writing):  # type: ignore[no-untyped-def]
    try:
        while True:
            next(writing)
    except StopIteration as stop:
        return stop.value


def test_answers_and_abstentions_record_the_evidence_weighed() -> None:
    answered = _result(GroundedAnswerer(HashingEmbeddings(), abstain_threshold=0.0).write(
        "Where did Putin meet Pezeshkian?", PASSAGES))
    assert not answered.abstained and set(answered.evidence) == set(FEATURES)
    assert answered.evidence["typed_question"] == 1.0
    refused = _result(GroundedAnswerer(HashingEmbeddings(), abstain_threshold=1.0).write(
        "Where did Putin meet Pezeshkian?", PASSAGES))
    assert refused.abstained and refused.evidence["score"] < 1.0
    assert refused.evidence == answered.evidence  # the same evidence, another threshold
