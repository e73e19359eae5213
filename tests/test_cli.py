"""The `rag` command: summaries, JSON, exit codes and messages (no tracebacks)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from rag.app.cli import app

from .conftest import REPO

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"RAG_INDEX_DIR": str(tmp_path / "index"), "RAG_EMBEDDING_MODEL": "hashing",
            "RAG_ABSTAIN_THRESHOLD": "0.3"}


def test_ingest_stats_ask(corpus: Path, env: dict[str, str]) -> None:
    result = runner.invoke(app, ["ingest", str(corpus), "--json"], env=env)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["added"] == 3 and summary["problems"] == []

    result = runner.invoke(app, ["ingest", str(corpus)], env=env)
    assert result.exit_code == 0
    assert "0 added, 0 updated, 3 unchanged" in result.stdout

    result = runner.invoke(app, ["stats", "--json"], env=env)
    stats = json.loads(result.stdout)
    assert stats["articles"] == 3 and stats["model"] == "hashing:256"

    result = runner.invoke(app, ["ask", "Who scored twice in the final?", "--json"], env=env)
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["citations"][0]["title"] == "Local club wins the cup"

    result = runner.invoke(app, ["ask", "Who scored twice in the final?"], env=env)
    assert "Sources:" in result.stdout and "[1] Local club wins the cup" in result.stdout

    result = runner.invoke(
        app, ["ask", "What happened?", "--source", "news.test", "--json"], env=env
    )
    assert {c["source"] for c in json.loads(result.stdout)["citations"]} <= {"news.test"}


def test_skipped_input_exits_non_zero(corpus: Path, tmp_path: Path, env: dict[str, str]) -> None:
    (corpus / "empty.md").write_text("")
    result = runner.invoke(app, ["ingest", str(corpus), str(tmp_path / "missing")], env=env)
    assert result.exit_code == 1
    assert "empty.md: empty file" in result.stderr
    assert "no such file or folder" in result.stderr
    assert "3 added" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ask", "   "], "question is empty"),
        (["ask", "x" * 100_000], "over the limit"),
        (["ask", "What?", "--date-from", "soon"], "ISO date"),
    ],
)
def test_bad_questions_are_clear(
    corpus: Path, env: dict[str, str], args: list[str], message: str
) -> None:
    runner.invoke(app, ["ingest", str(corpus)], env=env)
    result = runner.invoke(app, args, env=env)
    assert result.exit_code != 0
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_no_index_and_bad_settings(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["ask", "Anything?"], env=env)
    assert result.exit_code == 1 and "rag ingest" in result.stderr
    result = runner.invoke(app, ["stats"], env={**env, "RAG_COLLECTION": "ab"})
    assert result.exit_code == 2 and "3-512 characters" in result.stderr


def test_real_process_exit_code(tmp_path: Path) -> None:
    """The installed console script, in a fresh process: a clean message and exit 1."""
    rag = Path(sys.executable).parent / "rag"
    done = subprocess.run(
        [str(rag), "ask", "Why?", "--index-dir", str(tmp_path / "nothing")],
        capture_output=True, text=True, cwd=REPO, timeout=120,
        env={"PATH": "/usr/bin:/bin", "RAG_EMBEDDING_MODEL": "hashing"},
    )
    assert done.returncode == 1
    assert done.stderr.startswith("error: no index at")
    assert "Traceback" not in done.stderr


def test_chat_keeps_history(corpus: Path, env: dict[str, str]) -> None:
    runner.invoke(app, ["ingest", str(corpus)], env=env)
    result = runner.invoke(
        app,
        ["chat"],
        env=env,
        input="What did the finance minister say?\nWhat will he raise?\n\n",
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.count("Sources:") == 2
    assert "taxes on fuel will rise" in result.stdout.split("you>")[2]


def test_chat_wraps_at_word_boundaries_and_shows_the_rewritten_question(
    corpus: Path, env: dict[str, str]
) -> None:
    runner.invoke(app, ["ingest", str(corpus)], env=env)
    questions = "Where did the volcano erupt?\nHow many residents were evacuated because of it?\n\n"
    narrow, wide = (
        runner.invoke(app, ["chat"], env={**env, "COLUMNS": cols}, input=questions)
        for cols in ("40", "200")
    )
    assert narrow.exit_code == 0, narrow.output
    follow_up = " ".join(narrow.stdout.split("you>")[2].split())
    assert "(searched for: How many residents were evacuated because of the volcano?)" in follow_up
    # (The prompt "you> " shares a line with the output here: the runner echoes no input.)
    assert max(len(line.removeprefix("you> ")) for line in narrow.stdout.splitlines()) <= 39
    assert len(narrow.stdout.splitlines()) > len(wide.stdout.splitlines())
    # Wrapping only moved line breaks between words: the same words in the same order.
    assert narrow.stdout.split() == wide.stdout.split()


def _commands(group: Any, path: list[str]) -> list[tuple[list[str], Any]]:
    """(argv path, command) of every leaf command under a Typer group."""
    found: list[tuple[list[str], Any]] = []
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            found += _commands(command, [*path, name])
        else:
            found.append(([*path, name], command))
    return found


def test_every_option_help_is_shown_whole() -> None:
    """Rich markup eats text in square brackets: every word of every help text must show."""
    commands = _commands(typer.main.get_command(app), [])
    assert len(commands) >= 5
    for path, command in commands:
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0, (path, result.output)
        shown = " ".join(result.output.replace("│", " ").split())
        for param in command.params:
            text = getattr(param, "help", None) or ""
            for word in text.split():
                assert word in shown, (path, param.name, word)


def test_python_dash_m_rag_is_the_cli() -> None:
    done = subprocess.run([sys.executable, "-m", "rag", "ask", "--help"], capture_output=True,
                          text=True, cwd=REPO, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "--as-of" in done.stdout
