"""The UI's HTML: linked citation markers, flagged sentences, highlighted quotes, and
untrusted text that stays text."""

from __future__ import annotations

import re

import pytest

from rag.answering.news import conflict_sentence
from rag.app.ui_render import (
    answer_html,
    answer_segments,
    context_html,
    corroboration_html,
    escape_markdown,
    excerpt_html,
    locate_quote,
    safe_url,
    source_html,
    welcome_html,
)
from rag.core.schema import (
    Answer,
    AnswerSentence,
    Citation,
    Conflict,
    ConflictValue,
    Corroboration,
)

ARTICLE = (
    "First paragraph about the forum.\n"
    "Second paragraph. Moscow refrains from delivering S-400s to Iran. More text.\n"
    "Third paragraph.\n"
    "Fourth paragraph.\n"
    "Fifth paragraph."
)
QUOTE = "Moscow refrains from delivering S-400s to Iran."
START = ARTICLE.index(QUOTE)


def _citation(**changes: object) -> Citation:
    base = dict(
        id=1, article_id="a1", chunk_id="a1:0", title="Forum", source="example.com",
        date="2025-01-02", url="https://www.example.com/forum", quote=QUOTE,
        passage="Second paragraph. " + QUOTE + " More text.",
        quote_start=START, quote_end=START + len(QUOTE),
    )
    base.update(changes)
    return Citation(**base)  # type: ignore[arg-type]


def _answer(text: str, sentences: list[AnswerSentence], ids: tuple[int, ...] = (1,)) -> Answer:
    return Answer(
        question="q", standalone_question="q", answer=text, sentences=sentences,
        citations=[_citation(id=i) for i in ids],
    )


def test_markers_become_links_and_unsupported_sentences_are_flagged() -> None:
    answer = _answer(
        "Moscow refrains. [1] It fears Israel. [2] Invented claim. [1, 2] See [9].",
        [
            AnswerSentence(text="Moscow refrains.", citation_ids=[1]),
            AnswerSentence(text="It fears Israel.", citation_ids=[2]),
            AnswerSentence(text="Invented  claim.", citation_ids=[1, 2], supported=False),
        ],
        ids=(1, 2),
    )
    segments = answer_segments(answer)
    assert [s.cite for s in segments if s.cite] == [1, 2, 1, 2]
    flagged = [s.text for s in segments if s.unsupported]
    assert flagged == ["Invented claim."]
    assert any(s.text == "[9]" and s.cite is None for s in segments)  # no such source
    html = answer_html(answer, "src-t1")
    assert html.count('class="rag-cite"') == 4
    assert 'href="#src-t1-2"' in html
    assert '<span class="rag-unsupported"' in html
    assert "1 sentence of this answer is not supported" in html


def test_answer_text_is_escaped() -> None:
    answer = _answer(
        '<img src=x onerror="alert(1)"> [1] [click](javascript:alert(2))',
        [AnswerSentence(text='<img src=x onerror="alert(1)">', citation_ids=[1])],
    )
    html = answer_html(answer, "a")
    assert "<img" not in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html
    assert 'href="javascript' not in html


def test_abstention_looks_like_an_abstention_not_an_error() -> None:
    answer = Answer(
        question="q", standalone_question="q", abstained=True,
        answer="The indexed articles don't say. None of the retrieved passages answers \"q\".",
    )
    html = answer_html(answer, "a")
    assert 'class="rag-abstain"' in html
    assert "rag-cite" not in html and "error" not in html.lower()
    assert "don&#x27;t say" in html


def test_source_card_highlights_the_quote_in_its_passage() -> None:
    html = source_html(_citation(), "src-x", article=ARTICLE)
    assert 'id="src-x-1"' in html
    assert f'<mark class="rag-quote">{QUOTE}</mark>' in html
    assert "example.com · 2025-01-02" in html  # www. host equal to the outlet is not repeated
    assert 'href="https://www.example.com/forum"' in html
    assert "Show in the article" in html and "Whole article" in html


def test_source_card_with_hostile_fields() -> None:
    citation = _citation(
        title="<script>alert(1)</script>", url="javascript:alert(1)", source="<b>x</b>",
        quote="<img src=x onerror=alert(1)>", passage="before <img src=x onerror=alert(1)> after",
    )
    html = source_html(citation, "a", article="<svg onload=alert(1)>\n<img src=x onerror=alert(1)>")
    for raw in ("<script>", "<img", "<svg", "<b>", "javascript:"):
        assert raw not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert '<mark class="rag-quote">&lt;img src=x onerror=alert(1)&gt;</mark>' in html


def test_source_card_says_when_the_article_is_gone() -> None:
    assert "no longer in the index" in source_html(_citation(), "a", article="")
    assert "Show in the article" not in source_html(_citation(), "a", article=None)


