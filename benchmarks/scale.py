"""Serving at scale: an index of N passages made from a real one, then the figures users feel.

Stand-in for MiniLM vectors at 1M passages (embedding a million passages would take this
machine most of a day): each real passage (text, metadata and its real MiniLM vector)
is copied N / 25k times under new article ids, and every copy's vector gets isotropic
Gaussian noise of ``noise`` per dimension (default 0.03, about 0.6 of the vector's norm)
before re-normalising. Why this does not flatter HNSW: real embeddings lie near a
low-dimensional manifold, where HNSW's greedy search converges in few hops; noise in all
384 dimensions raises the intrinsic dimension (copies sit at cosine ~0.85 to their
original and ~0.75 to each other, as far apart as real topical neighbours), so the graph
has no tight clusters of near-ties to shortcut through, and each query computes at least
as many distances as it would on real vectors. Text is the corpus's own (the keyword index
sees real word statistics, each passage present N / 25k times).

``--dims N`` builds the index as ``rag reduce --dims N`` leaves one: the projection is fitted
on the source's real vectors and each copy is projected after its noise. Half of the
isotropic noise then falls outside the kept directions, so at 192 of 384 a copy sits at
cosine ~0.92 to its original and ~0.85 to another copy (real nearest neighbours: ~0.82);
``--noise 0.042`` gives the unprojected build's ~0.86 / ~0.74. Memory does not depend on it.

Measured, each in a fresh child process so RSS is its own:
- warm ``chain.invoke`` p50/p95 over the questions (the full chain: retrieval + answer);
- serving peak RSS; disk size of the index (Chroma + keyword folder);
- cold start: ``rag ask`` from process start to printed answer;
- 10 new articles (each half of one real article and half of another, under both
  titles; see ``new_articles``) until a running server process finds them by keyword
  and by vector: from the start of ``rag ingest`` to found.

CPU time is reported beside wall time: on this shared 2-core machine wall time includes
waiting for a core. A build can be continued (``--target``, see ``grow_index``), so the
index can be grown and measured in steps.

``--chroma HOST:PORT`` measures an index a Chroma server holds (server mode, see
docs/server-mode.md): ``--index`` is then the app's local folder (its keyword cache), every
child runs with ``RAG_CHROMA_HOST``/``RAG_CHROMA_PORT``, and ``--chroma-pid`` adds the
server's own resident memory (current and peak) to the figures.

Usage: nice python benchmarks/scale.py --source /tmp/copy-of-rtqa-index --size 1000000
       python benchmarks/scale.py --index /tmp/app --chroma 127.0.0.1:8000 --chroma-pid PID
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("RAG_BENCH_CORPUS") or (REPO.parent / "shared" / "benchmarks"
                                                       / "realtimeqa"))
QUESTIONS = 60
WARM_UP = 3
# (host, port) of a Chroma server holding the index (--chroma), else None: embedded.
SERVER: tuple[str, int] | None = None


def load() -> float:
    return round(os.getloadavg()[0], 2)


def percentile(values: list[float], q: float) -> float:
    """numpy's percentile, as every figure of rag is given (rag.evaluation.metrics)."""
    from rag.evaluation.metrics import percentile_of

    return percentile_of(values, q)


def settings_for(index_dir: Path) -> Any:
    from rag.core.settings import Settings

    if SERVER is None:
        return Settings(index_dir=index_dir)
    return Settings(index_dir=index_dir, chroma_host=SERVER[0], chroma_port=SERVER[1])


@dataclass
class SourceRows:
    """What copies are made of: an index's passages (text, metadata, vectors) and its
    article records, read once."""

    ids: list[str]
    docs: list[str]
    metas: list[dict[str, Any]]
    vectors: np.ndarray
    articles: dict[str, Any]

    @classmethod
    def read(cls, source: Any) -> SourceRows:
        got = source.passages.get(include=["documents", "metadatas", "embeddings"])
        return cls(
            ids=list(got["ids"]), docs=list(got["documents"]),
            metas=[dict(m or {}) for m in got["metadatas"]],
            vectors=np.asarray(got["embeddings"], dtype=np.float32),
            articles=source.articles.get(include=["documents", "metadatas"]),
        )


