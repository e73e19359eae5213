"""The chain end to end with an LLM backend (scripted model on loopback)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.answering.chain import build_chain
from rag.core.schema import Answer
from rag.core.settings import Settings
from rag.indexing.ingest import ingest

from .llm_servers import OllamaServer, OpenAICompatibleServer


def script(messages: list[dict]) -> str:  # type: ignore[type-arg]
    if "rewrite a follow-up question" in messages[0]["content"]:
        return "Who scored twice for the local football club in the cup final?"
    return "The striker scored twice in the final [1]. He later joined the moon mission [2]."


@pytest.fixture
def indexed(corpus: Path, hashing_settings: Settings) -> Settings:
    ingest([corpus], hashing_settings)
    return hashing_settings


@pytest.mark.parametrize("server_class", [OpenAICompatibleServer, OllamaServer])
def test_chain_with_llm_streams_and_flags(indexed: Settings, server_class: type) -> None:
    with server_class(script) as server:
        if server_class is OpenAICompatibleServer:
            settings = indexed.model_copy(
                update={"llm": "openai", "openai_base_url": server.base_url, "llm_model": "m"}
            )
        else:
            settings = indexed.model_copy(
                update={"llm": "ollama", "ollama_base_url": server.base_url, "llm_model": "m"}
            )
        chain = build_chain(settings)
        pieces = list(chain.stream({"question": "Who scored twice in the final?"}))
        answer = pieces[-1]
        assert isinstance(answer, Answer) and answer.answerer != "grounded"
        assert len(pieces) > 3  # tokens arrived as a stream
        assert "".join(p for p in pieces if isinstance(p, str)).strip() == answer.answer
        by_text = {s.text.split(" [")[0]: s.supported for s in answer.sentences}
        supported = [t for t, ok in by_text.items() if ok]
        flagged = [t for t, ok in by_text.items() if not ok]
        assert any("striker scored twice" in t for t in supported)
        assert any("moon mission" in t for t in flagged)

        follow = chain.invoke(
            {
                "question": "How many goals did he score?",
                "chat_history": [("human", "Who scored twice in the final?"),
                                 ("ai", answer.answer)],
            }
        )
        assert follow.standalone_question.startswith("Who scored twice for the local")


def test_with_an_llm_the_model_rewrites_the_follow_up(indexed: Settings) -> None:
    """Issue 13: with an LLM backend the LLM's rewrite stays. The model gets the turns
    (without citation markers) and the follow-up as asked; its rewrite is what the chain
    shows and searches, not the rules' rewrite."""
    seen: list[str] = []

    def rewrite(messages: list[dict]) -> str:  # type: ignore[type-arg]
        if "rewrite a follow-up question" in messages[0]["content"]:
            seen.append(messages[-1]["content"])
            return "When did the striker of the local football club score twice?"
        return "The striker scored twice in the final [1]."

    with OpenAICompatibleServer(rewrite) as server:
        settings = indexed.model_copy(
            update={"llm": "openai", "openai_base_url": server.base_url, "llm_model": "m"}
        )
        chain = build_chain(settings)
        history = [("human", "Who scored twice in the final?"),
                   ("ai", "The striker scored twice in the final. [1]")]
        follow = chain.invoke({"question": "When was that?", "chat_history": history})
    assert follow.standalone_question == (
        "When did the striker of the local football club score twice?")
    assert follow.search_query == follow.standalone_question
    assert len(seen) == 1 and "When was that?" in seen[0]
    assert "Who scored twice in the final?" in seen[0] and "[1]" not in seen[0]
