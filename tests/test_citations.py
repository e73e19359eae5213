"""The one [n] marker grammar: find, strip, renumber (rag.core.citations)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from rag.core.citations import (
    INVALID,
    Renumberer,
    cited_numbers,
    find_markers,
    strip_citations,
)


def test_markers_are_found_with_their_numbers_and_offsets() -> None:
    text = "Iran asked [2]. Russia refused [1, 3][4]."
    found = list(find_markers(text))
    assert [m.numbers for m in found] == [(2,), (1, 3), (4,)]
    assert [text[m.start : m.end] for m in found] == ["[2]", "[1, 3]", "[4]"]


def test_not_markers() -> None:
    assert cited_numbers("a [b] list [] and [1,] and [ 2]") == []


def test_cited_numbers_are_unique_in_order_of_first_use() -> None:
    assert cited_numbers("x [3] y [1][3] z [1, 2]") == [3, 1, 2]


def test_strip_removes_markers_and_the_space_before_them() -> None:
    assert strip_citations("It rose [1][2, 3].") == "It rose."
    assert strip_citations("Pezeshkian [1] met Putin") == "Pezeshkian met Putin"


def test_renumbering_by_first_use_with_invalid_numbers_flagged() -> None:
    renumber = Renumberer(passage_count=3)
    out = renumber.feed("B [3] then A [1, 9]") + renumber.flush()
    assert out == f"B [1] then A [2]{INVALID}"
    assert renumber.order == [3, 1]


def test_a_marker_split_across_pieces_is_held_until_it_closes() -> None:
    renumber = Renumberer(passage_count=2)
    assert renumber.feed("Yes [") == "Yes "
    assert renumber.feed("2") == ""
    assert renumber.feed("] and") == "[1] and"
    assert renumber.flush() == ""
    assert renumber.text == "Yes [1] and"


@given(st.lists(st.text(alphabet="ab [],0123", max_size=6), max_size=8))
def test_streamed_renumbering_equals_renumbering_the_whole_text(pieces: list[str]) -> None:
    whole = Renumberer(passage_count=5)
    expected = whole.feed("".join(pieces)) + whole.flush()
    streamed = Renumberer(passage_count=5)
    got = "".join(streamed.feed(p) for p in pieces) + streamed.flush()
    assert got == expected
    assert streamed.order == whole.order
