"""Sentences and passages: exact offsets, token budgets, overlap, stable ids."""

from __future__ import annotations

import itertools

from rag.core.schema import Article
from rag.indexing.loaders import load_path
from rag.indexing.splitting import PassageSplitter, count_tokens, sentence_spans, split_sentences

from .conftest import SEED_ARTICLE


def test_sentence_boundaries_respect_abbreviations() -> None:
    text = (
        'The U.S. military said Mr. Smith left at 5 p.m. on Monday. He was 3.5 km away. '
        '"Go!" she said. Then J. Doe came.\nA line without a stop\nNext line.'
    )
    assert split_sentences(text) == [
        "The U.S. military said Mr. Smith left at 5 p.m. on Monday.",
        "He was 3.5 km away.",
        '"Go!" she said.',
        "Then J. Doe came.",
        "A line without a stop",
        "Next line.",
    ]
    for start, end in sentence_spans(text):
        assert text[start:end] == text[start:end].strip()


def seed() -> Article:
    article = next(iter(load_path(SEED_ARTICLE)))
    assert isinstance(article, Article)
    return article


def test_passages_are_exact_slices_within_budget() -> None:
    article = seed()
    passages = PassageSplitter(size=60, overlap=15).split(article)
    assert len(passages) > 3
    for p in passages:
        assert article.text[p.start : p.end] == p.text
        assert count_tokens(p.text) <= 60 or len(sentence_spans(p.text)) == 1
    # Consecutive passages share some text (overlap) but never start at the same place.
    starts = [p.start for p in passages]
    assert starts == sorted(set(starts))
    assert any(b.start < a.end for a, b in itertools.pairwise(passages))
    # Every sentence of the article lands in some passage.
    for start, end in sentence_spans(article.text):
        assert any(p.start <= start and end <= p.end for p in passages)


def test_ids_derive_from_content() -> None:
    article = seed()
    first = PassageSplitter(size=80, overlap=10).split(article)
    again = PassageSplitter(size=80, overlap=10).split(article)
    assert [p.id for p in first] == [p.id for p in again]
    assert len({p.id for p in first}) == len(first)
    assert all(p.id.startswith(article.id + ":") for p in first)


def test_long_sentence_is_cut_and_fits_callback_shrinks() -> None:
    words = " ".join(f"word{i}" for i in range(400))
    article = Article(id="x", title="t", text=words + ".")
    passages = PassageSplitter(size=50, overlap=0).split(article)
    assert len(passages) > 3
    assert all(count_tokens(p.text) <= 50 for p in passages)

    text = " ".join(f"Sentence number {i} is here." for i in range(40))
    article = Article(id="y", title="t", text=text)
    short = PassageSplitter(size=200, overlap=0, fits=lambda s: len(s) < 150).split(article)
    assert all(len(p.text) < 150 for p in short)


def test_batched_fit_check_gives_the_one_by_one_passages() -> None:
    text = " ".join(f"Sentence number {i} is here." for i in range(60))
    article = Article(id="y", title="t", text=text)
    calls: list[int] = []

    def fits_all(passages: list[str]) -> list[bool]:
        calls.append(len(passages))
        return [len(p) < 150 for p in passages]

    one_by_one = PassageSplitter(size=200, overlap=20, fits=lambda s: len(s) < 150).split(article)
    batched = PassageSplitter(size=200, overlap=20, fits_all=fits_all).split(article)
    # A window that does not fit sends the splitter back to checking one by one.
    assert [p.text for p in batched] == [p.text for p in one_by_one]
    assert all(len(p.text) < 150 for p in batched)
    assert calls[0] > 1 and 1 in calls

    calls.clear()
    roomy = PassageSplitter(size=40, overlap=5, fits_all=fits_all).split(article)
    assert calls == [len(roomy)]  # everything fits: one call for the whole article
    unchecked = PassageSplitter(size=40, overlap=5).split(article)
    assert [p.text for p in roomy] == [p.text for p in unchecked]


def test_invalid_sizes_are_refused() -> None:
    import pytest

    with pytest.raises(ValueError, match="overlap"):
        PassageSplitter(size=50, overlap=50)
    with pytest.raises(ValueError, match="at least 8"):
        PassageSplitter(size=4, overlap=0)
