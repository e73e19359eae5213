"""The question's date: temporal words become a date window retrieval keeps to, the
standalone question states it, windows outside the corpus say so, cited sentences carry
outlet and date, and old sources earn a staleness note (never for undated corpora)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.answering.chain import build_chain
from rag.app.cli import app
from rag.app.render import render_answer
from rag.core.schema import Answer
from rag.core.settings import Settings
from rag.indexing.ingest import ingest

from .conftest import write_article

PORT = (
    "Dock workers at the port of Valencia went on strike over pay. The strike halted "
    "container traffic. Union leaders said the port strike would last three days."
)


@pytest.fixture
def news_settings(tmp_path: Path, hashing_settings: Settings) -> Settings:
    """Port-strike reports from two outlets over three weeks, plus an older one."""
    folder = tmp_path / "news"
    write_article(folder, "a.md", "Port strike begins", PORT,
                  source="Ledger Wire", date="2026-02-10")
    write_article(folder, "b.md", "Port strike talks fail",
                  "Talks to end the port strike in Valencia failed on Tuesday. The union "
                  "rejected a pay offer of four percent. The port strike continues.",
                  source="Courier Daily", date="2026-02-17")
    write_article(folder, "c.md", "Port strike ends",
                  "The port strike in Valencia ended on Wednesday after workers accepted a "
                  "six percent pay rise. Container traffic resumed at the port.",
                  source="Ledger Wire", date="2026-02-25")
    write_article(folder, "d.md", "Port expansion approved",
                  "The port of Valencia won approval for a new container terminal. The port "
                  "expansion will cost 900 million euros.",
                  source="Harbour Gazette", date="2025-06-02")
    assert ingest([folder], hashing_settings).ok
    return hashing_settings.model_copy(update={"window_mode": "filter"})


def _ask(settings: Settings, question: str, as_of: str) -> Answer:
    return build_chain(settings).invoke({"question": question, "as_of": as_of})


def _cited_dates(answer: Answer) -> set[str]:
    return {c.date for c in answer.citations}


def test_this_week_keeps_to_the_week(news_settings: Settings) -> None:
    answer = _ask(news_settings, "How did the port strike end this week?", "2026-02-27")
    assert answer.window is not None
    assert (answer.window.start, answer.window.end) == ("2026-02-23", "2026-02-27")
    assert answer.as_of == "2026-02-27"
    assert "23–27 Feb 2026" in answer.standalone_question
    assert not answer.abstained
    assert _cited_dates(answer) == {"2026-02-25"}


def test_last_week_keeps_to_last_week(news_settings: Settings) -> None:
    answer = _ask(news_settings, "Why did the port strike talks fail last week?", "2026-02-27")
    assert _cited_dates(answer) == {"2026-02-17"}


def test_what_happened_this_week_is_a_digest_of_the_week(news_settings: Settings) -> None:
    answer = _ask(news_settings, "What happened this week?", "2026-02-27")
    assert not answer.abstained and answer.citations
    assert _cited_dates(answer) == {"2026-02-25"}
    earlier = _ask(news_settings, "What happened in the past three weeks?", "2026-02-27")
    dates = [c.date for c in earlier.citations]
    assert set(dates) == {"2026-02-10", "2026-02-17", "2026-02-25"}
    assert dates == sorted(dates, reverse=True)  # newest first


def test_window_outside_the_corpus_says_so(news_settings: Settings) -> None:
    answer = _ask(news_settings, "What happened at the port in 2019?", "2026-02-27")
    assert answer.abstained and not answer.citations
    assert "No indexed article is dated" in answer.answer
    assert "2 Jun 2025" in answer.answer and "25 Feb 2026" in answer.answer


def test_empty_window_inside_the_corpus_says_so(news_settings: Settings) -> None:
    answer = _ask(news_settings, "What happened at the port in December?", "2026-02-27")
    assert answer.abstained and "Dec 2025" in answer.answer


def test_sentences_carry_outlet_and_date(news_settings: Settings) -> None:
    answer = _ask(news_settings, "Why did the dock workers strike?", "2026-02-27")
    assert answer.sentences
    by_id = {c.id: c for c in answer.citations}
    for sentence in answer.sentences:
        assert sentence.outlets == [by_id[i].source for i in sentence.citation_ids]
        assert sentence.dates == [by_id[i].date for i in sentence.citation_ids]
    text = render_answer(answer)
    assert "As of 27 Feb 2026" in text
    first = answer.sentences[0]
    assert first.outlets[0] in text.split("Sources:")[0]


def test_staleness_note(news_settings: Settings) -> None:
    fresh = _ask(news_settings, "Why did the dock workers strike?", "2026-02-27")
    assert fresh.staleness == ""
    late = _ask(news_settings, "Why did the dock workers strike?", "2026-07-20")
    newest = max(c.date for c in late.citations)
    assert late.staleness.startswith("Newest source: ")
    assert late.answer.endswith(late.staleness)
    assert "before 20 Jul 2026" in late.staleness
    assert newest in {"2026-02-10", "2026-02-17", "2026-02-25"}
    quiet = _ask(
        news_settings.model_copy(update={"staleness_days": 365}),
        "Why did the dock workers strike?", "2026-07-20",
    )
    assert quiet.staleness == ""


def test_no_staleness_for_undated_corpora(tmp_path: Path, hashing_settings: Settings) -> None:
    folder = tmp_path / "undated"
    write_article(folder, "a.md", "Port strike", PORT)
    assert ingest([folder], hashing_settings).ok
    answer = _ask(hashing_settings, "Why did the dock workers strike?", "2030-01-01")
    assert answer.citations and answer.staleness == ""
    assert all(d == "" for s in answer.sentences for d in s.dates)


def test_as_of_defaults_to_today(news_settings: Settings) -> None:
    answer = build_chain(news_settings).invoke({"question": "Why did the workers strike?"})
    assert answer.as_of == dt.date.today().isoformat()


def test_bad_as_of_is_a_clear_error(news_settings: Settings) -> None:
    from rag.core.errors import BadQuestionError

    with pytest.raises(BadQuestionError, match="YYYY-MM-DD"):
        _ask(news_settings, "Why did the workers strike?", "last tuesday")


def test_cli_as_of(news_settings: Settings) -> None:
    runner = CliRunner()
    env = {"RAG_EMBEDDING_MODEL": "hashing", "RAG_WINDOW_MODE": "filter"}
    index = str(news_settings.index.index_dir)
    result = runner.invoke(
        app, ["ask", "How did the port strike end this week?", "--as-of", "2026-02-27",
              "--index-dir", index, "--json"], env=env,
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["as_of"] == "2026-02-27" and data["window"]["start"] == "2026-02-23"
    assert data["sentences"][0]["outlets"] and data["sentences"][0]["dates"]
    text = runner.invoke(
        app, ["ask", "How did the port strike end this week?", "--as-of", "2026-02-27",
              "--index-dir", index], env=env,
    )
    assert text.exit_code == 0, text.output
    assert "As of 27 Feb 2026 · this week: 23–27 Feb 2026" in text.stdout
    assert "(Ledger Wire, 25 Feb 2026)" in text.stdout
    bad = runner.invoke(app, ["ask", "Why?", "--as-of", "31/02/2026", "--index-dir", index],
                        env=env)
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output


def test_boost_mode_favours_the_window_and_says_when_it_is_empty(
    news_settings: Settings,
) -> None:
    from rag.answering import news
    from rag.retrieval.hybrid import Filters
    from rag.retrieval.temporal import resolve_window

    boost = news_settings.model_copy(update={"window_mode": "boost"})
    engine = build_chain(boost).engine
    window = resolve_window("What about the port strike this week?", dt.date(2026, 2, 27))
    plain = engine.search("port strike Valencia", 4, Filters(), as_of="2026-02-27")
    favoured = news.search(engine, "port strike Valencia", 4, Filters(), window, "2026-02-27")
    assert len(favoured) == len(plain) > 1  # nothing is filtered out
    assert favoured[0].metadata["date"] == "2026-02-25"
    empty = _ask(boost, "What happened at the port in December?", "2026-02-27")
    assert not empty.abstained and empty.citations
    assert "No article dated 1–31 Dec 2025 (in December) answers this" in empty.answer
    outside = _ask(boost, "What happened at the port in 2019?", "2026-02-27")
    assert outside.abstained and "No indexed article is dated" in outside.answer


def test_a_digest_quotes_an_article_from_its_first_passage(
    tmp_path: Path, hashing_settings: Settings
) -> None:
    """Retrieval may find a later passage of a week's article; the digest reads the
    article's lead (its first passage, found through the keyword index)."""
    from rag.answering.news import lead_passages
    from rag.retrieval.hybrid import SearchEngine

    filler = " ".join(f"Inspectors checked quay number {i} and found it sound." for i in range(60))
    write_article(tmp_path / "long", "storm.md", "Harbour reopens",
                  "The harbour of Valencia reopened on Wednesday after the storm. " + filler
                  + " Ferries to Mallorca were fully booked by evening.",
                  source="Ledger Wire", date="2026-02-25")
    assert ingest([tmp_path / "long"], hashing_settings).ok
    engine = SearchEngine(hashing_settings)
    found = engine.search("ferries Mallorca fully booked evening", k=1)
    assert found and found[0].metadata["position"] > 0  # a later passage was retrieved
    [lead] = lead_passages(engine, found)
    assert lead.metadata["position"] == 0
    assert lead.page_content.startswith("The harbour of Valencia reopened on Wednesday")