#: Passages per Chroma call while building: Chroma's largest batch (SQLite's variable
#: limit) or this, whichever is smaller; fewer calls = less fixed cost per call. Noise is
#: drawn per block of this size from a seed of (copy, block), so a resumed build makes
#: exactly the same vectors.
_BLOCK = 5000
#: In the built index's folder: how many passages were written (a build resumes there).
_PROGRESS = "scale-build.json"


def grow_index(
    rows: SourceRows, target: Any, size: int, noise: float, rng: np.random.Generator, *,
    keep_originals: bool = True, log: Any = None, progress: Path | None = None,
) -> int:
    """Fill ``target`` (an ArticleIndex) with copies of ``rows`` until ``size`` passages:
    copy n is every passage under the id ``<id>~n`` (its article ``<article>~n``, with its
    article record), its vector plus Gaussian ``noise`` per dimension, re-normalised.
    ``keep_originals``: copy 0 is the source as it is (same ids, same vectors).

    Written with ``add`` in Chroma's largest batches into the product's own collections
    (the target's HNSW settings are untouched). With ``progress`` (a file), the count
    written is kept there after every call and a later call continues from it: the same
    ``rng`` seed then makes the same vectors. Returns the count it started from.
    """
    have = json.loads(progress.read_text())["made"] if progress and progress.exists() else 0
    seed = int(rng.integers(2**32))
    batch = min(_BLOCK, int(target.client.get_max_batch_size()))
    base, began, made = len(rows.ids), time.perf_counter(), have
    while made < size:
        copy, offset = divmod(made, base)
        original = keep_originals and copy == 0
        suffix = "" if original else f"~{copy}"
        stop_at = min(base, offset + size - made)
        for block in range(offset - offset % _BLOCK, stop_at, _BLOCK):
            vectors = rows.vectors[block:block + _BLOCK]
            if not original:
                vectors = _noisy(vectors, np.random.default_rng([seed, copy, block]), noise)
            for start in range(max(block, offset), min(block + _BLOCK, stop_at), batch):
                stop = min(block + _BLOCK, stop_at, start + batch)
                ids = [f"{i}{suffix}" for i in rows.ids[start:stop]]
                metas = [{**m, "article_id": f"{m.get('article_id', '')}{suffix}",
                          "chunk_id": i} for m, i in zip(rows.metas[start:stop], ids,
                                                         strict=True)]
                # A resumed build's first call may repeat the interrupted run's last one
                # (killed between Chroma's commit and the progress file): upsert it.
                write = target.passages.upsert if made == have else target.passages.add
                write(ids=ids, documents=rows.docs[start:stop], metadatas=metas,
                      embeddings=target.to_index_space(vectors[start - block:stop - block]))
                made += stop - start
                if progress is not None:
                    progress.write_text(json.dumps({"made": made}))
        _copy_articles(rows, target, {m.get("article_id", "") for m in rows.metas[:stop_at]},
                       suffix)
        if log is not None:
            log(f"{made} passages, {time.perf_counter() - began:.0f} s, load {load()}")
    return have


def _noisy(vectors: np.ndarray, rng: np.random.Generator, noise: float) -> np.ndarray:
    noisy = vectors + rng.normal(0, noise, vectors.shape).astype(np.float32)
    noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
    return noisy


def _copy_articles(rows: SourceRows, target: Any, copied: set[str], suffix: str) -> None:
    """The article records of one copy, naming the copy's passages (upsert: a resumed
    build may write them again)."""
    articles = rows.articles
    keep = [i for i, a in enumerate(articles["ids"]) if a in copied]
    batch = int(target.client.get_max_batch_size())
    for start in range(0, len(keep), batch):
        part = keep[start:start + batch]
        target.articles.upsert(
            ids=[f"{articles['ids'][i]}{suffix}" for i in part],
            embeddings=[[1.0]] * len(part),
            documents=[articles["documents"][i] for i in part],
            metadatas=[_record_copy(articles["metadatas"][i], suffix) for i in part],
        )


def _record_copy(meta: dict[str, Any], suffix: str) -> dict[str, Any]:
    chunk_ids = json.loads(str(meta.get("chunk_ids") or "[]"))
    return {**meta, "chunk_ids": json.dumps([f"{c}{suffix}" for c in chunk_ids])}


