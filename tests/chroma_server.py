"""A real Chroma server on loopback for tests: `chroma run` from the chromadb package.

``ChromaServer`` picks a free port, keeps its data in a temporary folder, waits for the
heartbeat and kills the process at teardown. Tests that need it skip cleanly when the
``chroma`` executable is missing.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag.core.settings import Settings


def chroma_executable() -> str | None:
    """The `chroma` CLI next to this interpreter (the venv), else on PATH."""
    beside = Path(sys.executable).parent / "chroma"
    if beside.exists():
        return str(beside)
    return shutil.which("chroma")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ChromaServer:
    """One `chroma run --path DIR --host 127.0.0.1 --port N` process."""

    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        executable = chroma_executable()
        if executable is None:
            raise FileNotFoundError("the `chroma` executable of the chromadb package")
        self.executable = executable
        self.data_dir = data_dir
        self.port = port or free_port()
        self.host = "127.0.0.1"
        self.log_path = data_dir.parent / f"chroma-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout_s: float = 60.0) -> ChromaServer:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [self.executable, "run", "--path", str(self.data_dir), "--host", self.host,
             "--port", str(self.port)],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
        )
        log.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"chroma server exited with {self.process.returncode}: "
                    f"{self.log_path.read_text(errors='replace')[-2000:]}"
                )
            if self.alive():
                return self
            time.sleep(0.2)
        self.stop()
        raise TimeoutError(f"chroma server on port {self.port} gave no heartbeat")

    def alive(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/api/v2/heartbeat", timeout=2) as resp:
                return bool(resp.status == 200)
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def settings(self, local_dir: Path, **overrides: object) -> Settings:
        """Settings that use this server (``local_dir`` holds only this process's caches)."""
        values: dict[str, object] = {
            "chroma_host": self.host,
            "chroma_port": self.port,
            "index_dir": local_dir,
            "embedding_model": "hashing",
            "feedback_path": local_dir / "feedback.jsonl",
        }
        values.update(overrides)
        return Settings(**values)  # type: ignore[arg-type]

    def env(self, local_dir: Path) -> dict[str, str]:
        """Environment for a `rag` process that uses this server."""
        return {
            "RAG_CHROMA_HOST": self.host,
            "RAG_CHROMA_PORT": str(self.port),
            "RAG_INDEX_DIR": str(local_dir),
            "RAG_EMBEDDING_MODEL": "hashing",
        }


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    """A Chroma server for the tests of one module; skipped when `chroma` is absent."""
    if chroma_executable() is None:
        pytest.skip("the `chroma` executable (chromadb package) is not installed")
    server = ChromaServer(tmp_path_factory.mktemp("chroma-server") / "data").start()
    try:
        yield server
    finally:
        server.stop()
