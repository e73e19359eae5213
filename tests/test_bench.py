"""rag bench: the harness runs end to end on a tiny corpus it makes; no timing is asserted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from benchmarks.bench import (
    distinct_articles,
    evidence_order,
    percentile,
    read_articles_jsonl,
    read_questions,
)
from rag.app.cli import app

# Twelve articles on unrelated topics; each question names its article's facts.
TOPICS = [
    ("volcano", "Volcano erupts near Grindavik",
     "A volcano erupted near Grindavik in Iceland on Monday. Lava flowed toward the town "
     "and four thousand residents were evacuated.",
     "Which town in Iceland was evacuated when a volcano erupted?"),
    ("budget", "Parliament passes annual budget",
     "The parliament passed the annual budget after a long debate. Fuel taxes will rise "
     "next year, the finance minister said.",
     "What will rise next year under the budget the parliament passed?"),
    ("cup", "Local club wins the national football cup",
     "The local football club won the national cup on Saturday. The striker scored twice "
     "in the final and fans celebrated until midnight.",
     "How many goals did the striker score in the cup final?"),
    ("whales", "Humpback whales return to the bay",
     "Humpback whales returned to the bay this spring for the first time in a decade. "
     "Marine biologists counted thirty animals feeding on krill.",
     "How many humpback whales did biologists count in the bay?"),
    ("chips", "Chipmaker opens a factory in Arizona",
     "A chipmaker opened a semiconductor factory in Arizona that will employ two thousand "
     "engineers. Production of processors starts in autumn.",
     "Where did the chipmaker open its semiconductor factory?"),
    ("drought", "Drought cuts the wheat harvest",
     "A long drought cut the wheat harvest by a third across the plains. Farmers asked the "
     "government for emergency irrigation aid.",
     "By how much did the drought cut the wheat harvest?"),
    ("museum", "Museum recovers a stolen painting",
     "Police recovered a painting stolen from the city museum twenty years ago. The canvas "
     "was found in an attic during a house sale.",
     "Where was the painting stolen from the museum found?"),
    ("metro", "New metro line opens downtown",
     "The city opened a new metro line with twelve stations downtown. Trains run every "
     "four minutes at rush hour.",
     "How often do trains run on the new metro line at rush hour?"),
    ("vaccine", "Regulator approves a malaria vaccine",
     "The health regulator approved a malaria vaccine for children under five. Trials showed "
     "it prevented three quarters of severe cases.",
     "Which vaccine did the health regulator approve for children?"),
    ("chess", "Teenager wins the chess championship",
     "A sixteen-year-old won the national chess championship in a tiebreak. She is the "
     "youngest champion in the tournament's history.",
     "How old is the new national chess champion?"),
    ("storm", "Storm knocks out power on the coast",
     "A winter storm knocked out power to ninety thousand homes on the coast. Crews worked "
     "through the night to restore the lines.",
     "How many homes lost power in the winter storm?"),
    ("rover", "Mars rover finds ancient lake bed",
     "The Mars rover found rocks from an ancient lake bed in the crater. Scientists said the "
     "sediments may hold traces of past water.",
     "What did the Mars rover find in the crater?"),
]

REQUIRED_KEYS = {
    "articles", "passages", "ingest_s", "baseline_ingest_s", "floor_s",
    "ingest_speedup_vs_langchain", "ingest_vs_floor", "query_p50_ms", "query_p95_ms",
    "baseline_query_p50_ms", "cold_start_s", "peak_rss_mb", "recall@5", "baseline_recall@5",
}


def make_corpus(folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    corpus = folder / "corpus.jsonl"
    questions = folder / "questions.jsonl"
    with corpus.open("w") as c, questions.open("w") as q:
        for slug, title, text, question in TOPICS:
            c.write(json.dumps({"id": f"t-{slug}", "title": title, "source": "bench.test",
                                "date": "2025-05-01", "url": f"https://bench.test/{slug}",
                                "text": text}) + "\n")
            q.write(json.dumps({"question": question, "evidence_ids": [f"t-{slug}"]}) + "\n")
        # A question without evidence is timed but not scored.
        q.write(json.dumps({"question": "What happened this week?", "evidence_ids": []}) + "\n")
    return corpus, questions


# --- helpers (no model) ---------------------------------------------------------------------
def test_percentile_is_the_one_eval_uses() -> None:
    from rag.evaluation.metrics import percentile as eval_percentile

    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == eval_percentile(values, 50) == 50.5
    assert percentile(values, 95) == pytest.approx(95.05)
    assert percentile([7.0], 95) == 7.0


def test_distinct_articles_keeps_first_occurrence_order() -> None:
    assert distinct_articles(["a", "b", "a", "", "c", "d"], 3) == ["a", "b", "c"]


def test_articles_limit_and_question_restriction(tmp_path: Path) -> None:
    corpus, questions = make_corpus(tmp_path)
    first = read_articles_jsonl(corpus, 3)
    ids = {a["id"] for a in first}
    assert [a["id"] for a in first] == ["t-volcano", "t-budget", "t-cup"]
    kept = read_questions(questions, ids, restrict=True)
    assert [q.evidence_ids for q in kept] == [["t-volcano"], ["t-budget"], ["t-cup"]]
    # Unrestricted: questions without evidence are kept for timing.
    everything = read_questions(questions, {a["id"] for a in read_articles_jsonl(corpus, None)},
                                restrict=False)
    assert len(everything) == len(TOPICS) + 1


def test_evidence_first_puts_evidence_articles_in_front(tmp_path: Path) -> None:
    corpus, questions = make_corpus(tmp_path)
    reordered = questions.with_name("late.jsonl")
    reordered.write_text(json.dumps({"question": "q", "evidence_ids": ["t-rover", "t-chess"]}))
    taken = read_articles_jsonl(corpus, 3, evidence_order(reordered))
    assert [a["id"] for a in taken] == ["t-rover", "t-chess", "t-volcano"]


def test_missing_corpus_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["bench", "--corpus", str(tmp_path / "nowhere")])
    assert result.exit_code == 1
    assert "no benchmark corpus" in result.output and "--corpus" in result.output


def test_weightless_model_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    corpus, _ = make_corpus(tmp_path)
    monkeypatch.setenv("RAG_EMBEDDING_MODEL", "hashing")
    result = CliRunner().invoke(app, ["bench", "--corpus", str(corpus)])
    assert result.exit_code == 2
    assert "real model" in result.output


def test_serving_only_also_scales_an_existing_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--index with --scale times questions on copies of that index's passages."""
    from rag.core.settings import Settings
    from rag.indexing.ingest import ingest

    corpus, questions = make_corpus(tmp_path / "data")
    index = tmp_path / "index"
    monkeypatch.setenv("RAG_EMBEDDING_MODEL", "hashing")
    assert ingest([corpus], Settings(index_dir=index, embedding_model="hashing")).ok
    result = CliRunner().invoke(
        app,
        ["bench", "--index", str(index), "--questions", str(questions), "--scale", "30,5",
         "--json", "--work-dir", str(tmp_path / "work")],
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout[result.stdout.index("{"):])
    assert [row["passages"] for row in figures["scaling"]] == [30, 5]
    assert all(0 < row["query_p50_ms"] <= row["query_p95_ms"] for row in figures["scaling"])
    assert figures["recall@5"] >= 0.5
    assert not list((tmp_path / "work").iterdir())  # the copies are gone