def build(
    source_dir: Path, target_dir: Path, size: int, noise: float, log: Any, dims: int | None = None,
) -> dict:
    """Copy the source index's passages and articles until ``size`` passages.

    Resumable: a target holding an earlier, smaller or interrupted build from the same
    source is continued (see ``grow_index``). The keyword folder is then built by the
    product's own ``KeywordStore.sync`` (its whole rebuild: no state yet, or removed here
    because the passages added to a resumed build were not in the change log), and so
    is this machine's copy of the article records (``ArticleIndex.records``).
    """
    from rag.indexing.embeddings import make_embeddings
    from rag.indexing.health import record_written
    from rag.indexing.ingest import keyword_dir
    from rag.indexing.keyword import KeywordStore, LogPosition
    from rag.indexing.store import ArticleIndex

    source_settings = settings_for(source_dir)
    embeddings = make_embeddings(source_settings)
    source = ArticleIndex(source_settings, embeddings, create=False)
    target = ArticleIndex(settings_for(target_dir), embeddings, create=True)
    rows = SourceRows.read(source)
    if dims and target.projection is None:
        target = _projected(target, rows, dims)
    began = time.perf_counter()
    have = grow_index(rows, target, size, noise, np.random.default_rng(6),
                      log=log, progress=target_dir / _PROGRESS)
    target.stamp(embeddings.dimension, commit_log=True)
    chroma_s = time.perf_counter() - began
    began = time.perf_counter()
    folder = keyword_dir(target.settings)
    if have:
        shutil.rmtree(folder, ignore_errors=True)
    generation, seq = target.log_position()
    KeywordStore(folder).sync(target, LogPosition(generation, seq))
    target.records()  # this machine's copy of the records, as an ingest would leave it
    # Chroma's own output, as after an ingest: no need to read every vector back (at 1M
    # passages that check ran over 6.5 CPU minutes; see docs/benchmarks.md).
    record_written(target.settings)
    return {"passages": target.count_passages(), "resumed_from": have,
            "chroma_build_s": round(chroma_s),
            "keyword_build_s": round(time.perf_counter() - began), "build_load": load()}


def _projected(target: Any, rows: SourceRows, dims: int) -> Any:
    """The empty target made to keep ``dims`` dimensions, as `rag reduce` leaves an index:
    the projection fitted on the source's (real) vectors, like reduce's sample of the
    index, and applied to every copy after its noise (``upsert_passages`` projects)."""
    from rag.indexing.projection import fit
    from rag.indexing.reduce import put_projection
    from rag.indexing.store import PROJECTION_KEY, ArticleIndex

    projection = fit(rows.vectors, dims)
    name = target.settings.index.collection
    target.client.delete_collection(name)
    target.client.create_collection(name, embedding_function=None, metadata={
        "hnsw:space": "cosine", PROJECTION_KEY: projection.fingerprint})
    put_projection(target.client, target.settings, projection)
    return ArticleIndex(target.settings, target.embeddings)


def questions() -> list[dict[str, str]]:
    """Chain inputs: each question asked on its own date (``as_of``), as the RealTime QA
    harness asks them. Asked today instead, the half that say "this week" abstain
    without searching (nothing is dated this week) and timed nothing."""
    path = CORPUS / "questions-dev.jsonl"
    rows = [json.loads(line) for line in path.open() if line.strip()]
    return [{"question": r["question"], "as_of": r.get("question_date") or ""} for r in rows]


