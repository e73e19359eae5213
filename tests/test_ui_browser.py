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


def _click(driver: Any, element: Any, attempts: int = 10) -> None:
    """Click as a reader would, once nothing covers the element: while Streamlit finishes
    a run the page still moves, and a click can land on the paragraph sliding over it."""
    from selenium.common.exceptions import ElementClickInterceptedException

    for attempt in range(attempts):
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
        try:
            element.click()
            return
        except ElementClickInterceptedException:
            if attempt == attempts - 1:
                raise
            time.sleep(0.5)


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
        # The first run explains itself: why the filters are off, questions that work.
        example = _button(driver, "Why could Pezeshkian be impeached?")
        sidebar = driver.find_element(By.CSS_SELECTOR, "[data-testid='stSidebar']").text
        assert "no outlet or publication date" in sidebar and "rag ingest" in sidebar
        assert example.is_displayed()
        time.sleep(0.5)
        driver.save_screenshot(str(artifacts / "ui-first-run.png"))
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
        target = driver.find_element(By.ID, card_id)  # the [n] in its article's card
        assert driver.current_url.endswith("#" + card_id)
        assert driver.execute_script(
            "const r = arguments[0].getBoundingClientRect();"
            "return r.top < window.innerHeight && r.bottom > 0;", target
        ), "the cited source card is not scrolled into view"
        item = driver.execute_script("return arguments[0].closest('.rag-quote-item')", target)
        card = driver.execute_script("return arguments[0].closest('.rag-card')", target)
        # One card for the one article, listing every cited passage with its numbers.
        assert len(driver.find_elements(By.CSS_SELECTOR, ".rag-card")) == 1
        numbers = {n.text for n in card.find_elements(By.CSS_SELECTOR, ".rag-num")}
        cited = {a.text for a in driver.find_elements(By.CSS_SELECTOR, "a.rag-cite")}
        assert numbers == cited and len(numbers) >= 2
        quote = item.find_element(By.CSS_SELECTOR, "mark.rag-quote").text
        assert quote and quote.rstrip(".") in driver.execute_script(
            "return document.querySelector('.rag-answer').innerText"
        ).replace("Meanwhile, ", "")  # the answer trims the discourse marker

        summary = card.find_element(By.CSS_SELECTOR, "details.rag-more > summary")
        _click(driver, summary)
        context = card.find_element(By.CSS_SELECTOR, "details.rag-more .rag-context")
        assert context.is_displayed()
        assert context.find_element(By.CSS_SELECTOR, "mark.rag-quote").text == quote
        assert "Ashgabat" in card.find_element(By.CSS_SELECTOR, ".rag-whole").get_attribute(
            "textContent"
        )
        time.sleep(0.3)
        driver.save_screenshot(str(artifacts / "ui-citation.png"))
        _click(driver, summary)  # closed again: the grouped card as a reader first sees it
        driver.execute_script("arguments[0].scrollIntoView({block: 'start'})", card)
        driver.execute_script("window.scrollBy(0, -90)")
        time.sleep(0.3)
        driver.save_screenshot(str(artifacts / "ui-sources.png"))
        assert _no_alert(driver)


def test_hostile_article_renders_inert(hostile_server: str, artifacts: Path) -> None:
    from selenium.webdriver.common.by import By

    with chromium(1280, 1000) as driver:
        driver.get(hostile_server)
        _ask(driver, "Why did the harbour master close the harbour?")
        _wait(driver, ".rag-source")
        for summary in driver.find_elements(By.CSS_SELECTOR, "details.rag-more > summary"):
            _click(driver, summary)
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


