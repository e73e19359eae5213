"""Maximal marginal relevance (rag.retrieval.hybrid._mmr), vectorised for the larger
pools of top_k 16, against its definition written out plainly."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from rag.retrieval.hybrid import _Candidate, _mmr


def _reference(pool: list[_Candidate], k: int, lam: float) -> list[_Candidate]:
    top = max(c.fused for c in pool)
    low = min(c.fused for c in pool)
    span = (top - low) or 1.0
    chosen: list[_Candidate] = []
    rest = list(pool)
    while rest and len(chosen) < k:
        best, best_score = None, -np.inf
        for candidate in rest:
            relevance = (candidate.fused - low) / span
            redundancy = max(
                (float(candidate.vector @ other.vector) for other in chosen
                 if candidate.vector is not None and other.vector is not None),
                default=0.0,
            )
            score = lam * relevance - (1 - lam) * redundancy
            if score > best_score:
                best, best_score = candidate, score
        assert best is not None
        chosen.append(best)
        rest.remove(best)
    return chosen


@st.composite
def pools(draw):  # type: ignore[no-untyped-def]
    n = draw(st.integers(1, 14))
    dim = 4
    out = []
    for i in range(n):
        fused = draw(st.floats(0, 1, allow_nan=False))
        if draw(st.booleans()) or i == 0:
            raw = np.array(draw(st.lists(st.integers(-8, 8), min_size=dim, max_size=dim)),
                           dtype=np.float64)
            vector = raw / (np.linalg.norm(raw) or 1.0)
        else:
            vector = None
        out.append(_Candidate(passage_id=f"p{i}", vector=vector, fused=fused))
    return out


@settings(max_examples=300, deadline=None)
@given(pools(), st.integers(1, 16), st.sampled_from([0.0, 0.3, 0.7, 1.0]))
def test_matches_the_definition(pool: list[_Candidate], k: int, lam: float) -> None:
    got = [c.passage_id for c in _mmr(pool, k, lam)]
    want = [c.passage_id for c in _reference(pool, k, lam)]
    if got != want:  # only an exact tie may be broken otherwise (float sums)
        assert len(got) == len(want) and set(got) <= {c.passage_id for c in pool}
        first = next(i for i, (a, b) in enumerate(zip(got, want, strict=True)) if a != b)
        assert _score_of(pool, got, first, lam) == _approx(_score_of(pool, want, first, lam))
    assert len(got) == min(k, len(pool)) and len(set(got)) == len(got)


def _approx(value: float) -> object:
    import pytest

    return pytest.approx(value, abs=1e-9)


def _score_of(pool: list[_Candidate], picks: list[str], at: int, lam: float) -> float:
    by_id = {c.passage_id: c for c in pool}
    low = min(c.fused for c in pool)
    span = (max(c.fused for c in pool) - low) or 1.0
    candidate = by_id[picks[at]]
    earlier = [by_id[p] for p in picks[:at]]
    redundancy = max((float(candidate.vector @ o.vector) for o in earlier
                      if candidate.vector is not None and o.vector is not None), default=0.0)
    return lam * (candidate.fused - low) / span - (1 - lam) * redundancy


def test_empty_pool() -> None:
    assert _mmr([], 5, 0.5) == []
