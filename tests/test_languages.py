"""Any language indexes: keyword tokens, sentences and passages for Russian, Greek, Chinese.

Before this, an article in one of these scripts aborted the whole ingest ("max() arg is
an empty sequence": keyword tokens kept only [a-z0-9]) and a long passage without spaces
was never cut.
"""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import pytest

from rag.core.schema import Article
from rag.core.settings import Settings
from rag.core.text import content_terms, words
from rag.indexing.ingest import ingest, keyword_dir
from rag.indexing.keyword import KeywordStore
from rag.indexing.splitting import PassageSplitter, count_tokens, sentence_spans

from .conftest import write_article

RUSSIAN = (
    "Правительство России объявило о новых мерах поддержки экономики. "
    "Министр финансов заявил, что бюджет увеличится на десять процентов. "
    "Эксперты считают, что инфляция замедлится к концу года."
)
GREEK = (
    "Η κυβέρνηση ανακοίνωσε νέα μέτρα για την οικονομία. "
    "Ο υπουργός Οικονομικών δήλωσε ότι ο προϋπολογισμός θα αυξηθεί. "
    "Πότε θα εφαρμοστούν τα μέτρα; Οι ειδικοί περιμένουν απαντήσεις."
)
CHINESE = (
    "中国政府宣布了新的经济刺激措施。财政部长表示，预算将增加百分之十。"
    "专家认为通货膨胀将在年底前放缓！这些措施何时实施？"
)
SCRIPTS = {
    # script: (text, a query word of the text in another inflection or form, sentences)
    "russian": (RUSSIAN, "бюджета", 3),
    "greek": (GREEK, "ΠΡΟΫΠΟΛΟΓΙΣΜΟΣ", 4),
    "chinese": (CHINESE, "预算", 4),
}


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_keyword_terms_of_each_script(script: str) -> None:
    text, query, _ = SCRIPTS[script]
    terms = content_terms(text)
    assert terms, f"no keyword terms for {script}"
    query_terms = content_terms(query)
    assert query_terms and set(query_terms) <= set(terms)


def test_english_terms_are_unchanged() -> None:
    assert content_terms("Russia's S-400 missiles were withheld, officials said.") == [
        "russia", "s-400", "missil", "withheld", "offici",
    ]
    assert words("Russia’s U.S. deal") == ["russia's", "u", "s", "deal"]


def test_accented_latin_words_stay_whole() -> None:
    assert content_terms("Le café de Montréal") == content_terms("le CAFÉ de montréal")
    assert "montreal" in words("Le café de Montréal")  # whole, and found without accents
    assert content_terms("Beyoncé") == content_terms("Beyonce")
    assert content_terms("йогурт") != content_terms("иогурт")  # not a Latin accent


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_sentences_of_each_script(script: str) -> None:
    text, _, count = SCRIPTS[script]
    spans = sentence_spans(text)
    assert len(spans) == count
    for start, end in spans:
        assert text[start:end] == text[start:end].strip()
        assert text[start:end][-1] in ".;。！？!?"


def test_long_text_without_spaces_is_cut_within_budget() -> None:
    text = "经济" * 10_000  # 20,000 characters, no space, no sentence end
    article = Article(id="cjk", title="t", text=text)
    passages = PassageSplitter(size=180, overlap=30).split(article)
    assert len(passages) > 10
    assert all(count_tokens(p.text) <= 180 for p in passages)
    assert all(text[p.start : p.end] == p.text for p in passages)
    assert passages[0].start == 0 and passages[-1].end == len(text)
    # Every character lands in some passage.
    assert all(b.start <= a.end for a, b in itertools.pairwise(passages))


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_ingest_and_keyword_search_each_script(
    script: str, tmp_path: Path, hashing_settings: Settings
) -> None:
    text, query, _ = SCRIPTS[script]
    folder = tmp_path / "articles"
    write_article(folder, f"{script}.md", f"{script} news", text, id=script)
    write_article(folder, "english.md", "Budget news", "The budget grows. Prices rise.")
    summary = ingest([folder], hashing_settings)
    assert summary.added == 2 and not summary.problems
    indexes = KeywordStore(keyword_dir(hashing_settings)).open()
    hits = indexes.passages.search(query, 5)
    assert hits and hits[0].article_id == script


def test_hostile_language_corpus_is_indexed_in_one_run(
    tmp_path: Path, hashing_settings: Settings
) -> None:
    """tests/hostile/languages plus a 20,000-character passage without spaces."""
    folder = tmp_path / "corpus"
    shutil.copytree(Path(__file__).parent / "hostile" / "languages", folder)
    write_article(folder, "long.md", "长文", "经济" * 10_000, id="lang-long")
    summary = ingest([folder], hashing_settings)
    assert summary.added == 4 and not summary.problems
    indexes = KeywordStore(keyword_dir(hashing_settings)).open()
    for query, article_id in (("бюджета", "lang-russian"), ("προϋπολογισμού", "lang-greek"),
                              ("预算", "lang-chinese")):
        hits = indexes.articles.search(query, 3)
        assert hits and hits[0].article_id == article_id, (query, hits)
