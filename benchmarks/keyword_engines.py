"""Keyword engines compared: tantivy, SQLite FTS5, bm25s with a delta segment.

Every engine gets the same passages and the same terms (``rag.core.text.content_terms``:
stop words out, Snowball stems), so only the engine differs. For each engine, in its own
child process (so RSS is its own):

- build over N passages (the RealTime QA corpus split by our splitter; above its 25k
  passages, synthetic passages made from its vocabulary: each a real passage's length
  with words drawn from the corpus' word frequencies, so posting lists grow as they would);
- article-level recall@5 of keyword search alone on RealTime QA dev (tune / validate);
- query p50/p95 over the dev questions, with and without a filter (an outlet);
- cost of adding 10 articles until a fresh reader sees them (median of 3 rounds);
- disk size, peak RSS of the serving side;
- crash safety: a child adds 300 articles and is SIGKILLed mid-update; the index must
  then open and hold either all of them or none (never a part, never a crash).

Usage (from the repository root, with the corpus next to it):
    nice python benchmarks/keyword_engines.py --sizes 25000,1000000 --out /tmp/kw.json
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

# Beside the repository (../shared/benchmarks/realtimeqa); RAG_BENCH_CORPUS overrides.
CORPUS = Path(os.environ.get("RAG_BENCH_CORPUS") or (
    Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "realtimeqa"))
# Passages one crash-test update adds: enough that the kill lands inside the update.
CRASH_DOCS = 20_000
ENGINES = ("tantivy", "fts5", "bm25s-delta")


@dataclass
class Doc:
    chunk_id: str
    article_id: str
    source: str
    date: int
    terms: list[str]


# --- corpus ------------------------------------------------------------------------------
def real_docs(corpus: Path) -> list[Doc]:
    import pickle

    cache = Path(os.environ.get("KW_WORK", "/tmp")) / "real-docs.pickle"
    if cache.exists():
        return pickle.loads(cache.read_bytes())
    docs = _split_corpus(corpus)
    cache.write_bytes(pickle.dumps(docs))
    return docs


def _split_corpus(corpus: Path) -> list[Doc]:
    from rag.core.schema import Article
    from rag.core.text import content_terms
    from rag.indexing.splitting import PassageSplitter

    splitter = PassageSplitter()
    out: list[Doc] = []
    with (corpus / "corpus.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            article = Article(
                id=row["id"], title=row.get("title", ""), text=row.get("text", ""),
                source=row.get("source", ""), date=row.get("date", ""),
            )
            date = int((article.date or "0").replace("-", "")[:8] or 0)
            for passage in splitter.split(article):
                out.append(Doc(
                    passage.id, article.id, article.source, date,
                    content_terms(f"{article.title}\n{passage.text}"),
                ))
    return out


def synthetic(real: list[Doc], count: int, seed: int = 7) -> Iterator[Doc]:
    """``count`` passages drawn from the real ones' word frequencies and lengths."""
    rng = np.random.default_rng(seed)
    counts: dict[str, int] = {}
    for doc in real:
        for term in doc.terms:
            counts[term] = counts.get(term, 0) + 1
    vocab = list(counts)
    cdf = np.cumsum(np.array(list(counts.values()), dtype=np.float64))
    cdf /= cdf[-1]
    sources = sorted({d.source for d in real})
    for n in range(count):
        model = real[n % len(real)]
        picks = np.searchsorted(cdf, rng.random(len(model.terms)))
        article = f"syn-{n // 10}"
        yield Doc(f"{article}:{n % 10}", article, sources[n % len(sources)],
                  20200101 + (n % 28), [vocab[int(i)] for i in picks])


def corpus_docs(size: int, real: list[Doc]) -> Iterator[Doc]:
    if size <= len(real):
        return iter(real[:size])
    return itertools.chain(real, synthetic(real, size - len(real)))


