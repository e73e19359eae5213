"""The question-answering chain as a LangChain Runnable: condense, retrieve, answer.

``build_chain(settings).invoke({"question": ..., "chat_history": [...], "filters": {...},
"as_of": "YYYY-MM-DD"})`` returns an :class:`~rag.core.schema.Answer`; ``respond`` returns an
:class:`~rag.answering.base.AnswerStream` (iterate for the text as it is written, then
``.answer()``); LangChain's ``stream`` yields the text pieces and then the Answer;
``batch``/``ainvoke`` come from the Runnable base. One chain is safe to share between threads.

``as_of`` (default today) is the day the question is asked: temporal words ("this week",
"in March") resolve against it into a date window retrieval keeps to, and an answer whose
newest source is much older ends with a staleness note (rag.answering.news).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

from langchain_core.runnables import Runnable, RunnableConfig

from rag.answering import agreement, news, spans
from rag.answering.base import Answerer, AnswerStream, Turn, Writing
from rag.answering.conversation import normalise_history
from rag.answering.grounded import GroundedAnswerer
from rag.core.errors import BadQuestionError
from rag.core.runtime import elapsed_ms
from rag.core.schema import Answer
from rag.core.settings import Settings
from rag.indexing.embeddings import HashingEmbeddings, PassageEmbeddings, make_embeddings
from rag.indexing.preload import VectorLoad
from rag.retrieval.hybrid import Filters, SearchEngine
from rag.retrieval.temporal import resolve_window, strip_window


def make_answerer(
    settings: Settings, engine: SearchEngine, own_embeddings: PassageEmbeddings | None = None
) -> Answerer:
    """The grounded answerer, or the configured LLM backend; ``own_embeddings`` is the
    answerer's model when made already (see answer_embeddings)."""
    if settings.llm.backend == "none":
        own = own_embeddings or answer_embeddings(settings, engine.embeddings)
        if own is None:
            # The retriever has usually embedded the same question a moment ago.
            return GroundedAnswerer.from_settings(settings, engine.embeddings, engine.query_vector)
        return GroundedAnswerer.from_settings(settings, own)
    from rag.answering.llm import make_llm_answerer

    return make_llm_answerer(settings)


def answer_embeddings(
    settings: Settings, index_embeddings: PassageEmbeddings
) -> PassageEmbeddings | None:
    """The grounded answerer's own model when the settings give it another backend than
    the index's (None: it shares the index's)."""
    backend = settings.answer.embedding_backend
    if backend in ("same", settings.index.embedding_backend) or isinstance(
        index_embeddings, HashingEmbeddings
    ):
        return None
    return make_embeddings(settings.model_copy(update={"embedding_backend": backend}))