@pytest.fixture
def rates_settings(tmp_path: Path, hashing_settings: Settings) -> Settings:
    """Two rate decisions of one bank, months apart; the default (boost) window mode."""
    folder = tmp_path / "rates"
    write_article(folder, "july.md", "Bank holds rates",
                  "The central bank of Valdoria held interest rates steady at four percent "
                  "on Wednesday. Traders had expected the bank to hold interest rates.",
                  source="Ledger Wire", date="2025-07-30")
    write_article(folder, "december.md", "Bank cuts rates again",
                  "The central bank of Valdoria cut interest rates to three percent, its "
                  "third cut of the year. Borrowers welcomed the lower interest rates.",
                  source="Courier Daily", date="2025-12-10")
    assert ingest([folder], hashing_settings).ok
    assert hashing_settings.retrieval.window_mode == "boost"
    return hashing_settings


def test_a_named_month_is_answered_from_that_month(rates_settings: Settings) -> None:
    """Both articles are read (boost mode filters nothing out), but asked about December
    the answer comes from December's article, not from a closer match in July's."""
    answer = _ask(rates_settings,
                  "What did the central bank of Valdoria decide about interest rates in "
                  "December?", "2025-12-20")
    assert answer.window is not None and answer.window.start == "2025-12-01"
    assert not answer.abstained
    assert _cited_dates(answer) == {"2025-12-10"}
    assert "third cut" in answer.answer
    assert "No article dated" not in answer.answer


def test_a_month_whose_articles_do_not_answer_says_so(rates_settings: Settings) -> None:
    """December's article is read but says nothing of July's decision's expectations:
    the answer comes from July and says that no article of the month answers."""
    answer = _ask(rates_settings, "What had traders expected the bank of Valdoria to do "
                  "this month?", "2025-12-20")
    assert not answer.abstained
    assert "2025-07-30" in _cited_dates(answer)
    assert "No article dated 1–20 Dec 2025 (this month) answers this" in answer.answer
