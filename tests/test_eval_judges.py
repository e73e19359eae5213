"""The LLM support judge, against a loopback server speaking the OpenAI protocol."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rag.answering.support import OfflineSupportJudge
from rag.core.settings import Settings
from rag.evaluation.judge_agreement import BUNDLED_PAIRS
from rag.evaluation.judges import LLMSupportJudge, judge_agreement, make_support_judge
from tests.conftest import REPO
from tests.llm_servers import Messages, OpenAICompatibleServer


def entailment_script(messages: Messages) -> str:
    """A scripted model: 'yes' when every word of the claim is in the evidence."""
    prompt = messages[-1]["content"]
    evidence = re.search(r"Evidence:\n(.*)\n\nClaim:", prompt, re.S)
    claim = re.search(r"Claim: (.*)\n", prompt)
    assert evidence and claim, prompt
    words = set(re.findall(r"\w+", evidence.group(1).lower()))
    return "Yes." if set(re.findall(r"\w+", claim.group(1).lower())) <= words else "No"


def test_llm_judge_is_used_when_an_llm_is_configured() -> None:
    with OpenAICompatibleServer(entailment_script) as server:
        settings = Settings(llm="openai", llm_model=server.model, embedding_model="hashing",
                            openai_base_url=server.base_url, openai_api_key="sk-test-1",
                            llm_timeout_s=10)
        judge = make_support_judge(settings)
        assert isinstance(judge, LLMSupportJudge)
        assert judge.score("Lava flowed toward the town [1].",
                           "Lava flowed toward the town. People left.") == 1.0
        assert judge.score("Lava flowed away.", "Lava flowed toward the town.") == 0.0
        assert judge.supports("Lava flowed toward the town.", "Lava flowed toward the town.")
        # The citation marker is not part of the claim the model is asked about.
        assert "[1]" not in server.requests[0].body["messages"][-1]["content"]
        assert judge.score("", "evidence") == 0.0  # nothing to judge, no request
        assert len([r for r in server.requests if r.path.endswith("/chat/completions")]) == 3


def test_unreadable_reply_counts_as_unsupported() -> None:
    with OpenAICompatibleServer(lambda messages: "I cannot tell.") as server:
        settings = Settings(llm="openai", llm_model=server.model, embedding_model="hashing",
                            openai_base_url=server.base_url, llm_timeout_s=10)
        assert make_support_judge(settings).score("a claim here", "some evidence") == 0.0


def test_offline_judge_without_llm_and_its_agreement() -> None:
    settings = Settings(embedding_model="hashing")
    judge = make_support_judge(settings)
    assert isinstance(judge, OfflineSupportJudge)
    figures = judge_agreement(OfflineSupportJudge(None), BUNDLED_PAIRS,
                              0.5)
    assert figures is not None and figures["n"] >= 20
    assert 0.0 <= figures["accuracy"] <= 1.0 and "scores" not in figures
    assert judge_agreement(judge, REPO / "evals" / "missing.jsonl", 0.5) is None


def test_llm_judge_needs_a_model() -> None:
    with pytest.raises(ValueError, match="chat model"):
        LLMSupportJudge(None)  # type: ignore[arg-type]


def test_judge_kind_can_be_forced() -> None:
    settings = Settings(llm="openai", openai_base_url="http://127.0.0.1:9/v1",
                        embedding_model="hashing")
    assert isinstance(make_support_judge(settings, kind="offline"), OfflineSupportJudge)
    with pytest.raises(ValueError, match="needs an LLM"):
        make_support_judge(Settings(embedding_model="hashing"), kind="llm")
    with pytest.raises(ValueError, match="unknown"):
        make_support_judge(settings, kind="nli")


def test_cli_refuses_an_llm_judge_without_an_llm(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from rag.app.cli import app

    suite = tmp_path / "s.jsonl"
    suite.write_text('{"id": "a", "question": "q?"}\n')
    result = CliRunner().invoke(app, ["eval", str(suite), "--judge", "llm", "--out",
                                      str(tmp_path / "o")], env={"RAG_LLM": "none"})
    assert result.exit_code == 2 and "--llm openai|ollama" in result.output
