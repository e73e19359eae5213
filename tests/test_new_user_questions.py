"""Questions a new user asked of the bundled article (issue 13), in their own words: each
gets a cited answer that says what the article says, and the answer opens with it."""

from __future__ import annotations

import numpy as np
import pytest

from rag.core.settings import Settings

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("question", "any_of"),
    [
        ("What problems is Pezeshkian facing at home?", ["impeachment"]),
        pytest.param("What was discussed at the Putin–Pezeshkian meeting?",
                     ["Middle Eastern tensions"], marks=pytest.mark.xfail(strict=True)),
        ("What is the outlook for Tehran's relationship with Moscow?",
         ["hinge on future US diplomacy", "cautious but pragmatic partnership"]),
        pytest.param("Were the details of the meeting made public?", ["kept under wraps"],
                     marks=pytest.mark.xfail(strict=True)),
        ("who is the current president of iran", ["Pezeshkian"]),
        # Asked in the last session's new-user try (docs/benchmarks.md), abstained then:
        # the article says "EU officials", never "Europe".
        ("Who criticised the foreign minister for talking to Europe?", ["Fereshteh Sadeghi"]),
        # This session's new-user try (Chromium on `make run`): abstained, because "name"
        # (the head noun of "What is the name of ...") is in no sentence.
        ("What is the name of the Russian official who called such strikes catastrophic?",
         ["Sergey Ryabkov"]),
    ],
)
def test_answered_and_cited(real_chain, question: str, any_of: list[str]) -> None:  # type: ignore[no-untyped-def]
    answer = real_chain.invoke({"question": question})
    assert not answer.abstained, answer.answer
    assert answer.citations and all(s.citation_ids for s in answer.sentences)
    first = answer.sentences[0].text
    assert any(phrase in first for phrase in any_of), answer.answer


def test_reformists_and_hardliners_both_said(real_chain) -> None:  # type: ignore[no-untyped-def]
    answer = real_chain.invoke({"question": "How do reformists and hardliners differ on Russia?"})
    assert not answer.abstained
    assert "Western ties" in answer.answer, answer.answer
    assert "closer ties with Russia" in answer.answer or "closer relationship with Moscow" in (
        answer.answer
    ), answer.answer


def test_a_role_nobody_in_the_article_holds_is_not_answered(real_chain) -> None:  # type: ignore[no-untyped-def]
    answer = real_chain.invoke({"question": "Who is the president of Turkmenistan?"})
    assert answer.abstained, answer.answer


def test_a_sentence_vector_does_not_depend_on_its_batch() -> None:
    from rag.answering.grounded import GroundedAnswerer
    from rag.indexing.embeddings import make_embeddings

    embeddings = make_embeddings(Settings(embedding_backend="onnx-int8"))
    answerer = GroundedAnswerer(embeddings)
    sentence = "Pezeshkian met Putin in Ashgabat on October 11."
    alone = answerer._embed([sentence])[0]
    batched = answerer._embed([
        "A much longer sentence about sanctions, arms sales and Gulf allies of Moscow, "
        "with many more words than the first one has.", sentence, "Short one."])[1]
    assert np.array_equal(alone, batched)