# --- the whole harness (real model) ---------------------------------------------------------
@pytest.mark.integration
def test_bench_prints_every_figure_with_sane_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus, questions = make_corpus(tmp_path / "data")
    monkeypatch.setenv("RAG_MODEL_CACHE_DIR", str(tmp_path / "model-cache"))
    monkeypatch.setenv("RAG_INDEX_DIR", str(tmp_path / "user-index"))
    result = CliRunner().invoke(
        app,
        ["bench", "--corpus", str(corpus), "--questions", str(questions), "--json",
         "--backend", "onnx", "--work-dir", str(tmp_path / "work")],
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout[result.stdout.index("{"):])
    assert set(figures) >= REQUIRED_KEYS
    assert figures["articles"] == len(TOPICS)
    assert figures["passages"] >= len(TOPICS)
    assert figures["baseline_passages"] >= len(TOPICS)
    for key in ("ingest_s", "baseline_ingest_s", "floor_s", "cold_start_s"):
        assert 0 < figures[key] < 600, key
    assert figures["ingest_speedup_vs_langchain"] == pytest.approx(
        figures["baseline_ingest_s"] / figures["ingest_s"], rel=0.01
    )
    assert figures["ingest_vs_floor"] == pytest.approx(
        figures["ingest_s"] / figures["floor_s"], rel=0.01
    )
    assert 0 < figures["query_p50_ms"] <= figures["query_p95_ms"]
    assert figures["baseline_query_p50_ms"] > 0
    assert 50 < figures["peak_rss_mb"] < 24_000
    assert figures["questions_with_evidence"] == len(TOPICS)
    # Twelve unrelated topics: both pipelines find nearly every evidence article.
    assert figures["recall@5"] >= 0.9
    assert figures["baseline_recall@5"] >= 0.75
    assert figures["embedding_backend"] == "onnx"
    # The exported model was cached where the settings say, and the work folder is gone.
    assert list((tmp_path / "model-cache").rglob("model.onnx"))
    assert not (tmp_path / "work").exists()


def test_without_the_bench_extra_it_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import rag.app.cli as cli

    monkeypatch.setattr(cli, "BENCH_EXTRA", ("langchain_huggingface", "no_such_module_x"))
    result = CliRunner().invoke(app, ["bench", "--help"])
    assert result.exit_code == 2
    assert "no_such_module_x missing" in result.output
    assert "[bench]" in result.output
