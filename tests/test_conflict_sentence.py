"""The "Sources disagree" sentence names every outlet behind a value, never one outlet
for numbers that belong to another (rag.answering.news.conflict_sentence); the CLI does
not call a disputed answer corroborated."""

from __future__ import annotations

from rag.answering.news import conflict_sentence
from rag.app.render import corroboration_line
from rag.core.schema import Answer, Conflict, ConflictValue, Corroboration


def _answer(*values: ConflictValue) -> Answer:
    return Answer(question="q", standalone_question="q", answer="a",
                  conflicts=[Conflict(kind="place", values=list(values))])


def test_each_side_names_all_its_outlets() -> None:
    text = conflict_sentence(_answer(
        ConflictValue(value="Tampa", citation_ids=[1, 2],
                      outlets=["Metro Post", "Harbour Gazette"]),
        ConflictValue(value="Glendale", citation_ids=[3], outlets=["Metro Post"]),
    ))
    assert text == ("Sources disagree: Metro Post and Harbour Gazette [1][2] say Tampa; "
                    "Metro Post [3] says Glendale.")


def test_one_outlet_per_side_reads_as_before() -> None:
    text = conflict_sentence(_answer(
        ConflictValue(value="Tampa", citation_ids=[1], outlets=["Ledger Wire"]),
        ConflictValue(value="Glendale", citation_ids=[2], outlets=["Courier Daily", ""]),
    ))
    assert text == "Sources disagree: Ledger Wire [1] says Tampa; Courier Daily [2] says Glendale."


def test_cli_does_not_say_reported_by_when_sources_disagree() -> None:
    agreed = Corroboration(outlets=["Metro Post", "Harbour Gazette"], citation_ids=[1, 2])
    plain = Answer(question="q", standalone_question="q", answer="a", corroboration=agreed)
    assert corroboration_line(plain) == "Reported by 2 outlets: Metro Post, Harbour Gazette."
    disputed = _answer(
        ConflictValue(value="Tampa", citation_ids=[1, 2], outlets=["Metro Post"]),
        ConflictValue(value="Glendale", citation_ids=[3], outlets=["Metro Post"]),
    ).model_copy(update={"corroboration": agreed})
    assert corroboration_line(disputed) == ""
