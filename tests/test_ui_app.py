"""The Streamlit app driven by Streamlit's AppTest over real temporary indexes."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest

from rag.app.ui_render import COPY_SCRIPT
from rag.core.settings import Settings
from rag.indexing.ingest import ingest
from tests.ui_fixtures import (
    BRIDGE,
    HASHING_ABSTAIN,
    app_test,
    html_bodies,
    turns,
    use_llm_server,
    use_settings,
)


@pytest.fixture
def app_settings(
    corpus: Path, hashing_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    settings = hashing_settings.model_copy(update={"abstain_threshold": float(HASHING_ABSTAIN)})
    summary = ingest([corpus], settings)
    assert summary.ok, summary.problems
    use_settings(monkeypatch, settings)
    return settings


def ask(at: Any, question: str) -> Any:
    at.chat_input[0].set_value(question).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def started() -> Any:
    at = app_test().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def cited_titles(turn: dict[str, Any]) -> set[str]:
    return {c.title for c in turn["answer"].citations}


def test_a_question_gets_a_cited_answer_with_its_sources(app_settings: Settings) -> None:
    at = ask(started(), "How many residents were evacuated near the volcano?")
    [turn] = turns(at)
    answer = turn["answer"]
    assert not answer.abstained
    bodies = "\n".join(html_bodies(at))
    assert "four thousand residents" in bodies
    assert f'href="#src-{turn["id"]}-1"' in bodies  # the [1] marker links to its card
    assert f'id="src-{turn["id"]}-1"' in bodies
    assert "Volcano erupts in Iceland" in bodies
    assert "example.com · 2025-01-10" in bodies
    assert '<mark class="rag-quote">' in bodies
    assert "Show in the article" in bodies and "Lava flowed toward the town." in bodies
    assert at.feedback  # thumbs under the answer
    captions = [c.value for c in at.caption]
    assert any(re.search(r"grounded answer · 1 article · [1-9]\d* ms", c) for c in captions)
    assert not at.error


def test_a_follow_up_is_read_with_the_conversation(app_settings: Settings) -> None:
    at = ask(started(), "Where did the volcano erupt?")
    at = ask(at, "How many residents were evacuated because of it?")
    _, second = turns(at)
    assert second["answer"].question == "How many residents were evacuated because of it?"
    standalone = "How many residents were evacuated because of the volcano?"
    assert second["answer"].standalone_question == standalone
    assert "Volcano erupts in Iceland" in cited_titles(second)
    captions = [c.value.replace("\\", "") for c in at.caption]
    assert any(f"searched for: {standalone}" in c for c in captions)
    # Both turns are still on screen, in order.
    questions = [b for b in html_bodies(at) if 'class="rag-question"' in b]
    assert len(questions) == 2 and "Where did the volcano erupt?" in questions[0]


def test_filters_change_what_is_retrieved(app_settings: Settings) -> None:
    question = "What did the finance minister say about taxes on fuel?"
    at = ask(started(), question)
    assert cited_titles(turns(at)[-1]) == {"Parliament passes budget"}

    at.multiselect(key="f_sources").set_value(["example.com"]).run()
    at = ask(at, question)
    assert "Parliament passes budget" not in cited_titles(turns(at)[-1])

    at.multiselect(key="f_sources").set_value([]).run()
    at.date_input(key="f_dates").set_value((dt.date(2025, 3, 1), dt.date(2025, 3, 5))).run()
    at = ask(at, "Who won the national cup and who celebrated?")
    assert cited_titles(turns(at)[-1]) <= {"Local club wins the cup"}
    at = ask(at, "How many residents were evacuated near the volcano?")
    assert "Volcano erupts in Iceland" not in cited_titles(turns(at)[-1])


def test_retrieval_depth_reaches_the_chain(app_settings: Settings) -> None:
    at = started()
    at.slider(key="k").set_value(1).run()
    at = ask(at, "Who won the national cup?")
    # One passage read: every citation comes from one article.
    assert len({c.article_id for c in turns(at)[-1]["answer"].citations}) <= 1


def test_uploaded_articles_are_indexed_and_problems_reported(app_settings: Settings) -> None:
    at = started()
    assert at.sidebar.metric[0].value == "3"
    at.file_uploader[0].set_value(
        [("../../bridge.md", BRIDGE, "text/markdown"),
         ("broken.md", b"---\ntitle: [oops\n---\ntext\n", "text/markdown")]
    ).run()
    at.button(key="ingest").click().run()
    assert not at.exception
    assert at.sidebar.metric[0].value == "4"
    success = " ".join(s.value for s in at.success).replace("\\", "")
    assert "1 added" in success
    warnings = " ".join(w.value for w in at.warning).replace("\\", "")
    assert "broken.md: malformed YAML front matter" in warnings
    saved = list((Path(app_settings.index.articles_dir) / "uploads").iterdir())
    assert [p.name for p in saved] == ["bridge.md"]
    at = ask(at, "When did the old river bridge reopen?")
    assert "Bridge reopens after repairs" in cited_titles(turns(at)[-1])
    assert "city.test" in at.sidebar.multiselect(key="f_sources").options


def test_feedback_is_appended_to_the_feedback_file(app_settings: Settings) -> None:
    at = ask(started(), "Where did the volcano erupt?")
    at = ask(at, "How many residents were evacuated because of it?")
    at.feedback[1].set_value(0).run()  # thumbs down on the follow-up
    at.text_input(key=f"comment-{turns(at)[1]['id']}").input("missed the town name")
    at.button(key=f"FormSubmitter:fbform-{turns(at)[1]['id']}-Send feedback").click().run()
    assert not at.exception
    lines = Path(app_settings.app.feedback_path).read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert record["rating"] == "down"
    assert record["comment"] == "missed the town name"
    assert record["question"] == "How many residents were evacuated because of it?"
    assert record["standalone_question"] == (
        "How many residents were evacuated because of the volcano?"
    )
    assert record["chat_history"][0] == ["human", "Where did the volcano erupt?"]
    assert record["citations"] and record["citations"][0]["title"] == "Volcano erupts in Iceland"
    assert any("feedback was saved" in c.value for c in at.caption)
    assert len(at.feedback) == 1  # the rated answer no longer offers thumbs


def test_an_empty_question_is_refused_politely(app_settings: Settings) -> None:
    at = ask(started(), "   ")
    assert turns(at) == []
    info = " ".join(i.value for i in at.info).replace("\\", "")
    assert "I need a question to answer: the question is empty" in info
    assert not at.error


def test_an_abstention_looks_like_one(app_settings: Settings) -> None:
    at = ask(started(), "What is the boiling point of mercury on Mars?")
    [turn] = turns(at)
    assert turn["answer"].abstained
    bodies = "\n".join(html_bodies(at))
    assert 'class="rag-abstain"' in bodies and "Sources" not in bodies
    assert not at.error


def test_new_chat_empties_the_conversation(app_settings: Settings) -> None:
    at = started()
    assert at.download_button(key="export").proto.disabled  # nothing to export yet
    at = ask(at, "Who won the national cup?")
    assert len(turns(at)) == 1
    assert not at.download_button(key="export").proto.disabled
    [new_chat] = [b for b in at.sidebar.button if b.label == "New chat"]
    new_chat.click().run()
    assert turns(at) == []
    assert not [b for b in html_bodies(at) if 'class="rag-question"' in b]


def test_model_and_index_load_once(app_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    from rag.retrieval import hybrid as retrieval

    made: list[int] = []
    original = retrieval.SearchEngine.__init__

    def counting(self: Any, *args: Any, **kwargs: Any) -> None:
        made.append(1)
        original(self, *args, **kwargs)

    monkeypatch.setattr(retrieval.SearchEngine, "__init__", counting)
    at = ask(started(), "Who won the national cup?")
    at = ask(at, "Where did the volcano erupt?")
    at.run()
    assert len(made) == 1


def test_a_hostile_article_renders_as_text(
    app_settings: Settings, tmp_path: Path
) -> None:
    hostile = tmp_path / "hostile"
    hostile.mkdir()
    (hostile / "x.md").write_text(
        "---\ntitle: '<img src=x onerror=alert(1)> Harbour news'\nsource: '<b>evil</b>'\n"
        "url: 'javascript:alert(3)'\n---\n\n"
        "The harbour master <script>alert(2)</script> closed the harbour on Sunday. "
        "Boats <img src=x onerror=alert(4)> stayed in port because of the storm "
        "[click](javascript:alert(5)).\n",
        encoding="utf-8",
    )
    assert ingest([hostile], app_settings).ok
    at = ask(started(), "Why did the harbour master close the harbour?")
    # The one script on the page is the constant copy handler; no other body has one.
    assert [b for b in html_bodies(at) if "<script" in b] == [COPY_SCRIPT.strip()]
    bodies = "\n".join(b for b in html_bodies(at) if b != COPY_SCRIPT.strip())
    assert "harbour" in bodies
    for raw in ("<script", "<img", "<b>", 'href="javascript'):
        assert raw not in bodies
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in bodies
    # No untrusted text reaches Markdown unescaped.
    for element in list(at.markdown) + list(at.caption):
        assert "<script" not in element.value and "<img" not in element.value


def test_no_index_yet_invites_an_upload(
    hashing_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_settings(monkeypatch, hashing_settings)
    at = started()
    [empty] = [i.value for i in at.info if "library is empty" in i.value]
    # The command works wherever rag is installed (make exists only in a clone), and
    # names the folder this app indexes.
    assert "rag ingest" in empty and str(hashing_settings.index.articles_dir) in empty
    assert at.chat_input[0].disabled
    at.file_uploader[0].set_value(("bridge.md", BRIDGE, "text/markdown")).run()
    at.button(key="ingest").click().run()
    assert not at.exception
    assert not at.chat_input[0].disabled
    [done] = [m.value for m in at.success]
    assert done.replace("\\", "").endswith("1 added; 1 passage.")  # not "1 passages"
    at = ask(at, "When did the old river bridge reopen?")
    assert "Bridge reopens after repairs" in cited_titles(turns(at)[-1])


@pytest.mark.integration
def test_the_s400_question_with_the_real_model(
    real_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import S400_QUESTION

    use_settings(monkeypatch, real_settings)
    at = ask(started(), S400_QUESTION)
    [turn] = turns(at)
    answer = turn["answer"]
    assert not answer.abstained
    assert "S-400s" in answer.answer
    assert "Israel" in answer.answer
    bodies = "\n".join(html_bodies(at))
    assert "How US, EU policies pushing Iran closer to Russia?" in bodies
    assert '<mark class="rag-quote">' in bodies


def test_the_llm_is_offered_only_when_configured_and_its_unsupported_claims_marked(
    app_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.llm_servers import OpenAICompatibleServer, fixed

    at = started()
    assert not at.radio  # no LLM configured: nothing to choose
    reply = (
        "Officials evacuated four thousand residents as a precaution [1]. "
        "The eruption was caused by a secret government weather machine [1]."
    )
    with OpenAICompatibleServer(fixed(reply)) as server:
        use_llm_server(monkeypatch, server)
        at = started()
        assert at.radio(key="answerer").value == "grounded"  # offline stays the default
        at.radio(key="answerer").set_value("llm").run()
        at = ask(at, "How many residents were evacuated near the volcano?")
        assert server.chat_requests
    answer = turns(at)[-1]["answer"]
    assert answer.answerer != "grounded"
    assert [s.supported for s in answer.sentences] == [True, False]
    bodies = "\n".join(html_bodies(at))
    assert '<span class="rag-unsupported"' in bodies
    assert "secret government weather machine" in bodies
    assert "1 sentence of this answer is not supported" in bodies