def questions(corpus: Path) -> list[dict[str, Any]]:
    from rag.core.text import content_terms

    out = []
    with (corpus / "questions-dev.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            out.append({
                "terms": content_terms(row["question"]),
                "evidence": row.get("evidence_ids") or [],
                "tune": str(row.get("question_date", "")) < "2026-01-01",
            })
    return out


# --- engines -------------------------------------------------------------------------------
class Tantivy:
    def __init__(self, folder: Path) -> None:
        import tantivy

        self.t = tantivy
        folder.mkdir(parents=True, exist_ok=True)
        builder = tantivy.SchemaBuilder()
        builder.add_text_field("text", tokenizer_name="whitespace", index_option="freq")
        builder.add_text_field("chunk_id", stored=True, tokenizer_name="raw")
        builder.add_text_field("article_id", stored=True, tokenizer_name="raw")
        builder.add_text_field("source", tokenizer_name="raw")
        builder.add_integer_field("date", indexed=True, fast=True)
        self.schema = builder.build()
        self.index = tantivy.Index(self.schema, path=str(folder), reuse=True)

    def write(self, docs: Iterable[Doc], delete: Iterable[str] = ()) -> None:
        writer = self.index.writer(heap_size=128_000_000, num_threads=1)
        for article in delete:
            writer.delete_documents_by_term("article_id", article)
        for d in docs:
            writer.add_document(self.t.Document(
                text=" ".join(d.terms), chunk_id=d.chunk_id, article_id=d.article_id,
                source=d.source, date=d.date,
            ))
        writer.commit()
        writer.wait_merging_threads()

    def open_reader(self) -> None:
        self.index.reload()
        self.searcher = self.index.searcher()

    def count(self) -> int:
        return int(self.searcher.num_docs)

    def search(self, terms: list[str], k: int, source: str | None = None) -> list[str]:
        t = self.t
        schema = self.schema
        should = [(t.Occur.Should, t.Query.term_query(schema, "text", w)) for w in terms]
        query = t.Query.boolean_query(should)
        if source:
            query = t.Query.boolean_query([
                (t.Occur.Must, query),
                (t.Occur.Must, t.Query.const_score_query(
                    t.Query.term_query(schema, "source", source), 0.0)),
            ])
        hits = self.searcher.search(query, limit=k, count=False).hits
        return [self.searcher.doc(address)["article_id"][0] for _, address in hits]


class Fts5:
    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / "kw.sqlite3"
        self.db = sqlite3.connect(self.path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS meta(id INTEGER PRIMARY KEY, chunk_id TEXT, "
            "article_id TEXT, source TEXT, date INTEGER)"
        )
        self.db.execute("CREATE INDEX IF NOT EXISTS meta_article ON meta(article_id)")
        self.db.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(text, "
            "tokenize=\"unicode61 tokenchars '-'\")"
        )

    def write(self, docs: Iterable[Doc], delete: Iterable[str] = ()) -> None:
        db = self.db
        db.execute("BEGIN")
        for article in delete:
            rows = db.execute("SELECT id FROM meta WHERE article_id=?", (article,)).fetchall()
            for (rowid,) in rows:
                db.execute("DELETE FROM fts WHERE rowid=?", (rowid,))
                db.execute("DELETE FROM meta WHERE id=?", (rowid,))
        for d in docs:
            cur = db.execute(
                "INSERT INTO meta(chunk_id, article_id, source, date) VALUES (?,?,?,?)",
                (d.chunk_id, d.article_id, d.source, d.date),
            )
            db.execute("INSERT INTO fts(rowid, text) VALUES (?, ?)",
                       (cur.lastrowid, " ".join(d.terms)))
        db.execute("COMMIT")

    def open_reader(self) -> None:
        self.reader = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)

    def count(self) -> int:
        return int(self.reader.execute("SELECT count(*) FROM meta").fetchone()[0])

    def search(self, terms: list[str], k: int, source: str | None = None) -> list[str]:
        if not terms:
            return []
        match = " OR ".join('"' + w.replace('"', "") + '"' for w in terms)
        sql = (
            "SELECT meta.article_id FROM fts JOIN meta ON meta.id = fts.rowid "
            "WHERE fts MATCH ?" + (" AND meta.source = ?" if source else "")
            + " ORDER BY bm25(fts) LIMIT ?"
        )
        args: tuple[Any, ...] = (match, source, k) if source else (match, k)
        return [row[0] for row in self.reader.execute(sql, args)]


