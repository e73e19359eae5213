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
    # Issue 13's own example: the place answered stays in the question ("that" is the
    # meeting in Ashgabat).
    assert turn("Where did Putin and Pezeshkian meet?", "In Ashgabat. [1]",
                "When was that?") == "When did Putin and Pezeshkian meet in Ashgabat?"
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


def test_the_previous_question_is_read_as_it_was_understood() -> None:
    history = [("human", "Who is Iran's foreign minister?"),
               ("ai", "Iranian Foreign Minister Abbas Araghchi reported to EU officials. [1]"),
               ("human", "Who criticized him?"),
               ("ai", "He was criticized by conservative journalist Fereshteh Sadeghi. [1]")]
    assert condense_question("Why?", history) == (
        "Why did Fereshteh Sadeghi criticize Abbas Araghchi?")


def test_referents_by_role_and_from_the_answer() -> None:
    # "Who did X ...?": X is the one the question was about, not the one answered.
    assert turn("Who did Araghchi report to on military cooperation with Russia?",
                "Araghchi reported to EU officials, only to be criticized by journalist "
                "Fereshteh Sadeghi. [1]",
                "Who criticized him?") == "Who criticized Araghchi?"
    # Two people pronouns: the one answered and the one asked about.
    assert turn("Who criticized Abbas Araghchi?",
                "Conservative journalist Fereshteh Sadeghi criticized him. [1]",
                "Why did she criticize him?") == (
        "Why did Fereshteh Sadeghi criticize Abbas Araghchi?")
    # "that" is the claim that answered a "what" subject question.
    assert turn("What could reduce Iran's dependence on Russia?",
                "A shift in Washington's approach could offer Iran alternatives, reducing "
                "its dependence on Russia. [1]",
                "What else would that change?") == (
        "What else would a shift in Washington's approach change?")
    # "they": the people the answer joins, not one named further on.
    assert turn("Who met in Ashgabat?",
                "Russian President Vladimir Putin and Iranian President Massoud Pezeshkian, "
                "who succeeded Ebrahim Raisi. [1]",
                "What did they discuss?") == (
        "What did Vladimir Putin and Massoud Pezeshkian discuss?")
    # The subject keeps its names: "the meeting between Putin and Pezeshkian".
    assert turn("Why did the meeting between Putin and Pezeshkian draw attention?",
                "Pezeshkian's reformist stance. [1]", "Where did it take place?") == (
        "Where did the meeting between Putin and Pezeshkian take place?")


@pytest.mark.parametrize(
    ("previous", "expected"),
    [("How many residents were evacuated near the volcano?", "the volcano"),
     ("By how much did the malaria vaccine cut infections?", "the malaria vaccine"),
     ("Why did farmers sell cattle in the drought?", "farmers")],
)
def test_tell_me_more_about_it_names_the_thing(previous: str, expected: str) -> None:
    assert turn(previous, "Something happened. [1]", "Tell me more about it.") == (
        f"Tell me more about {expected}.")


def test_what_about_takes_the_place_of_the_subject_or_the_object() -> None:
    assert turn("What are EU leaders focused on?", "Sanctions. [1]",
                "What about the US presidential candidates?") == (
        "What are the US presidential candidates focused on?")
    assert turn("Which Gulf ally does Moscow avoid upsetting?", "Saudi Arabia. [1]",
                "What about Israel?") == "Does Moscow avoid upsetting Israel?"


def test_role_words_are_an_owners_role_only() -> None:
    from rag.answering.conversation import role_words

    assert role_words("What did Iran's supreme leader say about the election?") == [
        "supreme", "leader"]
    for question in ("What does the outlook for Iran-Russia relations depend on?",
                     "What could change the course of Iran-Russia relations?",
                     "Who did Araghchi report to?", "What did the finance minister say?"):
        assert role_words(question) == []


