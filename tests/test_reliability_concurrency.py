"""Concurrency: two ingesters on one embedded index (real processes), ingesting while a
chain answers, many questions through one chain and through several chains at once.
No wall-clock assertions: only "no errors, nothing mixed, nothing corrupt".
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import textwrap
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from rag.answering.chain import build_chain
from rag.core.schema import Answer
from rag.core.settings import Settings
from rag.indexing.ingest import ingest

from .conftest import REPO, write_article
from .test_reliability_crash import crash

RAG = Path(sys.executable).parent / "rag"

# One article per topic; a question's answer must cite exactly its own article.
TOPICS = {
    "volcano": ("Volcano erupts in Iceland", "A volcano erupted near Grindavik on Monday. "
                "Officials evacuated four thousand residents as a precaution."),
    "budget": ("Parliament passes budget", "The parliament passed the annual budget. "
               "The vote was 301 to 250 after a long debate."),
    "football": ("Local club wins the cup", "The local football club won the national cup. "
                 "The striker scored twice in the final."),
    "bridge": ("Bridge reopens", "The old river bridge reopened after two years of repairs. "
               "Engineers replaced the steel cables."),
    "vaccine": ("Vaccine approved", "Regulators approved a new malaria vaccine for children. "
                "The vaccine cut infections by seventy percent in trials."),
    "drought": ("Drought hits farms", "A long drought dried up wells across the southern "
                "plains. Farmers sold cattle because hay prices doubled."),
}
QUESTIONS = {
    "volcano": "How many residents were evacuated near the volcano?",
    "budget": "What was the result of the budget vote?",
    "football": "Who scored twice in the cup final?",
    "bridge": "What did engineers replace on the bridge?",
    "vaccine": "By how much did the malaria vaccine cut infections?",
    "drought": "Why did farmers sell cattle in the drought?",
}


def topic_corpus(folder: Path) -> Path:
    for key, (title, text) in TOPICS.items():
        write_article(folder, f"{key}.md", title, text, id=key)
    return folder


def settings_for(tmp_path: Path) -> Settings:
    return Settings(index_dir=tmp_path / "index", embedding_model="hashing",
                    abstain_threshold=0.3)


def rag_env(settings: Settings, **extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    return {**base, "RAG_INDEX_DIR": str(settings.index.index_dir),
            "RAG_EMBEDDING_MODEL": "hashing", **extra}


def valid(answer: Answer) -> bool:
    """Every citation quotes its passage verbatim and every [n] has its citation."""
    ids = {c.id for c in answer.citations}
    return all(c.quote and c.quote in c.passage for c in answer.citations) and all(
        set(s.citation_ids) <= ids for s in answer.sentences
    )


def test_second_ingest_process_stops_then_waits(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    corpus = topic_corpus(tmp_path / "corpus")
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent("""
            import sys
            from rag.indexing.ingest import ingest_lock
            from rag.core.settings import Settings
            with ingest_lock(Settings()):
                print("held", flush=True)
                sys.stdin.readline()
        """)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO,
        env=rag_env(settings),
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        done = subprocess.run([str(RAG), "ingest", "-q", str(corpus)], capture_output=True,
                              text=True, cwd=REPO, env=rag_env(settings), timeout=300)
        assert done.returncode == 1
        assert f"another `rag ingest` (pid {holder.pid}" in done.stderr
        assert "RAG_INGEST_LOCK_WAIT_S" in done.stderr and "Traceback" not in done.stderr
        # A patient second ingester waits for the first and then does its work.
        patient = subprocess.Popen(
            [str(RAG), "ingest", "-q", "--json", str(corpus)], stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, cwd=REPO,
            env=rag_env(settings, RAG_INGEST_LOCK_WAIT_S="300"),
        )
        assert holder.stdin is not None
        holder.stdin.write("release\n")
        holder.stdin.flush()
        out, err = patient.communicate(timeout=300)
        assert patient.returncode == 0, err
        assert '"added": 6' in out
    finally:
        holder.kill()
        holder.wait()


def test_two_ingest_processes_at_once_never_corrupt(tmp_path: Path) -> None:
    """Two real ingests of different corpora race for one index; both land, once."""
    settings = settings_for(tmp_path)
    first = crash.Corpus(tmp_path / "first", random.Random(1))
    first.add(25)
    second = crash.Corpus(tmp_path / "second", random.Random(2))
    second.counter = 1000
    second.add(25)
    env = rag_env(settings, RAG_INGEST_LOCK_WAIT_S="300")
    procs = [
        subprocess.Popen([str(RAG), "ingest", "-q", str(c.folder)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, cwd=REPO, env=env)
        for c in (first, second)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
    expected = {**first.texts, **second.texts}
    assert crash.check_index(settings.index.index_dir, expected) == []


def test_ingesting_while_a_chain_answers(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    corpus = topic_corpus(tmp_path / "corpus")
    ingest([corpus], settings)
    chain = build_chain(settings)
    errors: list[BaseException] = []
    answers: list[tuple[str, Answer]] = []
    stop = threading.Event()

    def ask_in_a_loop() -> None:
        keys = list(QUESTIONS)
        n = 0
        while not stop.is_set() or n < len(keys):
            key = keys[n % len(keys)]
            n += 1
            try:
                answers.append((key, chain.invoke({"question": QUESTIONS[key]})))
            except BaseException as exc:
                errors.append(exc)
                return

    asker = threading.Thread(target=ask_in_a_loop)
    asker.start()
    try:
        extra = crash.Corpus(tmp_path / "extra", random.Random(4))
        for _ in range(4):
            extra.add(15)
            extra.edit(5)
            extra.delete(3)
            summary = ingest([corpus, extra.folder], settings, prune=True)
            assert summary.ok, summary.problems
    finally:
        stop.set()
        asker.join(timeout=300)
    assert errors == []
    assert len(answers) >= len(QUESTIONS)
    for key, answer in answers:
        assert valid(answer), answer
        assert not answer.abstained and answer.citations[0].article_id == key, (key, answer)
    expected = {k: (t, b) for k, (t, b) in TOPICS.items()} | extra.texts
    assert crash.check_index(settings.index.index_dir, expected) == []


def test_many_threads_one_chain_and_several_chains(tmp_path: Path) -> None:
    """Answers never mix between sessions: each cites its own article and keeps its own
    conversation, whether the chains share one engine or not."""
    settings = settings_for(tmp_path)
    ingest([topic_corpus(tmp_path / "corpus")], settings)
    shared = build_chain(settings)
    chains = [shared, build_chain(settings, engine=shared.engine), build_chain(settings)]
    jobs = [(chains[i % len(chains)], key) for i in range(240) for key in
            [list(QUESTIONS)[i % len(QUESTIONS)]]]

    def session(job: tuple[object, str]) -> tuple[str, Answer, Answer]:
        chain, key = job
        first = chain.invoke({"question": QUESTIONS[key]})  # type: ignore[attr-defined]
        follow = chain.invoke({  # type: ignore[attr-defined]
            "question": "Tell me more about it.",
            "chat_history": [("human", QUESTIONS[key]), ("ai", first.answer)],
        })
        return key, first, follow

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(session, jobs))
    assert len(results) == len(jobs)
    for key, first, follow in results:
        assert first.question == QUESTIONS[key] and valid(first)
        assert first.citations[0].article_id == key, (key, first.answer)
        # The follow-up was read with its own session's history, not another's.
        assert follow.question == "Tell me more about it." and valid(follow)
        assert follow.standalone_question != "Tell me more about it."
        cited = {c.article_id for c in follow.citations}
        assert not cited or key in cited, (key, follow.standalone_question, cited)