def serve(index_dir: Path, watch: str) -> None:
    """Child: warm latency, RSS; then, if ``watch`` names new article titles, poll for
    them by keyword and by vector and print when both find them."""
    import resource

    from rag.answering.chain import build_chain
    from rag.core.errors import RagError
    from rag.retrieval.hybrid import SearchEngine

    settings = settings_for(index_dir)
    engine = SearchEngine(settings)
    chain = build_chain(settings, engine=engine)
    chain.warm_up()
    qs = questions()
    for q in qs[:WARM_UP]:
        chain.invoke(q)
    latencies, cpu = [], []
    for q in qs[WARM_UP:WARM_UP + QUESTIONS]:
        began, began_cpu = time.perf_counter(), time.process_time()
        chain.invoke(q)
        latencies.append((time.perf_counter() - began) * 1000)
        cpu.append((time.process_time() - began_cpu) * 1000)
    # CPU time (all of the process's threads) is what an idle machine's wall time
    # would be, near enough: on a loaded machine wall time includes waiting for a core.
    out = {"p50_ms": round(percentile(latencies, 50), 1),
           "p95_ms": round(percentile(latencies, 95), 1),
           "cpu_p50_ms": round(percentile(cpu, 50), 1),
           "cpu_p95_ms": round(percentile(cpu, 95), 1), "query_load": load(),
           "rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}
    print(json.dumps(out), flush=True)
    if not watch:
        return
    wanted = json.loads(watch)  # {article_id: title}
    print("ready", flush=True)
    keyword_seen: dict[str, float] = {}
    dense_seen: dict[str, float] = {}
    errors: list[str] = []
    deadline = time.time() + 600
    while time.time() < deadline and (len(keyword_seen) < len(wanted)
                                     or len(dense_seen) < len(wanted)):
        for article_id, title in wanted.items():
            if article_id not in keyword_seen:
                hits = engine.keyword().passages.search(title, 10)
                if any(h.article_id == article_id for h in hits):
                    keyword_seen[article_id] = time.time()
        # One filtered vector query a round for all articles not found yet: at 1M
        # passages each filtered query costs ~1 s, and ten of them a round made the
        # loop itself the slowest part of "searchable".
        missing = [a for a in wanted if a not in dense_seen]
        if missing:
            try:
                got = engine.index.nearest(engine.query_vector(wanted[missing[0]]).tolist(),
                                           100, {"article_id": {"$in": missing}})
            except RagError as exc:  # counted: a reader's user would have seen it
                errors.append(str(exc)[:200])
            else:
                for passage in got:
                    dense_seen.setdefault(passage.article_id, time.time())
        engine.follow()
        time.sleep(0.2)
    print(json.dumps({"keyword_at": max(keyword_seen.values(), default=0),
                      "dense_at": max(dense_seen.values(), default=0),
                      "found": [len(keyword_seen), len(dense_seen)],
                      "dense_errors": len(errors), "first_error": errors[:1],
                      "rss_after_mb": round(
                          resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}),
          flush=True)


def new_articles(folder: Path, count: int = 10) -> dict[str, str]:
    """``count`` new articles as JSONL; {id: title}.

    Each is made of two real articles (pairs drawn anew on every run): the first half of
    one's sentences and the second half of another's, under both titles. A real article
    under a new id would be no news: ingestion stores an exact or near copy once (it
    links the copy's URL to the stored article), so it would never be searchable under
    the new id. Half of each keeps word-shingle Jaccard near 0.5, well below the
    near-copy threshold (0.85).
    """
    folder.mkdir(parents=True, exist_ok=True)
    rows = [json.loads(line) for line in (CORPUS / "corpus.jsonl").open() if line.strip()]
    stamp = int(time.time())
    # Other pairs on every run: a second run on the same index with the same pairs would
    # ingest exact copies of the first run's new articles (stored once, never found).
    pick = np.random.default_rng(stamp).permutation(len(rows))
    chosen = {}
    with (folder / "new.jsonl").open("w") as handle:
        for n in range(count):
            first, second = rows[pick[2 * n]], rows[pick[2 * n + 1]]
            head, tail = _sentences(first["text"]), _sentences(second["text"])
            row = {**first, "id": f"{first['id']}-new{stamp}", "url": "",
                   "title": f"{first['title']}; {second['title']}",
                   "text": " ".join(head[:len(head) // 2 + 1] + tail[len(tail) // 2:])}
            handle.write(json.dumps(row) + "\n")
            chosen[row["id"]] = row["title"]
    return chosen


def _sentences(text: str) -> list[str]:
    import re

    return [s for s in re.split(r"(?<=[.!?])\s+", text) if s.strip()]


def disk_mb(folder: Path) -> float:
    return round(sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6)


def rag_env(index_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env["RAG_INDEX_DIR"] = str(index_dir)
    if SERVER is not None:
        env["RAG_CHROMA_HOST"], env["RAG_CHROMA_PORT"] = SERVER[0], str(SERVER[1])
    return env


def server_flag() -> list[str]:
    """The --chroma option again, for a child process."""
    return [] if SERVER is None else ["--chroma", f"{SERVER[0]}:{SERVER[1]}"]


def process_memory_mb(pid: int) -> dict[str, int]:
    """Resident memory of another process (the Chroma server), now and at its peak."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = round(int(value.split()[0]) / 1024)
    return {"server_rss_mb": fields.get("VmRSS", 0), "server_peak_rss_mb": fields.get("VmHWM", 0)}


def cold_ask(index_dir: Path) -> dict[str, Any]:
    """``rag ask`` in a new process: wall and CPU seconds from start to printed answer."""
    import resource

    rag = str(Path(sys.executable).parent / "rag")
    began, children = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run([rag, "ask", "What did NATO leaders discuss?"], env=rag_env(index_dir),
                          capture_output=True, text=True)
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"s": round(wall, 2), "cpu_s": round(after.ru_utime + after.ru_stime
                                                - children.ru_utime - children.ru_stime, 2),
            "ok": done.returncode == 0 or done.stderr[-300:], "load": load()}


def measure(index_dir: Path, work: Path, server_pid: int | None = None) -> dict:
    """The figures of an index built before (see the module docstring). Cold asks: the
    first and second start (an index that was never checked, e.g. one copied without
    its ``.rag-verified``, is checked in the first: every vector read, see
    rag.indexing.health), and one after the ingest of 10 articles (which leaves the
    index checked)."""
    rag = str(Path(sys.executable).parent / "rag")
    keyword = index_dir / ("keyword" if SERVER is None else "keyword-cache")
    out: dict[str, Any] = {"disk_mb": disk_mb(index_dir), "keyword_disk_mb": disk_mb(keyword)}
    out["cold_ask_first"] = cold_ask(index_dir)
    out["cold_ask"] = cold_ask(index_dir)
    wanted = new_articles(work / "new")
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(index_dir), "--watch", json.dumps(wanted),
         *server_flag()],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert child.stdout is not None
    out.update(json.loads(child.stdout.readline()))
    assert child.stdout.readline().strip() == "ready"
    started = time.time()
    ingest = subprocess.run([rag, "ingest", str(work / "new"), "-q"], env=rag_env(index_dir),
                            capture_output=True, text=True)
    out["ingest10_s"] = round(time.time() - started, 1)
    out["ingest_ok"] = ingest.returncode == 0 or ingest.stderr[-300:]
    seen = json.loads(child.stdout.readline())
    child.wait()
    out["add10_searchable_keyword_s"] = round(seen["keyword_at"] - started, 1)
    out["add10_searchable_vector_s"] = round(seen["dense_at"] - started, 1)
    out["found"] = seen["found"]
    out["dense_errors"], out["first_error"] = seen["dense_errors"], seen["first_error"]
    out["rss_after_follow_mb"] = seen["rss_after_mb"]
    out["add_load"] = load()
    out["cold_ask_after_ingest"] = cold_ask(index_dir)
    if server_pid is not None:
        out.update(process_memory_mb(server_pid))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--source", type=Path)
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--noise", type=float, default=0.03)
    parser.add_argument("--work", type=Path, default=Path("/tmp/rag-scale"))
    parser.add_argument("--index", type=Path, help="measure an index built before")
    parser.add_argument("--target", type=Path,
                        help="build into this folder, continuing a smaller or interrupted "
                             "build there (default: a new WORK/index-SIZE)")
    parser.add_argument("--no-measure", action="store_true", help="build only")
    parser.add_argument("--dims", type=int,
                        help="store vectors in this many dimensions (as `rag reduce --dims`)")
    parser.add_argument("--serve", type=Path)
    parser.add_argument("--watch", default="")
    parser.add_argument("--chroma", metavar="HOST:PORT",
                        help="the index is held by this Chroma server (server mode)")
    parser.add_argument("--chroma-pid", type=int, help="the Chroma server's process id")
    args = parser.parse_args()
    if args.chroma and not args.index and not args.serve:
        parser.error("--chroma measures an index a server already holds: give --index, "
                     "the app's local folder")
    if args.chroma:
        global SERVER
        host, _, port = args.chroma.rpartition(":")
        SERVER = (host, int(port))
    if args.serve:
        serve(args.serve, args.watch)
        return

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    result: dict[str, Any] = {"size": args.size}
    index_dir = args.index or args.target or args.work / f"index-{args.size}"
    if not args.index:
        if not args.target:
            shutil.rmtree(index_dir, ignore_errors=True)
        result.update(build(args.source, index_dir, args.size, args.noise, log, args.dims))
        print(json.dumps(result), file=sys.stderr, flush=True)
    if not args.no_measure:
        result.update(measure(index_dir, args.work, args.chroma_pid))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
