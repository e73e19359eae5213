"""Typed candidate spans: what a question asks for, spans found, grouped and voted."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from langchain_core.documents import Document

from rag.answering.spans import (
    Candidate,
    SpanType,
    candidates,
    expected_type,
    extract,
    group,
    named_in_question,
    vote,
)


@pytest.mark.parametrize(
    ("question", "wanted"),
    [
        ("Which country recently banned young teens from social media?", SpanType.COUNTRY),
        ("A driver rammed a truck into a crowd in which city?", SpanType.CITY),
        ("Which US state raises the most turkeys?", SpanType.PLACE),
        ("Who was elected mayor of New York City?", SpanType.PERSON),
        ("Which automaker announced it is scaling back its EV plans?",
         SpanType.ORGANISATION),
        ("How many House Republicans voted against the bill?", SpanType.COUNT),
        ("How long did the stalemate last?", SpanType.DURATION),
        ("How much did the painting sell for?", SpanType.MONEY),
        ("When was the forum held?", SpanType.DATE),
        ("In what year did the war end?", SpanType.DATE),
        ("Which movie won best picture?", SpanType.TITLE),
        ("Where did the Pilgrims celebrate the first Thanksgiving?", SpanType.PLACE),
        ("Which sitting vice president is named in the piece?", SpanType.PERSON),
        ("Which commentator attacked the foreign minister for his outreach?",
         SpanType.PERSON),
        ("Which conservative Iranian journalist criticised him?", SpanType.PERSON),
    ],
)
def test_the_question_says_what_kind_of_answer_it_wants(
    question: str, wanted: SpanType
) -> None:
    expected = expected_type(question)
    assert max(expected.types, key=expected.types.__getitem__) == wanted


@pytest.mark.parametrize(
    "question",
    ["Why is Russia withholding S-400s from Iran?", "How do reformists differ from hardliners?",
     "What did Trump withdraw from?",
     "Which illness could be more severe in the US this year due to a new variant?",
     "Which type of outbreak has been linked to recalled pasta meals?"],
)
def test_why_how_and_open_questions_keep_sentence_answers(question: str) -> None:
    assert not expected_type(question).wants_span


def spans_of(sentence: str) -> dict[str, SpanType]:
    return {s.text: s.type for s in extract(sentence)}


def test_spans_are_typed_with_gazetteers_and_units() -> None:
    found = spans_of(
        "Russian Deputy Foreign Minister Sergey Ryabkov met Kamala Harris in Ashgabat, "
        "Turkmenistan, on October 11, 2025, and the talks lasted 43 days at a cost of "
        "$5 billion, 2.5% of the budget of the University of Idaho."
    )
    assert found["Sergey Ryabkov"] == SpanType.PERSON  # the title is not the name
    assert found["Kamala Harris"] == SpanType.PERSON
    assert found["Ashgabat"] == SpanType.CITY
    assert found["Turkmenistan"] == SpanType.COUNTRY
    assert found["October 11, 2025"] == SpanType.DATE
    assert found["43 days"] == SpanType.DURATION
    assert found["$5 billion"] == SpanType.MONEY
    assert found["2.5%"] == SpanType.PERCENT
    assert found["University of Idaho"] == SpanType.ORGANISATION


def test_no_spans_from_model_numbers_adverbs_or_adjectives() -> None:
    found = spans_of("Similarly, Moscow refrains from delivering Su-35s and S-400s to "
                     "Iranian forces amid escalating Middle Eastern tensions.")
    assert "35" not in found and "400" not in found and "ten" not in found
    assert "Similarly" not in found and "Iranian" not in found
    assert found["Moscow"] == SpanType.CITY
    assert spans_of('The film "When Harry Met Sally" turned 35.')["When Harry Met Sally"] == (
        SpanType.TITLE
    )


def test_dates_written_differently_share_a_key() -> None:
    a = next(s for s in extract("It opened on Oct. 11, 2025 in Paris.") if s.type == "date")
    b = next(s for s in extract("It opened on October 11, 2025.") if s.type == "date")
    assert a.key == b.key == "2025-10-11"


def doc(text: str, article: str, source: str, chunk: str | None = None) -> Document:
    return Document(page_content=text, id=chunk or article, metadata={
        "article_id": article, "chunk_id": chunk or article, "source": source,
        "date": "2026-01-02", "title": article})


def test_candidates_keep_where_they_came_from_and_group_across_outlets() -> None:
    passages = [
        doc("Australia banned teens from social media. Officials in Canberra cheered.",
            "a1", "cnn.com"),
        doc("A ban on social media for teens took effect in Australia on Wednesday.",
            "a2", "usatoday.com"),
        doc("Vladimir Putin met Massoud Pezeshkian. Putin said little.", "a3", "cnn.com"),
    ]
    found = candidates(passages)
    australia = [c for c in found if c.key == "australia"]
    assert {(c.article_id, c.outlet) for c in australia} == {("a1", "cnn.com"),
                                                             ("a2", "usatoday.com")}
    assert all(isinstance(c, Candidate) and c.date == "2026-01-02" for c in australia)
    first = australia[0]
    assert first.sentence[first.start:first.end] == "Australia"
    groups = {g.key: g for g in group(found)}
    assert groups["australia"].outlets == 2 and groups["australia"].articles == 2
    assert len(groups["vladimir putin"].members) == 2  # "Putin" joins "Vladimir Putin"
    assert "putin" not in groups


def test_vote_drops_what_the_question_names_and_counts_outlets() -> None:
    passages = [
        doc("Australia banned young teens from social media, unlike Britain.", "a1", "cnn"),
        doc("Australia's ban on social media for teens began.", "a2", "usatoday"),
        doc("Britain considered a similar ban.", "a3", "bbc"),
    ]
    question = "Which country banned young teens from social media, unlike Britain?"
    ranked = vote(question, candidates(passages), lambda c: 0.6)
    assert ranked[0].text == "Australia" and ranked[0].outlets == 2
    assert all(g.key != "britain" for g in ranked)  # the question names it
    assert 0 < ranked[0].confidence <= 1
    assert named_in_question("Did President Trump speak?", "Donald Trump")
    assert vote("Why did Australia ban teens?", candidates(passages), lambda c: 0.6) == []


def test_a_span_adding_a_number_is_not_named_by_the_question() -> None:
    # The question names the month; the day is what it asks for.
    assert not named_in_question("On what day in October did leaders meet?", "October 11")
    assert not named_in_question("How many in 2024?", "2024 and 2025")
    assert named_in_question("What happened on October 11?", "October 11")
    passages = [doc("The forum was held in Ashgabat on October 11.", "a1", "cnn")]
    ranked = vote("On what day in October was the forum held?", candidates(passages),
                  lambda c: 0.6)
    assert ranked and "11" in ranked[0].text


def test_fit_decides_between_equally_carried_spans() -> None:
    passages = [doc("Belgium beat the United States. Fans in Canada watched.", "a1", "x")]
    best_sentence = {0: 0.9}
    ranked = vote("Which country beat the United States?", candidates(passages),
                  lambda c: best_sentence.get(c.sentence_start, 0.3))
    assert ranked[0].text == "Belgium"
    assert ranked[0].confidence > ranked[1].confidence


def test_the_grounded_answer_opens_with_the_voted_short_answer() -> None:
    from rag.answering.grounded import GroundedAnswerer
    from rag.core.settings import Settings
    from rag.indexing.embeddings import HashingEmbeddings

    settings = Settings(embedding_model="hashing", abstain_threshold=0.2,
                        short_answer_confidence=0.2)
    answerer = GroundedAnswerer.from_settings(settings, HashingEmbeddings())
    passages = [
        doc("The United States was eliminated from the World Cup on Tuesday. Belgium beat "
            "the United States 2-1 in the round of 16.", "w1", "cnn.com"),
        doc("Belgium knocked the United States out of the World Cup with a 2-1 win.",
            "w2", "usatoday.com"),
    ]
    answer = answerer.answer("Which country beat the United States in the World Cup?",
                             passages)
    assert answer.short_answer is not None
    assert answer.short_answer.text == "Belgium" and answer.short_answer.type == "country"
    assert answer.short_answer.outlets == 2
    assert answer.answer.startswith("Belgium. [")
    cited = {c.id: c for c in answer.citations}
    assert "Belgium" in cited[answer.short_answer.citation_ids[0]].quote
    # The sentence that names the winner is preferred over the one echoing the question.
    assert all("eliminated" not in s.text for s in answer.sentences[:2])
    why = answerer.answer("Why was the United States eliminated from the World Cup?", passages)
    assert why.short_answer is None


def test_llm_claims_naming_what_no_passage_states_are_caught() -> None:
    from rag.answering.llm import unstated_spans

    evidence = "Belgium beat the United States 2-1 on Tuesday in the round of 16."
    assert unstated_spans("Belgium won 2-1.", evidence) == []
    assert unstated_spans("France won.", evidence) == ["France"]
    assert unstated_spans("It happened on October 11, 2025.", evidence) == ["October 11, 2025"]


@pytest.mark.parametrize(
    ("question", "wh"),
    [
        ("Which country was among the hardest hit when Hurricane Melissa tore through the "
         "Caribbean?", "which country"),
        ("Who was president when the wall fell?", "who"),
        ("Where was she living when the war began?", "where"),
        ("When did the wall fall?", "when"),
        ("In what year did the wall fall?", "when"),
        ("The bridge reopened to traffic when?", "when"),
    ],
)
def test_a_when_clause_does_not_make_a_date_question(question: str, wh: str) -> None:
    """'when' inside the question is a conjunction unless no question word comes first."""
    assert expected_type(question).wh == wh


@pytest.mark.parametrize(
    ("sentence", "name", "kind"),
    [
        ("The first Labor Day parade was held in New York City in 1882.", "New York City",
         SpanType.CITY),
        ("New Mexico passed the law last year.", "New Mexico", SpanType.PLACE),
        ("Voters in New Jersey chose a governor.", "New Jersey", SpanType.PLACE),
        ("The envoy flew to New Zealand on Friday.", "New Zealand", SpanType.COUNTRY),
        ("The court in The Hague ruled on Monday.", "The Hague", SpanType.CITY),
        ("The New York Jets fired their coach.", "New York Jets", SpanType.ORGANISATION),
    ],
)
def test_a_place_whose_name_opens_with_a_function_word_keeps_it(
    sentence: str, name: str, kind: SpanType
) -> None:
    """Gazetteer names that open with "New" or "The" are whole names, not the rest of
    them ("York", "Mexico": a different place)."""
    found = spans_of(sentence)
    assert found.get(name) == kind, found


def test_a_leading_function_word_is_still_dropped_from_other_names() -> None:
    found = spans_of("New Rules took effect in Paris on Monday.")
    assert "Paris" in found and "New Rules" not in found
    found = spans_of("After Macron spoke, reporters left.")
    assert "Macron" in found and "After Macron" not in found


def test_a_name_no_gazetteer_knows_is_a_person_when_the_text_treats_it_as_one() -> None:
    """"Zohran Mamdani" has no known first name; "Mamdani, 34, ..." and "... Mamdani
    said" in the passages read make him a person, so a "who" question weighs him as one."""
    passages = [
        doc("Zohran Mamdani was elected mayor of the city on Tuesday.", "a1", "x"),
        doc("Mamdani, 34, rose from relative obscurity.", "a2", "y"),
        doc("Union Square filled with supporters after the vote.", "a3", "z"),
    ]
    groups = {g.key: g for g in group(candidates(passages))}
    assert groups["zohran mamdani"].type == SpanType.PERSON
    assert groups["union square"].type == SpanType.ENTITY  # nothing says it is a person
    said = [doc("Later, Zohran Mamdani said the city would change.", "a1", "x")]
    assert {g.key: g for g in group(candidates(said))}["zohran mamdani"].type == (
        SpanType.PERSON
    )


