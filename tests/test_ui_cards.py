"""Source cards grouped by article, the age of a source, the copy button's payload."""

from __future__ import annotations

import html
import re

from rag.app.conversation_export import answer_markdown
from rag.app.ui_render import article_card_html, copy_button_html, days_before, group_by_article
from rag.core.schema import Answer, Citation

PASSAGE_A = "The forum met in Ashgabat. Putin met Pezeshkian there. Israel was discussed."
PASSAGE_B = "Russia holds back S-400s. It fears an Israeli response."


def cite(n: int, article: str, chunk: str, passage: str, quote: str, **extra: str) -> Citation:
    return Citation(
        id=n, article_id=article, chunk_id=chunk, title=f"Title {article}", source="outlet.test",
        date="2025-10-20", url=f"https://outlet.test/{article}", quote=quote, passage=passage,
        **extra,
    )


CITATIONS = [
    cite(1, "a", "a:0", PASSAGE_A, "Putin met Pezeshkian there."),
    cite(2, "b", "b:0", PASSAGE_B, "Russia holds back S-400s."),
    cite(3, "a", "a:1", PASSAGE_B, "It fears an Israeli response."),
    cite(4, "a", "a:0", PASSAGE_A, "Israel was discussed."),
]


def test_citations_group_by_article_in_order_of_first_mention() -> None:
    groups = group_by_article(CITATIONS)
    assert [[c.id for c in g] for g in groups] == [[1, 3, 4], [2]]


def test_one_card_lists_each_passage_once_with_all_its_numbers() -> None:
    card = article_card_html(group_by_article(CITATIONS)[0], "src-t", as_of="2025-10-27")
    assert card.count('class="rag-source rag-card"') == 1
    assert card.count("Title a") == 1  # one header for the article
    assert 'href="https://outlet.test/a"' in card
    assert "outlet.test · 2025-10-20" in card
    assert "published 7 days before the question date" in card
    # Two passages (a:0 quoted twice, a:1 once): a:0 is shown once with both quotes marked.
    assert card.count('class="rag-quote-item"') == 2
    assert card.count("Putin met Pezeshkian there.") == 1
    marks = re.findall(r'<mark class="rag-quote">(.*?)</mark>', card)
    assert marks == ["Putin met Pezeshkian there.", "Israel was discussed.",
                     "It fears an Israeli response."]
    # Each quote's highlight follows its own number.
    assert '>4</span><mark class="rag-quote">Israel was discussed.</mark>' in card
    assert '>1</span><mark class="rag-quote">Putin met Pezeshkian there.</mark>' in card
    for n in (1, 3, 4):  # every [n] of the answer still has its anchor
        assert f'id="src-t-{n}"' in card
    assert 'id="src-t-2"' not in card


def test_published_days_before_the_question_date() -> None:
    assert days_before("2025-10-20", "2025-10-21") == "published 1 day before the question date"
    assert days_before("2025-10-20", "2025-10-20") == "published on the question date"
    assert days_before("2025-10-22", "2025-10-20") == "published 2 days after the question date"
    assert days_before("", "2025-10-20") == "" and days_before("2025-10-20", None) == ""
    assert days_before("not a date", "2025-10-20") == ""


def test_the_copy_button_carries_the_markdown_escaped() -> None:
    answer = Answer(
        question='Why "now" <b>?', standalone_question='Why "now" <b>?',
        answer="Because [1].", citations=CITATIONS[:1],
    )
    markdown = answer_markdown(answer)
    assert markdown.startswith("## Why")
    assert "### Sources" in markdown and "[1] Title a" in markdown
    button = copy_button_html(markdown)
    payload = re.search(r'data-copy="([^"]*)"', button)
    assert payload is not None
    assert html.unescape(payload.group(1)) == markdown
    assert "<b>" not in button