class RagChain(Runnable[dict[str, Any], Answer]):
    """Runnable[dict, Answer]; see the module docstring for the input keys."""

    def __init__(
        self, settings: Settings, engine: SearchEngine, answerer: Answerer | None = None
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.answerer = answerer or make_answerer(settings, engine)

    def warm_up(self) -> None:
        """Load the models and indexes now, so the first question is as fast as the rest."""
        self.engine.warm_up()
        self.answerer.warm_up()

    @property
    def InputType(self) -> type:
        return dict

    @property
    def OutputType(self) -> type[Answer]:
        return Answer

    # --- inputs ------------------------------------------------------------------
    def _parse(self, inputs: dict[str, Any] | str) -> tuple[str, list[Turn], Filters, int]:
        if isinstance(inputs, str):
            inputs = {"question": inputs}
        if not isinstance(inputs, dict):
            raise BadQuestionError(
                f"chain input must be a dict with a 'question' (got {type(inputs).__name__})"
            )
        question = validate_question(
            inputs.get("question"), self.settings.answer.max_question_chars
        )
        history = normalise_history(inputs.get("chat_history"))
        filters = Filters.from_mapping(inputs.get("filters"))
        k = int(inputs.get("k") or self.settings.retrieval.top_k)
        if not 1 <= k <= 100:
            raise BadQuestionError(f"k must be between 1 and 100, got {k}")
        return question, history, filters, k

    # --- running -----------------------------------------------------------------
    def invoke(
        self, input: dict[str, Any] | str, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Answer:
        return self.respond(input).answer()

    def stream(
        self,
        input: dict[str, Any] | str,
        config: RunnableConfig | None = None,
        **kwargs: Any,
    ) -> Iterator[Any]:
        """LangChain's stream: answer text pieces (str) as they are written, then the final
        Answer as the last item. Python callers may prefer :meth:`respond`."""
        response = self.respond(input)
        yield from response
        yield response.answer()

    def respond(self, input: dict[str, Any] | str) -> AnswerStream:
        """The answer as it is written: iterate for its text, then ``.answer()``."""
        return AnswerStream(self._write(input), f"answerer {self.answerer.name!r}")

    def _write(self, inputs: dict[str, Any] | str) -> Writing:
        started = time.perf_counter()
        question, history, filters, k = self._parse(inputs)
        self.engine.check_filters(filters)
        day = news.resolve_as_of(inputs.get("as_of") if isinstance(inputs, dict) else None)
        as_of = day.isoformat()
        timings: dict[str, float] = {}

        t0 = time.perf_counter()
        standalone = self.condense(question, history)
        window = (
            None if self.settings.retrieval.window_mode == "off"
            else resolve_window(standalone, day, self.settings.retrieval.latest_days)
        )
        shown = f"{standalone} ({news.describe_window(window)})" if window else standalone
        query = strip_window(standalone, window)
        timings["condense_ms"] = elapsed_ms(t0)
        dated = {"as_of": as_of, "window": window, "search_query": query}

        t0 = time.perf_counter()
        if window is not None and not news.window_overlaps(window, self.engine.date_range()):
            passages = []
        else:
            passages = news.search(self.engine, query, k, filters, window, as_of, timings)
        timings["retrieve_ms"] = elapsed_ms(t0)
        if window is not None and window.explicit and not passages:
            refusal = news.outside_corpus(question, window, self.engine.date_range())
            yield refusal.answer
            return refusal.model_copy(
                update={"standalone_question": shown, "timings_ms": timings, **dated}
            )

        t0 = time.perf_counter()
        if window is not None and news.wants_digest(query):
            passages = news.lead_passages(self.engine, passages)
            final = news.digest(query, passages, self.settings.answer.max_sentences)
            yield final.answer
        else:
            if window is not None and self.settings.retrieval.window_mode == "boost":
                passages = news.window_first(
                    self.answerer, query, passages, window,
                    self.settings.retrieval.window_answer_share,
                )
            final = yield from self.answerer.write(query, passages, history)
        before = final.answer
        final = news.attribute(agreement.check(query, final, passages))
        if final.answer != before:
            yield final.answer[len(before) :]  # "Sources disagree: ..."
        note = news.staleness_note(final, day, self.settings.answer.staleness_days)
        if window is not None and window.explicit and news.off_window(final, passages, window):
            note = f"{news.off_window_note(window, final)} {note}".strip()
        if note:
            yield f" {note}"
        timings["answer_ms"] = elapsed_ms(t0)
        timings["total_ms"] = elapsed_ms(started)
        return final.model_copy(
            update={
                "question": question,
                "standalone_question": shown,
                "answer": f"{final.answer} {note}" if note else final.answer,
                "staleness": note,
                "timings_ms": {**final.timings_ms, **timings},
                **dated,
            }
        )

    def condense(self, question: str, history: list[Turn]) -> str:
        """The answerer's standalone version of a follow-up (the question without history)."""
        return self.answerer.condense(question, history) if history else question


def validate_question(question: Any, max_chars: int) -> str:
    """A clean question, or BadQuestionError saying what is wrong and what to do."""
    if question is None or not isinstance(question, str):
        raise BadQuestionError("no question given; pass {'question': 'your question'}")
    question = " ".join(question.split())
    if not question:
        raise BadQuestionError("the question is empty; type a question about the articles")
    if len(question) > max_chars:
        raise BadQuestionError(
            f"the question is {len(question):,} characters long, over the limit of "
            f"{max_chars:,}; shorten it to the question itself"
        )
    if not any(ch.isalnum() for ch in question):
        raise BadQuestionError("the question has no words in it; ask it in words")
    return question


def build_chain_at_once(settings: Settings, loading: VectorLoad) -> RagChain:
    """The chain for a process that asks at once (``rag ask``): what needs no index
    (models, gazetteers, dateparser) loads here while ``loading`` loads the vectors in
    its thread; the chain's own handles open once it is done."""
    embeddings = make_embeddings(settings)
    own = answer_embeddings(settings, embeddings) if settings.llm.backend == "none" else None
    for model in (embeddings, own):
        if model is not None:
            model.warm_up()
    spans.warm_up()
    resolve_window("What happened on 3 March 2025?", dt.date(2025, 3, 9))  # dateparser
    loading.wait()
    engine = SearchEngine(settings, embeddings)
    return build_chain(settings, engine=engine, answerer=make_answerer(settings, engine, own))


def build_chain(
    settings: Settings,
    *,
    engine: SearchEngine | None = None,
    answerer: Answerer | None = None,
) -> RagChain:
    """The chain for these settings; pass ``engine`` to share a loaded model and index."""
    return RagChain(settings, engine or SearchEngine(settings), answerer)
