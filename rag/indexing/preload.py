"""Load an index's vectors in a background thread while the process starts.

A cold ``rag ask`` at a million passages spent 2.7 s of its ~6 s in Chroma reading
the passages' HNSW at the first query, and most of the rest importing and loading the
answerer (langchain, dateparser, gazetteers, the ONNX session). The two need not wait
for each other: Chroma reads without holding the GIL, and it keeps one in-process
system per folder, so a client opened later finds the vectors already loaded.

``VectorLoad.start`` checks the index files and opens the index in a thread, then
loads the vectors there. The caller waits for ``opened`` (the thread's own imports
need the GIL too: doing both at once slows the load's start), imports and warms the
rest, then calls ``wait`` before opening its own handles (errors of the thread are
raised there, as if opened in the caller). With a Chroma server there is nothing to
load in this process and ``start`` only opens and checks like the caller would.
"""

from __future__ import annotations

import threading

from rag.core.settings import Settings


class VectorLoad:
    """One background opening of the index of ``settings``, with its vectors loaded."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        #: Set once the thread is past its imports and the file check (or failed).
        self.opened = threading.Event()
        self._error: BaseException | None = None
        # Not a daemon: loading may rewrite Chroma's HNSW files, never cut short.
        self._thread = threading.Thread(target=self._run, name="rag-load-vectors")

    @classmethod
    def start(cls, settings: Settings) -> VectorLoad:
        load = cls(settings)
        load._thread.start()
        return load

    def wait(self) -> None:
        """Until the vectors are loaded; raises what opening the index raised."""
        self._thread.join()
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        try:
            from rag.indexing.embeddings import make_embeddings
            from rag.indexing.health import check_index, record_written
            from rag.indexing.store import ArticleIndex

            check_index(self.settings)
            index = ArticleIndex(self.settings, make_embeddings(self.settings))
            self.opened.set()
            index.load_vectors()
            if not self.settings.index.chroma_host:
                record_written(self.settings)  # what Chroma just read and wrote back
        except BaseException as exc:  # raised again in the caller, by wait()
            self._error = exc
        finally:
            self.opened.set()
