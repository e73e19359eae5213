"""The app in a real headless Chromium: ask, open a citation, and hostile text stays inert.

Screenshots go to artifacts/ (git-ignored) for review.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rag.core.settings import Settings
from rag.indexing.ingest import ingest
from tests.conftest import S400_QUESTION
from tests.ui_fixtures import (
    ARTIFACTS,
    HASHING_ABSTAIN,
    chromium,
    chromium_missing,
    streamlit_server,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.timeout(600),
    pytest.mark.skipif(bool(chromium_missing()), reason=chromium_missing() or "ok"),
]

HOSTILE = """---
title: "Harbour closed <img src=x onerror=\\"window.__pwned_title=1\\">"
source: "<b>port.test</b>"
url: "javascript:window.__pwned_url=1"
---

The harbour master <script>window.__pwned_script=1</script> closed the harbour on Sunday.
Boats <img src=x onerror="window.__pwned_img=1;alert(1)"> stayed in port because of the storm.
Fishermen said <svg onload="window.__pwned_svg=1"></svg> the storm was the worst in years.
"""


def _wait(driver: Any, css: str, timeout: float = 180) -> Any:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(
        ec.visibility_of_element_located((By.CSS_SELECTOR, css))
    )


def _ask(driver: Any, question: str) -> None:
    from selenium.webdriver.common.keys import Keys

    box = _wait(driver, "textarea[data-testid='stChatInputTextArea']")
    box.send_keys(question)
    box.send_keys(Keys.ENTER)


def _no_alert(driver: Any) -> bool:
    from selenium.common.exceptions import NoAlertPresentException

    try:
        driver.switch_to.alert  # noqa: B018 - raises when there is none
    except NoAlertPresentException:
        return True
    return False


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def seed_server(real_settings: Settings, tmp_path: Path) -> Iterator[str]:
    with streamlit_server(real_settings, tmp_path / "streamlit.log") as url:
        yield url


@pytest.fixture
def hostile_server(tmp_path: Path) -> Iterator[str]:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "hostile.md").write_text(HOSTILE, encoding="utf-8")
    settings = Settings(
        index_dir=tmp_path / "index", articles_dir=folder, embedding_model="hashing",
        feedback_path=tmp_path / "feedback.jsonl", abstain_threshold=float(HASHING_ABSTAIN),
    )
    summary = ingest([folder], settings)
    assert summary.ok, summary.problems
    with streamlit_server(settings, tmp_path / "streamlit.log") as url:
        yield url


@pytest.mark.integration
def test_ask_and_open_a_citation(seed_server: str, artifacts: Path) -> None:
    from selenium.webdriver.common.by import By

    with chromium(1280, 1300) as driver:
        driver.get(seed_server)
        _ask(driver, S400_QUESTION)
        cite = _wait(driver, "a.rag-cite")
        answer = driver.find_element(By.CSS_SELECTOR, ".rag-answer").text
        assert "S-400s" in answer and "Israel" in answer
        time.sleep(0.5)  # let the layout settle before the screenshot
        driver.execute_script(
            "document.querySelector('h2').scrollIntoView({block: 'start'})"
        )
        time.sleep(0.3)
        driver.save_screenshot(str(artifacts / "ui-answer.png"))

        cite.click()
        card_id = cite.get_attribute("href").split("#", 1)[1]
        card = driver.find_element(By.ID, card_id)
        assert driver.current_url.endswith("#" + card_id)
        assert driver.execute_script(
            "const r = arguments[0].getBoundingClientRect();"
            "return r.top < window.innerHeight && r.bottom > 0;", card
        ), "the cited source card is not scrolled into view"
        quote = card.find_element(By.CSS_SELECTOR, "mark.rag-quote").text
        assert quote and quote.rstrip(".") in driver.execute_script(
            "return document.querySelector('.rag-answer').innerText"
        ).replace("Meanwhile, ", "")  # the answer trims the discourse marker

        summary = card.find_element(By.CSS_SELECTOR, "details.rag-more > summary")
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", summary)
        summary.click()
        context = card.find_element(By.CSS_SELECTOR, "details.rag-more .rag-context")
        assert context.is_displayed()
        assert context.find_element(By.CSS_SELECTOR, "mark.rag-quote").text == quote
        assert "Ashgabat" in card.find_element(By.CSS_SELECTOR, ".rag-whole").get_attribute(
            "textContent"
        )
        time.sleep(0.3)
        driver.save_screenshot(str(artifacts / "ui-citation.png"))
        assert _no_alert(driver)


def test_hostile_article_renders_inert(hostile_server: str, artifacts: Path) -> None:
    from selenium.webdriver.common.by import By

    with chromium(1280, 1000) as driver:
        driver.get(hostile_server)
        _ask(driver, "Why did the harbour master close the harbour?")
        _wait(driver, ".rag-source")
        for summary in driver.find_elements(By.CSS_SELECTOR, "details.rag-more > summary"):
            driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", summary)
            summary.click()
        time.sleep(1.5)  # time for any injected handler to fire
        driver.save_screenshot(str(artifacts / "ui-hostile.png"))

        assert _no_alert(driver)
        fired = driver.execute_script(
            "return ['__pwned_title','__pwned_url','__pwned_script','__pwned_img',"
            "'__pwned_svg'].filter(name => window[name] !== undefined)"
        )
        assert fired == []
        injected = driver.execute_script(
            "return Array.from(document.querySelectorAll("
            "'img[src=\"x\"], svg[onload], [onerror], a[href^=\"javascript\"], b')).length"
            " + Array.from(document.scripts).filter(s => s.text.includes('__pwned')).length"
        )
        assert injected == 0
        text = driver.execute_script("return document.body.innerText")
        # The markup is shown to the reader as the text it is.
        assert "<script>window.__pwned_script=1</script>" in text
        assert "Harbour closed <img" in text


@pytest.fixture
def news_server(tmp_path: Path) -> Iterator[str]:
    from tests.test_ui_news import summit_corpus

    settings = Settings(
        index_dir=tmp_path / "index", articles_dir=tmp_path / "news", embedding_model="hashing",
        feedback_path=tmp_path / "feedback.jsonl", abstain_threshold=float(HASHING_ABSTAIN),
    )
    summary = ingest([summit_corpus(tmp_path / "news")], settings)
    assert summary.ok, summary.problems
    with streamlit_server(settings, tmp_path / "streamlit.log") as url:
        yield url


def test_news_answer_marks_and_timeline(news_server: str, artifacts: Path) -> None:
    """Outlet and date after cited sentences, the question date, a visible conflict box,
    then the timeline view: days in order, each entry cited."""
    from selenium.webdriver.common.by import By

    with chromium(1280, 1300) as driver:
        driver.get(news_server)
        _wait(driver, "[data-testid='stSidebar'] [data-testid='stDateInput'] input")
        sidebar = driver.find_element(By.CSS_SELECTOR, "[data-testid='stSidebar']").text
        assert "Asked as of" in sidebar and "asked as of today" in sidebar
        _ask(driver, "Where will the climate summit be held?")
        box = _wait(driver, ".rag-conflict")
        assert "Sources disagree" in box.text
        assert "Tampa" in box.text and "Glendale" in box.text
        dateline = driver.find_element(By.CSS_SELECTOR, ".rag-answer .rag-dateline")
        assert "Mar 2026" in dateline.text and dateline.is_displayed()
        assert driver.find_element(By.CSS_SELECTOR, ".rag-asof").text.startswith("As of ")
        time.sleep(0.5)
        driver.save_screenshot(str(artifacts / "ui-news-conflict.png"))

        switch = [
            b for b in driver.find_elements(
                By.CSS_SELECTOR, "[data-testid='stSidebar'] button"
            ) if b.text.strip() == "Timeline"
        ]
        assert switch, "no Timeline switch in the sidebar"
        switch[0].click()
        field = _wait(driver, "input[aria-label='Story']")
        field.send_keys("the next climate summit")
        [show] = [
            b for b in driver.find_elements(By.TAG_NAME, "button")
            if b.text.strip() == "Show timeline"
        ]
        show.click()
        _wait(driver, ".rag-timeline-day")
        text = driver.find_element(By.CSS_SELECTOR, ".rag-timeline").text
        assert text.index("2 Mar 2026") < text.index("9 Mar 2026")
        assert len(driver.find_elements(By.CSS_SELECTOR, ".rag-timeline-entry")) == 2
        time.sleep(0.3)
        driver.save_screenshot(str(artifacts / "ui-news-timeline.png"))