def test_the_answer_goes_where_the_question_word_stood() -> None:
    # Aligned with the answer around the gap, not guessed from the question alone.
    assert turn("Which weapons does Moscow refrain from delivering to Iran?",
                "Moscow refrains from delivering high-grade weaponry like Su-35s and "
                "S-400s to Iran. [1]", "Why?") == (
        "Why does Moscow refrain from delivering high-grade weaponry like Su-35s and "
        "S-400s to Iran?")
    assert turn("What is Israel preparing for?",
                "Israel prepares for potential retaliation following Iran's missile "
                "strikes. [1]", "Why?") == "Why is Israel preparing for potential retaliation?"
    # Nothing lines up: nothing invented, both questions in one sentence.
    assert turn("Which Gulf ally does Moscow avoid upsetting?",
                "Moscow avoids risking relations with Gulf allies. [1]", "Why?") == (
        "Which Gulf ally does Moscow avoid upsetting, and why?")
    # "it" after a question ending on its preposition: the thing answered.
    assert turn("What did Russia warn Israel against?",
                "Russia's warnings to Israel against targeting Iranian nuclear sites "
                "underscore the friction. [1]", "Who said it would be catastrophic?") == (
        "Who said targeting Iranian nuclear sites would be catastrophic?")
    # A yes/no question's subject: "that" is what it asked about.
    assert turn("Is domestic support for pro-Western reformists growing?",
                "Support for pro-Western reformists wanes. [1]",
                "What does that mean for Tehran?") == (
        "What does domestic support for pro-Western reformists mean for Tehran?")


def test_more_turn_shapes() -> None:
    # "Who is <name>?": "she" is that person.
    assert turn("Who is Fereshteh Sadeghi?",
                "Conservative journalist Fereshteh Sadeghi criticized Abbas Araghchi. [1]",
                "Who did she attack?") == "Who did Fereshteh Sadeghi attack?"
    # A preposition with the question word.
    assert turn("Where did Putin and Pezeshkian meet?", "In Ashgabat. [1]",
                "On what date?") == "On what date did Putin and Pezeshkian meet in Ashgabat?"
    # No clean swap: the two questions in one sentence, no brackets.
    assert turn("Who wants Pezeshkian impeached?",
                "Hardline lawmakers call for his impeachment. [1]", "Over what?") == (
        "Who wants Pezeshkian impeached, and over what?")
    # "they" after "Who has ...?": the subject of the sentence that answered.
    assert turn("Who has criticized Iran for alleged missile transfers to Russia?",
                "Similarly, EU leaders are focused on sanctions and have criticized Iran. [1]",
                "What else are they focused on?") == "What else are EU leaders focused on?"
    # A possessive inside the subject: "a shift in Washington's approach".
    assert turn("What could a shift in Washington's approach offer Iran?",
                "Alternatives. [1]", "What else would it reduce?") == (
        "What else would a shift in Washington's approach reduce?")
    # The auxiliary agrees with the new subject.
    assert turn("What do reformists aim for?", "Western ties. [1]",
                "And the hardline faction?") == "What does the hardline faction aim for?"


@pytest.mark.parametrize("question", ["Will it rain in Ashgabat tomorrow?",
                                      "Does it seem likely that prices fall?"])
def test_an_it_that_stands_for_nothing_is_not_a_follow_up(question: str) -> None:
    assert not depends_on_history(question)


def test_referents_answered_by_a_kind_or_a_clause() -> None:
    # "And <a whole question>?" is that question.
    assert turn("What do reformists acknowledge about Russia?",
                "Reformists acknowledge Russia's strategic constraints. [1]",
                "And what do hardliners favor?") == "What do hardliners favor?"
    # "it" after "Which faction ...?": the faction that answered, before its verb.
    assert turn("Which faction argues for a closer relationship with Moscow?",
                "While reformists aim to strengthen Western ties, the hardline faction argues "
                "for a closer relationship with Moscow. [1]",
                "How does it view Western diplomacy?") == (
        "How does the hardline faction view Western diplomacy?")
    # "it" after "In which city ...?": the city answered.
    assert turn("In which city did the Eurasian leaders gather?",
                "A forum was held in Turkmenistan's capital, Ashgabat, where Eurasian leaders "
                "gathered. [1]", "What is it the capital of?") == (
        "What is Ashgabat the capital of?")
    # A name far from the question's words in a long answer did not answer "who".
    assert turn("Who wants Pezeshkian impeached?",
                "Iranian Foreign Minister Abbas Araghchi reported to EU officials on military "
                "cooperation with Russia. Meanwhile, reformists face domestic challenges, with "
                "hardline lawmakers calling for Pezeshkian's impeachment over diplomatic "
                "appointments. [1]", "Why?") == "Who wants Pezeshkian impeached, and why?"


def test_it_is_not_an_answered_publication_or_date() -> None:
    assert turn("Which publication wrote about the Ashgabat forum?",
                "An article by Responsible Statecraft explores a forum held in Ashgabat. [1]",
                "Which country hosted it?") == "Which country hosted the Ashgabat forum?"
    assert turn("What stance do the US presidential candidates take on Iran?",
                "Both US presidential candidates, Kamala Harris and Donald Trump, are taking a "
                "hardline stance. [1]", "Who are they?") == (
        "Who are the US presidential candidates?")


