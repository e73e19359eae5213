"""Load run: many questions through one chain from many threads; memory before and after.

Builds a temporary index (hashing embeddings, so the CPU goes to retrieval and
answering), warms the chain up, then asks ``--questions`` questions from ``--threads``
threads: half as single questions, half as follow-ups with their own history. Each
answer must equal the answer to the same input asked alone, one at a time, before the
run (same text, same cited passages): nothing mixed between sessions.
Prints resident memory (VmRSS) after warm-up, every 10% and at the end, as JSON.

    .venv/bin/python -m benchmarks.reliability_load --questions 1000 --threads 8

Figures go to docs/reliability.md. The corpus is synthetic, or with ``--realtimeqa``
the benchmark corpus read in place (../shared/benchmarks/realtimeqa/corpus.jsonl,
never copied) with the benchmark's dev questions.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
REALTIMEQA = REPO.parent / "shared" / "benchmarks" / "realtimeqa"


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def letters(n: int) -> str:
    """A distinct lower-case word per number (the tokenizers drop digits and stem)."""
    syllables = ["ba", "ke", "li", "mo", "nu", "pa", "re", "si", "to", "vu", "xa", "zo"]
    out = ""
    for _ in range(4):
        n, digit = divmod(n, len(syllables))
        out += syllables[digit]
    return out


def synthetic_corpus(folder: Path, articles: int) -> dict[str, tuple[str, str]]:
    """Articles whose facts are unique words, and a question that names each one."""
    folder.mkdir(parents=True)
    questions = {}
    for n in range(articles):
        place, thing, number = f"Zor{letters(n)}", f"quel{letters(n + 7919)}", 100 + n
        text = (f"Engineers in {place} finished the {thing} bridge on Monday. "
                f"It cost {number} million and took four years to build. "
                f"The mayor of {place} said traffic would fall by a third.")
        (folder / f"a{n}.md").write_text(
            f"---\nid: a{n}\ntitle: Bridge opens in {place}\n---\n\n{text}\n")
        questions[f"a{n}"] = (f"How much did the {thing} bridge in {place} cost?",
                              "What did the mayor say about it?")
    return questions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--realtimeqa", action="store_true")
    args = parser.parse_args()
    from rag.core.runtime import go_offline

    go_offline()
    from rag.answering.chain import build_chain
    from rag.core.settings import Settings
    from rag.indexing.ingest import ingest

    with tempfile.TemporaryDirectory(prefix="rag-load-") as tmp:
        root = Path(tmp)
        settings = Settings(index_dir=root / "index", embedding_model="hashing",
                            abstain_threshold=0.3)
        if args.realtimeqa:
            corpus_path = REALTIMEQA / "corpus.jsonl"
            if not corpus_path.exists():
                sys.exit(f"{corpus_path} is absent")
            ingest([corpus_path], settings)
            rows = [json.loads(line) for line in
                    (REALTIMEQA / "questions-dev.jsonl").read_text().splitlines() if line]
            questions = {str(i): (str(r.get("question", "")), "Why?")
                         for i, r in enumerate(rows)}
        else:
            questions = synthetic_corpus(root / "corpus", args.articles)
            summary = ingest([root / "corpus"], settings)
            assert summary.ok, summary.problems
        chain = build_chain(settings)
        keys = sorted(questions)

        def inputs(key: str) -> tuple[dict[str, object], dict[str, object]]:
            first, follow = questions[key]
            alone = chain.invoke({"question": first})
            return {"question": first}, {"question": follow, "chat_history": [
                ("human", first), ("ai", alone.answer)]}

        def fingerprint(answer: object) -> tuple[str, tuple[str, ...]]:
            return answer.answer, tuple(c.chunk_id for c in answer.citations)  # type: ignore[attr-defined]

        # The reference: every input asked alone, one at a time (also the warm-up).
        reference: dict[tuple[str, int], tuple[str, tuple[str, ...]]] = {}
        prepared: dict[str, tuple[dict[str, object], dict[str, object]]] = {}
        for key in keys[: min(len(keys), args.questions)]:
            prepared[key] = inputs(key)
            for turn in (0, 1):
                reference[(key, turn)] = fingerprint(chain.invoke(prepared[key][turn]))
        keys = list(prepared)
        gc.collect()
        before = rss_mb()
        samples = [(0, round(before, 1))]
        done = 0
        mixed: list[str] = []
        lock = threading.Lock()

        def one(i: int) -> None:
            nonlocal done
            key = keys[i % len(keys)]
            turn = (i // len(keys)) % 2 if len(keys) < args.questions else i % 2
            got = fingerprint(chain.invoke(prepared[key][turn]))
            with lock:
                done += 1
                if got != reference[(key, turn)]:
                    mixed.append(f"{key} turn {turn}: {got[0][:80]!r}")
                if done % max(1, args.questions // 10) == 0:
                    samples.append((done, round(rss_mb(), 1)))

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.threads) as pool:
            list(pool.map(one, range(args.questions)))
        seconds = time.perf_counter() - started
        gc.collect()
        after = rss_mb()
    print(json.dumps({
        "questions": args.questions, "threads": args.threads,
        "corpus": "realtimeqa" if args.realtimeqa else f"synthetic x{args.articles}",
        "rss_mb_before": round(before, 1), "rss_mb_after": round(after, 1),
        "rss_growth_mb": round(after - before, 1), "rss_samples": samples,
        "answers_differing_from_alone": mixed[:10], "mixed_count": len(mixed),
        "seconds": round(seconds, 1),
        "questions_per_s": round(args.questions / seconds, 1),
    }, indent=2))
    sys.exit(1 if mixed else 0)


if __name__ == "__main__":
    main()
