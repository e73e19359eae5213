"""The chain as a Runnable: invoke, stream, batch, async, threads, bad questions."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.runnables import Runnable

from rag.answering.chain import build_chain
from rag.answering.conversation import condense_question, normalise_history
from rag.core.errors import BadQuestionError, IndexMissingError
from rag.core.schema import Answer
from rag.core.settings import Settings
from rag.indexing.ingest import ingest


@pytest.fixture
def chain(corpus: Path, hashing_settings: Settings):  # type: ignore[no-untyped-def]
    ingest([corpus], hashing_settings)
    # The fake embeddings score lower than the real model: a threshold to match.
    return build_chain(hashing_settings.model_copy(update={"abstain_threshold": 0.3}))


def test_invoke_returns_a_cited_answer(chain) -> None:  # type: ignore[no-untyped-def]
    assert isinstance(chain, Runnable)
    answer = chain.invoke({"question": "How many residents were evacuated near the volcano?"})
    assert isinstance(answer, Answer)
    assert not answer.abstained
    assert "four thousand residents" in answer.answer
    assert answer.citations and answer.citations[0].title == "Volcano erupts in Iceland"
    # Every sentence carries a citation whose quote is verbatim article text.
    for sentence in answer.sentences:
        assert sentence.citation_ids
        assert f"[{sentence.citation_ids[0]}]" in answer.answer
    text = chain.engine.index.article_text(answer.citations[0].article_id)
    for c in answer.citations:
        assert text[c.quote_start : c.quote_end] == c.quote
        assert c.quote in c.passage
    assert answer.timings_ms["total_ms"] > 0
    assert answer.standalone_question == answer.question


def test_stream_yields_text_then_answer(chain) -> None:  # type: ignore[no-untyped-def]
    pieces = list(chain.stream({"question": "Who scored twice in the cup final?"}))
    assert isinstance(pieces[-1], Answer)
    text = "".join(p for p in pieces[:-1] if isinstance(p, str))
    assert text == pieces[-1].answer


def test_batch_async_and_threads(chain) -> None:  # type: ignore[no-untyped-def]
    questions = ["volcano lava town", "budget vote result", "football fans celebrate"]
    batch = chain.batch([{"question": q} for q in questions])
    assert [a.citations[0].title for a in batch] == [
        "Volcano erupts in Iceland", "Parliament passes budget", "Local club wins the cup",
    ]
    answer = asyncio.run(chain.ainvoke({"question": "volcano lava town"}))
    assert answer.answer == batch[0].answer
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda q: chain.invoke({"question": q}), questions * 4))
    # No answer is mixed up with another thread's question.
    assert [r.answer for r in results] == [a.answer for a in batch] * 4


def test_filters_reach_retrieval(chain) -> None:  # type: ignore[no-untyped-def]
    answer = chain.invoke(
        {"question": "What happened on Monday?", "filters": {"sources": ["news.test"]}}
    )
    assert all(c.source == "news.test" for c in answer.citations)


def test_unanswerable_question_abstains(chain) -> None:  # type: ignore[no-untyped-def]
    answer = chain.invoke({"question": "What is the population of Mars colonies?"})
    assert answer.abstained and not answer.citations
    assert "don't say" in answer.answer


@pytest.mark.parametrize(
    ("question", "message"),
    [("", "empty"), ("   ", "empty"), ("?!?", "no words"), ("x" * 100_000, "100,000")],
)
def test_bad_questions(chain, question: str, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(BadQuestionError, match=message):
        chain.invoke({"question": question})


def test_no_index_is_a_clear_error(tmp_path: Path) -> None:
    settings = Settings(index_dir=tmp_path / "none", embedding_model="hashing")
    with pytest.raises(IndexMissingError, match="rag ingest"):
        build_chain(settings)
    assert not (tmp_path / "none").exists()  # asking never creates an empty index


def test_history_formats_and_condensing() -> None:
    history = normalise_history(
        [HumanMessage("Who is Iran's president?"), AIMessage("Massoud Pezeshkian [1]")]
    )
    assert history == [("human", "Who is Iran's president?"), ("ai", "Massoud Pezeshkian [1]")]
    assert normalise_history([{"role": "user", "content": "hi"}]) == [("human", "hi")]
    with pytest.raises(ValueError, match="role"):
        normalise_history([("robot", "x")])
    # "he" is the person the previous answer named for "Iran's president".
    assert (
        condense_question("Who did he meet in Ashgabat?", history)
        == "Who did Massoud Pezeshkian meet in Ashgabat?"
    )
    assert condense_question("What is his party?", history) == "What is Massoud Pezeshkian's party?"
    unnamed = [("human", "Who is Iran's president?"), ("ai", "The articles don't say.")]
    assert (
        condense_question("Who did he meet in Ashgabat?", unnamed)
        == "Who did Iran's president meet in Ashgabat?"
    )
    named = [("human", "Tell me about the forum"), ("ai", "Vladimir Putin met Massoud Pezeshkian.")]
    assert condense_question("What did he say?", named) == "What did Vladimir Putin say?"
    # Ellipsis puts the new words in the previous question's slot, never appends it.
    assert condense_question("And Russia's?", history) == "Who is Russia's president?"
    assert condense_question("Who won the cup final on Saturday?", history) == (
        "Who won the cup final on Saturday?"
    )


def test_follow_up_uses_history(chain) -> None:  # type: ignore[no-untyped-def]
    first = chain.invoke({"question": "What did the finance minister say?"})
    follow = chain.invoke(
        {
            "question": "What will he raise?",
            "chat_history": [("human", "What did the finance minister say?"), ("ai", first.answer)],
        }
    )
    assert follow.standalone_question != follow.question
    assert "finance minister" in follow.standalone_question
    assert "fuel" in follow.answer