def test_who_asked_for_an_object_takes_the_answer_in_its_gap() -> None:
    assert turn("Who did Araghchi report to on military cooperation with Russia?",
                "Abbas Araghchi reported to EU officials on military cooperation with Russia, "
                "only to be criticized. [1]", "Why?") == (
        "Why did Araghchi report to EU officials on military cooperation with Russia?")
    assert turn("Whom did Putin meet at the forum?",
                "The forum's focus was the meeting between Vladimir Putin and Massoud "
                "Pezeshkian. [1]", "On what date?") == (
        "Whom did Putin meet at the forum, and on what date?")


def test_for_it_is_what_the_previous_question_said_was_done() -> None:
    answer = ("Foreign Minister Abbas Araghchi reported to EU officials on military "
              "cooperation with Russia, only to be criticized by Fereshteh Sadeghi. [1]")
    assert turn("Who did Araghchi report to on military cooperation with Russia?", answer,
                "Who criticized him for it?") == (
        "Who criticized Araghchi for reporting to EU officials on military cooperation "
        "with Russia?")
    assert turn("Why did the finance minister raise taxes?", "To close the deficit. [1]",
                "Who praised him for that?") == (
        "Who praised the finance minister for raising taxes?")


def test_referents_on_news_shapes() -> None:
    # The answer names the person beside the question's verb: "he" is that person.
    assert turn("Who did Trump say he would direct to review the Department of Education?",
                "Trump said he plans to direct tech billionaire Elon Musk, who is leading "
                "the Department of Government Efficiency, to review it. [1]",
                "Which department is he leading?") == "Which department is Elon Musk leading?"
    # No person answered "who": the person the question named; a possessive name and
    # a name run across two sentences are no answer.
    assert turn("Who questioned Ghislaine Maxwell in July 2025?",
                "“I have nothing to do with Jeffrey Epstein,” Trump said. Over two days, "
                "officials questioned Jeffrey Epstein's ex-girlfriend, Ghislaine Maxwell. [1]",
                "Who is her lawyer?") == "Who is Ghislaine Maxwell's lawyer?"
    # "it" is never a date; a name with the noun the question wrote after it.
    assert turn("How much of the Washburn Fire was contained in July 2022?",
                "The fire is 22% contained. [1]", "What is it threatening?") == (
        "What is the Washburn Fire threatening?")
    assert turn("Which act about the Epstein files did Trump sign in November 2025?",
                "The Epstein Transparency Act. [1]",
                "How long does the Justice Department have to release them?") == (
        "How long does the Justice Department have to release the Epstein files?")
    # A yes/no question's subject ends at the name before its verb.
    assert turn("Did the Epstein Transparency Act pass Congress easily?",
                "It cleared both chambers. [1]", "How many Republicans voted against it?") == (
        "How many Republicans voted against the Epstein Transparency Act?")
    # A place the gazetteer does not know, introduced as one.
    assert turn("Which town near Kyiv saw heavy fighting in February 2022?",
                "Heavy fighting around the city of Vasylkiv. [1]",
                "How far is it from the capital?") == "How far is Vasylkiv from the capital?"
    # The chain's notes after an answer name no one.
    assert turn("Who is the chief NORAD spokesperson?",
                "Captain Pamela Kunze, the chief NORAD spokesperson, spoke. [1] Newest source: "
                "11 Jan 2022, 4 years before 1 Dec 2026.",
                "What did she say?") == "What did Captain Pamela Kunze say?"


def test_what_about_a_common_noun_or_a_political_body() -> None:
    """Found in a new user's try (Chromium on `make run`): a lowercase noun was read as a
    name because the rewrite capitalised it ("Do hardline lawmakers want to do to
    Pezeshkian reformists?"), and the EU (an organisation) found no slot of its kind
    ("How does the EU Iran?"). A body like the EU takes a country's slot."""
    assert turn("What do hardline lawmakers want to do to Pezeshkian?",
                "Impeach him. [1]", "And what about reformists?") == (
        "What do reformists want to do to Pezeshkian?")
    assert turn("How does the article say the US election could affect Iran?",
                "The articles don't say.", "And what about the EU?") == (
        "How does the article say the EU election could affect Iran?")
    # A country still takes a country's slot, not an organisation's.
    assert turn("What did the EU say about Russia?", "Sanctions. [1]",
                "What about China?") == "What did the EU say about China?"
