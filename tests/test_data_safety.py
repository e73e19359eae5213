"""Issue 15, data loss and robustness: each test reproduces one finding (the item number
is in its name) and failed before its fix.

Hashing embeddings and real Chroma on disk throughout; the CLI runs in process through
typer's runner unless a real process is what the finding needs (a crash of Chroma).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.app.cli import app
from rag.core.settings import Settings
from rag.indexing.embeddings import make_embeddings
from rag.indexing.ingest import ingest
from rag.indexing.store import ArticleIndex

from .conftest import REPO, write_article

HOSTILE = Path(__file__).resolve().parent / "hostile"
runner = CliRunner()


def env_for(settings: Settings) -> dict[str, str]:
    return {"RAG_INDEX_DIR": str(settings.index.index_dir), "RAG_EMBEDDING_MODEL": "hashing"}


def rag_process(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """The console script in a real process, on this checkout's code."""
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1",
           **env_for(settings)}
    return subprocess.run([str(Path(sys.executable).parent / "rag"), *args],
                          capture_output=True, text=True, env=env, cwd=REPO, timeout=300)


def stored(settings: Settings) -> dict[str, str | None]:
    """Article id -> stored text."""
    index = ArticleIndex(settings, make_embeddings(settings))
    return {i: index.article_text(i) for i in index.records()}


@pytest.fixture
def indexed(corpus: Path, hashing_settings: Settings) -> Settings:
    assert ingest([corpus], hashing_settings).ok
    return hashing_settings


# --- 14: impossible dates --------------------------------------------------------
IMPOSSIBLE = [
    "front-matter-impossible-date.md",
    "front-matter-impossible-month.md",
    "front-matter-bad-tag.md",
    "impossible-date.jsonl",
]


def test_14_impossible_dates_are_one_line_each_and_the_rest_is_indexed(
    indexed: Settings, tmp_path: Path
) -> None:
    folder = tmp_path / "batch"
    folder.mkdir()
    for name in IMPOSSIBLE:
        shutil.copy(HOSTILE / name, folder / name)
    write_article(folder, "good.md", "Ferry resumes", "The ferry resumed service on Friday.")
    summary = ingest([folder], indexed)
    assert summary.added == 1
    assert sorted(Path(p.origin.split(":")[0]).name for p in summary.problems) == sorted(IMPOSSIBLE)
    result = runner.invoke(app, ["ingest", str(folder), "-q"], env=env_for(indexed))
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert result.stderr.count("skipped:") == len(IMPOSSIBLE)
    assert "1 unchanged" in result.stdout


def test_14_impossible_date_upload_is_refused_not_a_crash(indexed: Settings) -> None:
    from rag.app.uploads import Upload, ingest_uploads

    good = Upload("good.md", b"# Ferry resumes\n\nThe ferry resumed service on Friday.\n")
    bad = Upload(IMPOSSIBLE[0], (HOSTILE / IMPOSSIBLE[0]).read_bytes())
    result = ingest_uploads([bad, good], indexed)
    assert [p.origin for p in result.problems] == [IMPOSSIBLE[0]]
    assert "does not exist" in result.problems[0].message
    assert [p.name for p in result.saved] == ["good.md"]


# --- 21: unbounded k, invalid filters ---------------------------------------------
@pytest.mark.parametrize("k", [10**9, 0, -3, 2.5, "5", True])
def test_21_k_is_bounded_before_anything_runs(indexed: Settings, k: object) -> None:
    from rag.retrieval.hybrid import build_retriever

    with pytest.raises(ValueError, match="k must be a whole number from 1 to 100"):
        build_retriever(indexed, k=k)  # type: ignore[arg-type]


def test_21_k_set_on_the_retriever_later_is_bounded_too(indexed: Settings) -> None:
    from rag.retrieval.hybrid import build_retriever

    retriever = build_retriever(indexed, k=3)
    with pytest.raises(ValueError, match="k must be"):
        retriever.__class__(engine=retriever.engine, k=10**9)
    assert len(retriever.invoke("volcano lava")) <= 3


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"sources": 5}, "filter 'sources' must be a string or a list of strings"),
        ({"article_ids": [1, 2]}, "filter 'article_ids' must be a string or a list"),
        ({"sources": {"a": 1}}, "filter 'sources' must be"),
        ({"date_from": 20250101}, "filter 'date_from' must be a YYYY-MM-DD date"),
        ({"date_from": "2025-02-30"}, "does not exist"),
        ({"date_from": "2025-03-01", "date_to": "2025-01-01"}, "is after date_to"),
        (["sources"], "filters must be a mapping"),
    ],
)
def test_21_invalid_filters_are_refused_with_a_clear_message(
    indexed: Settings, filters: object, message: str
) -> None:
    from rag.answering.chain import build_chain
    from rag.retrieval.hybrid import build_retriever

    with pytest.raises(ValueError, match=message):
        build_retriever(indexed, filters=filters)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=message):
        build_chain(indexed).invoke({"question": "What erupted?", "filters": filters})


