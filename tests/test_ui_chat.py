"""The chat as readers expect it (issue 16), driven by Streamlit's AppTest: grouped source
cards, copy, regenerate, edit, stored conversations, first run, edge cases, quiet logs."""

from __future__ import annotations

import html
import logging
import re
from pathlib import Path
from typing import Any

import pytest

from rag.app.conversation_export import answer_markdown, export_markdown
from rag.app.conversations import ConversationStore
from rag.core.settings import Settings
from rag.indexing.ingest import ingest
from tests.conftest import SEED_ARTICLE
from tests.ui_fixtures import (
    HASHING_ABSTAIN,
    app_test,
    html_bodies,
    turns,
    use_llm_server,
    use_settings,
)

VOLCANO = "How many residents were evacuated near the volcano?"


@pytest.fixture
def app_settings(
    corpus: Path, hashing_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    settings = hashing_settings.model_copy(update={"abstain_threshold": float(HASHING_ABSTAIN)})
    assert ingest([corpus], settings).ok
    use_settings(monkeypatch, settings)
    return settings


def run(at: Any) -> Any:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def started() -> Any:
    return run(app_test())


def ask(at: Any, question: str) -> Any:
    at.chat_input[0].set_value(question)
    return run(at)


def click(at: Any, key: str) -> Any:
    at.button(key=key).click()
    return run(at)


def store(settings: Settings) -> ConversationStore:
    return ConversationStore(settings.conversations_file)


def test_one_source_card_per_article(app_settings: Settings) -> None:
    at = ask(started(), VOLCANO)
    [turn] = turns(at)
    citations = turn["answer"].citations
    assert citations
    bodies = "\n".join(html_bodies(at))
    articles = {c.article_id for c in citations}
    assert bodies.count('class="rag-source rag-card"') == len(articles)
    assert bodies.count(">Volcano erupts in Iceland<") == 1
    for citation in citations:  # each [n] of the answer lands in its article's card
        assert f'id="src-{turn["id"]}-{citation.id}"' in bodies


def test_copy_carries_the_answer_and_its_sources_as_markdown(app_settings: Settings) -> None:
    at = ask(started(), VOLCANO)
    [turn] = turns(at)
    buttons = [b for b in html_bodies(at) if 'class="rag-copy"' in b]
    assert len(buttons) == 1
    payload = html.unescape(re.search(r'data-copy="([^"]*)"', buttons[0]).group(1))  # type: ignore[union-attr]
    assert payload == answer_markdown(turn["answer"])
    assert "four thousand residents" in payload and "Volcano erupts in Iceland" in payload


def test_regenerate_replaces_the_last_answer_with_the_chosen_depth(app_settings: Settings) -> None:
    at = ask(started(), "Where did the volcano erupt?")
    at = ask(at, "Who won the national cup and who celebrated?")
    first, old = turns(at)
    at.slider(key="regen_k").set_value(1)
    at = click(at, "regenerate")
    kept, new = turns(at)
    assert kept["id"] == first["id"] and new["id"] != old["id"]
    assert new["answer"].question == old["answer"].question
    assert len({c.article_id for c in new["answer"].citations}) <= 1  # k=1: one passage
    stored = store(app_settings).turns(at.session_state["conversation_id"])
    assert [t.id for t in stored] == [first["id"], new["id"]]


def test_regenerate_offline_offers_another_depth(app_settings: Settings) -> None:
    """The offline answerer gives the same answer from the same passages: Regenerate
    must not offer the depth just used (a click would change nothing), and says why."""
    at = ask(started(), "Where did the volcano erupt?")
    used = at.slider(key="k").value
    assert at.slider(key="regen_k").value != used
    captions = " ".join(c.value for c in at.caption)
    assert "same passages give the same answer" in captions


def test_edit_the_last_question_and_ask_again(app_settings: Settings) -> None:
    at = ask(started(), "Who won the national cup?")
    at = click(at, "edit")
    at.text_area(key="edit_text").input(VOLCANO)
    at.button(key="FormSubmitter:edit_form-Ask again").click()
    at = run(at)
    [turn] = turns(at)
    assert turn["answer"].question == VOLCANO
    assert "four thousand residents" in turn["answer"].answer
    [stored] = store(app_settings).turns(at.session_state["conversation_id"])
    assert stored.answer.question == VOLCANO


def test_a_conversation_survives_a_reload_and_is_reopened(app_settings: Settings) -> None:
    at = ask(started(), "Where did the volcano erupt?")
    at = ask(at, "How many residents were evacuated because of it?")
    before = [t["answer"] for t in turns(at)]
    conversation = at.session_state["conversation_id"]

    again = started()  # a reload: a new session, an empty chat
    assert turns(again) == []
    again = click(again, f"open-{conversation}")
    assert [t["answer"] for t in turns(again)] == before
    assert again.session_state["conversation_id"] == conversation
    # The export is made from the stored copy.
    export = again.download_button(key="export")
    assert not export.proto.disabled
    # A follow-up in the reopened conversation is read with its history and stored there.
    again = ask(again, "What flowed toward the town?")
    assert len(store(app_settings).turns(conversation)) == 3


def test_export_comes_from_the_stored_copy(app_settings: Settings) -> None:
    from unittest import mock

    captured: list[list[Any]] = []

    def spy(answers: Any, **kwargs: Any) -> str:
        captured.append(list(answers))
        return export_markdown(answers, **kwargs)

    with mock.patch("rag.app.ui.sidebar.export_markdown", spy):
        at = ask(started(), VOLCANO)
        conversation = at.session_state["conversation_id"]
        # The store's copy differs from the session's after another tab edits it.
        stored = store(app_settings).turns(conversation)
        changed = stored[0].answer.model_copy(update={"answer": "Edited elsewhere [1]."})
        store(app_settings).replace_turn(conversation, stored[0].id, type(stored[0])("x", changed))
        run(at)
    assert captured[-1][0].answer == "Edited elsewhere [1]."


def test_two_tabs_keep_their_own_conversations(app_settings: Settings) -> None:
    one, two = started(), started()
    one = ask(one, "Where did the volcano erupt?")
    two = ask(two, "Who won the national cup?")
    one = ask(one, "How many residents were evacuated because of it?")
    assert one.session_state["conversation_id"] != two.session_state["conversation_id"]
    listed = {c.id: c.turns for c in store(app_settings).conversations()}
    assert listed == {
        one.session_state["conversation_id"]: 2, two.session_state["conversation_id"]: 1,
    }


def test_delete_one_and_delete_all(app_settings: Settings) -> None:
    at = ask(started(), "Where did the volcano erupt?")
    first = at.session_state["conversation_id"]
    at = click(at, "new_chat")
    at = ask(at, "Who won the national cup?")
    second = at.session_state["conversation_id"]
    at = click(at, f"delete-{first}")
    assert [c.id for c in store(app_settings).conversations()] == [second]
    assert len(turns(at)) == 1  # the open conversation stays open
    at = click(at, "delete_all")
    assert store(app_settings).conversations() != []  # asks first
    at = click(at, "delete_all_yes")
    assert store(app_settings).conversations() == []
    assert turns(at) == []


def test_a_question_mark_alone_gets_a_message(app_settings: Settings) -> None:
    at = ask(started(), "?")
    assert turns(at) == []
    info = " ".join(i.value for i in at.info).replace("\\", "")
    assert "I need a question to answer: the question has no words in it" in info


def test_a_long_unbroken_word_wraps_inside_the_bubble(app_settings: Settings) -> None:
    word = "x" * 600
    at = ask(started(), f"What about {word}?")
    bodies = "\n".join(html_bodies(at))
    assert word in bodies
    style = next(b for b in html_bodies(at) if "<style>" in b)
    rule = re.search(r"\.rag-answer, \.rag-question, \.rag-abstain[^{]*\{([^}]*)\}", style)
    assert rule is not None and "overflow-wrap: anywhere" in rule.group(1)


def test_timeline_of_an_undated_library_says_why_it_is_empty(
    hashing_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bundled article has no date: the Timeline view says so (and how to add dated
    articles) instead of a search form that can only answer "no article matches"."""
    settings = hashing_settings.model_copy(update={"abstain_threshold": float(HASHING_ABSTAIN)})
    assert ingest([SEED_ARTICLE], settings).ok
    use_settings(monkeypatch, settings)
    at = started()
    at.sidebar.segmented_control[0].set_value("timeline")
    at = run(at)
    said = " ".join(i.value for i in at.info)
    assert "no publication date" in said and "date:" in said
    assert not at.text_input  # no form that cannot work


def test_first_run_explains_the_empty_filters_and_offers_examples(
    hashing_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = hashing_settings.model_copy(update={"abstain_threshold": float(HASHING_ABSTAIN)})
    assert ingest([SEED_ARTICLE], settings).ok
    use_settings(monkeypatch, settings)
    at = started()
    assert at.sidebar.multiselect(key="f_sources").disabled
    assert at.sidebar.date_input(key="f_dates_off").disabled
    why = " ".join(c.value for c in at.sidebar.caption)
    assert "no outlet or publication date" in why
    assert "Add articles" in why and "rag ingest" in why
    examples = [b for b in at.button if b.key and b.key.startswith("example-")]
    assert len(examples) == 3
    at = click(at, examples[1].key)
    [turn] = turns(at)
    assert turn["answer"].question == examples[1].label


def test_logs_are_quiet_unless_asked(
    app_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    root_level = logging.getLogger().level
    try:
        started()
        assert logging.getLogger("bm25s").getEffectiveLevel() >= logging.ERROR
        monkeypatch.setenv("RAG_LOG_LEVEL", "DEBUG")
        started()
        assert logging.getLogger("bm25s").getEffectiveLevel() == logging.DEBUG
        assert logging.getLogger("rag").getEffectiveLevel() == logging.DEBUG
    finally:
        from rag.app.logs import set_log_level

        set_log_level("WARNING")
        logging.getLogger().setLevel(root_level)


def test_a_date_range_raises_no_session_state_warning(
    app_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    import datetime as dt

    at = started()
    with caplog.at_level(logging.WARNING):
        at.date_input(key="f_dates").set_value((dt.date(2025, 1, 1), dt.date(2025, 2, 1)))
        at = ask(run(at), VOLCANO)
        run(at)
    assert not [r for r in caplog.records if "f_dates" in r.getMessage()]
    assert turns(at)[-1]["answer"].citations


@pytest.mark.integration
def test_the_welcome_examples_work_on_the_bundled_article(real_chain: Any) -> None:
    from rag.app.ui.page import BUNDLED_EXAMPLES

    article, questions = BUNDLED_EXAMPLES
    # What each answer must say (read in the article, written before the run).
    expected = {
        "Why is Russia withholding S-400s from Iran?": "S-400s",
        "What did Russia warn Israel against?": "Iranian nuclear sites",
        "Why could Pezeshkian be impeached?": "diplomatic appointments",
    }
    assert set(questions) == set(expected)
    for question in questions:
        answer = real_chain.invoke({"question": question, "chat_history": []})
        assert expected[question] in answer.answer, answer.answer
        assert not answer.abstained, question
        assert answer.citations and {c.article_id for c in answer.citations} == {article}
        assert all(s.supported for s in answer.sentences), question


@pytest.mark.parametrize(("level", "shown"), [("WARNING", False), ("DEBUG", True)])
def test_log_level_decides_what_a_program_prints(level: str, shown: bool) -> None:
    import subprocess
    import sys

    script = (
        "import logging, bm25s; from rag.app.logs import set_log_level; "
        f"set_log_level({level!r}); logging.getLogger('bm25s').debug('bm25s-debug-line'); "
        "logging.getLogger('rag.x').info('rag-info-line')"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    assert ("bm25s-debug-line" in done.stderr) is shown, done.stderr
    assert ("rag-info-line" in done.stderr) is shown, done.stderr


def test_a_store_that_cannot_be_written_warns_and_answers_anyway(
    app_settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    blocked = tmp_path / "not-a-file"
    blocked.mkdir()  # a folder where the SQLite file should be
    monkeypatch.setenv("RAG_CONVERSATIONS_PATH", str(blocked))
    at = ask(started(), VOLCANO)
    [turn] = turns(at)
    assert "four thousand residents" in turn["answer"].answer
    warnings = " ".join(w.value for w in at.warning).replace("\\", "")
    assert "Conversations cannot be stored" in warnings and "RAG_CONVERSATIONS_PATH" in warnings


def test_regenerate_with_the_other_answerer(
    app_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.llm_servers import OpenAICompatibleServer, fixed

    reply = "Officials evacuated four thousand residents as a precaution [1]."
    with OpenAICompatibleServer(fixed(reply)) as server:
        use_llm_server(monkeypatch, server)
        at = ask(started(), VOLCANO)
        [before] = turns(at)
        assert before["answer"].answerer == "grounded" and not server.chat_requests
        at.radio(key="regen_answerer").set_value("llm")
        at = click(at, "regenerate")
        assert server.chat_requests  # the LLM wrote the new answer
    [after] = turns(at)
    assert after["id"] != before["id"] and after["answer"].answerer != "grounded"
    assert after["answer"].question == VOLCANO
    [stored] = store(app_settings).turns(at.session_state["conversation_id"])
    assert stored.answer.answerer == after["answer"].answerer


def test_an_index_beside_another_lists_only_its_own_conversations(
    corpus: Path, hashing_settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """RAG_INDEX_DIR=/tmp/news and /tmp/art share /tmp/conversations.sqlite3: a chat
    asked of one library is not offered for reopening in the other."""
    libraries = []
    for name in ("one", "two"):
        settings = hashing_settings.model_copy(update={
            "abstain_threshold": float(HASHING_ABSTAIN), "index_dir": tmp_path / name,
        })
        assert ingest([corpus], settings).ok
        libraries.append(settings)
    assert libraries[0].conversations_file == libraries[1].conversations_file
    use_settings(monkeypatch, libraries[0])
    ask(started(), VOLCANO)
    openers = lambda at: [b for b in at.sidebar.button if (b.key or "").startswith("open-")]  # noqa: E731
    assert len(openers(started())) == 1
    use_settings(monkeypatch, libraries[1])
    assert openers(started()) == []
