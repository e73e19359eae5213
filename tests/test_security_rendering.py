"""Untrusted text shown to people (issue 15, items 10, 11, 13).

Only the answerer's own [n] markers become links; the Markdown export writes every
untrusted field as text (no forged sections, no remote images); a URL's host is shown
as the browser would reach it. Inputs: tests/hostile/security/hostile-fields.json.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from langchain_core.documents import Document

from rag.answering.grounded import GroundedAnswerer
from rag.app.conversation_export import export_markdown
from rag.app.ui_render import answer_html, answer_segments, safe_url, source_html, source_meta
from rag.core.schema import Answer, AnswerSentence, Citation
from rag.core.settings import Settings
from rag.indexing.embeddings import HashingEmbeddings

FIELDS = json.loads(
    (Path(__file__).parent / "hostile" / "security" / "hostile-fields.json").read_text()
)
WHEN = dt.datetime(2025, 6, 2, 9, 5, tzinfo=dt.UTC)


def _citation(**changes: object) -> Citation:
    base: dict[str, object] = dict(
        id=1, article_id="a1", chunk_id="a1:0", title="Harbour", source="reuters.com",
        date="2025-01-02", url="https://www.reuters.com/x", quote="The harbour reopened.",
    )
    base.update(changes)
    return Citation(**base)  # type: ignore[arg-type]


# --- item 13: the real host ------------------------------------------------------------
@pytest.mark.parametrize("case", FIELDS["urls"], ids=lambda c: c["url"])
def test_source_shows_the_host_the_browser_would_reach(case: dict[str, str]) -> None:
    meta = source_meta(_citation(url=case["url"], source="Reuters"))
    assert meta[-1] == case["host"]
    card = source_html(_citation(url=case["url"], source="Reuters"), "s")
    assert "reuters.com@" not in card and "\\@" not in card


@pytest.mark.parametrize(
    "url",
    ["https://www.reuters.com@evil.example/x", "https://evil.example\\@reuters.com/x",
     "https://reu ters.com/x"],
)
def test_deceptive_urls_are_not_linked(url: str) -> None:
    assert safe_url(url) is None
    assert "href=" not in source_html(_citation(url=url), "s")


# --- item 10: only the answerer's markers are links -------------------------------------
def _doc(text: str, n: int) -> Document:
    meta = {"article_id": f"a{n}", "chunk_id": f"a{n}:0", "title": f"T{n}", "start": 0}
    return Document(page_content=text, metadata=meta)


def test_brackets_in_article_text_are_not_links() -> None:
    settings = Settings.model_validate({"embedding_model": "hashing"})
    answerer = GroundedAnswerer.from_settings(settings, HashingEmbeddings())
    docs = [
        _doc(FIELDS["article_markers"] + " The report says exports fell.", 1),
        _doc("Exports of the report fell [1] sharply, the report [2] says.", 2),
    ]
    answer = answerer.answer("What does the report cite about figures and exports?", docs)
    assert isinstance(answer, Answer) and not answer.abstained
    linked = [s.cite for s in answer_segments(answer) if s.cite is not None]
    own = [n for s in answer.sentences for n in s.citation_ids]
    assert linked == own
    html = answer_html(answer, "src")
    assert html.count('class="rag-cite"') == len(own)


def test_a_marker_outside_its_sentences_citations_is_text() -> None:
    answer = Answer(
        question="q", standalone_question="q",
        answer="Figures in [2] were revised. [1] Exports fell [2].",
        sentences=[
            AnswerSentence(text="Figures in [2] were revised.", citation_ids=[1]),
            AnswerSentence(text="Exports fell [2].", citation_ids=[2]),
        ],
        citations=[_citation(id=1), _citation(id=2)],
    )
    segments = answer_segments(answer)
    assert [s.cite for s in segments if s.cite is not None] == [1, 2]
    assert any(s.cite is None and "[2]" in s.text for s in segments)


# --- item 11: the Markdown export writes untrusted fields as text ------------------------
def _export(title: str) -> str:
    answer = Answer(
        question=title, standalone_question=title,
        answer=f"{title} [1]",
        sentences=[AnswerSentence(text=title, citation_ids=[1])],
        citations=[_citation(title=title, source=title, quote=title, date=title,
                             url="https://a.example/x)![](http://tracker.example/p.png")],
    )
    return export_markdown([answer], title=title, exported_at=WHEN)


@pytest.mark.parametrize("title", FIELDS["titles"])
def test_export_forges_no_sections_and_embeds_no_images(title: str) -> None:
    text = _export(title)
    lines = text.splitlines()
    headings = [line for line in lines if line.startswith("#")]
    assert len(headings) == 3, headings  # the title, question 1, its sources
    assert headings[1].startswith("## 1. ") and headings[2] == "### Sources"
    assert not re.search(r"(?<!\\)!\[", text)  # no image syntax
    assert not re.search(r"(?<!\\)\]\(", text)  # no link syntax
    assert "<img" not in text and "<script" not in text
    # Nothing untrusted opens a block: no blockquote, list item or table row of its own.
    assert not [line for line in lines if re.match(r"\s*(>|- list|\|)", line)
                and not line.startswith("    > ")]


def test_outlet_read_from_a_deceptive_page_url_is_the_real_host(tmp_path: Path) -> None:
    from rag.core.schema import Article
    from rag.indexing.loaders import load_path

    page = tmp_path / "story.html"
    page.write_text(
        "<html><head><title>Story</title>"
        '<link rel="canonical" href="https://www.reuters.com@evil.example/world/x"></head>'
        "<body><article><p>" + "The harbour reopened on Monday after repairs. " * 6
        + "</p></article></body></html>"
    )
    [article] = [a for a in load_path(page) if isinstance(a, Article)]
    assert article.source == "evil.example"
    assert "reuters.com" not in source_html(
        _citation(source=article.source, url=article.url, title="Story"), "s"
    )


def test_llm_never_sees_an_articles_brackets_as_citations() -> None:
    from rag.answering.prompts import build_answer_messages
    from rag.core.citations import find_markers

    docs = [_doc(FIELDS["article_markers"], 1), _doc("Exports fell.", 2)]
    _, user = build_answer_messages("What does the report cite?", docs)
    content = str(user.content)
    body = content[content.index("The report") : content.index("footnote") + 15]
    assert "cites earlier figures" in body
    assert list(find_markers(body)) == []


@pytest.mark.parametrize("title", FIELDS["titles"])
def test_export_escapes_outlets_conflicts_and_corroboration(title: str) -> None:
    from rag.app.conversation_export import answer_markdown
    from rag.core.schema import Conflict, ConflictValue, Corroboration

    answer = Answer(
        question="Where?", standalone_question="Where?", answer="In Tampa. [1]",
        sentences=[AnswerSentence(text="In Tampa.", citation_ids=[1], outlets=[title],
                                  dates=["2025-01-02"])],
        citations=[_citation(id=1, source=title), _citation(id=2, source=title)],
        conflicts=[Conflict(kind="place", values=[
            ConflictValue(value=title, citation_ids=[1], outlets=[title]),
            ConflictValue(value="Glendale", citation_ids=[2], outlets=[title]),
        ])],
        corroboration=Corroboration(outlets=[title, "Other"], citation_ids=[1, 2], claim=title),
    )
    text = answer_markdown(answer)
    lines = text.splitlines()
    assert [line for line in lines if line.startswith("#")] == ["## Where?", "### Sources"]
    assert not re.search(r"(?<!\\)!\[", text) and not re.search(r"(?<!\\)\]\(", text)
    assert "<img" not in text
    assert not [line for line in lines if re.match(r"\s*(>|- list|\|)", line)
                and not line.startswith("    > ")]
