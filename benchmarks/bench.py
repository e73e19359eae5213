"""``rag bench``: ingestion and question speed, ours against the plain LangChain pipeline.

Not part of the installed package: it runs from a clone, with the ``bench`` extra
(``pip install -e '.[bench]'``, which ``make bench`` has) for the LangChain baseline.

One run, one process tree, the same articles:

- **ours**: :func:`rag.indexing.ingest.ingest` into a fresh index;
- **baseline**: what most LangChain users write: ``RecursiveCharacterTextSplitter``
  (1,000 characters, 200 overlap), ``HuggingFaceEmbeddings`` with the same bundled model,
  ``Chroma.from_documents``, into another fresh index;
- **floor**: the bare encoder of our backend (``SentenceTransformer.encode`` for torch,
  the ONNX Runtime session for the ONNX backends) over exactly the texts we embed, at its
  best batch size, with no I/O: the compute limit of our ingestion on this machine.

Then, on those indexes: warm ``chain.invoke`` latency (in a fresh child process, which
also gives the serving peak RSS), ``similarity_search(k=5)`` latency of the baseline,
the cold start of ``rag ask``, and article-level recall@5 of both when the questions
carry evidence ids. Figures are printed, never asserted.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer

from rag.app.console import command_settings
from rag.core.errors import RagError
from rag.core.runtime import OFFLINE_ENV
from rag.evaluation import metrics

REPO = Path(__file__).resolve().parent.parent
#: Where the internal benchmark corpus lives next to the repository (never copied into it).
DEFAULT_CORPUS = REPO.parent / "shared" / "benchmarks" / "realtimeqa"
BASELINE_CHUNK_CHARS = 1000
BASELINE_OVERLAP_CHARS = 200
RECALL_AT = 5
# Questions timed per run (warm); more adds time, not information.
MAX_TIMED_QUESTIONS = 60
WARM_UP_QUESTIONS = 3
FLOOR_BATCH_SIZES = (16, 32, 64, 128)


# --- inputs ---------------------------------------------------------------------------
@dataclass
class BenchQuestion:
    question: str
    evidence_ids: list[str] = field(default_factory=list)


def find_corpus_file(corpus: Path) -> Path:
    """A JSONL file of articles, given the file itself or a folder holding corpus.jsonl."""
    path = corpus / "corpus.jsonl" if corpus.is_dir() else corpus
    if not path.is_file():
        raise RagError(
            f"no benchmark corpus at {corpus} (expected a .jsonl file or a folder with "
            "corpus.jsonl); pass --corpus PATH"
        )
    return path


def read_articles_jsonl(
    path: Path, limit: int | None, first_ids: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """The first ``limit`` articles (all when None), as raw JSON objects.

    ``first_ids`` are taken before the rest (in that order), so a small run can still
    hold the evidence of some questions: RealTime QA's corpus is newest first and its dev
    questions are older, so its first 1,000 articles hold no complete evidence set.
    """
    rows: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise RagError(f"{path} line {number} is not JSON ({exc.msg}); fix it") from None
    if not rows:
        raise RagError(f"{path} holds no articles; point --corpus at a non-empty corpus")
    if first_ids:
        rank = {article_id: i for i, article_id in enumerate(dict.fromkeys(first_ids))}
        rows.sort(key=lambda row: rank.get(str(row.get("id", "")), len(rank)))  # stable
    return rows if limit is None else rows[:limit]


def evidence_order(path: Path | None) -> list[str]:
    """Evidence article ids of the questions in ``path``, in question order."""
    if path is None or not path.is_file():
        return []
    ids: list[str] = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                ids.extend(str(e) for e in json.loads(line).get("evidence_ids") or [])
    return ids


def read_questions(
    path: Path | None, article_ids: set[str] | None, restrict: bool
) -> list[BenchQuestion]:
    """Questions from JSONL, evidence cut to ``article_ids`` (None: an index's, unknown).

    With ``restrict``, only questions with some evidence among ``article_ids``.
    """
    if path is None or not path.is_file():
        return []
    out: list[BenchQuestion] = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            row = json.loads(line)
            evidence = [str(e) for e in row.get("evidence_ids") or []]
            present = evidence if article_ids is None else [
                e for e in evidence if e in article_ids
            ]
            if restrict and not present:
                continue
            if evidence and not present:
                continue  # its evidence is not in the corpus: recall would be meaningless
            evidence = present
            out.append(BenchQuestion(str(row["question"]), evidence))
    return out


# --- measuring ------------------------------------------------------------------------
#: numpy's percentile (q in 0..100) of a non-empty sequence, as eval reports it.
percentile = metrics.percentile_of


def distinct_articles(article_ids: Sequence[str], limit: int) -> list[str]:
    return list(dict.fromkeys(a for a in article_ids if a))[:limit]


def recall_at(rankings: Sequence[list[str]], evidence: Sequence[Sequence[str]]) -> float | None:
    """Article-level recall@5 of the rankings (rag.evaluation.metrics, ir-measures)."""
    if not rankings:
        return None
    scores = metrics.ranking_scores(
        {str(i): [{a} for a in ranked] for i, ranked in enumerate(rankings)},
        {str(i): list(ids) for i, ids in enumerate(evidence)},
    )
    return round(sum(s["recall@5"] for s in scores.values()) / len(scores), 4)


def peak_rss_kb() -> int:
    """This process's resident high-water mark.

    /proc's VmHWM starts afresh at exec; ru_maxrss would carry the parent's peak over.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


def our_article_ranking(engine: Any, question: str, want: int = RECALL_AT) -> list[str]:
    """First ``want`` distinct articles our retrieval returns (k grows until it has them)."""
    k = want * 2
    while True:
        docs = engine.search(question, k)
        ranked = distinct_articles([d.metadata.get("article_id", "") for d in docs], want)
        if len(ranked) >= want or len(docs) < k or k >= 100:
            return ranked
        k *= 2


def _settings_env(settings: Any) -> dict[str, str]:
    """The child processes read their Settings from RAG_* variables, like any user."""
    env = dict(os.environ)
    env.update(
        RAG_INDEX_DIR=str(Path(settings.index.index_dir).resolve()),
        RAG_COLLECTION=settings.index.collection,
        RAG_EMBEDDING_MODEL=settings.index.embedding_model,
        RAG_EMBEDDING_BACKEND=settings.index.embedding_backend,
        RAG_MODEL_CACHE_DIR=str(Path(settings.index.model_cache_path).resolve()),
        **OFFLINE_ENV,
    )
    return env


def _rag_command() -> list[str]:
    script = Path(sys.executable).with_name("rag")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from rag.app.cli import main; main()"]


def cold_start(settings: Any, question: str) -> float:
    """Seconds for a fresh ``rag ask`` process to print its answer and exit."""
    started = time.perf_counter()
    done = subprocess.run(
        [*_rag_command(), "ask", question], env=_settings_env(settings),
        capture_output=True, text=True, timeout=600,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0 or not done.stdout.strip():
        raise RagError(f"`rag ask` failed in the cold-start probe: {done.stderr.strip()[-500:]}")
    return round(elapsed, 3)


def serve_probe(settings: Any, questions: list[str]) -> dict[str, Any]:
    """Warm ``chain.invoke`` latency and peak RSS, measured in a fresh child process."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(questions, handle)
        path = handle.name
    try:
        done = subprocess.run(
            [sys.executable, "-c", "import benchmarks.bench as b; b._serve_main()", path],
            env=_settings_env(settings), capture_output=True, text=True, timeout=3600,
            cwd=REPO,
        )
    finally:
        os.unlink(path)
    if done.returncode != 0:
        raise RagError(f"the serving probe failed: {done.stderr.strip()[-800:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _serve_main() -> None:
    """Child side of :func:`serve_probe` (Settings from the environment: it is an edge)."""
    from rag.answering.chain import build_chain
    from rag.core.settings import Settings

    questions: list[str] = json.loads(Path(sys.argv[1]).read_text())
    started = time.perf_counter()
    chain = build_chain(Settings())
    chain.warm_up()
    for question in questions[:WARM_UP_QUESTIONS]:
        chain.invoke({"question": question})
    load_s = time.perf_counter() - started
    latencies = []
    for question in questions[:MAX_TIMED_QUESTIONS]:
        began = time.perf_counter()
        chain.invoke({"question": question})
        latencies.append((time.perf_counter() - began) * 1000)
    peak_kb = peak_rss_kb()
    print(json.dumps({
        "query_p50_ms": round(percentile(latencies, 50), 1),
        "query_p95_ms": round(percentile(latencies, 95), 1),
        "query_mean_ms": round(statistics.fmean(latencies), 1),
        "queries_timed": len(latencies),
        "serve_load_s": round(load_s, 2),
        "peak_rss_mb": round(peak_kb / 1024, 1),
    }))


# --- the three ingestions ---------------------------------------------------------------
def ingest_ours(corpus_file: Path, settings: Any) -> dict[str, Any]:
    from rag.indexing.embeddings import OnnxEmbeddings, make_embeddings
    from rag.indexing.ingest import ingest

    embeddings = make_embeddings(settings)
    export_s = None
    if isinstance(embeddings, OnnxEmbeddings) and not embeddings.cached_model_path().is_file():
        # A one-off per machine (the cached export is reused): not part of indexing time.
        began = time.perf_counter()
        OnnxEmbeddings(
            embeddings.model_name, quantized=embeddings.quantized,
            cache_dir=embeddings.cache_dir,
        ).warm_up()
        export_s = round(time.perf_counter() - began, 2)
    load = load_average()
    cpu = time.process_time()
    started = time.perf_counter()
    summary = ingest([corpus_file], settings)  # loads its own model: users pay for that too
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    if summary.problems:
        raise RagError("ingestion reported problems: " + "; ".join(map(str, summary.problems)))
    return {
        "ingest_s": round(elapsed, 2),
        "ingest_cpu_s": round(cpu, 2),
        "passages": summary.passages_written,
        "articles_indexed": summary.added,
        "duplicates": summary.duplicates,
        "onnx_export_s": export_s,
        "load_during_ingest": load,
    }


def ingest_baseline(articles: list[dict[str, Any]], folder: Path) -> tuple[Any, dict[str, Any]]:
    """The usual LangChain tutorial pipeline, timed from reading the file to a saved index."""
    from langchain_chroma import Chroma
    from langchain_core.documents import Document
    from langchain_huggingface import HuggingFaceEmbeddings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from rag.core.settings import BUNDLED_MODEL
    from rag.indexing.embeddings import resolve_model_path

    load = load_average()
    cpu = time.process_time()
    started = time.perf_counter()
    documents = [
        Document(
            page_content=row.get("text", ""),
            metadata={"article_id": str(row.get("id", "")), "title": row.get("title", ""),
                      "source": row.get("source", ""), "date": row.get("date", "")},
        )
        for row in articles
    ]
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=BASELINE_CHUNK_CHARS, chunk_overlap=BASELINE_OVERLAP_CHARS
    )
    chunks = splitter.split_documents(documents)
    embeddings = HuggingFaceEmbeddings(
        model_name=resolve_model_path(BUNDLED_MODEL), model_kwargs={"device": "cpu"}
    )
    store = Chroma.from_documents(
        chunks, embeddings, persist_directory=str(folder), collection_name="baseline"
    )
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    return store, {
        "baseline_ingest_s": round(elapsed, 2),
        "baseline_ingest_cpu_s": round(cpu, 2),
        "baseline_passages": len(chunks),
        "load_during_baseline": load,
    }


def our_passage_texts(settings: Any) -> list[str]:
    """Exactly what our ingestion embedded: embedding_text(title, passage) per passage."""
    from rag.indexing.embeddings import make_embeddings
    from rag.indexing.ingest import embedding_text
    from rag.indexing.store import ArticleIndex

    index = ArticleIndex(settings, make_embeddings(settings), create=False)
    return [
        embedding_text(str(meta.get("title", "")), text)
        for _, metas, docs in index.all_passages()
        for meta, text in zip(metas, docs, strict=True)
    ]


def floor(settings: Any, texts: list[str]) -> dict[str, Any]:
    """The bare encoder of our backend over ``texts``, at its best batch size, no I/O."""
    from rag.indexing.embeddings import (
        OnnxEmbeddings,
        SentenceTransformerEmbeddings,
        make_embeddings,
    )

    embeddings = make_embeddings(settings)
    embeddings.warm_up()
    if isinstance(embeddings, OnnxEmbeddings):
        encoder = embeddings

        def encode(batch: list[str], size: int) -> Any:
            return encoder.encode(batch, batch_size=size)
    elif isinstance(embeddings, SentenceTransformerEmbeddings):
        model = embeddings._load()

        def encode(batch: list[str], size: int) -> Any:
            return model.encode(batch, batch_size=size, normalize_embeddings=True,
                                convert_to_numpy=True, show_progress_bar=False)
    else:
        raise RagError(
            f"the floor needs a real model; {embeddings.model_id} is the weightless fake"
        )
    sample = texts[: min(len(texts), 256)]
    encode(sample[:8], 8)  # first-call allocations are not compute
    by_size: dict[int, float] = {}
    for size in FLOOR_BATCH_SIZES:
        if size > max(len(sample), FLOOR_BATCH_SIZES[0]):
            break
        began = time.perf_counter()
        encode(sample, size)
        by_size[size] = time.perf_counter() - began
    best = min(by_size, key=lambda s: by_size[s])
    load = load_average()
    cpu = time.process_time()
    began = time.perf_counter()
    encode(texts, best)
    elapsed = time.perf_counter() - began
    cpu = time.process_time() - cpu
    return {
        "floor_s": round(elapsed, 2),
        "floor_cpu_s": round(cpu, 2),
        "floor_batch_size": best,
        "floor_sample_s_by_batch": {str(k): round(v, 2) for k, v in by_size.items()},
        "load_during_floor": load,
    }


# --- questions on the built indexes -------------------------------------------------------
def our_recall(settings: Any, questions: list[BenchQuestion]) -> float | None:
    from rag.retrieval.hybrid import build_retriever

    with_evidence = [q for q in questions if q.evidence_ids]
    if not with_evidence:
        return None
    engine = build_retriever(settings).engine
    rankings = [our_article_ranking(engine, q.question) for q in with_evidence]
    return recall_at(rankings, [q.evidence_ids for q in with_evidence])


def baseline_queries(store: Any, questions: list[BenchQuestion]) -> dict[str, Any]:
    texts = [q.question for q in questions]
    for question in texts[:WARM_UP_QUESTIONS]:
        store.similarity_search(question, k=RECALL_AT)
    latencies = []
    for question in texts[:MAX_TIMED_QUESTIONS]:
        began = time.perf_counter()
        store.similarity_search(question, k=RECALL_AT)
        latencies.append((time.perf_counter() - began) * 1000)
    rankings, evidence = [], []
    for q in questions:
        if not q.evidence_ids:
            continue
        # Article level, as for ours: the first 5 distinct articles of a deeper search.
        docs = store.similarity_search(q.question, k=RECALL_AT * 6)
        rankings.append(
            distinct_articles([d.metadata.get("article_id", "") for d in docs], RECALL_AT)
        )
        evidence.append(q.evidence_ids)
    return {
        "baseline_query_p50_ms": round(percentile(latencies, 50), 1) if latencies else None,
        "baseline_query_p95_ms": round(percentile(latencies, 95), 1) if latencies else None,
        "baseline_recall@5": recall_at(rankings, evidence),
    }


# --- scaling ------------------------------------------------------------------------------
def scaling(settings: Any, sizes: list[int], questions: list[str], work: Path) -> list[dict]:
    """Query latency on indexes of ``sizes`` passages made by repeating our passages.

    The copies keep our real vectors (with a little noise, so the HNSW graph is not made
    of exact ties) and texts, under new article ids; queries use the real model and the
    default grounded answerer, as users would.
    """
    import numpy as np

    from benchmarks.scale import SourceRows, grow_index
    from rag.answering.chain import build_chain
    from rag.indexing.embeddings import make_embeddings
    from rag.indexing.store import ArticleIndex

    source = ArticleIndex(settings, make_embeddings(settings), create=False)
    base = SourceRows.read(source)
    rng = np.random.default_rng(6)
    rows = []
    for size in sizes:
        target = settings.model_copy(update={"index_dir": work / f"scale-{size}"})
        index = ArticleIndex(target, source.embeddings, create=True)
        grow_index(base, index, size, 0.01, rng, keep_originals=False)
        index.stamp(source.embeddings.dimension)
        # The keyword indexes are built by the engine itself (warm_up), from the index.
        chain = build_chain(target, engine=None)
        chain.warm_up()
        for question in questions[:WARM_UP_QUESTIONS]:
            chain.invoke({"question": question})
        latencies = []
        for question in questions[:MAX_TIMED_QUESTIONS]:
            began = time.perf_counter()
            chain.invoke({"question": question})
            latencies.append((time.perf_counter() - began) * 1000)
        rows.append({
            "passages": index.count_passages(),
            "query_p50_ms": round(percentile(latencies, 50), 1),
            "query_p95_ms": round(percentile(latencies, 95), 1),
            "load": load_average(),
        })
        shutil.rmtree(work / f"scale-{size}", ignore_errors=True)
    return rows


# --- the run -----------------------------------------------------------------------------
@dataclass
class BenchOptions:
    corpus: Path = DEFAULT_CORPUS
    articles: int | None = None
    questions: Path | None = None
    work_dir: Path | None = None
    keep: bool = False
    skip_baseline: bool = False
    skip_floor: bool = False
    skip_cold_start: bool = False
    evidence_first: bool = False
    scaling_sizes: list[int] = field(default_factory=list)


@dataclass
class _Workspace:
    root: Path
    keep: bool

    def __enter__(self) -> _Workspace:
        self.root.mkdir(parents=True, exist_ok=True)
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.keep:
            shutil.rmtree(self.root, ignore_errors=True)


def run_bench(options: BenchOptions, settings: Any, log: Any = None) -> dict[str, Any]:
    """Every figure of ``rag bench`` as one dict (see the module docstring)."""
    say = log or (lambda _msg: None)
    corpus_file = find_corpus_file(options.corpus)
    questions_path = options.questions
    if questions_path is None and options.corpus.is_dir():
        candidate = options.corpus / "questions-dev.jsonl"
        questions_path = candidate if candidate.is_file() else None
    if options.questions is not None and not options.questions.is_file():
        raise RagError(f"no questions file at {options.questions}; fix --questions")
    first = evidence_order(questions_path) if options.evidence_first else []
    articles = read_articles_jsonl(corpus_file, options.articles, first)
    article_ids = {str(a.get("id", "")) for a in articles}
    questions = read_questions(questions_path, article_ids, restrict=options.articles is not None)
    if not questions:
        # Still time something: the article titles make plausible questions.
        questions = [BenchQuestion(str(a.get("title") or "news")) for a in articles[:20]]
    root = options.work_dir or Path(tempfile.mkdtemp(prefix="rag-bench-"))
    result: dict[str, Any] = {
        "articles": len(articles),
        "questions": len(questions),
        "questions_with_evidence": sum(1 for q in questions if q.evidence_ids),
        "evidence_first": options.evidence_first,
        "embedding_model": settings.index.embedding_model,
        "embedding_backend": settings.index.embedding_backend,
        "cpus": os.cpu_count(),
        "load_at_start": load_average(),
    }
    with _Workspace(root, options.keep):
        subset = root / "corpus.jsonl"
        with subset.open("w", encoding="utf-8") as handle:
            for row in articles:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        # The ONNX export is cached once per machine, beside the user's own index.
        ours = settings.model_copy(update={"index_dir": root / "ours",
                                           "model_cache_dir": settings.index.model_cache_path})

        # Library imports (chromadb alone takes seconds) are a fixed cost both pipelines
        # share: paid here, before either is timed, so neither carries it for the other.
        import chromadb  # noqa: F401
        import langchain_chroma  # noqa: F401

        say(f"ours: ingesting {len(articles)} articles ({settings.index.embedding_backend})")
        stage = ingest_ours(subset, ours)
        result.update(stage)
        say("figures: " + json.dumps(stage))
        say(f"ours: {result['passages']} passages in {result['ingest_s']} s")

        if not options.skip_baseline:
            say("baseline: LangChain splitter + HuggingFaceEmbeddings + Chroma.from_documents")
            store, figures = ingest_baseline(articles, root / "baseline")
            result.update(figures)
            say("figures: " + json.dumps(figures))
            result["ingest_speedup_vs_langchain"] = round(
                figures["baseline_ingest_s"] / result["ingest_s"], 3
            )
            result["ingest_speedup_vs_langchain_cpu"] = round(
                figures["baseline_ingest_cpu_s"] / result["ingest_cpu_s"], 3
            )
            say(f"baseline: {figures['baseline_passages']} chunks in "
                f"{figures['baseline_ingest_s']} s")

        if not options.skip_floor:
            texts = our_passage_texts(ours)
            result["distinct_passage_texts"] = len(set(texts))
            say(f"floor: bare encode of {len(texts)} passages")
            stage = floor(ours, texts)
            result.update(stage)
            say("figures: " + json.dumps(stage))
            result["ingest_vs_floor"] = round(result["ingest_s"] / result["floor_s"], 3)
            # CPU seconds (all threads) barely move when other processes share the cores,
            # so these ratios are the steadier reading on a busy machine.
            result["ingest_vs_floor_cpu"] = round(result["ingest_cpu_s"] / result["floor_cpu_s"], 3)

        say("ours: recall and serving (fresh process)")
        result["recall@5"] = our_recall(ours, questions)
        say(f"figures: recall@5 {result['recall@5']}")
        stage = serve_probe(ours, [q.question for q in questions])
        result.update(stage)
        say("figures: " + json.dumps(stage))
        if not options.skip_baseline:
            stage = baseline_queries(store, questions)
            result.update(stage)
            say("figures: " + json.dumps(stage))
        if not options.skip_cold_start:
            result["cold_start_s"] = cold_start(ours, questions[0].question)
            say(f"figures: cold_start_s {result['cold_start_s']}")
        if options.scaling_sizes:
            say(f"scaling: {options.scaling_sizes}")
            result["scaling"] = scaling(
                ours, options.scaling_sizes, [q.question for q in questions], root
            )
            say("figures: " + json.dumps(result["scaling"]))
        result["load_at_end"] = load_average()
    return result


def serving_only(
    index_dir: Path,
    settings: Any,
    questions_path: Path | None,
    scaling_sizes: Sequence[int] = (),
    work_dir: Path | None = None,
) -> dict[str, Any]:
    """Serving figures (latency, RSS, cold start, recall) on an existing index, read-only;
    with ``scaling_sizes``, also latency on copies of its passages at those sizes."""
    target = settings.model_copy(update={"index_dir": index_dir})
    questions = read_questions(questions_path, None, restrict=False) if questions_path else []
    if not questions:
        raise RagError("--index needs --questions (or a corpus folder with questions-dev.jsonl)")
    result: dict[str, Any] = {"index": str(index_dir), "load_at_start": load_average()}
    result["recall@5"] = our_recall(target, questions)
    result.update(serve_probe(target, [q.question for q in questions]))
    result["cold_start_s"] = cold_start(target, questions[0].question)
    if scaling_sizes:
        if work_dir is not None:
            work_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=work_dir) as scratch:
            result["scaling"] = scaling(
                target, list(scaling_sizes), [q.question for q in questions], Path(scratch)
            )
    result["load_at_end"] = load_average()
    return result


def import_time() -> float:
    """Seconds for ``import rag`` in a fresh interpreter (best of three)."""
    best = float("inf")
    for _ in range(3):
        done = subprocess.run(
            [sys.executable, "-c",
             "import time; t = time.perf_counter(); import rag; print(time.perf_counter() - t)"],
            capture_output=True, text=True, check=True,
        )
        best = min(best, float(done.stdout.strip()))
    return round(best, 3)


def _table(result: dict[str, Any]) -> Iterator[str]:
    for key, value in result.items():
        if key == "scaling":
            yield "scaling (passages, p50 ms, p95 ms):"
            for row in value:
                yield f"  {row['passages']:>8}  {row['query_p50_ms']:>8}  {row['query_p95_ms']:>8}"
        else:
            yield f"{key:32} {value}"


bench_app = typer.Typer(add_completion=False)


@bench_app.command()
def bench(
    corpus: Annotated[Path, typer.Option(help="Corpus folder or JSONL file.")] = (
        DEFAULT_CORPUS
    ),
    articles: Annotated[
        int | None, typer.Option(min=1, help="Use the first N articles only.")
    ] = None,
    questions: Annotated[
        Path | None, typer.Option(help="Questions JSONL (default: the corpus's dev set).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    backend: Annotated[
        str | None, typer.Option(help="Embedding backend: torch | onnx | onnx-int8.")
    ] = None,
    index: Annotated[
        Path | None,
        typer.Option(help="Measure serving on this existing index only (no ingestion)."),
    ] = None,
    scale: Annotated[
        str | None, typer.Option(help="Also time queries at these passage counts, e.g. "
                                      "1000,10000,100000.")
    ] = None,
    work_dir: Annotated[
        Path | None, typer.Option(help="Folder for the fresh indexes (default: a temp dir).")
    ] = None,
    keep: Annotated[bool, typer.Option(help="Keep the indexes built.")] = False,
    skip_baseline: Annotated[bool, typer.Option(help="Do not run the baseline.")] = False,
    skip_floor: Annotated[bool, typer.Option(help="Do not measure the floor.")] = False,
    evidence_first: Annotated[
        bool,
        typer.Option(help="With --articles: take the questions' evidence articles first "
                          "(so recall is measurable), then the first articles."),
    ] = False,
) -> None:
    """Time ingestion and questions, ours against the plain LangChain pipeline."""
    settings = command_settings(embedding_backend=backend)
    if settings.index.embedding_model.startswith("hashing") and index is None:
        typer.echo("error: rag bench measures a real model; unset RAG_EMBEDDING_MODEL "
                   "or name a sentence-transformers model", err=True)
        raise typer.Exit(2)
    try:
        sizes = [int(s) for s in scale.split(",") if s.strip()] if scale else []
    except ValueError:
        typer.echo(f"error: --scale takes numbers like 1000,10000 (got {scale!r})", err=True)
        raise typer.Exit(2) from None
    if corpus == DEFAULT_CORPUS and not DEFAULT_CORPUS.exists() and index is None:
        typer.echo(f"skipped: no benchmark corpus at {DEFAULT_CORPUS}; pass --corpus PATH "
                   "(a JSONL of articles) to run the benchmark")
        return

    def log(message: str) -> None:
        typer.echo(f"[bench {time.strftime('%H:%M:%S')}] {message}", err=True)

    try:
        if index is not None:
            qpath = questions or (corpus / "questions-dev.jsonl" if corpus.is_dir() else None)
            result = serving_only(index, settings, qpath, sizes, work_dir)
        else:
            options = BenchOptions(
                corpus=corpus, articles=articles, questions=questions, work_dir=work_dir,
                keep=keep, skip_baseline=skip_baseline, skip_floor=skip_floor,
                scaling_sizes=sizes, evidence_first=evidence_first,
            )
            result = run_bench(options, settings, log)
        result["import_rag_s"] = import_time()
    except RagError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps(result, indent=2))
    else:
        for line in _table(result):
            typer.echo(line)


def main(argv: Sequence[str] | None = None) -> None:
    """``rag bench ARGS`` (or ``python -m benchmarks.bench ARGS``)."""
    bench_app(args=list(sys.argv[1:] if argv is None else argv), prog_name="rag bench")


if __name__ == "__main__":
    main()
