"""The news parts of the UI under Streamlit's AppTest: the question date in the sidebar,
outlet and date after cited sentences, conflicts marked, outlets counted, the timeline."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from rag.core.settings import Settings
from rag.indexing.ingest import ingest
from tests.conftest import write_article
from tests.ui_fixtures import HASHING_ABSTAIN, app_test, html_bodies, turns, use_settings


def summit_corpus(folder: Path) -> Path:
    write_article(folder, "a.md", "Summit venue chosen",
                  "The next climate summit will be held in Tampa, the organisers said. About "
                  "40,000 delegates are expected.", source="Ledger Wire", date="2026-03-02")
    write_article(folder, "b.md", "Organisers pick summit host",
                  "Organisers chose Glendale to host the next climate summit. The decision "
                  "followed months of talks.", source="Courier Daily", date="2026-03-09")
    return folder


@pytest.fixture
def news_app(
    tmp_path: Path, hashing_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    settings = hashing_settings.model_copy(update={"abstain_threshold": float(HASHING_ABSTAIN)})
    assert ingest([summit_corpus(tmp_path / "news")], settings).ok
    use_settings(monkeypatch, settings)
    return settings


def _run(at: Any) -> Any:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_question_date_defaults_to_today_and_is_used(news_app: Settings) -> None:
    at = _run(app_test())
    [picker] = [d for d in at.date_input if d.label == "Asked as of"]
    assert picker.value == dt.date.today()
    assert any("asked as of today" in c.value for c in at.sidebar.caption)
    picker.set_value(dt.date(2026, 3, 20))
    _run(at)
    at.chat_input[0].set_value("Where will the climate summit be held?")
    _run(at)
    [turn] = turns(at)
    answer = turn["answer"]
    assert answer.as_of == "2026-03-20"
    bodies = "\n".join(html_bodies(at))
    assert "As of 20 Mar 2026" in bodies
    assert '<span class="rag-dateline">' in bodies
    assert '<div class="rag-conflict">' in bodies and "Sources disagree" in bodies
    assert "Glendale" in bodies and "Tampa" in bodies


def test_timeline_view(news_app: Settings) -> None:
    at = _run(app_test())
    at.sidebar.segmented_control[0].set_value("timeline")
    _run(at)
    at.text_input(key="tl_query").set_value("the next climate summit")
    [show] = [b for b in at.button if b.label == "Show timeline"]
    show.click()
    _run(at)
    bodies = "\n".join(html_bodies(at))
    assert '<div class="rag-timeline-day">2 Mar 2026</div>' in bodies
    assert bodies.index("2 Mar 2026") < bodies.index("9 Mar 2026")
    assert "https://" not in bodies or 'rel="noopener noreferrer"' in bodies
