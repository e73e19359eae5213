"""Role questions ("Who is the president of Iran?"): the role and whose it is are read
from the question, and a person holds the role when the role and its owner stand next to
the name (a title such as "Iranian President Massoud Pezeshkian")."""

from __future__ import annotations

from langchain_core.documents import Document

from rag.answering import roles, spans

MEETING = (
    "The forum's central focus was on the rare meeting between Russian President "
    "Vladimir Putin and Iranian President Massoud Pezeshkian, who was recently elected."
)
WEST = (
    "In the West, hostility toward Iran remains entrenched, with both US presidential "
    "candidates, Vice President Kamala Harris and former President Donald Trump, taking "
    "a hardline stance."
)


def _people(sentence: str) -> dict[str, spans.Candidate]:
    passage = Document(page_content=sentence, id="p1", metadata={"chunk_id": "p1"})
    found = spans.sentence_candidates(passage, 0, 0, len(sentence))
    return {c.text: c for c in found if c.type == spans.SpanType.PERSON}


def test_reads_the_role_and_its_owner() -> None:
    asked = roles.role_question("Who is the president of Turkmenistan?")
    assert asked is not None and asked.role == "presid" and asked.owner == ["turkmenistan"]
    current = roles.role_question("who is the current president of iran")
    assert current is not None and current.owner == ["iran"]
    possessive = roles.role_question("Who is Iran's foreign minister?")
    assert possessive is not None and possessive.role == "minist"
    assert possessive.owner == ["iran"]
    elected = roles.role_question("Who was elected mayor of New York City?")
    assert elected is not None and elected.role == "mayor"


def test_other_questions_are_not_role_questions() -> None:
    for question in ("Why is Russia withholding S-400s from Iran?",
                     "Who did Putin meet in Ashgabat?",
                     "What is the capital of Turkmenistan?",
                     "Where is Ashgabat?"):
        assert roles.role_question(question) is None, question


def test_the_titled_person_holds_the_role() -> None:
    asked = roles.role_question("Who is Iran's president?")
    assert asked is not None
    people = _people(MEETING)
    assert roles.holds(asked, people["Massoud Pezeshkian"]) == 1.0
    # Putin is a president, in a sentence that names Iran, but not Iran's.
    assert roles.holds(asked, people["Vladimir Putin"]) < 1.0
    west = _people(WEST)
    assert roles.holds(asked, west["Kamala Harris"]) < 1.0


def test_nobody_holds_a_role_the_text_never_gives() -> None:
    asked = roles.role_question("Who is the president of Turkmenistan?")
    assert asked is not None
    for person in [*_people(MEETING).values(), *_people(WEST).values()]:
        assert roles.holds(asked, person) == 0.0


def test_a_title_naming_another_nation_does_not_hold_the_role() -> None:
    asked = roles.role_question("Which Israeli prime minister threatened retaliation?")
    assert asked is not None and asked.role == "minist"
    ryabkov = _people(
        "Russia's warnings to Israel underscore the friction, with Russian Deputy Foreign "
        "Minister Sergey Ryabkov labeling such actions as catastrophic."
    )["Sergey Ryabkov"]
    assert roles.holds(asked, ryabkov) == 0.0
    # A loose role word is not read as a role: Ryabkov is the Russian official asked for.
    assert roles.role_question("Which Russian official called a strike catastrophic?") is None