class Bm25sDelta:
    """bm25s: a main segment rebuilt only by a merge, plus a small delta segment rebuilt
    on each update; deleted passages masked in the main one; scores merged by value."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def _save(self, name: str, docs: list[Doc]) -> None:
        import bm25s

        tmp = self.folder / f".{name}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        model = bm25s.BM25()
        model.index([d.terms for d in docs], show_progress=False)
        model.save(str(tmp), show_progress=False)
        (tmp / "docs.json").write_text(json.dumps(
            [[d.chunk_id, d.article_id, d.source, d.date] for d in docs]))
        old = self.folder / f".{name}.old"
        shutil.rmtree(old, ignore_errors=True)
        if (self.folder / name).exists():
            os.replace(self.folder / name, old)
        os.replace(tmp, self.folder / name)
        shutil.rmtree(old, ignore_errors=True)

    def write(self, docs: Iterable[Doc], delete: Iterable[str] = ()) -> None:
        docs = list(docs)
        if not (self.folder / "main").exists():
            self._save("main", docs)
            (self.folder / "deleted.json").write_text("[]")
            return
        # The delta keeps every doc added since the last merge: rebuilt whole, small.
        previous = self._delta_docs()
        gone = set(delete)
        kept = [d for d in previous if d.article_id not in gone]
        deleted = set(json.loads((self.folder / "deleted.json").read_text())) | gone
        tmp = self.folder / ".deleted.tmp"
        tmp.write_text(json.dumps(sorted(deleted)))
        self._save("delta", kept + docs)
        os.replace(tmp, self.folder / "deleted.json")

    def _delta_docs(self) -> list[Doc]:
        path = self.folder / "delta" / "docs.json"
        if not path.exists():
            return []
        # Terms are needed to rebuild the delta: kept beside it.
        terms = json.loads((self.folder / "delta" / "terms.json").read_text())
        return [Doc(c, a, s, d, t) for (c, a, s, d), t in
                zip(json.loads(path.read_text()), terms, strict=True)]

    def open_reader(self) -> None:
        import bm25s

        self.segments = []
        deleted = set(json.loads((self.folder / "deleted.json").read_text()))
        for name in ("main", "delta"):
            if not (self.folder / name).exists():
                continue
            model = bm25s.BM25.load(str(self.folder / name), show_progress=False)
            rows = json.loads((self.folder / name / "docs.json").read_text())
            articles = np.array([r[1] for r in rows], dtype=object)
            sources = np.array([r[2] for r in rows], dtype=object)
            alive = ~np.isin(articles, list(deleted)) if name == "main" and deleted else None
            self.segments.append((model, articles, sources, alive))

    def count(self) -> int:
        return sum(int(a.size if alive is None else alive.sum())
                   for _, a, _, alive in self.segments)

    def search(self, terms: list[str], k: int, source: str | None = None) -> list[str]:
        merged: list[tuple[float, str]] = []
        for model, articles, sources, alive in self.segments:
            known = [w for w in terms if w in model.vocab_dict]
            if not known:
                continue
            mask = np.ones(len(articles), dtype=bool) if alive is None else alive.copy()
            if source:
                mask &= sources == source
            docs, scores = model.retrieve([known], k=min(k, len(articles)),
                                          show_progress=False, n_threads=1,
                                          weight_mask=mask.astype(np.float32))
            merged += [(float(s), articles[int(d)]) for d, s in zip(docs[0], scores[0],
                                                                  strict=True) if s > 0]
        merged.sort(reverse=True)
        return [a for _, a in merged[:k]]


def _bm25s_write_with_terms(engine: Bm25sDelta, docs: list[Doc], delete: list[str]) -> None:
    previous_terms = []
    terms_path = engine.folder / "delta" / "terms.json"
    if terms_path.exists():
        previous = engine._delta_docs()
        previous_terms = [d.terms for d in previous if d.article_id not in set(delete)]
    engine.write(docs, delete)
    if (engine.folder / "delta").exists():
        terms_path.write_text(json.dumps(previous_terms + [d.terms for d in docs]))


def make(name: str, folder: Path) -> Any:
    return {"tantivy": Tantivy, "fts5": Fts5, "bm25s-delta": Bm25sDelta}[name](folder)


def write(engine: Any, docs: Iterable[Doc], delete: Iterable[str] = ()) -> None:
    if isinstance(engine, Bm25sDelta):
        _bm25s_write_with_terms(engine, list(docs), list(delete))
    else:
        engine.write(docs, delete)


# --- measuring -------------------------------------------------------------------------------
def disk_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def recall(engine: Any, qs: list[dict[str, Any]], tune: bool) -> float:
    hits = []
    for q in qs:
        if not q["evidence"] or q["tune"] != tune:
            continue
        ranked = engine.search(q["terms"], 50)
        top = list(dict.fromkeys(ranked))[:5]
        hits.append(any(e in top for e in q["evidence"]))
    return round(sum(hits) / len(hits), 3) if hits else float("nan")


def percentile(values: list[float], q: float) -> float:
    """numpy's percentile, as every figure of rag is given (rag.evaluation.metrics)."""
    from rag.evaluation.metrics import percentile_of

    return percentile_of(values, q)


