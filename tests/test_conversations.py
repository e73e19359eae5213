"""The SQLite conversation store: turns in order, replace, rate, delete, many writers."""

from __future__ import annotations

import threading
from pathlib import Path

from rag.app.conversations import ConversationStore, StoredTurn, new_id
from rag.core.schema import Answer, Citation


def answer(question: str, text: str = "An answer [1].") -> Answer:
    return Answer(
        question=question, standalone_question=question, answer=text,
        citations=[Citation(id=1, article_id="a", chunk_id="a:0", quote="A quote.")],
    )


def test_turns_come_back_whole_and_in_order(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "c.sqlite3")
    assert store.conversations() == [] and store.turns("nope") == []
    conversation = new_id()
    for n in range(3):
        store.add_turn(conversation, StoredTurn(f"t{n}", answer(f"Question {n}?")))
    [info] = store.conversations()
    assert (info.id, info.title, info.turns) == (conversation, "Question 0?", 3)
    back = store.turns(conversation)
    assert [t.id for t in back] == ["t0", "t1", "t2"]
    assert back[1].answer == answer("Question 1?")  # the full Answer JSON round-trips
    assert back[0].asked_at  # when it was stored


def test_replace_rate_and_delete(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "c.sqlite3")
    one, two = new_id(), new_id()
    store.add_turn(one, StoredTurn("a", answer("First?")))
    store.add_turn(one, StoredTurn("b", answer("Second?")))
    store.add_turn(two, StoredTurn("c", answer("Other?")))
    store.replace_turn(one, "b", StoredTurn("b2", answer("Second, edited?", "New [1].")))
    store.rate("a", "up")
    turns = store.turns(one)
    assert [(t.id, t.answer.question, t.rating) for t in turns] == [
        ("a", "First?", "up"), ("b2", "Second, edited?", None),
    ]
    store.delete(one)
    assert store.turns(one) == [] and [c.id for c in store.conversations()] == [two]
    assert store.delete_all() == 1
    assert store.conversations() == []


def test_two_tabs_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    conversations = [new_id() for _ in range(4)]
    errors: list[BaseException] = []

    def tab(conversation: str) -> None:
        store = ConversationStore(path)  # each tab its own connection
        try:
            for n in range(15):
                store.add_turn(conversation, StoredTurn(new_id(), answer(f"{conversation} {n}?")))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=tab, args=(c,)) for c in conversations]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    store = ConversationStore(path)
    for conversation in conversations:
        questions = [t.answer.question for t in store.turns(conversation)]
        assert questions == [f"{conversation} {n}?" for n in range(15)]


def test_each_library_lists_its_own_conversations(tmp_path: Path) -> None:
    """Two indexes side by side (/data/news and /data/sport) share the default file
    beside them; each UI lists, and deletes, only the conversations asked of its own
    library (conversations stored before libraries were recorded show in every one)."""
    import sqlite3

    path = tmp_path / "conversations.sqlite3"
    old = sqlite3.connect(path)  # a file from before the library column
    old.executescript(
        "CREATE TABLE conversations (id TEXT PRIMARY KEY, title TEXT NOT NULL, "
        "created_at TEXT NOT NULL, updated_at TEXT NOT NULL);"
        "INSERT INTO conversations VALUES ('legacy', 'Old?', '2026-01-01', '2026-01-01');"
    )
    old.close()
    news = ConversationStore(path, library="/data/news")
    sport = ConversationStore(path, library="/data/sport")
    news.add_turn("n1", StoredTurn("a", answer("Where is the summit?")))
    sport.add_turn("s1", StoredTurn("b", answer("Who won the cup?")))
    assert {c.id for c in news.conversations()} == {"n1", "legacy"}
    assert {c.id for c in sport.conversations()} == {"s1", "legacy"}
    assert {c.id for c in ConversationStore(path).conversations()} == {"n1", "s1", "legacy"}
    assert news.delete_all() == 2  # its own and the legacy one, not sport's
    assert [c.id for c in sport.conversations()] == ["s1"]


def test_tabs_opening_a_new_file_together_all_write(tmp_path: Path) -> None:
    """Switching a file to WAL needs it to itself and SQLite does not wait for that: of
    tabs opening a new file at the same moment, some failed with "database is locked"
    (1 trial in 30 of the test above; here each trial starts six tabs together)."""
    errors: list[BaseException] = []
    for trial in range(25):
        path = tmp_path / f"c{trial}.sqlite3"
        start = threading.Barrier(6)

        def tab(n: int, path: Path = path, start: threading.Barrier = start) -> None:
            start.wait()
            try:
                ConversationStore(path).add_turn(f"c{n}", StoredTurn(new_id(), answer("Q?")))
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=tab, args=(n,)) for n in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert not errors, f"trial {trial}: {errors[0]!r}"
        assert len(ConversationStore(path).conversations()) == 6
