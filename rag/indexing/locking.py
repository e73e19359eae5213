"""The one-writer lock of an index: ``rag ingest`` and ``rag reduce`` write under it.

Embedded: an fcntl lock on ``<index_dir>/.ingest.lock`` (released by the kernel when the
holder dies). Server mode: a lease in the Chroma server (see ChromaLease), since writers
on other machines share no file system.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from rag.core.errors import IndexLockedError, RagError
from rag.core.settings import Settings

#: Raises IndexLockedError when this writer may no longer write (its lease was lost).
WriteGuard = Callable[[], None]
# How often a waiting writer asks again whether the lock is free.
_LOCK_POLL_S = 0.5


def _lock_owner() -> str:
    return f"pid {os.getpid()} on {socket.gethostname()}"


@contextlib.contextmanager
def ingest_lock(settings: Settings) -> Iterator[WriteGuard]:
    """One writer per index; a second one waits ``ingest_lock_wait_s``, then stops.

    Embedded: an fcntl lock on ``<index_dir>/.ingest.lock`` (released by the kernel when
    the holder dies). Server mode: a lease in the Chroma server (see ChromaLease), since
    writers on other machines share no file system.
    """
    if settings.index.chroma_host:
        with _server_lock(settings) as guard:
            yield guard
        return
    index_dir = Path(settings.index.index_dir)
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        handle = open(index_dir / ".ingest.lock", "a+")  # noqa: SIM115 - held for the block
    except OSError as exc:
        raise RagError(
            f"cannot write the index folder {index_dir} ({exc.strerror}); fix its "
            "permissions or set RAG_INDEX_DIR to a writable folder"
        ) from exc
    with handle:
        deadline = time.monotonic() + settings.index.ingest_lock_wait_s
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    handle.seek(0)
                    holder = handle.read().strip() or "another process"
                    raise IndexLockedError(
                        f"another `rag ingest` ({holder}) is writing {index_dir}; wait for "
                        "it to finish and run this again (RAG_INGEST_LOCK_WAIT_S=600 "
                        "makes ingest wait for it)"
                    ) from None
                time.sleep(_LOCK_POLL_S)
        handle.seek(0)
        handle.truncate()
        handle.write(_lock_owner())
        handle.flush()
        try:
            yield lambda: None  # the kernel lock cannot be lost while we live
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def _server_lock(settings: Settings) -> Iterator[WriteGuard]:
    from rag.indexing.store import ChromaLease, make_client

    lease = ChromaLease(
        make_client(settings, create=True), settings.index.collection, _lock_owner(),
        settings.index.ingest_lock_ttl_s,
    )
    deadline = time.monotonic() + settings.index.ingest_lock_wait_s

    def try_acquire() -> dict[str, Any] | None:
        try:
            return lease.try_acquire()
        except Exception as exc:
            raise RagError(
                f"cannot take the ingest lock on the Chroma server at {settings.index.chroma_host}:"
                f"{settings.index.chroma_port} ({type(exc).__name__}: {exc}); check that the "
                "server is running and reachable, then run this again"
            ) from exc

    while (holder := try_acquire()) is not None:
        if time.monotonic() >= deadline:
            expires = float(holder.get("expires_at", 0.0))
            left = max(0.0, expires - time.time())
            raise IndexLockedError(
                f"another `rag ingest` ({holder.get('owner', 'unknown')}) is writing "
                f"collection {settings.index.collection!r} on {settings.index.chroma_host}:"
                f"{settings.index.chroma_port}; wait for it to finish and run this again. If it "
                f"died, its lock expires in {left:.0f} s (RAG_INGEST_LOCK_WAIT_S=600 makes "
                "ingest wait)"
            )
        time.sleep(_LOCK_POLL_S)
    try:
        yield lease.check
    finally:
        lease.release()