@pytest.fixture
def chat_server(corpus: Path, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    settings = Settings(
        index_dir=tmp_path / "index", articles_dir=corpus, embedding_model="hashing",
        feedback_path=tmp_path / "feedback.jsonl", abstain_threshold=float(HASHING_ABSTAIN),
    )
    assert ingest([corpus], settings).ok
    log = tmp_path / "streamlit.log"
    with streamlit_server(settings, log) as url:
        yield url, log


def _button(driver: Any, label: str, timeout: float = 60) -> Any:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(
        ec.element_to_be_clickable((By.XPATH, f"//button[contains(normalize-space(.), '{label}')]"))
    )


def _until(driver: Any, check: Any, timeout: float = 60) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(lambda d: check(d))


def _answer_ids(driver: Any) -> list[str]:
    return list(driver.execute_script(
        "return Array.from(document.querySelectorAll('.rag-card .rag-num[id]'))"
        ".map(e => e.id.split('-')[1])"
    ))


def test_copy_regenerate_reload_and_reopen(chat_server: tuple[str, Path], artifacts: Path) -> None:
    from selenium.webdriver.common.by import By

    url, log = chat_server
    with chromium(1280, 1300) as driver:
        driver.execute_cdp_cmd(
            "Browser.grantPermissions",
            {"origin": url, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]},
        )
        driver.get(url)
        # "?" alone is answered with a message, not silence.
        _ask(driver, "?")
        _until(driver, lambda d: "I need a question to answer" in d.find_element(
            By.TAG_NAME, "body").text)

        _ask(driver, "How many residents were evacuated near the volcano?")
        _wait(driver, ".rag-card")
        cards = driver.find_elements(By.CSS_SELECTOR, ".rag-card")
        titles = [c.find_element(By.CSS_SELECTOR, ".rag-title").text for c in cards]
        assert "Volcano erupts in Iceland" in titles and len(titles) == len(set(titles))
        first_ids = set(_answer_ids(driver))
        assert len(first_ids) == 1  # every [n] anchor of this turn

        # Copy: the clipboard holds the answer and its sources as Markdown.
        copy = driver.find_element(By.CSS_SELECTOR, "button.rag-copy")
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", copy)
        copy.click()
        _until(driver, lambda d: d.find_element(By.CSS_SELECTOR, "button.rag-copy").text
               == "Copied")
        clipboard = driver.execute_async_script(
            "const done = arguments[0]; navigator.clipboard.readText().then(done, e => done("
            "'error: ' + e))"
        )
        assert clipboard.startswith("## How many residents were evacuated near the volcano?")
        assert "four thousand residents" in clipboard and "### Sources" in clipboard
        assert "Volcano erupts in Iceland" in clipboard

        # Regenerate with another depth: the last answer is replaced, not added.
        _button(driver, "Regenerate").click()
        _button(driver, "Answer again").click()
        _until(driver, lambda d: (ids := set(_answer_ids(d))) and ids != first_ids)
        assert len(driver.find_elements(By.CSS_SELECTOR, ".rag-answer")) == 1

        # A 600-character word stays inside its bubble (no sideways scrolling).
        _ask(driver, "What about " + "x" * 600 + "?")
        _until(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, "button.rag-copy")) == 2)
        assert driver.execute_script(
            "return document.documentElement.scrollWidth <= window.innerWidth"
        )
        # Nothing in any message (question, answer, "don't say" note, caption) reaches
        # past the right edge of its message.
        overflowing = driver.execute_script(
            "const out = [];"
            "for (const m of document.querySelectorAll('[data-testid=\"stChatMessage\"]')) {"
            "  const edge = m.getBoundingClientRect().right + 1;"
            "  for (const e of m.querySelectorAll('*')) {"
            "    if (e.getBoundingClientRect().right > edge || e.scrollWidth > e.clientWidth + 1"
            "        && getComputedStyle(e).overflowX === 'visible')"
            "      out.push(e.className || e.tagName);"
            "  }"
            "}"
            "return out;"
        )
        assert overflowing == [], overflowing
        time.sleep(0.5)
        driver.save_screenshot(str(artifacts / "ui-chat.png"))

        # Reload: a fresh, empty chat; the conversation waits in the sidebar.
        driver.refresh()
        opener = _wait(driver, "[class*='st-key-open-'] button")
        assert not driver.find_elements(By.CSS_SELECTOR, ".rag-answer")
        assert opener.text.startswith("How many residents were evacuated")
        opener.click()
        _until(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, ".rag-question")) == 2)
        assert "four thousand residents" in driver.find_element(
            By.CSS_SELECTOR, ".rag-answer").text
        time.sleep(0.5)
        driver.save_screenshot(str(artifacts / "ui-reopened.png"))
        assert _no_alert(driver)
    # A normal run logs no DEBUG lines and no warnings.
    text = log.read_text(encoding="utf-8")
    assert "DEBUG" not in text and "WARNING" not in text and "Traceback" not in text, text