def load() -> float:
    return round(os.getloadavg()[0], 2)


def new_articles(real: list[Doc], round_no: int) -> tuple[list[Doc], list[str]]:
    """10 articles (their real passages) under fresh ids: an update the index never saw."""
    by_article: dict[str, list[Doc]] = {}
    for d in real:
        by_article.setdefault(d.article_id, []).append(d)
    chosen = list(by_article)[round_no * 10: round_no * 10 + 10]
    docs = [Doc(f"new{round_no}-{d.chunk_id}", f"new{round_no}-{d.article_id}", d.source,
                d.date, d.terms) for a in chosen for d in by_article[a]]
    return docs, sorted({d.article_id for d in docs})


def run_engine(name: str, size: int, work: Path) -> dict[str, Any]:
    real = real_docs(CORPUS)
    qs = questions(CORPUS)
    docs = corpus_docs(size, real)
    folder = work / f"{name}-{size}"
    shutil.rmtree(folder, ignore_errors=True)
    engine = make(name, folder)
    started = time.perf_counter()
    write(engine, list(docs) if name == "bm25s-delta" else docs)
    build_s = time.perf_counter() - started
    del docs
    build_load = load()
    reader = make(name, folder)
    reader.open_reader()
    # Recall before the adds below (they copy real articles under new ids).
    recalls = {"recall5_tune": recall(reader, qs, True),
               "recall5_validate": recall(reader, qs, False)}
    add_s = []
    for round_no in range(3):
        fresh, _ = new_articles(real, round_no)
        began = time.perf_counter()
        write(engine, fresh)
        reader = make(name, folder)
        reader.open_reader()
        add_s.append(time.perf_counter() - began)
        assert reader.search(fresh[0].terms, 50), f"{name}: new article not found"
    reader = make(name, folder)
    reader.open_reader()
    count = reader.count()
    result: dict[str, Any] = {
        "engine": name, "passages": count, "build_s": round(build_s, 1),
        "build_load": build_load,
        "add10_s_median": round(statistics.median(add_s), 3), "add10_load": load(),
        **recalls,
    }
    latencies, filtered = [], []
    for q in qs:
        began = time.perf_counter()
        reader.search(q["terms"], 50)
        latencies.append((time.perf_counter() - began) * 1000)
        began = time.perf_counter()
        reader.search(q["terms"], 50, source="cnn.com")
        filtered.append((time.perf_counter() - began) * 1000)
    result.update(
        query_p50_ms=round(percentile(latencies, 50), 2),
        query_p95_ms=round(percentile(latencies, 95), 2),
        filtered_p50_ms=round(percentile(filtered, 50), 2), query_load=load(),
        disk_mb=round(disk_bytes(folder) / 1e6, 1),
    )
    result["serving_rss_mb"] = serving_rss(name, folder)
    result["crash"] = crash_test(name, folder, real)
    return result


