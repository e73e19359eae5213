"""The code stays ruff- and mypy-clean: CI fails on a new lint or type error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .conftest import REPO

BIN = Path(sys.executable).parent


def run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600)


def test_ruff_clean() -> None:
    done = run(str(BIN / "ruff"), "check", "rag", "ui", "tests", "evals", "benchmarks")
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_clean() -> None:
    done = run(str(BIN / "mypy"), "rag", "benchmarks")
    assert done.returncode == 0, done.stdout + done.stderr
