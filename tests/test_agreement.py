"""Agreement and conflict between sources: typed values compared across articles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.answering.agreement import asked_kind
from rag.answering.chain import build_chain
from rag.app.cli import app
from rag.app.render import render_answer
from rag.core.settings import Settings
from rag.indexing.ingest import ingest

from .conftest import write_article


@pytest.fixture
def summit(tmp_path: Path, hashing_settings: Settings) -> Settings:
    folder = tmp_path / "summit"
    write_article(folder, "a.md", "Summit venue chosen",
                  "The next climate summit will be held in Tampa, the organisers said. About "
                  "40,000 delegates are expected.", source="Ledger Wire", date="2026-03-02")
    write_article(folder, "b.md", "Organisers pick summit host",
                  "Organisers chose Glendale to host the next climate summit. The decision "
                  "followed months of talks.", source="Courier Daily", date="2026-03-09")
    write_article(folder, "c.md", "Summit host confirmed",
                  "The climate summit will be held in Glendale next year, officials confirmed. "
                  "Hotels are already booked.", source="Metro Post", date="2026-03-05")
    assert ingest([folder], hashing_settings).ok
    return hashing_settings


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How many people died?", "number"),
        ("Who won the election?", "person"),
        ("Where will the summit be held?", "place"),
        ("When will the bridge reopen?", "date"),
        ("Did the senate approve the budget?", "yes/no"),
        ("Why did the talks fail?", None),
    ],
)
def test_asked_kind(question: str, kind: str | None) -> None:
    assert asked_kind(question) == kind


def test_conflict_is_stated_and_typed(summit: Settings) -> None:
    answer = build_chain(summit).invoke(
        {"question": "Where will the climate summit be held?", "as_of": "2026-03-20"}
    )
    assert len(answer.conflicts) == 1
    conflict = answer.conflicts[0]
    assert conflict.kind == "place"
    values = {v.value: v for v in conflict.values}
    assert set(values) == {"Tampa", "Glendale"}
    assert set(values["Glendale"].outlets) == {"Courier Daily", "Metro Post"}
    assert conflict.values[0].value == "Glendale"  # the newest report first
    by_id = {c.id: c for c in answer.citations}
    for value in conflict.values:
        assert value.citation_ids and all(
            value.value in by_id[i].quote for i in value.citation_ids
        )
    assert "Sources disagree: " in answer.answer
    assert "Ledger Wire [" in answer.answer and "says Tampa" in answer.answer
    assert "Sources disagree" in render_answer(answer)


def test_corroboration_counts_outlets(summit: Settings) -> None:
    answer = build_chain(summit).invoke(
        {"question": "Where will the climate summit be held?", "as_of": "2026-03-20",
         "filters": {"sources": ["Courier Daily", "Metro Post"]}}
    )
    assert not answer.conflicts and "Sources disagree" not in answer.answer
    assert answer.corroboration is not None and answer.corroboration.count == 2


def test_single_source_has_no_conflict(summit: Settings) -> None:
    answer = build_chain(summit).invoke(
        {"question": "Where will the climate summit be held?", "as_of": "2026-03-20",
         "filters": {"sources": ["Ledger Wire"]}}
    )
    assert not answer.conflicts
    assert answer.corroboration is not None and answer.corroboration.count == 1


def test_cli_json_lists_conflicts(summit: Settings) -> None:
    result = CliRunner().invoke(
        app, ["ask", "Where will the climate summit be held?", "--as-of", "2026-03-20",
              "--index-dir", str(summit.index.index_dir), "--json"],
        env={"RAG_EMBEDDING_MODEL": "hashing"},
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["conflicts"][0]["kind"] == "place"
    assert data["corroboration"]["outlets"]


def test_export_keeps_outlets_dates_and_conflicts(summit: Settings) -> None:
    from rag.app.conversation_export import export_markdown

    answer = build_chain(summit).invoke(
        {"question": "Where will the climate summit be held?", "as_of": "2026-03-20"}
    )
    text = export_markdown([answer])
    assert "As of 20 Mar 2026" in text
    assert "Sources disagree" in text
    assert "Ledger Wire, 2 Mar 2026" in text


def test_eval_summary_counts_conflict_alarms(summit: Settings) -> None:
    from rag.evaluation.runner import run_suite
    from rag.evaluation.suite import parse_case

    from .test_eval_runner import JUDGE

    cases = [
        parse_case({"id": "venue", "question": "Where will the climate summit be held?",
                    "as_of": "2026-03-20"}, "line 1"),
        parse_case({"id": "one", "question": "Where will the climate summit be held?",
                    "as_of": "2026-03-20", "filters": {"sources": ["Ledger Wire"]}}, "line 2"),
    ]
    summary = run_suite(cases, build_chain(summit), JUDGE)["summary"]
    assert summary["n_conflict_alarms"] == 1
