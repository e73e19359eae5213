"""Property-based: random adds, edits, removals and duplicates, then ingest --prune; after
every step what is retrievable equals a simple model of the corpus.

The model is a dict id -> text. Each text version carries its own marker words, so a
search for a marker must find exactly the live articles with that text, and the marker
of a replaced or removed version must find nothing any more.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from rag.core.settings import Settings
from rag.indexing.ingest import ingest
from rag.retrieval.hybrid import SearchEngine

from .test_reliability_crash import crash

_versions = itertools.count(1)
FILLER = [
    "harbour", "council", "budget", "storm", "bridge", "election", "vaccine", "court",
    "river", "school", "market", "strike", "museum", "tunnel", "drought", "festival",
]


def new_text(sentences: int) -> tuple[str, str]:
    """A text of ``sentences`` sentences and its marker (found in no other version)."""
    version = next(_versions)
    marker = f"zq{version}marker"
    body = " ".join(
        f"{marker} {FILLER[(version + i) % len(FILLER)]} uniq{version}w{i} "
        f"token{version}x{i} report{version}y{i}."
        for i in range(sentences)
    )
    return marker, body


class IngestMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.root = Path(tempfile.mkdtemp(prefix="rag-state-"))
        self.folder = self.root / "corpus"
        self.folder.mkdir()
        self.settings = Settings(index_dir=self.root / "index", embedding_model="hashing",
                                 use_mmr=False)
        self.model: dict[str, tuple[str, str]] = {}  # id -> (marker, text)
        self.gone_markers: set[str] = set()
        self.ids = itertools.count(1)

    def teardown(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def write(self, article_id: str, marker: str, text: str) -> None:
        (self.folder / f"{article_id}.md").write_text(
            f"---\nid: {article_id}\ntitle: Article {article_id}\n---\n\n{text}\n"
        )
        old = self.model.get(article_id)
        self.model[article_id] = (marker, text)
        if old and old[0] not in {m for m, _ in self.model.values()}:
            self.gone_markers.add(old[0])

    def sync(self) -> None:
        summary = ingest([self.folder], self.settings, prune=True)
        assert not [p for p in summary.problems if "no article" not in p.message], summary

    @initialize(sentences=st.integers(1, 12))
    def first(self, sentences: int) -> None:
        self.write(f"a{next(self.ids)}", *new_text(sentences))
        self.sync()

    @rule(sentences=st.integers(1, 12))
    def add(self, sentences: int) -> None:
        self.write(f"a{next(self.ids)}", *new_text(sentences))
        self.sync()

    @precondition(lambda self: self.model)
    @rule(data=st.data(), sentences=st.integers(1, 12))
    def edit(self, data: st.DataObject, sentences: int) -> None:
        article_id = data.draw(st.sampled_from(sorted(self.model)))
        self.write(article_id, *new_text(sentences))
        self.sync()

    @precondition(lambda self: self.model)
    @rule(data=st.data())
    def duplicate(self, data: st.DataObject) -> None:
        """The same text under a new id (a wire story published twice)."""
        marker, text = self.model[data.draw(st.sampled_from(sorted(self.model)))]
        self.write(f"a{next(self.ids)}", marker, text)
        self.sync()

    @precondition(lambda self: len(self.model) > 1)
    @rule(data=st.data())
    def remove(self, data: st.DataObject) -> None:
        article_id = data.draw(st.sampled_from(sorted(self.model)))
        (self.folder / f"{article_id}.md").unlink()
        marker, _ = self.model.pop(article_id)
        if marker not in {m for m, _ in self.model.values()}:
            self.gone_markers.add(marker)
        self.sync()

    @invariant()
    def index_matches_the_model(self) -> None:
        if not self.model:
            return
        texts = {i: (f"Article {i}", t) for i, (_, t) in self.model.items()}
        assert crash.check_index(self.settings.index.index_dir, _by_text(texts)) == []
        engine = SearchEngine(self.settings)
        for marker in {m for m, _ in self.model.values()}:
            owners = {i for i, (m, _) in self.model.items() if m == marker}
            docs = engine.search(marker, 3)
            assert docs and marker in docs[0].page_content
            assert docs[0].metadata["article_id"] in owners
        for marker in self.gone_markers:
            assert all(marker not in d.page_content for d in engine.search(marker, 5))


def _by_text(texts: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
    """One (title, text) per distinct text: check_index compares stored texts by it."""
    first: dict[str, str] = {}
    out = {}
    for article_id in sorted(texts, key=lambda i: int(i[1:])):
        text = texts[article_id][1]
        title = first.setdefault(text, texts[article_id][0])
        out[article_id] = (title, text)
    return out


IngestMachine.TestCase.settings = settings(
    max_examples=12, stateful_step_count=8, deadline=None,
    suppress_health_check=[HealthCheck.too_slow], derandomize=True,
)
TestIngestStateMachine = IngestMachine.TestCase


def test_editing_an_original_frees_its_duplicates(tmp_path: Path) -> None:
    """The duplicate keeps its (old) text retrievable when its original is rewritten."""
    machine = IngestMachine()
    try:
        machine.first(3)
        original = next(iter(machine.model))
        marker, text = machine.model[original]
        machine.write("a99", marker, text)
        machine.sync()
        machine.index_matches_the_model()
        machine.write(original, *new_text(2))
        machine.sync()
        machine.index_matches_the_model()
        (machine.folder / "a99.md").unlink()
        machine.model.pop("a99")
        machine.gone_markers.add(marker)
        machine.sync()
        machine.index_matches_the_model()
    finally:
        machine.teardown()
