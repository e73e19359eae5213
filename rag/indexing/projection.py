"""Fewer dimensions per stored vector: a projection fitted on the index's own passages.

Chroma keeps every passage vector in memory as float32 in its HNSW and cannot quantise
them: at a million passages of a 384-dimension model that is 1.7 GB in every embedded
serving process. An index can instead store each vector projected onto the top ``d``
principal directions of its passages (uncentred: the SVD of the vectors as they are, so
a dot product in the projected space approximates the cosine in the model's space) and
re-normalised. 192 of 384 dimensions keep 93% of the RealTime QA passages' energy and
halve the HNSW; the recall they cost is measured in docs/benchmarks.md.

The projection belongs to the index, not to the settings: it is stored in Chroma (one
record per component in ``<collection>__projection``, so a Chroma server shares it with
every app machine) and named in the index's info by its dimension and fingerprint. The
model's vectors stay what the answerer compares sentences with; only what goes into the
passage collection, and the question vector searched with, are projected.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

#: The fewest passages a projection is fitted on, per kept dimension.
MIN_ROWS_PER_DIM = 4


@dataclass(frozen=True)
class Projection:
    """``components``: float32 (model dimension x kept dimension), orthonormal columns."""

    components: Any

    @property
    def dims(self) -> int:
        return int(self.components.shape[1])

    @property
    def model_dims(self) -> int:
        return int(self.components.shape[0])

    @property
    def fingerprint(self) -> str:
        """Names these exact components (recorded in the index's info)."""
        return hashlib.sha1(self.components.tobytes()).hexdigest()[:16]

    def apply(self, vectors: Sequence[Sequence[float]] | Any) -> Any:
        """Rows projected and re-normalised to unit length (float32)."""
        import numpy as np

        rows = np.asarray(vectors, dtype=np.float32)
        single = rows.ndim == 1
        rows = rows.reshape(1, -1) if single else rows
        if rows.shape[1] != self.model_dims:
            raise ValueError(
                f"vectors of dimension {rows.shape[1]} given to a projection from "
                f"{self.model_dims} dimensions; embed with the index's own model"
            )
        out = rows @ self.components
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        out /= np.where(norms > 0, norms, 1.0)
        return out[0] if single else out


def fit(vectors: Any, dims: int) -> Projection:
    """The top ``dims`` right singular vectors of ``vectors`` (rows, uncentred)."""
    import numpy as np

    rows = np.asarray(vectors, dtype=np.float32)
    if rows.ndim != 2 or not 0 < dims < rows.shape[1]:
        width = rows.shape[1] if rows.ndim == 2 else 0
        raise ValueError(
            f"cannot keep {dims} of {width} dimensions; choose a number between 1 and "
            f"{width - 1} (192 halves a 384-dimension model's vectors)"
        )
    if len(rows) < MIN_ROWS_PER_DIM * dims:
        raise ValueError(
            f"{len(rows)} passages are too few to fit {dims} dimensions (at least "
            f"{MIN_ROWS_PER_DIM * dims}); ingest more articles first or keep fewer dimensions"
        )
    _, _, vt = np.linalg.svd(rows.astype(np.float64), full_matrices=False)
    components = np.ascontiguousarray(vt[:dims].T, dtype=np.float32)
    # A singular vector's sign is arbitrary: fix it so that one corpus gives one result.
    signs = np.sign(components[np.abs(components).argmax(axis=0), np.arange(dims)])
    return Projection(components * signs)


def to_records(projection: Projection) -> dict[str, Any]:
    """Chroma rows: component ``i`` as the "embedding" of record ``i``."""
    dims = projection.dims
    return {
        "ids": [f"{i:05d}" for i in range(dims)],
        "embeddings": [projection.components[:, i].tolist() for i in range(dims)],
    }


def from_records(ids: Sequence[str], embeddings: Any) -> Projection:
    """The projection ``to_records`` wrote (rows in any order)."""
    import numpy as np

    order = sorted(range(len(ids)), key=lambda i: ids[i])
    columns = np.asarray([embeddings[i] for i in order], dtype=np.float32)
    return Projection(np.ascontiguousarray(columns.T))