def test_a_place_the_question_names_is_found_under_its_codes() -> None:
    """A question naming "Europe" or "the United States" is about passages that say
    "EU" or "US"; a name no passage carries in any form still means other passages."""
    from rag.answering.grounded import _names_missing

    eu = [doc("The minister reported to EU officials and was criticized for it.", "a", "x")]
    assert not _names_missing("Who criticised the minister for talking to Europe?", eu)
    us = [doc("US officials met their Iranian counterparts in Oman.", "b", "y")]
    assert not _names_missing("Where did officials of the United States meet?", us)
    assert _names_missing("What did Zorblatt announce in Europe?",
                          [doc("The mayor spoke about the budget.", "c", "z")])
    # A code written in lower case is a word, not the place: "us" is not the US.
    assert _names_missing("Who talked to Europe about the United States?",
                          [doc("They told us it was fine.", "d", "w")])


_MONTH_FORMS = ["January", "Jan", "Jan.", "February", "Feb.", "March", "Mar", "April", "Apr.",
                "May", "June", "Jun", "July", "Jul.", "August", "Aug", "September", "Sept.",
                "Sep", "October", "Oct.", "November", "Nov", "December", "Dec."]


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(_MONTH_FORMS), st.integers(1, 33), st.sampled_from(["", "st", "th", "nd"]),
    st.one_of(st.none(), st.integers(1000, 2099)), st.booleans(), st.booleans(),
    st.booleans(),
)
def test_plain_dates_get_the_key_dateparser_gives(  # type: ignore[no-untyped-def]
    month, day, suffix, year, day_first, comma, lower,
):
    """The fast path of _date_key agrees with dateparser wherever it answers."""
    import dateparser

    from rag.answering.spans import _key, _plain_date_key

    text = f"{day}{suffix} {month}" if day_first else f"{month} {day}{suffix}"
    if year is not None:
        text += f"{',' if comma else ''} {year}"
    if lower:
        text = text.lower()
    fast = _plain_date_key(text)
    parsed = dateparser.parse(text, languages=["en"],
                              settings={"REQUIRE_PARTS": ["day", "month"]})
    slow = _key(text) if parsed is None else parsed.strftime(
        "%Y-%m-%d" if year is not None else "%m-%d")
    if fast is not None:
        assert fast == slow, text
    else:  # only an impossible day is left to dateparser
        assert parsed is None or day > 28, text
