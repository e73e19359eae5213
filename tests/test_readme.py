"""The README's Python example runs as written, in a fresh folder holding the bundled
article, with the real bundled model (a reader copies it literally)."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO, SEED_ARTICLE

pytestmark = pytest.mark.integration


def readme_python() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    [block] = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    return block


def test_readme_python_example_runs_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rag.core.schema import Answer

    for name in [n for n in os.environ if n.startswith("RAG_")]:
        monkeypatch.delenv(name)
    (tmp_path / "index" / "articles").mkdir(parents=True)
    shutil.copy(SEED_ARTICLE, tmp_path / "index" / "articles")
    monkeypatch.chdir(tmp_path)
    scope: dict[str, object] = {}
    exec(compile(readme_python(), "README.md", "exec"), scope)  # our own README
    answer = scope["answer"]
    assert isinstance(answer, Answer) and not answer.abstained and answer.citations
    assert scope["docs"]  # the retriever found passages
