"""Helpers for the UI tests: the app under AppTest, a live Streamlit server, Chromium.

Imported by tests/test_ui_*.py (tests/conftest.py belongs to the lead).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rag.core.runtime import OFFLINE_ENV
from rag.core.settings import Settings

REPO = Path(__file__).resolve().parent.parent
APP = REPO / "ui" / "app.py"
ARTIFACTS = REPO / "artifacts"
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)
# The hashing embeddings score lower than the real model; the chain tests use the same.
HASHING_ABSTAIN = "0.3"


def app_env(settings: Settings) -> dict[str, str]:
    """The RAG_* variables that make the app build these settings."""
    env = {
        "RAG_INDEX_DIR": str(settings.index.index_dir),
        "RAG_ARTICLES_DIR": str(settings.index.articles_dir),
        "RAG_EMBEDDING_MODEL": settings.index.embedding_model,
        "RAG_FEEDBACK_PATH": str(settings.app.feedback_path),
        "RAG_ABSTAIN_THRESHOLD": str(settings.answer.abstain_threshold),
        "RAG_UPLOAD_MAX_BYTES": str(settings.app.upload_max_bytes),
        "RAG_LLM": settings.llm.backend,
    }
    return env


def use_settings(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    for name in list(os.environ):
        if name.startswith("RAG_"):
            monkeypatch.delenv(name)
    for name, value in app_env(settings).items():
        monkeypatch.setenv(name, value)


def use_llm_server(monkeypatch: pytest.MonkeyPatch, server: Any) -> None:
    """Point the app at a fake OpenAI-compatible ``server`` (tests/llm_servers.py)."""
    monkeypatch.setenv("RAG_LLM", "openai")
    monkeypatch.setenv("RAG_LLM_MODEL", server.model)
    monkeypatch.setenv("RAG_OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("RAG_OPENAI_API_KEY", "sk-test-ui")
    monkeypatch.setenv("RAG_LLM_TIMEOUT_S", "10")


def app_test(timeout: float = 120) -> Any:
    from streamlit.testing.v1 import AppTest

    return AppTest.from_file(str(APP), default_timeout=timeout)


def html_bodies(at: Any) -> list[str]:
    return [element.proto.body for element in at.html]


def turns(at: Any) -> list[dict[str, Any]]:
    return list(at.session_state["turns"])


# --- a live server and a real browser ------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def streamlit_server(settings: Settings, log: Path) -> Iterator[str]:
    """``rag ui`` (the page packaged in rag.app.ui) on a free loopback port; yields its URL."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(app_env(settings))
    env.update(OFFLINE_ENV)
    env["STREAMLIT_SERVER_FILE_WATCHER_TYPE"] = "none"
    cmd = [
        sys.executable, "-c", "from rag.app.cli import main; main()", "ui", "--headless",
        "--port", str(port), "--address", "127.0.0.1",
    ]
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"streamlit exited early; see {log}")
                try:
                    with urllib.request.urlopen(url + "/_stcore/health", timeout=2):
                        break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"streamlit did not start; see {log}") from None
                    time.sleep(0.3)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def chromium_missing() -> str:
    """Why the browser tests cannot run here, or "" when they can."""
    if not CHROMEDRIVER.exists():
        return f"{CHROMEDRIVER} is missing; install Debian's chromium-driver (make browser)"
    if not (shutil.which("chromium") or shutil.which("chromium-browser")):
        return "chromium is missing; install Debian's chromium (make browser)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed; pip install -e '.[dev]'"
    return ""


@contextlib.contextmanager
def chromium(width: int = 1280, height: int = 1000) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="rag-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={width},{height}")
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


#: A small, valid Markdown article for upload tests.
BRIDGE = b"""---
title: Bridge reopens after repairs
source: city.test
date: 2025-04-01
---

The old river bridge reopened on Tuesday after two years of repairs. Engineers replaced
the steel cables and the deck. Traffic is expected to return to normal within a week.
"""