# --- 2: --prune and lines that could not be parsed --------------------------------
def _rows(n: int) -> list[dict[str, str]]:
    return [
        {"id": f"a{i}", "title": f"Story {i}", "text": f"Story number {i} about harbour {i}."}
        for i in range(n)
    ]


def test_2_prune_keeps_an_article_whose_line_became_unparseable(
    tmp_path: Path, hashing_settings: Settings
) -> None:
    path = tmp_path / "feed.jsonl"
    rows = _rows(3)
    lines = [json.dumps(r) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    assert ingest([path], hashing_settings).added == 3
    lines[1] = lines[1][:-1] + "x"  # one stray character: the line no longer parses
    path.write_text("\n".join(lines) + "\n")
    summary = ingest([path], hashing_settings, prune=True)
    assert summary.removed == 0
    assert set(stored(hashing_settings)) == {"a0", "a1", "a2"}
    messages = [str(p) for p in summary.problems]
    assert any(":2: malformed JSON" in m for m in messages), messages
    assert any("not pruned: 1 indexed article" in m for m in messages), messages
    # Fixed, and a line really removed: now it is pruned.
    path.write_text("\n".join(json.dumps(r) for r in rows[:2]) + "\n")
    summary = ingest([path], hashing_settings, prune=True)
    assert summary.removed == 1 and summary.ok
    assert set(stored(hashing_settings)) == {"a0", "a1"}


def test_2_prune_keeps_a_file_that_could_not_be_read(
    indexed: Settings, corpus: Path
) -> None:
    (corpus / "budget.md").write_bytes(b"---\ntitle: Budget\n---\n\nCaf\xe9 bad bytes\n")
    summary = ingest([corpus], indexed, prune=True)
    assert summary.removed == 0
    assert any("not valid UTF-8" in str(p) for p in summary.problems)
    assert len(stored(indexed)) == 3


# --- 3: --prune does not depend on the working directory ---------------------------
def test_3_prune_from_another_folder_keeps_articles_of_other_paths(
    tmp_path: Path, hashing_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    write_article(one / "corpA", "a.md", "Dam opens", "The new dam opened on Tuesday.")
    write_article(two / "corpB", "b.md", "Bridge closes", "The old bridge closed for repairs.")
    monkeypatch.chdir(one)
    assert ingest([Path("corpA")], hashing_settings).added == 1
    monkeypatch.chdir(two)
    summary = ingest([Path("corpB")], hashing_settings, prune=True)
    assert summary.removed == 0 and summary.added == 1
    assert len(stored(hashing_settings)) == 2
    # The CLI, from a third folder, with the paths given relative to it.
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(
        app, ["ingest", "--prune", "-q", "two/corpB"], env=env_for(hashing_settings)
    )
    assert result.exit_code == 0, result.output
    assert "0 removed" in result.stdout
    # A file really gone under the given path is still pruned, from any folder.
    (one / "corpA" / "a.md").unlink()
    monkeypatch.chdir(two)
    summary = ingest([one / "corpA"], hashing_settings, prune=True)
    assert summary.removed == 1
    assert len(stored(hashing_settings)) == 1


# --- 4: an id reused by another file ----------------------------------------------
def test_4_an_id_reused_by_another_file_is_a_conflict(
    tmp_path: Path, hashing_settings: Settings
) -> None:
    first = write_article(tmp_path / "a", "one.md", "Mayor resigns",
                          "The mayor resigned on Monday.", id="story-1")
    second = write_article(tmp_path / "b", "two.md", "Port strike",
                           "Dock workers went on strike.", id="story-1")
    assert ingest([first], hashing_settings).added == 1
    summary = ingest([second], hashing_settings)
    assert summary.updated == 0 and summary.added == 0
    message = str(summary.problems[0])
    assert str(first) in message and str(second) in message and "--replace" in message
    assert "mayor resigned" in (stored(hashing_settings)["story-1"] or "")
    result = runner.invoke(app, ["ingest", "-q", str(second)], env=env_for(hashing_settings))
    assert result.exit_code == 1 and "--replace" in result.stderr
    # The deliberate case.
    result = runner.invoke(
        app, ["ingest", "-q", "--replace", str(second)], env=env_for(hashing_settings)
    )
    assert result.exit_code == 0 and "1 updated" in result.stdout
    assert "Dock workers" in (stored(hashing_settings)["story-1"] or "")


def test_4_a_moved_or_identical_article_is_not_a_conflict(
    tmp_path: Path, hashing_settings: Settings
) -> None:
    first = write_article(tmp_path / "a", "one.md", "Mayor resigns",
                          "The mayor resigned on Monday.", id="story-1")
    assert ingest([first], hashing_settings).added == 1
    copy = tmp_path / "b" / "copy.md"
    copy.parent.mkdir()
    shutil.copy(first, copy)
    assert ingest([copy], hashing_settings).ok  # same text: nothing is replaced
    moved = tmp_path / "c" / "moved.md"
    moved.parent.mkdir()
    first.rename(moved)
    moved.write_text(moved.read_text().replace("Monday", "Tuesday"))
    summary = ingest([moved], hashing_settings)  # moved and edited: its old file is gone
    assert summary.updated == 1 and summary.ok


# --- 1: --rebuild with a mistyped path --------------------------------------------
def _passages(settings: Settings) -> set[str]:
    index = ArticleIndex(settings, make_embeddings(settings))
    return {i for ids, _, _ in index.all_passages() for i in ids}


def test_1_rebuild_from_a_mistyped_path_keeps_the_index(
    indexed: Settings, corpus: Path, tmp_path: Path
) -> None:
    before = stored(indexed)
    typo = tmp_path / "artciles"
    result = runner.invoke(app, ["ingest", "--rebuild", "-q", str(typo)], env=env_for(indexed))
    assert result.exit_code == 1
    assert "refusing to --rebuild" in result.stderr and str(typo) in result.stderr
    assert "Traceback" not in result.output
    assert stored(indexed) == before
    # A folder with nothing readable in it: refused the same way.
    junk = tmp_path / "junk"
    junk.mkdir()
    shutil.copy(HOSTILE / "binary.txt", junk / "binary.txt")
    result = runner.invoke(app, ["ingest", "--rebuild", "-q", str(junk)], env=env_for(indexed))
    assert result.exit_code == 1 and "refusing to --rebuild" in result.stderr
    assert stored(indexed) == before


def test_1_a_failed_rebuild_leaves_the_old_index_answering(
    indexed: Settings, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rag.indexing import ingest as ingest_module

    before, passages = stored(indexed), _passages(indexed)
    write_article(corpus, "extra.md", "Tram line opens", "The tram line opened on Sunday.")

    def fail(*args: object) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(ingest_module._Ingestion, "_write_group", fail)
    with pytest.raises(Exception, match="Input/output error"):
        ingest([corpus], indexed, rebuild=True)
    monkeypatch.undo()
    assert stored(indexed) == before and _passages(indexed) == passages
    # The next rebuild completes and leaves nothing of the failed one behind.
    summary = ingest([corpus], indexed, rebuild=True)
    assert summary.added == 4 and summary.ok
    assert len(stored(indexed)) == 4
    from rag.indexing.store import make_client

    names = {c.name for c in make_client(indexed, create=False).list_collections()}
    live = indexed.index.collection
    assert names == {live, live + "__articles", live + "__changes"}  # __changes: the change log


@pytest.mark.parametrize("stop_at", [1, 2, 3, 4])
def test_1_a_rebuild_killed_during_its_swap_is_finished_or_undone(
    indexed: Settings, corpus: Path, monkeypatch: pytest.MonkeyPatch, stop_at: int
) -> None:
    """Stop the swap before its n-th rename; the next ingest leaves a whole index, old or
    new, never a mix (its records and passages agree)."""
    from chromadb.api.models.Collection import Collection

    (corpus / "football.md").unlink()
    write_article(corpus, "extra.md", "Tram line opens", "The tram line opened on Sunday.")
    renames = 0
    real_modify = Collection.modify

    def modify(self: Collection, *args: object, **kwargs: object) -> None:
        nonlocal renames
        if "name" in kwargs:
            renames += 1
            if renames == stop_at:
                raise KeyboardInterrupt  # as a kill would, mid-swap
        real_modify(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Collection, "modify", modify)
    with pytest.raises(KeyboardInterrupt):
        ingest([corpus], indexed, rebuild=True)
    monkeypatch.undo()
    ingest([corpus / "volcano.md"], indexed)  # any later ingest finishes the swap first
    index = ArticleIndex(indexed, make_embeddings(indexed))
    records = index.records()
    old = {"Volcano erupts in Iceland", "Parliament passes budget", "Local club wins the cup"}
    new = {"Volcano erupts in Iceland", "Parliament passes budget", "Tram line opens"}
    assert {r.title for r in records.values()} in (old, new)
    wanted = {c for r in records.values() for c in r.passage_ids}
    assert wanted == _passages(indexed)


# --- 5: feedback appends on a full disk -------------------------------------------
def _feedback_record(n: int):  # type: ignore[no-untyped-def]
    from rag.core.schema import Answer
    from rag.evaluation.feedback import FeedbackRecord

    answer = Answer(question=f"Question {n}?", standalone_question=f"Question {n}?",
                    answer="An answer " + "x" * 500 + ".")
    return FeedbackRecord.from_answer(answer, [], "up", f"comment {n}")


def test_5_feedback_on_a_full_disk_leaves_no_partial_line(tmp_path: Path) -> None:
    import errno

    from rag.evaluation.feedback import append_feedback, read_feedback

    from .test_hostile_index import mounted

    disk = tmp_path / "tiny-disk"
    disk.mkdir()
    path = disk / "feedback.jsonl"
    with mounted("-t", "tmpfs", "-o", "size=8k", "tmpfs", str(disk)):
        (disk / "filler").write_bytes(b"x" * 4096)  # one of the two pages
        written = 0
        with pytest.raises(OSError) as failed:
            for n in range(20):
                append_feedback(path, _feedback_record(n))
                written += 1
        assert failed.value.errno == errno.ENOSPC and "disk is full" in str(failed.value)
        assert path.read_bytes().endswith(b"\n")  # whole lines only
        (disk / "filler").unlink()
        append_feedback(path, _feedback_record(99))
        records = list(read_feedback(path))
    assert [r.comment for r in records] == [f"comment {n}" for n in range(written)] + [
        "comment 99"
    ]


def test_5_a_line_torn_by_a_crash_is_skipped_and_never_swallows_the_next(
    tmp_path: Path,
) -> None:
    from rag.evaluation.feedback import append_feedback, read_feedback

    path = tmp_path / "feedback.jsonl"
    append_feedback(path, _feedback_record(1))
    whole = path.read_bytes()
    path.write_bytes(whole + whole[:200])  # a crash in the middle of the second append
    assert [r.comment for r in read_feedback(path)] == ["comment 1"]  # torn last line
    append_feedback(path, _feedback_record(3))
    assert [r.comment for r in read_feedback(path)] == ["comment 1", "comment 3"]
    path.write_bytes(path.read_bytes() + b'{"rating": "sideways"}\n')
    with pytest.raises(ValueError, match=":4: not a feedback record"):
        list(read_feedback(path))  # a whole line that is wrong is still an error


# --- 19: a disk filled by another program -----------------------------------------
def test_19_a_disk_filled_elsewhere_is_called_full_not_unreadable(
    corpus: Path, tmp_path: Path
) -> None:
    from .test_hostile_index import mounted

    disk = tmp_path / "disk"
    disk.mkdir()
    with mounted("-t", "tmpfs", "-o", "size=4m", "tmpfs", str(disk)):
        settings = Settings(index_dir=disk / "index", embedding_model="hashing")
        assert ingest([corpus], settings).ok
        filler = disk / "someone-elses-file"
        with filler.open("wb") as handle, contextlib.suppress(OSError):
            while True:  # another program fills the disk
                handle.write(b"\0" * 65536)
                handle.flush()
        write_article(corpus, "new.md", "Tram line opens", "The tram line opened on Sunday.")
        for args in (["ask", "Who scored twice in the final?"], ["stats"],
                     ["ingest", "-q", str(corpus)]):
            done = rag_process(settings, *args)  # a fresh process, as a user would run it
            assert done.returncode == 1, (args, done.stdout, done.stderr)
            assert "is full" in done.stderr and "free disk space" in done.stderr, args
            assert "unreadable" not in done.stderr and "--rebuild" not in done.stderr, args
            assert "Traceback" not in done.stderr
        filler.unlink()
        done = rag_process(settings, "ingest", "-q", str(corpus))
        assert done.returncode == 0 and "1 added, 0 updated, 3 unchanged" in done.stdout
        done = rag_process(settings, "ask", "Who scored twice in the final?")
        assert done.returncode == 0 and "Local club wins the cup" in done.stdout


# --- 22: a filter is applied or refused, never dropped -----------------------------
SOLAR = "Who voted against the solar farm?"


@pytest.fixture
def solar(indexed: Settings, corpus: Path) -> Settings:
    write_article(
        corpus, "solar.md", "Council approves solar farm after heated vote",
        "The town council approved the solar farm on Tuesday by five votes to two. "
        "Councillors Mara Lind and Tomas Berg voted against the solar farm, saying it would "
        "take farmland. The farm will power four thousand homes when it opens next year.",
        source="Zarin Times", date="2025-04-02", url="https://zarintimes.example/solar",
    )
    assert ingest([corpus], indexed).added == 1
    return indexed


def test_22_filtered_questions_are_answered_from_the_filtered_article(solar: Settings) -> None:
    from rag.answering.chain import build_chain

    solar_id = next(i for i, t in stored(solar).items() if t and "Mara Lind" in t)
    chain = build_chain(solar)  # filtered first, on a fresh chain
    for filters in ({"sources": ["Zarin Times"]}, {"article_ids": [solar_id]},
                    {"date_from": "2025-04-01"}, None):
        answer = chain.invoke({"question": SOLAR, "filters": filters})
        assert not answer.abstained, filters
        assert "Mara Lind" in answer.answer, filters
    for args in (["--source", "Zarin Times"], ["--article-id", solar_id],
                 ["--date-from", "2025-04-01"]):
        result = runner.invoke(app, ["ask", SOLAR, *args], env=env_for(solar))
        assert result.exit_code == 0 and "Mara Lind" in result.stdout, args


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--source", "zarin times"], "did you mean 'Zarin Times'?"),
        (["--source", "Zarin Tims"], "did you mean 'Zarin Times'?"),
        (["--source", "Zarin Times", "--source", "Nowhere Gazette"], "'Nowhere Gazette'"),
        (["--article-id", "no-such-article"], "the library has"),
        (["--date-from", "2030-01-01"], "the articles run from 2025-01-10 to 2025-04-02"),
        (["--date-to", "2001-01-01"], "the articles run from 2025-01-10"),
    ],
)
def test_22_a_filter_nothing_can_pass_is_refused_not_answered_unfiltered(
    solar: Settings, args: list[str], message: str
) -> None:
    result = runner.invoke(app, ["ask", SOLAR, *args], env=env_for(solar))
    assert result.exit_code == 1, result.output
    assert message in result.stderr and "Traceback" not in result.output
    assert "Mara Lind" not in result.stdout  # not quietly answered without the filter


def test_22_ui_date_range_outside_the_library_is_applied_not_dropped(
    solar: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    import datetime as dt

    from tests.ui_fixtures import app_test, turns, use_settings

    use_settings(monkeypatch, solar)
    at = app_test().run()
    at.date_input(key="f_dates").set_value((dt.date(2030, 1, 1), dt.date(2030, 2, 1))).run()
    assert not at.exception, [e.value for e in at.exception]
    at.chat_input[0].set_value(SOLAR).run()
    assert not at.exception, [e.value for e in at.exception]
    answered = [t for t in turns(at) if "Mara Lind" in t["answer"].answer]
    assert not answered  # the question did not run without the filter
    shown = " ".join(str(e.value) for e in at.info).replace("\\", "")
    assert "The filters leave no article to answer from" in shown
    assert "the articles run from 2025-01-10 to 2025-04-02" in shown


# --- 17: damaged HNSW files -------------------------------------------------------
@pytest.fixture(scope="module")
def persisted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Path]:
    """An index big enough (1,200 passages) that Chroma keeps its vectors in HNSW files
    (below its sync threshold they stay in the SQLite log, out of harm's way)."""
    root = tmp_path_factory.mktemp("hnsw")
    feed = root / "feed.jsonl"
    words = ["council", "vote", "harbour", "budget", "mayor", "school", "bridge", "court",
             "river", "minister"]
    with feed.open("w") as handle:
        for n in range(1200):
            text = " ".join(words[(n * 7 + i) % len(words)] for i in range(30))
            handle.write(json.dumps({"id": f"n{n}", "title": f"Story {n}", "source": "Post",
                                     "text": f"{text} marker{n} happened."}) + "\n")
    settings = Settings(index_dir=root / "index", embedding_model="hashing")
    assert ingest([feed], settings).added == 1200
    return settings, feed


def damage_vectors(settings: Settings) -> Path:
    """Random bytes over part of the biggest HNSW data file (the passages'), as a bad
    disk block or a half-copied backup leaves it."""
    import random

    target = max(Path(settings.index.index_dir).glob("*/data_level0.bin"),
                 key=lambda p: p.stat().st_size)
    with target.open("r+b") as handle:
        handle.seek(10_000)
        handle.write(random.Random(7).randbytes(min(1_000_000, target.stat().st_size - 10_000)))
    return target


@pytest.fixture
def damaged(persisted: tuple[Settings, Path], tmp_path: Path) -> Settings:
    settings = persisted[0].model_copy(update={"index_dir": tmp_path / "index"})
    shutil.copytree(persisted[0].index.index_dir, settings.index.index_dir)
    damage_vectors(settings)
    return settings


def test_17_damaged_vector_files_are_reported_and_repair_fixes_them(
    damaged: Settings, corpus: Path
) -> None:
    # Real processes: before, Chroma died with SIGSEGV (exit -11), no message.
    done = rag_process(damaged, "ask", "What happened to marker17?")
    assert done.returncode == 1, (done.returncode, done.stderr[-300:])
    assert "is damaged" in done.stderr and "rag ingest --repair" in done.stderr
    from rag.app.stats import index_stats
    from rag.indexing.health import IndexDamagedError

    with pytest.raises(IndexDamagedError):  # stats, checked in process (verdict remembered)
        index_stats(damaged)
    with pytest.raises(IndexDamagedError):  # ingest never writes on top and says "done"
        ingest([corpus], damaged)
    done = rag_process(damaged, "ingest", "--repair", "-q")
    assert done.returncode == 0, done.stderr[-500:]
    done = rag_process(damaged, "ask", "marker17")
    assert done.returncode == 0 and "marker17" in done.stdout
    assert index_stats(damaged)["articles"] == 1200


def test_17_an_ingest_into_a_checked_index_leaves_it_checked(
    persisted: tuple[Settings, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check reads every vector (minutes at 1M passages). An ingest checks the index
    before writing; the files it then writes are Chroma's own output, so the next reader
    (a cold `rag ask`, the next ingest) must not read every vector again. Damage after
    that is still found (the files' sizes and times change)."""
    from rag.indexing import health

    settings = persisted[0].model_copy(update={"index_dir": tmp_path / "index"})
    shutil.copytree(persisted[0].index.index_dir, settings.index.index_dir)
    health.check_index(settings)  # checked now (whatever the copy carried)
    extra = tmp_path / "extra"
    write_article(extra, "late.md", "Late story", "The harbour bridge reopened marker9999.")
    before = health.fingerprint(settings.index.index_dir)
    assert ingest([extra], settings).added == 1
    assert health.fingerprint(settings.index.index_dir) != before  # it wrote vector files
    probes: list[Path] = []
    real_probe = health._probe
    monkeypatch.setattr(health, "_probe", lambda d, c: probes.append(d) or real_probe(d, c))
    health.check_index(settings)
    assert probes == []
    damage_vectors(settings)
    with pytest.raises(health.IndexDamagedError):
        health.check_index(settings)
    assert len(probes) == 1


def test_17_the_ui_shows_the_damage_instead_of_dying(
    damaged: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.ui_fixtures import app_test, use_settings

    use_settings(monkeypatch, damaged)
    at = app_test().run()
    assert not at.exception, [e.value for e in at.exception]
    shown = " ".join(str(e.value) for kind in ("error", "warning", "info")
                     for e in getattr(at, kind)).replace("\\", "")
    assert "is damaged" in shown and "rag ingest --repair" in shown
