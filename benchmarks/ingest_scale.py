"""Time and memory to the first write when one JSONL holds very many articles.

    python -m benchmarks.ingest_scale [--articles 200000] [--words 120]

Writes a JSONL of synthetic news articles (distinct texts, every tenth a wire copy of an
earlier one with a byline, every fiftieth a version with one count changed), then runs
`rag ingest` on it with the weightless hashing embeddings into a temporary index and
stops at the first passage write. Prints seconds and resident memory (MB) after reading
the file and at the first write, and the peak between them. Issue 15 item 20: the first
write within a minute for 200,000 articles, memory flat (no growth with n beyond the
articles read).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

_WORD_LIST = (
    "council harbour budget vote mayor plan port fishing boats terminal storm channel city "
    "police report court ruling election minister strike workers deal prices market bank "
    "rates school teachers hospital doctors bridge road rail transport energy power grid "
    "water river flood drought farm crops trade export import tariff army border talks "
    "peace summit leaders treaty climate emissions carbon solar wind coal oil gas"
)
WORDS = _WORD_LIST.split(" ")


def write_corpus(path: Path, n: int, words: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    kept: list[str] = []
    with open(path, "w", encoding="utf-8") as handle:
        for i in range(n):
            if i % 10 == 9 and kept:
                text = "By Staff, Wire Service\n\n" + rng.choice(kept)
            elif i % 50 == 49 and kept:
                text = rng.choice(kept) + f" Officials counted {rng.randint(10, 99)} more."
            else:
                sentences = []
                for _ in range(max(1, words // 12)):
                    body = " ".join(rng.choice(WORDS) for _ in range(11))
                    sentences.append(f"{body.capitalize()} {rng.randint(1, 10**6)}.")
                text = " ".join(sentences)
                if len(kept) < 1000:
                    kept.append(text)
            row = {"id": f"syn-{i}", "title": f"Report {i}", "text": text,
                   "source": f"outlet{i % 37}.test", "date": "2026-01-15"}
            handle.write(json.dumps(row) + "\n")


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class _FirstWrite(Exception):
    pass


def main() -> None:
    from rag.core.settings import Settings
    from rag.indexing import ingest as ingest_module
    from rag.indexing.store import ArticleIndex

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=200_000)
    parser.add_argument("--words", type=int, default=120)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rag-scale-") as work:
        corpus = Path(work) / "many.jsonl"
        write_corpus(corpus, args.articles, args.words)
        settings = Settings(index_dir=Path(work) / "index", embedding_model="hashing")
        marks: dict[str, float] = {}
        peak = [0.0]
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set():
                peak[0] = max(peak[0], rss_mb())
                time.sleep(0.2)

        real_read = ingest_module.read_articles

        def read(*a: Any, **k: Any) -> Any:
            reading = real_read(*a, **k)
            marks["read_s"] = time.perf_counter() - started
            marks["read_mb"] = rss_mb()
            return reading

        def first_write(self: Any, *a: Any, **k: Any) -> None:
            marks["write_s"] = time.perf_counter() - started
            marks["write_mb"] = rss_mb()
            raise _FirstWrite

        ingest_module.read_articles = read
        ArticleIndex.upsert_passages = first_write  # type: ignore[method-assign]
        threading.Thread(target=sample, daemon=True).start()
        marks["start_mb"] = rss_mb()
        started = time.perf_counter()
        try:
            ingest_module.ingest([corpus], settings)
        except Exception as exc:  # the sentinel, possibly wrapped as a write failure
            if "write_s" not in marks:
                raise
            del exc
        stop.set()
    print(f"| {args.articles:,} articles | read {marks['read_s']:.1f} s, "
          f"{marks['read_mb']:.0f} MB | first write {marks['write_s']:.1f} s, "
          f"{marks['write_mb']:.0f} MB | peak {peak[0]:.0f} MB "
          f"(start {marks['start_mb']:.0f} MB) |")


if __name__ == "__main__":
    main()
