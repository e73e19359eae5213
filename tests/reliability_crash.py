"""Crash trials: SIGKILL `rag ingest` at random points, run it again, check the index.

Each trial changes a synthetic corpus (adds, edits, deletes articles, makes and removes
duplicates), starts ``rag ingest --prune`` in a real process, kills it with SIGKILL after
a random delay, checks that the crashed index still opens, runs the same command to the
end and then checks the invariants (``check_index``):

* every article of the corpus has exactly one record, and nothing else has one;
* each distinct text is stored once, duplicates point at a stored original;
* every passage belongs to a stored article and is listed by it, and every listed
  passage exists: no orphans, nothing missing;
* the BM25 cache holds exactly the passages Chroma holds, at Chroma's revision;
* this machine's copy of the article records (``ArticleIndex.records``) equals Chroma's;
* stored article text equals the file's text.

Trials go on until ``--trials`` runs were really killed mid-run. Run (numbers go to
docs/reliability.md)::

    .venv/bin/python -m tests.reliability_crash --articles 300 --trials 20

Uses the weightless hashing embeddings so the CPU goes to ingestion itself.
tests/test_reliability_crash.py runs a small version of the same trials.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from rag.core.runtime import OFFLINE_ENV

REPO = Path(__file__).resolve().parent.parent
RAG = Path(sys.executable).parent / "rag"
_SYLLABLES = [
    "ka", "lo", "mi", "ren", "sto", "var", "pel", "dun", "qui", "bra", "zen", "tor", "fal",
    "mek", "ris", "gon", "hul", "wen", "jas", "pri", "sul", "tak", "vom", "yel", "cor",
]


def word(rng: random.Random) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))


def article_text(rng: random.Random, sentences: int) -> str:
    out = []
    for _ in range(sentences):
        words = [word(rng) for _ in range(rng.randint(8, 18))]
        out.append(" ".join(words).capitalize() + ".")
    return " ".join(out)


@dataclass
class Corpus:
    """Markdown articles in a folder, and the model of what they hold."""

    folder: Path
    rng: random.Random
    texts: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (title, text)
    counter: int = 0

    def write(self, article_id: str, title: str, text: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        front = {"id": article_id, "title": title, "source": f"s{len(article_id) % 3}.test",
                 "date": f"2025-0{1 + self.counter % 9}-1{self.counter % 10}",
                 "url": f"https://news.test/{article_id}"}
        head = "\n".join(f"{k}: {json.dumps(v)}" for k, v in front.items())
        (self.folder / f"{article_id}.md").write_text(f"---\n{head}\n---\n\n{text}\n")
        self.texts[article_id] = (title, text)

    def add(self, n: int) -> None:
        for _ in range(n):
            self.counter += 1
            article_id = f"art{self.counter:05d}"
            self.write(article_id, f"Story {self.counter} {word(self.rng)}",
                       article_text(self.rng, self.rng.randint(4, 14)))

    def edit(self, n: int) -> None:
        for article_id in self.rng.sample(sorted(self.texts), min(n, len(self.texts))):
            title, _ = self.texts[article_id]
            self.write(article_id, title, article_text(self.rng, self.rng.randint(4, 14)))

    def delete(self, n: int) -> None:
        for article_id in self.rng.sample(sorted(self.texts), min(n, len(self.texts))):
            (self.folder / f"{article_id}.md").unlink()
            del self.texts[article_id]

    def duplicate(self, n: int) -> None:
        """Same title and text under another id and URL (a wire story on two sites)."""
        for article_id in self.rng.sample(sorted(self.texts), min(n, len(self.texts))):
            self.counter += 1
            title, text = self.texts[article_id]
            self.write(f"dup{self.counter:05d}", title, text)

    def mutate(self, size: int) -> None:
        step = max(1, size // 10)
        self.add(self.rng.randint(0, step))
        self.edit(self.rng.randint(0, step))
        self.delete(self.rng.randint(0, step // 2 + 1))
        self.duplicate(self.rng.randint(0, 2))


def rag_env(index_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(RAG_INDEX_DIR=str(index_dir), RAG_EMBEDDING_MODEL="hashing",
               **OFFLINE_ENV)
    return env


def ingest_command(folder: Path) -> list[str]:
    return [str(RAG), "ingest", str(folder), "--prune", "-q", "--json"]


def run_ingest(folder: Path, index_dir: Path) -> tuple[int, str, float]:
    started = time.perf_counter()
    done = subprocess.run(ingest_command(folder), capture_output=True, text=True,
                          env=rag_env(index_dir), cwd=REPO, timeout=1800)
    return done.returncode, done.stdout + done.stderr, time.perf_counter() - started


def killed_ingest(folder: Path, index_dir: Path, delay_s: float, rebuild: bool = False) -> bool:
    """Start an ingest, SIGKILL it after ``delay_s``; True when it was still running."""
    command = ingest_command(folder) + (["--rebuild"] if rebuild else [])
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=rag_env(index_dir), cwd=REPO)
    try:
        proc.wait(timeout=delay_s)
        return False
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        return True


def check_index(index_dir: Path, expected: dict[str, tuple[str, str]]) -> list[str]:
    """Every broken invariant, in words; an empty list when the index is sound."""
    from rag.core.settings import Settings
    from rag.indexing.embeddings import make_embeddings
    from rag.indexing.ingest import keyword_dir
    from rag.indexing.keyword import KeywordCacheError, KeywordStore
    from rag.indexing.store import ArticleIndex, record_from

    settings = Settings(index_dir=index_dir, embedding_model="hashing")
    index = ArticleIndex(settings, make_embeddings(settings))
    wrong: list[str] = []
    records = index.records()  # this machine's copy, brought up to date by the log
    direct = {i: record_from(i, m or {}) for ids, metas, _ in index.all_articles()
              for i, m in zip(ids, metas, strict=True)}
    if records != direct:
        differ = sorted(i for i in set(records) | set(direct)
                        if records.get(i) != direct.get(i))
        wrong.append(f"the records copy differs from Chroma on {len(differ)}: {differ[:3]}")
    if set(records) != set(expected):
        missing = sorted(set(expected) - set(records))[:5]
        extra = sorted(set(records) - set(expected))[:5]
        wrong.append(f"records differ from the corpus: missing {missing}, extra {extra}")
    originals = {i: r for i, r in records.items() if not r.duplicate_of}
    by_text = Counter(expected[i] for i in originals if i in expected)
    twice = [t[0] for t, n in by_text.items() if n > 1]
    if twice:
        wrong.append(f"{len(twice)} texts stored more than once, e.g. {twice[:3]}")
    stored = {expected[i] for i in originals if i in expected}
    lost = {t[0] for i, t in expected.items() if t not in stored}
    if lost:
        wrong.append(f"{len(lost)} texts not stored at all, e.g. {sorted(lost)[:3]}")
    for record in records.values():
        if record.duplicate_of and record.duplicate_of not in originals:
            wrong.append(f"{record.id} is a duplicate of missing {record.duplicate_of}")
        if record.duplicate_of and record.passage_ids:
            wrong.append(f"duplicate {record.id} has passages")

    passages: dict[str, str] = {}
    seen: Counter[str] = Counter()
    for ids, metas, _ in index.all_passages():
        for chunk_id, meta in zip(ids, metas, strict=True):
            passages[chunk_id] = str(meta.get("article_id", ""))
            seen[chunk_id] += 1
    listed = {c: r.id for r in originals.values() for c in r.passage_ids}
    orphans = sorted(set(passages) - set(listed))
    if orphans:
        wrong.append(f"{len(orphans)} orphaned passages, e.g. {orphans[:3]}")
    absent = sorted(set(listed) - set(passages))
    if absent:
        wrong.append(f"{len(absent)} listed passages missing, e.g. {absent[:3]}")
    mislabelled = [c for c, a in passages.items() if c in listed and listed[c] != a]
    if mislabelled:
        wrong.append(f"{len(mislabelled)} passages carry another article's id")
    if any(n > 1 for n in seen.values()):
        wrong.append("a passage id was returned twice")

    try:
        keyword = KeywordStore(keyword_dir(settings)).open()
    except KeywordCacheError as exc:
        wrong.append(f"no usable keyword index after a complete run ({exc})")
    else:
        if keyword.position != index.log_position():
            wrong.append("keyword index is behind the index's change log")
        held = keyword.passages.passage_ids()
        if sorted(held) != sorted(passages):
            diff = set(held) ^ set(passages)
            wrong.append(f"BM25 and Chroma disagree on {len(diff)} passages")
        if len(held) != len(set(held)):
            wrong.append("BM25 holds a passage twice")

    rng = random.Random(len(expected))
    for article_id in rng.sample(sorted(expected), min(25, len(expected))):
        text = index.article_text(article_id)
        if text is None or text.strip() != expected[article_id][1].strip():
            wrong.append(f"stored text of {article_id} differs from its file")
    return wrong


def crashed_index_opens(index_dir: Path) -> str:
    """'' when `rag stats` reads the index a kill left behind, else its error."""
    done = subprocess.run([str(RAG), "stats", "--json"], capture_output=True, text=True,
                          env=rag_env(index_dir), cwd=REPO, timeout=600)
    if done.returncode == 0 or "no index at" in done.stderr or "has no collection" in done.stderr:
        return ""  # killed before anything was created: "no index" is the right answer
    return done.stderr.strip()[-300:]


def trials(articles: int, count: int, seed: int, root: Path, log: bool = True) -> dict[str, object]:
    rng = random.Random(seed)
    corpus = Corpus(root / "corpus", rng)
    corpus.add(articles)
    corpus.duplicate(3)
    index_dir = root / "index"
    code, out, full_s = run_ingest(corpus.folder, index_dir)
    if code != 0:
        raise RuntimeError(f"the first ingest failed: {out}")
    results: dict[str, object] = {"articles": articles, "trials": count,
                                  "first_ingest_s": round(full_s, 2)}
    killed = 0
    failures: list[str] = []
    unreadable: list[str] = []
    delays: list[float] = []
    last_s = full_s
    number = 0
    # Trials go on until ``count`` runs were really killed (a kill that comes after the
    # run finished tests nothing), with a cap in case runs get too fast to hit.
    while killed < count and number < 3 * count:
        number += 1
        corpus.mutate(articles)
        # Every fifth trial re-embeds everything (--rebuild), so kills also land in the
        # drop-and-rewrite path and in long write groups.
        rebuild = number % 5 == 0
        kill_after = rng.uniform(0.3, full_s if rebuild else max(1.0, last_s))
        was_killed = killed_ingest(corpus.folder, index_dir, kill_after, rebuild=rebuild)
        delays.append(kill_after)
        killed += bool(was_killed)
        problem = crashed_index_opens(index_dir)
        if problem:
            unreadable.append(f"trial {number}: {problem}")
        code, out, seconds = run_ingest(corpus.folder, index_dir)
        last_s = seconds
        wrong = [f"re-run exited {code}: {out[-300:]}"] if code != 0 else []
        wrong += check_index(index_dir, dict(corpus.texts))
        failures += [f"trial {number}: {w}" for w in wrong]
        if log:
            print(f"trial {number:2d}: kill after {kill_after:5.2f} s "
                  f"({'killed' if was_killed else 'finished first'}), "
                  f"re-run {seconds:5.2f} s, {len(corpus.texts)} articles, "
                  f"{'OK' if not wrong else '; '.join(wrong)}", flush=True)
    results.update(trials=number, killed=killed, finished_before_kill=number - killed,
                   failures=failures, unreadable_after_kill=unreadable,
                   final_articles=len(corpus.texts),
                   kill_delay_s=[round(min(delays), 2), round(max(delays), 2)])
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rag-crash-") as tmp:
        started = time.perf_counter()
        results = trials(args.articles, args.trials, args.seed, Path(tmp))
        results["total_s"] = round(time.perf_counter() - started, 1)
    print(json.dumps(results, indent=2))
    sys.exit(1 if results["failures"] or results["unreadable_after_kill"] else 0)


if __name__ == "__main__":
    main()