def serving_rss(name: str, folder: Path) -> float:
    got = subprocess.run([sys.executable, __file__, "--serve", name, "--folder", str(folder)],
                         capture_output=True, text=True, check=True)
    return float(got.stdout.strip().splitlines()[-1])


def serve(name: str, folder: Path) -> None:
    reader = make(name, folder)
    reader.open_reader()
    for q in questions(CORPUS):
        reader.search(q["terms"], 50)
    print(round(rss_mb(), 0))


def crash_test(name: str, folder: Path, real: list[Doc]) -> str:
    reader = make(name, folder)
    reader.open_reader()
    before = reader.count()
    outcomes = []
    for delay in (0.3, 1.0, 2.0):
        child = subprocess.Popen(
            [sys.executable, __file__, "--crash-child", name, "--folder", str(folder)],
            stdout=subprocess.PIPE, text=True,
        )
        assert child.stdout is not None
        child.stdout.readline()  # "writing": the update has begun
        time.sleep(delay)
        child.send_signal(signal.SIGKILL)
        child.wait()
        try:
            reader = make(name, folder)
            reader.open_reader()
            after = reader.count()
            reader.search(["nato"], 5)
        except Exception as exc:
            outcomes.append(f"broken ({type(exc).__name__})")
            continue
        added = after - before
        outcomes.append("none" if added == 0 else "all" if added == CRASH_DOCS else f"PART {added}")
        before = after
    return ",".join(outcomes)


def crash_child(name: str, folder: Path) -> None:
    engine = make(name, folder)
    real = real_docs(CORPUS)
    base = int(time.time() * 1000)
    docs = [Doc(f"crash{base}-{i}", f"crash{base}-{i // 10}", "x", 20200101,
                real[i % len(real)].terms) for i in range(CRASH_DOCS)]
    print("writing", flush=True)
    write(engine, docs)
    time.sleep(60)  # killed before it ends, or the update was not interrupted


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="25000")
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--work", default="/tmp/kw-engines")
    parser.add_argument("--out", default="")
    parser.add_argument("--one", default="")
    parser.add_argument("--size", type=int, default=0)
    parser.add_argument("--crash-child", default="")
    parser.add_argument("--folder", default="")
    parser.add_argument("--serve", default="")
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, Path(args.folder))
        return
    if args.crash_child:
        crash_child(args.crash_child, Path(args.folder))
        return
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    os.environ["KW_WORK"] = str(work)
    if args.one:
        result = run_engine(args.one, args.size, work)
        result["peak_rss_mb"] = round(rss_mb(), 0)
        print(json.dumps(result), flush=True)
        shutil.rmtree(work / f"{args.one}-{args.size}", ignore_errors=True)
        return
    rows = []
    for size in [int(s) for s in args.sizes.split(",")]:
        for name in args.engines.split(","):
            got = subprocess.run(
                [sys.executable, __file__, "--one", name, "--size", str(size), "--work",
                 str(work)], capture_output=True, text=True,
            )
            line = (got.stdout.strip().splitlines() or ["{}"])[-1]
            row = json.loads(line) if line.startswith("{") else {
                "engine": name, "passages": size, "error": got.stderr[-500:]}
            print(json.dumps(row), flush=True)
            rows.append(row)
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
