"""The grounded answerer's sentence embeddings: one after another against two threads.

``python -m benchmarks.sentence_threads [--rounds N]``: the median time to embed the
bundled article's first 8 long sentences with the answerer's int8 model, each sentence
its own batch (as the answerer does), one after another and through
``GroundedAnswerer._embed`` (two threads); alternating, ``N`` rounds of 15 calls each.
The vectors must come out the same both ways (it exits 1 if not).
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from rag.answering.grounded import GroundedAnswerer
from rag.core.runtime import go_offline
from rag.core.settings import Settings
from rag.indexing.embeddings import make_embeddings
from rag.indexing.splitting import sentence_spans

ARTICLE = Path(__file__).resolve().parent.parent / "index" / "articles" / "iran-russia-article.md"


def sentences(count: int = 8) -> list[str]:
    text = ARTICLE.read_text(encoding="utf-8").split("---", 2)[-1]
    found = [text[a:b] for a, b in sentence_spans(text)]
    return [s for s in found if len(s) > 60][:count]


def median_ms(work: Callable[[], object], calls: int = 15) -> float:
    times = []
    for _ in range(calls):
        began = time.perf_counter()
        work()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    rounds = int(args[args.index("--rounds") + 1]) if "--rounds" in args else 3
    go_offline()
    model = make_embeddings(Settings(embedding_backend="onnx-int8"))
    model.warm_up()
    texts = sentences()
    answerer = GroundedAnswerer(model, embed_threads=2)

    def alone() -> list[np.ndarray]:
        return [model.encode([t], batch_size=1)[0] for t in texts]  # type: ignore[attr-defined]

    def threads() -> list[np.ndarray]:
        return answerer._embed(texts)

    if not np.array_equal(np.vstack(alone()), np.vstack(threads())):
        print("the two ways gave different vectors")
        return 1
    for n in range(1, rounds + 1):
        print(f"round {n}: {len(texts)} sentences, one after another "
              f"{median_ms(alone):.1f} ms, two threads {median_ms(threads):.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
