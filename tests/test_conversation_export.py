"""The Markdown export of a conversation, and the chat history the chain is given."""

from __future__ import annotations

import datetime as dt

from rag.app.conversation_export import chat_history, export_filename, export_markdown
from rag.core.schema import Answer, AnswerSentence, Citation

WHEN = dt.datetime(2025, 6, 2, 9, 5, tzinfo=dt.UTC)


def _answers() -> list[Answer]:
    first = Answer(
        question="Where did the volcano erupt?",
        standalone_question="Where did the volcano erupt?",
        answer="A volcano erupted near Grindavik in Iceland on Monday. [1]",
        citations=[
            Citation(
                id=1, article_id="v", chunk_id="v:0", title="Volcano <b>erupts</b>",
                source="example.com", date="2025-01-10", url="https://example.com/volcano",
                quote="A volcano erupted near Grindavik in Iceland on Monday.",
            )
        ],
        sentences=[AnswerSentence(text="A volcano erupted near Grindavik in Iceland on Monday.",
                                  citation_ids=[1])],
    )
    second = Answer(
        question="How many residents did it force out?",
        standalone_question="How many residents did the volcano force out?",
        answer="Officials evacuated <script>alert(1)</script> residents. [1] Made up. [1]",
        citations=[
            Citation(id=1, article_id="v", chunk_id="v:0", title="Volcano",
                     quote="Officials evacuated <script>alert(1)</script> residents.")
        ],
        sentences=[
            AnswerSentence(text="Officials evacuated <script>alert(1)</script> residents.",
                           citation_ids=[1]),
            AnswerSentence(text="Made up.", citation_ids=[1], supported=False),
        ],
        answerer="openai",
    )
    third = Answer(
        question="Who won the election?", standalone_question="Who won the election?",
        answer="The indexed articles don't say.", abstained=True,
    )
    return [first, second, third]


def test_export_has_every_question_answer_and_source() -> None:
    text = export_markdown(_answers(), title="Chat", exported_at=WHEN)
    assert text.startswith("# Chat\n\n_Exported 2025-06-02 09:05 UTC · 3 questions_")
    assert "## 1. Where did the volcano erupt?" in text
    assert "## 2. How many residents did it force out?" in text
    assert "_Searched as: How many residents did the volcano force out?_" in text
    assert text.count("### Sources") == 2  # the abstention has none
    assert "- [1] Volcano &lt;b>erupts&lt;/b> (example.com, 2025-01-10)" in text
    assert "https://example.com/volcano" in text
    assert "> A volcano erupted near Grindavik in Iceland on Monday." in text
    assert "  ! Made up." in text  # the unsupported sentence is listed as such
    assert "## 3. Who won the election?\n\n_No answer found in the articles._" in text


def test_untrusted_html_is_written_inert() -> None:
    text = export_markdown(_answers(), exported_at=WHEN)
    assert "<script>" not in text
    assert "<b>" not in text
    assert "&lt;script>alert(1)&lt;/script>" in text


def test_chat_history_alternates_questions_and_answers() -> None:
    answers = _answers()
    history = chat_history(answers[:2])
    assert history == [
        ("human", "Where did the volcano erupt?"),
        ("ai", answers[0].answer),
        ("human", "How many residents did it force out?"),
        ("ai", answers[1].answer),
    ]
    assert chat_history([]) == []


def test_export_filename_is_dated() -> None:
    assert export_filename(WHEN) == "rag-conversation-20250602-090500.md"
