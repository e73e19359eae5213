"""Reader feedback exported as suite cases, and those cases run against the chain."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.answering.chain import build_chain
from rag.answering.support import OfflineSupportJudge
from rag.app.cli import app
from rag.core.settings import Settings
from rag.evaluation.feedback import FeedbackRecord, append_feedback
from rag.evaluation.feedback_export import export_feedback, key_facts
from rag.evaluation.runner import run_suite
from rag.evaluation.suite import SuiteError, load_suite
from rag.indexing.ingest import ingest


def test_key_facts_prefer_names_and_numbers_the_answer_shows() -> None:
    quote = "Meanwhile, Russian President Vladimir Putin met 12 leaders in Ashgabat."
    answer = "Russian President Vladimir Putin met 12 leaders in Ashgabat. [1]"
    assert key_facts(quote, answer) == ["Russian President Vladimir Putin", "Ashgabat", "12"]
    plain = "the lava flowed toward the town and the harbour overnight"
    assert key_facts(plain, "The lava flowed toward the town and the harbour [1]") == [
        "the lava flowed toward the town"
    ]
    assert key_facts("nothing shared at all here", "other words") == []


def test_feedback_becomes_cases_that_run(
    corpus: Path, hashing_settings: Settings, tmp_path: Path
) -> None:
    ingest([corpus], hashing_settings)
    chain = build_chain(hashing_settings.model_copy(update={"abstain_threshold": 0.3}))
    feedback = tmp_path / "feedback.jsonl"

    liked = chain.invoke({"question": "How many residents were evacuated near the volcano?"})
    assert not liked.abstained
    append_feedback(feedback, FeedbackRecord.from_answer(liked, [], "up"))
    history = [("human", "Who won the national cup?"), ("ai", "The local football club [1]")]
    disliked = chain.invoke({"question": "Who scored in the final?", "chat_history": history})
    append_feedback(feedback, FeedbackRecord.from_answer(disliked, history, "down", "wrong"))
    nothing = chain.invoke({"question": "What is the population of Mars?"})
    record = FeedbackRecord.from_answer(nothing, [], "up")
    append_feedback(feedback, record.model_copy(update={"abstained": True}))

    out = tmp_path / "from-feedback.jsonl"
    assert export_feedback(feedback, out) == (3, 0)
    up, down, abstain = load_suite(out)

    assert up.question == liked.question
    # Facts of the cited quotes, as the liked answer shows them, the first quote's first.
    assert up.must_include[0] == ("Officials evacuated four thousand residents as",)
    assert all(len(group) == 1 and group[0] in liked.answer for group in up.must_include)
    assert up.evidence_ids == tuple(dict.fromkeys(c.article_id for c in liked.citations))
    assert down.turns == (("human", "Who won the national cup?"),
                          ("ai", "The local football club [1]"), "Who scored in the final?")
    assert not down.scored and "rejected" in down.extra["todo"]
    assert down.extra["feedback"]["comment"] == "wrong"
    assert abstain.abstain

    # The thumbs-up case passes on the system the reader liked, and fails when it breaks.
    report = run_suite([up, down], chain, OfflineSupportJudge(None))
    assert report["cases"][0]["passed"] is True
    assert report["cases"][1]["passed"] is None
    broken = build_chain(hashing_settings.model_copy(update={"abstain_threshold": 0.99}))
    assert run_suite([up], broken, OfflineSupportJudge(None))["cases"][0]["passed"] is False

    # Exporting again adds nothing; a new verdict adds one case.
    assert export_feedback(feedback, out) == (0, 3)
    again = chain.invoke({"question": "Who scored twice in the cup final?"})
    append_feedback(feedback, FeedbackRecord.from_answer(again, [], "up"))
    assert export_feedback(feedback, out) == (1, 3)
    assert len(load_suite(out)) == 4


def test_export_feedback_cli_and_bad_files(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["eval", "export-feedback", str(tmp_path / "none.jsonl"),
                                 str(tmp_path / "out.jsonl")])
    assert result.exit_code == 2 and "feedback file" in result.output
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"question": "q"}) + "\n")
    result = runner.invoke(app, ["eval", "export-feedback", str(bad), str(tmp_path / "o.jsonl")])
    assert result.exit_code == 2 and f"{bad}:1" in result.output
    with pytest.raises(SuiteError):
        export_feedback(bad, tmp_path / "o.jsonl")
    assert not (tmp_path / "o.jsonl").exists()
