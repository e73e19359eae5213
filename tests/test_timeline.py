"""A story over time: key sentences of matching articles by day, each cited."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.answering.timeline import Timeline, TimelineEntry, build_timeline
from rag.app.cli import app
from rag.core.errors import BadQuestionError
from rag.core.settings import Settings
from rag.indexing.ingest import ingest

from .conftest import write_article


@pytest.fixture
def strike(tmp_path: Path, hashing_settings: Settings) -> Settings:
    folder = tmp_path / "strike"
    write_article(folder, "a.md", "Port strike begins",
                  "Dock workers at the port of Valencia went on strike over pay. The strike "
                  "halted container traffic.", source="Ledger Wire", date="2026-02-10")
    write_article(folder, "b.md", "Port strike talks fail",
                  "Talks to end the port strike in Valencia failed. The union rejected a pay "
                  "offer of 4 percent.", source="Courier Daily", date="2026-02-17")
    write_article(folder, "c.md", "Port strike ends",
                  "The port strike in Valencia ended after workers accepted a 6 percent pay "
                  "rise. Container traffic resumed.", source="Ledger Wire", date="2026-02-25")
    write_article(folder, "c2.md", "Port strike over, union says",
                  "The union said the port strike in Valencia ended with a 5 percent pay rise "
                  "for workers.", source="Metro Post", date="2026-02-25")
    write_article(folder, "d.md", "Strike planned",
                  "Dock workers in Valencia will go on strike again over pay.",
                  source="Harbour Gazette", date="2026-03-10")
    assert ingest([folder], hashing_settings).ok
    return hashing_settings


def test_entries_in_date_order_grouped_by_day(strike: Settings) -> None:
    timeline = build_timeline(strike).invoke(
        {"query": "Valencia port strike", "as_of": "2026-02-28"}
    )
    assert isinstance(timeline, Timeline)
    days = [d.date for d in timeline.days]
    assert days == sorted(days) and days[0] == "2026-02-10"
    assert "2026-03-10" not in days  # published after the as-of day
    assert [len(d.entries) for d in timeline.days if d.date == "2026-02-25"] == [2]
    for entry in timeline.entries:
        assert isinstance(entry, TimelineEntry)
        assert entry.sentence in entry.citation.quote or entry.citation.quote in entry.sentence
        assert entry.citation.article_id == entry.article_id
    assert len({e.citation.id for e in timeline.entries}) == len(timeline.entries)


def test_from_to_window_and_conflict_marks(strike: Settings) -> None:
    timeline = build_timeline(strike).invoke(
        {"query": "port strike pay rise", "as_of": "2026-03-31",
         "date_from": "2026-02-20", "date_to": "2026-02-28"}
    )
    assert {e.date for e in timeline.entries} == {"2026-02-25"}
    marked = [e for e in timeline.entries if e.conflicts_with]
    assert len(marked) == 2  # 6 percent vs 5 percent, two outlets


def test_empty_query_is_refused(strike: Settings) -> None:
    with pytest.raises(BadQuestionError, match="query"):
        build_timeline(strike).invoke({"query": "  ?? "})


def test_cli_timeline(strike: Settings) -> None:
    runner = CliRunner()
    env = {"RAG_EMBEDDING_MODEL": "hashing"}
    args = ["timeline", "Valencia port strike", "--as-of", "2026-02-28",
            "--index-dir", str(strike.index.index_dir)]
    text = runner.invoke(app, args, env=env)
    assert text.exit_code == 0, text.output
    assert "10 Feb 2026" in text.stdout and "Sources:" in text.stdout
    assert text.stdout.index("10 Feb 2026") < text.stdout.index("25 Feb 2026")
    data = json.loads(runner.invoke(app, [*args, "--json"], env=env).stdout)
    assert data["days"][0]["entries"][0]["citation"]["id"] >= 1


FERRY = (
    "A ferry carrying 212 passengers sank off Sulawesi on Sunday. Rescuers said {n} people "
    "died in the sinking. The vessel had left the port of Bitung two hours earlier and was "
    "heading north. The coast guard sent three ships to the area and searched all night."
)


def test_versions_of_a_story_show_where_they_differ(
    tmp_path: Path, hashing_settings: Settings
) -> None:
    from rag.answering.chain import build_chain

    folder = tmp_path / "ferry"
    write_article(folder, "a.md", "Ferry sinks", FERRY.format(n=41),
                  source="Ledger Wire", date="2026-03-10")
    write_article(folder, "b.md", "Ferry sinks", FERRY.format(n=29),
                  source="Courier Daily", date="2026-03-11")
    assert ingest([folder], hashing_settings).ok
    timeline = build_timeline(hashing_settings).invoke(
        {"query": "ferry sank Sulawesi", "as_of": "2026-03-20"}
    )
    first, second = timeline.entries
    assert first.versions == [second.article_id] and second.versions == [first.article_id]
    assert "41 people" in first.sentence and "29 people" in second.sentence
    assert first.sentence in first.citation.quote
    assert first.conflicts_with == [second.citation.id]
    answer = build_chain(hashing_settings).invoke(
        {"question": "How many people died when the ferry sank off Sulawesi?",
         "as_of": "2026-03-20"}
    )
    [conflict] = answer.conflicts
    assert [v.value for v in conflict.values] == ["29 people", "41 people"]  # newest first
