"""Answerer harness on RealTime QA without a built index: quick, for tuning the answerer.

Per question, BM25 (bm25s over ``content_terms``) ranks the passages of a pool of
articles (the part's evidence articles and the benchmark's own reference-retrieved
articles, split as ``rag ingest`` splits them); the grounded answerer reads the top 5;
the answer is scored by normalised containment as ``rag eval`` scores it. It is not the
product's retrieval, so its figures are labelled "harness"; ``rag eval --split`` on a full
index gives the product figures. Reads ../shared/benchmarks/realtimeqa (skips when absent)
and writes only under /tmp.

    python evals/answer_harness.py tune        # parameters are chosen on this part
    python evals/answer_harness.py validate    # reported, never tuned on
"""

from __future__ import annotations

import json
import os
import pickle
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(os.environ.get("RTQA_DIR", "/work/shared/benchmarks/realtimeqa"))


def _pool(rows: list[dict[str, Any]], cache: Path) -> list[Any]:
    from langchain_core.documents import Document

    from rag.core.schema import Article
    from rag.indexing.splitting import PassageSplitter

    if cache.exists():
        with cache.open("rb") as handle:
            return list(pickle.load(handle))
    wanted: set[str] = set()
    for row in rows:
        wanted |= set(row["evidence_ids"]) | set(row["retrieved_ids"])
    splitter = PassageSplitter(size=180, overlap=30)
    docs = []
    with (BENCH / "corpus.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            a = json.loads(line)
            if a["id"] not in wanted:
                continue
            article = Article(id=a["id"], title=a["title"], text=a["text"],
                              source=a.get("source", ""), date=a.get("date", ""))
            for p in splitter.split(article):
                meta = {"article_id": a["id"], "chunk_id": p.id, "title": a["title"],
                        "source": a.get("source", ""), "date": a.get("date", ""),
                        "start": p.start, "end": p.end}
                docs.append(Document(page_content=p.text, id=p.id, metadata=meta))
    with cache.open("wb") as handle:
        pickle.dump(docs, handle)
    return docs


def main() -> None:
    import bm25s

    from rag.answering.grounded import GroundedAnswerer
    from rag.core.settings import Settings
    from rag.core.text import content_terms
    from rag.evaluation.metrics import contains_answer
    from rag.indexing.embeddings import make_embeddings

    part = sys.argv[1] if len(sys.argv) > 1 else "tune"
    if not (BENCH / "questions-dev.jsonl").is_file():
        print(f"skipped: no RealTime QA benchmark at {BENCH}")
        return
    with (BENCH / "questions-dev.jsonl").open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle]
    rows = [r for r in rows if (r["question_date"] < "2026-01-01") == (part == "tune")]
    docs = _pool(rows, Path(f"/tmp/rtqa-harness-pool-{part}.pkl"))
    retriever = bm25s.BM25()
    retriever.index([content_terms(d.metadata["title"] + " " + d.page_content) for d in docs],
                    show_progress=False)
    settings = Settings()
    answerer = GroundedAnswerer.from_settings(settings, make_embeddings(settings))
    answerer.warm_up()
    out = []
    started = time.time()
    for row in rows:
        found, _ = retriever.retrieve([content_terms(row["question"])], k=5,
                                      show_progress=False)
        passages = [docs[i] for i in found[0]]
        answer = answerer.answer(row["question"], passages)
        gold = row["answers"]
        short = answer.short_answer
        out.append({
            "id": row["id"], "evidence": bool(row["evidence_ids"]),
            "in_read": any(contains_answer(p.page_content, g) for p in passages for g in gold),
            "ok": any(contains_answer(answer.answer, g) for g in gold),
            "abstained": answer.abstained,
            "short": short.text if short else None,
            "short_ok": bool(short) and any(contains_answer(short.text, g) for g in gold),
        })
    n = len(out)
    read = [o for o in out if o["in_read"]]
    abstained = [o for o in out if o["abstained"]]
    unanswerable = [o for o in out if not o["evidence"]]
    right = sum(1 for o in abstained if not o["evidence"])
    print(json.dumps({
        "part": part, "n": n, "answer_accuracy": round(sum(o["ok"] for o in out) / n, 3),
        "n_answer_in_read": len(read),
        "kept_answer_rate": round(sum(o["ok"] for o in read) / max(1, len(read)), 3),
        "abstained": len(abstained),
        "abstention_precision": round(right / max(1, len(abstained)), 3),
        "abstention_recall": round(right / max(1, len(unanswerable)), 3),
        "short_answers": sum(o["short"] is not None for o in out),
        "short_answers_right": sum(o["short_ok"] for o in out),
        "seconds": round(time.time() - started),
    }))


if __name__ == "__main__":
    main()