def test_context_shows_neighbouring_paragraphs_with_the_quote_marked() -> None:
    near = context_html(ARTICLE, _citation(), around=1)
    assert "First paragraph" in near and "Third paragraph" in near
    assert "Fifth paragraph" not in near and near.count("…") == 1
    assert f'<mark class="rag-quote">{QUOTE}</mark>' in near
    whole = context_html(ARTICLE, _citation(), around=None)
    assert "Fifth paragraph" in whole and "…" not in whole


def test_changed_article_falls_back_to_finding_the_quote() -> None:
    changed = "A new first line was added.\n" + ARTICLE
    assert locate_quote(changed, _citation()) == (changed.index(QUOTE), changed.index(QUOTE)
                                                   + len(QUOTE))
    gone = context_html("Rewritten entirely.", _citation())
    assert "no longer in this article" in gone and "<mark" not in gone


@pytest.mark.parametrize(
    ("url", "ok"),
    [("https://a.test/x", True), ("http://a.test", True), ("javascript:alert(1)", False),
     ("data:text/html,<b>", False), ("//a.test/x", False), ("", False), ("https://", False)],
)
def test_safe_url(url: str, ok: bool) -> None:
    assert (safe_url(url) is not None) is ok


def test_escape_markdown_neutralises_markdown_and_html() -> None:
    text = "![x](http://t/p.png) <script>*bold* :red[x] $x$"
    escaped = escape_markdown(text)
    # Every character Markdown could act on is backslash-escaped (CommonMark: literal).
    assert not re.search(r"(?<!\\)[!\[\]()<>*:$]", escaped)
    assert re.sub(r"\\(.)", r"\1", escaped) == text


def test_excerpt_keeps_one_sentence_each_side_of_the_quote() -> None:
    passage = "One comes first. Two is the quote. Three follows. Four is last."
    assert excerpt_html(passage, "Two is the quote.") == (
        'One comes first. <mark class="rag-quote">Two is the quote.</mark> Three follows. …'
    )
    assert excerpt_html(passage, "Four is last.", around=0) == (
        '… <mark class="rag-quote">Four is last.</mark>'
    )
    # A quote not found in the passage is still shown, as the quote.
    assert excerpt_html(passage, "Elsewhere.") == '<mark class="rag-quote">Elsewhere.</mark>'


def test_welcome_describes_the_library() -> None:
    html = welcome_html(3, 2, "2025-01-10", "2025-03-05")
    assert "The library holds 3 articles from 2 outlets, 2025-01-10 to 2025-03-05." in html
    assert "1 article." in welcome_html(1, 0, None, None)


def test_welcome_names_one_day_once() -> None:
    html = welcome_html(2, 1, "2026-11-20", "2026-11-20")
    assert "2026-11-20 to 2026-11-20" not in html
    assert "The library holds 2 articles from 1 outlet, published 2026-11-20." in html


def test_one_outlet_is_not_called_corroboration() -> None:
    """"Reported by 1 outlet" says nothing (and names an article id when the article has
    no outlet); two or more outlets are worth the line, as in the CLI and exports."""
    one = _answer("Moscow refrains. [1]", [AnswerSentence(text="Moscow refrains.",
                                                          citation_ids=[1])])
    one = one.model_copy(update={"corroboration": Corroboration(
        outlets=["iran-russia-ashgabat"], citation_ids=[1], claim="x")})
    assert corroboration_html(one) == ""
    assert "Reported by" not in answer_html(one, "src-t1")
    two = one.model_copy(update={"corroboration": Corroboration(
        outlets=["Ledger Wire", "Metro Post"], citation_ids=[1, 2], claim="x")})
    assert "Reported by 2 outlets: Ledger Wire, Metro Post" in corroboration_html(two)


def test_conflict_is_said_once_in_its_box() -> None:
    """The conflict sentence the chain appends is shown by the box under the answer
    (each value with its own outlets), not again in the answer text."""
    conflicts = [Conflict(kind="place", values=[
        ConflictValue(value="Tampa", citation_ids=[1, 2], outlets=["Metro Post", "Gazette"],
                      dates=["2026-03-14", "2026-03-10"]),
        ConflictValue(value="Glendale", citation_ids=[3], outlets=["Metro Post"],
                      dates=["2026-03-14"]),
    ])]
    stated = conflict_sentence(_answer("", []).model_copy(update={"conflicts": conflicts}))
    text = f"The summit will be held in Tampa. [1] {stated}"
    answer = _answer(text, [
        AnswerSentence(text="The summit will be held in Tampa.", citation_ids=[1]),
        AnswerSentence(text=stated, citation_ids=[1, 2, 3]),
    ], ids=(1, 2, 3)).model_copy(update={"conflicts": conflicts})
    html = answer_html(answer, "src-t1")
    body = html.split('<div class="rag-answer">', 1)[1].split('<div class="rag-conflict">')[0]
    assert "Sources disagree" not in body and "Tampa." in body
    box = html.split('<div class="rag-conflict">', 1)[1]
    assert "Glendale" in box and 'href="#src-t1-3"' in box and "Gazette" in box
