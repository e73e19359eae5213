"""Follow-ups without an LLM: does the turn depend on the history, and its rewrite."""

from __future__ import annotations

import pytest

from rag.answering.conversation import condense_question, depends_on_history


@pytest.mark.parametrize(
    "question",
    ["Who is Iran's president?", "Which Gulf ally does Moscow avoid upsetting?",
     "What's the weather like in Paris today?", "Is there a deal on arms sales?",
     "Which country banned teens from social media that year?"],
)
def test_a_question_that_stands_on_its_own_is_left_alone(question: str) -> None:
    assert not depends_on_history(question)
    history = [("human", "Why is Russia withholding S-400s from Iran?"),
               ("ai", "Russia's ties with Israel add further complexity. [1]")]
    assert condense_question(question, history) == question


@pytest.mark.parametrize(
    "question",
    ["Where?", "Why not?", "When was that?", "And Russia's?", "What about Harris?",
     "Who did he meet?", "What is its capital?", "Who met there?", "Who else?"],
)
def test_dependent_turns_are_recognised(question: str) -> None:
    assert depends_on_history(question)


def turn(previous: str, answer: str, question: str) -> str:
    return condense_question(question, [("human", previous), ("ai", answer)])


def test_ellipsis_takes_the_previous_question_with_the_new_question_word() -> None:
    assert turn("Where did Putin and Pezeshkian meet?", "In Ashgabat. [1]",
                "When was that?") == "When did Putin and Pezeshkian meet?"
    assert turn("Does Russia deliver Su-35s to Iran?", "Moscow refrains from it. [1]",
                "Why not?") == "Why doesn't Russia deliver Su-35s to Iran?"
    assert turn("What was the main topic of the Putin–Pezeshkian meeting?", "Tensions. [1]",
                "Where?") == "Where was the Putin–Pezeshkian meeting?"
    # The question word was the subject: the answer takes its place.
    assert turn("Who criticized Abbas Araghchi?",
                "Conservative journalist Fereshteh Sadeghi criticized him. [1]",
                "Why?") == "Why did Fereshteh Sadeghi criticize Abbas Araghchi?"


def test_and_what_about_fill_the_matching_slot() -> None:
    assert turn("Who is Iran's president?", "Massoud Pezeshkian. [1]",
                "And Russia's?") == "Who is Russia's president?"
    assert turn("Who is the president of Turkmenistan?", "The articles don't say.",
                "And of Iran?") == "Who is the president of Iran?"
    assert turn("What did Trump withdraw from as president?", "The nuclear deal. [1]",
                "What about Harris?") == "What did Harris withdraw from as president?"
    assert turn("What do Iranian hardliners want?", "Closer ties with Moscow. [1]",
                "And the reformists?") == "What do the reformists want?"


def test_pronouns_get_a_referent_of_their_kind() -> None:
    # "he" after a question about a country stays: there is no person to put in place.
    assert turn("Why is Russia withholding S-400s from Iran?",
                "Russia's ties with Israel add further complexity. [1]",
                "Who did he meet in Ashgabat?") == "Who did he meet in Ashgabat?"
    assert turn("Who succeeded Ebrahim Raisi?",
                "Massoud Pezeshkian, elected after the passing of Ebrahim Raisi. [1]",
                "What is his political stance?") == (
        "What is Massoud Pezeshkian's political stance?")
    assert turn("When was the Ashgabat forum?", "October 11. [1]",
                "Who met there?") == "Who met in Ashgabat?"
    assert turn("Where was the forum held?", "In Ashgabat, Turkmenistan's capital. [1]",
                "Which country is that in?") == "Which country is Ashgabat in?"
    assert turn("Which country's capital hosted the forum?", "Turkmenistan. [1]",
                "Who is its president?") == "Who is Turkmenistan's president?"
    assert turn("What are EU leaders focused on?", "Sanctions. [1]",
                "What have they criticized Iran for?") == (
        "What have EU leaders criticized Iran for?")
    rewritten = turn("What is the outlook for Iran-Russia relations?", "Cautious. [1]",
                     "What does it depend on?")
    assert rewritten == "What does the outlook for Iran-Russia relations depend on?"
    assert "(" not in rewritten  # never the previous question glued on
