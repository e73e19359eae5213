"""On the RealTime QA corpus (when ../shared is present): "What happened this week?"
asked as of Fri 27 Feb 2026 answers from that week's articles, and says which week.

A small index keeps it fast: the articles of 23-27 Feb 2026 plus some from the weeks
before and after (which must not be cited). Texts are read from ../shared, never copied.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.answering.chain import build_chain
from rag.core.settings import Settings
from rag.indexing.ingest import ingest

from .conftest import REALTIMEQA

CORPUS = REALTIMEQA / "corpus.jsonl"
pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not CORPUS.exists(), reason=f"{CORPUS} is absent"),
]


def _slice(folder: Path) -> Path:
    rows = [json.loads(line) for line in CORPUS.open(encoding="utf-8")]
    dated = sorted((r for r in rows if r.get("date")), key=lambda r: r["date"])
    week = [r for r in dated if "2026-02-23" <= r["date"] <= "2026-02-27"]
    before = [r for r in dated if "2026-02-09" <= r["date"] < "2026-02-23"][-6:]
    after = [r for r in dated if "2026-02-27" < r["date"] <= "2026-03-15"][:6]
    assert len(week) >= 3 and before and after
    folder.mkdir(parents=True)
    path = folder / "slice.jsonl"  # a temporary index input, deleted with tmp_path
    path.write_text("".join(json.dumps(r) + "\n" for r in week + before + after), "utf-8")
    return path


@pytest.fixture(scope="module")
def rtqa_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    root = tmp_path_factory.mktemp("rtqa-week")
    settings = Settings(index_dir=root / "index", feedback_path=root / "fb.jsonl")
    assert ingest([_slice(root / "in")], settings).ok
    return settings


def test_what_happened_this_week(rtqa_settings: Settings) -> None:
    answer = build_chain(rtqa_settings).invoke(
        {"question": "What happened this week?", "as_of": "2026-02-27"}
    )
    assert not answer.abstained and len(answer.citations) >= 2
    assert answer.window is not None
    assert (answer.window.start, answer.window.end) == ("2026-02-23", "2026-02-27")
    assert "23–27 Feb 2026" in answer.standalone_question
    assert all("2026-02-23" <= c.date <= "2026-02-27" for c in answer.citations)
    assert all(s.dates and s.outlets for s in answer.sentences)
    assert answer.staleness == ""


def test_a_week_before_the_corpus_says_so(rtqa_settings: Settings) -> None:
    answer = build_chain(rtqa_settings).invoke(
        {"question": "What happened this week?", "as_of": "2026-01-14"}
    )
    assert answer.abstained and "No indexed article is dated 12–14 Jan 2026" in answer.answer
