"""End to end with the real bundled model (all-MiniLM-L6-v2) on the seed article."""

from __future__ import annotations

import json
import subprocess
import sys
from itertools import islice

import pytest

from rag.core.schema import Article
from rag.core.settings import Settings
from rag.indexing.embeddings import SentenceTransformerEmbeddings
from rag.indexing.ingest import embedding_text
from rag.indexing.loaders import load_path
from rag.indexing.splitting import PassageSplitter

from .conftest import REALTIMEQA, S400_QUESTION, SEED_ARTICLE

pytestmark = pytest.mark.integration

ISRAEL = "Russia’s ties with Israel add further complexity"
GULF = "Moscow avoids risking relations with Gulf allies like Saudi Arabia"


def test_s400_answer_gives_both_reasons_each_cited(real_chain) -> None:  # type: ignore[no-untyped-def]
    answer = real_chain.invoke({"question": S400_QUESTION})
    assert not answer.abstained
    quotes = {c.id: c.quote for c in answer.citations}
    israel = [n for n, q in quotes.items() if ISRAEL in q]
    gulf = [n for n, q in quotes.items() if GULF in q]
    assert israel and gulf and israel != gulf
    assert f"[{israel[0]}]" in answer.answer and f"[{gulf[0]}]" in answer.answer
    article = real_chain.engine.index.article_text(answer.citations[0].article_id)
    for citation in answer.citations:
        assert article[citation.quote_start : citation.quote_end] == citation.quote
        assert citation.title == "How US, EU policies pushing Iran closer to Russia?"
    # Short: the two reasons, not the whole article.
    assert len(answer.sentences) <= 3


def test_follow_up_about_ashgabat_finds_putin(real_chain) -> None:  # type: ignore[no-untyped-def]
    first = real_chain.invoke({"question": "Who is Iran's president?"})
    assert "Pezeshkian" in first.answer
    follow = real_chain.invoke(
        {
            "question": "Who did he meet in Ashgabat?",
            "chat_history": [("human", "Who is Iran's president?"), ("ai", first.answer)],
        }
    )
    assert "Ashgabat" in follow.standalone_question
    # "he" is the person the first answer named for "Iran's president".
    assert "Pezeshkian" in follow.standalone_question
    assert "Putin" in follow.answer


@pytest.mark.parametrize(
    "question",
    [
        "What is the capital of France?",
        "Who won the 2022 football World Cup?",
        "How many S-400 systems did Russia sell to China?",
        "What is the price of oil today?",
        "What did Iran's supreme leader say about the election?",
    ],
)
def test_unanswerable_questions_abstain(real_chain, question: str) -> None:  # type: ignore[no-untyped-def]
    answer = real_chain.invoke({"question": question})
    assert answer.abstained, answer.answer
    assert answer.citations == []


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Where did Putin and Pezeshkian meet?", "Ashgabat"),
        ("Who criticized Araghchi?", "Fereshteh Sadeghi"),
        ("What could reduce Iran's dependence on Russia?", "shift in Washington"),
        ("What did Sergey Ryabkov call strikes on Iranian nuclear sites?", "catastrophic"),
    ],
)
def test_factual_questions(real_chain, question: str, expected: str) -> None:  # type: ignore[no-untyped-def]
    answer = real_chain.invoke({"question": question})
    assert expected in answer.answer


def check_fits(articles: list[Article]) -> tuple[int, int]:
    """(passages, longest in word pieces) with the default passage settings."""
    model = SentenceTransformerEmbeddings()
    settings = Settings()
    count, longest = 0, 0
    for article in articles:
        splitter = PassageSplitter(
            settings.index.passage_tokens,
            settings.index.passage_overlap_tokens,
            fits=lambda body, a=article: model.fits(embedding_text(a.title, body)),
        )
        for passage in splitter.split(article):
            count += 1
            pieces = model.count_model_tokens(embedding_text(article.title, passage.text))
            longest = max(longest, pieces)
    assert longest <= model.max_tokens, longest
    return count, longest


def test_passages_fit_the_model_window_seed() -> None:
    article = next(iter(load_path(SEED_ARTICLE)))
    assert isinstance(article, Article)
    count, longest = check_fits([article])
    assert count >= 3 and longest > 100


@pytest.mark.skipif(not REALTIMEQA.exists(), reason="RealTime QA benchmark not in ../shared")
def test_passages_fit_the_model_window_news_sample() -> None:
    with open(REALTIMEQA / "corpus.jsonl", encoding="utf-8") as handle:
        rows = [json.loads(line) for line in islice(handle, 150)]
    articles = [Article(id=r["id"], title=r["title"], text=r["text"]) for r in rows]
    check_fits(articles)


def test_import_rag_does_not_import_torch() -> None:
    code = (
        "import sys, rag\n"
        "from rag import Settings, ingest, build_chain, build_retriever, Answer\n"
        "import rag.app.cli\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
        "assert 'sentence_transformers' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_the_question_path_imports_no_scipy() -> None:
    """Stop words come from bm25s's list alone: the bm25s package would load scipy
    (0.23 s of every cold `rag ask`)."""
    code = (
        "import sys\n"
        "import rag.answering.chain, rag.retrieval.hybrid, rag.core.text\n"
        "assert 'scipy' not in sys.modules and 'bm25s' not in sys.modules, 'imported'\n"
        "stop = rag.core.text._STOPWORDS\n"
        "assert 'the' in stop and 'pezeshkian' not in stop\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


@pytest.mark.parametrize("backend", ["onnx-int8", "same", "torch"])
def test_answerer_runtime_is_separate_and_answers_alike(
    real_settings: Settings, backend: str
) -> None:
    """The answerer may score sentences with a faster runtime than the index (int8 by
    default); whichever it uses, the S-400 answer keeps both cited reasons."""
    from rag.answering.chain import build_chain
    from rag.indexing.embeddings import OnnxEmbeddings

    settings = real_settings.model_copy(update={"answer_embedding_backend": backend})
    chain = build_chain(settings)
    embeddings = chain.answerer.embeddings  # type: ignore[attr-defined]
    if backend == "same":
        assert embeddings is chain.engine.embeddings
        assert chain.answerer.embed_question is not None  # type: ignore[attr-defined]
    else:
        assert embeddings is not chain.engine.embeddings
        assert isinstance(embeddings, OnnxEmbeddings) == backend.startswith("onnx")
        assert chain.answerer.embed_question is None  # type: ignore[attr-defined]
    answer = chain.invoke({"question": S400_QUESTION})
    quotes = " ".join(c.quote for c in answer.citations)
    assert ISRAEL in quotes and GULF in quotes
