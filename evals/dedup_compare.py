"""Near-duplicate detection: which pairs are found, how fast, and what is a version.

    python evals/dedup_compare.py [--corpus ../shared/benchmarks/realtimeqa/corpus.jsonl]
        [--old path/to/old_dedup.py] [--datasketch-minhash]

The RealTime QA corpus plus 300 syndicated copies generated from its articles (a byline
and wire footer added; whitespace re-flowed plus a footer; a dateline and "Contributing"
line; paragraphs joined plus a "Read more" link). Every article is looked up in the
finder, then added unless it was found a duplicate, as ingestion does. A pair is true when
the exact Jaccard similarity of its word 5-shingles reaches the threshold (0.85). Also
prints how many found pairs `fact_differences` calls versions. ``--old`` loads another
dedup module (e.g. `git show <commit>:rag/indexing/dedup.py`) to compare with;
``--datasketch-minhash`` also runs datasketch's own MinHash (128 permutations).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import re
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_CORPUS = ROOT.parent / "shared" / "benchmarks" / "realtimeqa" / "corpus.jsonl"
THRESHOLD = 0.85


def syndicate(text: str, k: int) -> str:
    kind = k % 4
    if kind == 0:
        return ("By Staff Writer, Associated Press\n\n" + text
                + "\n\nCopyright 2026 The Associated Press. All rights reserved.")
    if kind == 1:
        return re.sub(r"\s+", " ", text).strip() + "\n\nThis story was first published by Reuters."
    if kind == 2:
        return ("Updated 3:15 p.m. ET\n\n" + text
                + "\n\nContributing: Jane Doe, USA TODAY Network. Follow her on X.")
    return text.replace("\n\n", "\n") + f"\n\nRead more: https://example.com/story/{k}"


def load_module(path: str) -> Any:
    spec = importlib.util.spec_from_file_location("other_dedup", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_finder(module: Any, docs: list[dict[str, str]]) -> tuple[dict[str, str], float, float]:
    began = time.perf_counter()
    sigs = {d["id"]: (module.text_hash(d["text"]), module.minhash(d["text"])) for d in docs}
    signing = time.perf_counter() - began
    finder = module.DuplicateFinder(THRESHOLD)
    found: dict[str, str] = {}
    began = time.perf_counter()
    for d in docs:
        t_hash, sig = sigs[d["id"]]
        original = finder.find(d["id"], t_hash, sig)
        if original:
            found[d["id"]] = original
        else:
            finder.remove(d["id"])  # as ingestion does: forget an old text first
            finder.add(d["id"], t_hash, sig)
    return found, signing, time.perf_counter() - began


def run_datasketch(docs: list[dict[str, str]], shingles: Any) -> tuple[dict[str, str], float]:
    from datasketch import MinHash, MinHashLSH

    began = time.perf_counter()
    lsh = MinHashLSH(threshold=THRESHOLD, num_perm=128)
    found: dict[str, str] = {}
    sketches = {}
    for d in docs:
        sketch = MinHash(num_perm=128)
        sketch.update_batch([s.encode() for s in shingles[d["id"]]])
        sketches[d["id"]] = sketch
        best, best_score = None, THRESHOLD
        for other in sorted(lsh.query(sketch)):
            score = sketch.jaccard(sketches[other])
            if score >= best_score:
                best, best_score = other, score
        if best:
            found[d["id"]] = best
        else:
            lsh.insert(d["id"], sketch)
    return found, time.perf_counter() - began


def main() -> None:
    from rag.indexing import dedup

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", default=str(DEFAULT_CORPUS))
    parser.add_argument("--old", help="another dedup.py to compare with")
    parser.add_argument("--datasketch-minhash", action="store_true")
    args = parser.parse_args()
    if not Path(args.corpus).exists():
        raise SystemExit(f"no corpus at {args.corpus}; pass --corpus")
    with open(args.corpus, encoding="utf-8") as handle:
        articles = [json.loads(line) for line in handle]
    rng = random.Random(7)
    copies = [
        {"id": f"copy-{a['id']}-{k}", "text": syndicate(a["text"], k), "of": a["id"]}
        for k, a in enumerate(rng.sample(articles, 300))
    ]
    docs = [{"id": a["id"], "text": a["text"]} for a in articles] + copies
    text = {d["id"]: d["text"] for d in docs}

    def shingle_set(t: str) -> set[str]:
        w = dedup.normalise(t).split()
        return {" ".join(w[i : i + 5]) for i in range(max(1, len(w) - 4))}

    shingles = {d["id"]: shingle_set(d["text"]) for d in docs}

    def jaccard(a: str, b: str) -> float:
        return len(shingles[a] & shingles[b]) / len(shingles[a] | shingles[b])

    runs: dict[str, tuple[dict[str, str], str]] = {}
    found, signing, finding = run_finder(dedup, docs)
    runs["ours (our band index, 16x4)"] = (found, f"{signing:.1f} s + {finding:.2f} s")
    if args.old:
        found, signing, finding = run_finder(load_module(args.old), docs)
        runs["old (hand-written LSH)"] = (found, f"{signing:.1f} s + {finding:.2f} s")
    if args.datasketch_minhash:
        found, seconds = run_datasketch(docs, shingles)
        runs["datasketch MinHash 128 + LSH"] = (found, f"{seconds:.1f} s")
    print(f"{len(articles)} articles + {len(copies)} generated copies, threshold {THRESHOLD}")
    print("| finder | pairs | true (Jaccard >= 0.85) | false | generated copies found | "
          "corpus pairs | versions among pairs | time (sign + find) |")
    print("|---|---|---|---|---|---|---|---|")
    for name, (found, seconds) in runs.items():
        true = sum(jaccard(a, b) >= THRESHOLD for a, b in found.items())
        copies_found = sum(c["id"] in found for c in copies)
        corpus_pairs = sum(not a.startswith("copy-") for a in found)
        versions = sum(bool(dedup.fact_differences(text[b], text[a])) for a, b in found.items())
        print(f"| {name} | {len(found)} | {true} | {len(found) - true} | {copies_found} / "
              f"{len(copies)} | {corpus_pairs} | {versions} | {seconds} |")


if __name__ == "__main__":
    main()
