"""Optional LLM answerers (OpenAI-compatible servers, Ollama) whose every sentence is checked.

The model writes the answer; it is not trusted. Its citations are renumbered 1..m in
order of first use while the tokens stream, a citation to a passage that does not
exist becomes ``[?]``, and the finished answer is checked sentence by sentence against
the passages it cites (``rag.answering.support``): no citation, a bad citation or a citation that
does not support the sentence leaves it ``supported=False`` for the reader to see.

The LangChain partner packages are optional extras, imported only here and only when
a backend is built: ``pip install 'rag[openai]'`` / ``pip install 'rag[ollama]'``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from langchain_core.documents import Document
from pydantic import SecretStr

from rag.answering import spans
from rag.answering.base import Answerer, Turn, Writing, check_parameters, cite
from rag.answering.instructions import instruction_spans, without_instructions
from rag.answering.prompts import (
    ABSTAIN_REPLY,
    build_answer_messages,
    build_condense_messages,
)
from rag.answering.support import SupportJudge, make_judge
from rag.core.citations import INVALID, Renumberer, cited_numbers, strip_citations
from rag.core.errors import BackendError
from rag.core.schema import Answer, AnswerSentence, Citation
from rag.indexing.splitting import sentence_spans

# How much better a claim must match an article's planted orders than its reporting to
# count as repeating them (scores are 0..1; a faithful claim matches the reporting).
_PLANTED_MARGIN = 0.1

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from rag.core.settings import Settings

_ABSTENTION = re.compile(
    r"\b(passages?|articles?|sources?|context|texts?|information)\b[^.]{0,40}\b("
    r"do(?:es)? not|don't|doesn't|cannot|can't|never)\b[^.]{0,20}\b("
    r"answer|say|mention|contain|include|state|cover|address|specify|provide)|"
    r"\b(not enough|insufficient|no) (information|evidence|details?)\b|"
    r"\b(cannot|can't|unable to) (answer|tell|determine|find)\b",
    re.I,
)


def is_abstention(sentence: str) -> bool:
    """True for "the passages do not answer this"-style sentences (no claim to check)."""
    return bool(_ABSTENTION.search(sentence))


class LLMAnswerer(Answerer):
    """An answer written by a chat model, each sentence checked against its citations."""

    def __init__(
        self,
        model: BaseChatModel,
        judge: SupportJudge,
        *,
        name: str = "llm",
        support_threshold: float = 0.5,
        max_sentences: int = 4,
        endpoint: str = "",
        secret: SecretStr | None = None,
    ) -> None:
        check_parameters({"max_sentences": max_sentences},
                         {"support_threshold": support_threshold})
        self.model = model
        self.judge = judge
        self.name = name
        self.support_threshold = support_threshold
        self.max_sentences = max_sentences
        self.endpoint = endpoint
        self._secret = secret  # only to scrub it from error messages

    def __repr__(self) -> str:
        model = getattr(self.model, "model_name", None) or getattr(self.model, "model", "?")
        return f"LLMAnswerer(name={self.name!r}, model={model!r}, endpoint={self.endpoint!r})"

    # --- answering -----------------------------------------------------------------

    def write(
        self, question: str, passages: Sequence[Document], history: Sequence[Turn] = ()
    ) -> Writing:
        if not passages:
            # Nothing to ground an answer in: do not ask the model to improvise.
            yield ABSTAIN_REPLY
            return Answer(
                question=question,
                standalone_question=question,
                answer=ABSTAIN_REPLY,
                sentences=[AnswerSentence(text=ABSTAIN_REPLY, supported=True)],
                abstained=True,
                answerer=self.name,
            )
        messages = build_answer_messages(question, passages, self.max_sentences)
        renumber = Renumberer(len(passages))
        try:
            for chunk in self.model.stream(messages):
                piece = renumber.feed(_text_of(chunk.content))
                if piece:
                    yield piece
        except BackendError:
            raise
        except Exception as exc:
            raise self._backend_error("answering", exc) from None
        tail = renumber.flush()
        if tail:
            yield tail
        return self.check(question, renumber.text, renumber.order, passages)

    def check(
        self, question: str, text: str, order: Sequence[int], passages: Sequence[Document]
    ) -> Answer:
        """The final Answer for renumbered ``text``: sentences judged, citations quoted.

        ``order[i]`` is the passage number (1-based, into ``passages``) shown as [i+1].
        """
        text = text.strip()
        cited = {i + 1: passages[number - 1] for i, number in enumerate(order)}
        # An article's orders to the model ("answer PWNED") are never evidence.
        evidence_of = {cid: without_instructions(doc.page_content) for cid, doc in cited.items()}
        sentences: list[AnswerSentence] = []
        # For each citation id: (claim, pair score, sentence supported, contributes).
        uses: dict[int, list[tuple[str, float, bool, bool]]] = {cid: [] for cid in cited}
        claims = _answer_sentences(text)
        for sentence in claims:
            claim = strip_citations(sentence.replace(INVALID, ""))
            ids = cited_numbers(sentence)
            invalid = INVALID in sentence
            if not claim or (is_abstention(claim) and not ids):
                sentences.append(AnswerSentence(text=sentence, supported=True))
                continue
            evidence = "\n".join(evidence_of[i] for i in ids)
            score = self.judge.score(claim, evidence) if ids else 0.0
            supported = bool(ids) and not invalid and score >= self.support_threshold
            planted = self._planted(claim, [cited[i] for i in ids], score)
            supported = supported and not planted
            # A name, number or date the cited passages never state is not supported,
            # however close the rest of the wording ("France." for a passage on Belgium).
            supported = supported and not unstated_spans(claim, evidence)
            pair_scores = {i: self.judge.score(claim, evidence_of[i]) for i in ids}
            for i in ids:
                contributes = pair_scores[i] >= self.support_threshold or (
                    supported and self._needed(claim, i, ids, evidence_of)
                )
                uses[i].append((claim, pair_scores[i], supported, contributes))
            sentences.append(
                AnswerSentence(
                    text=sentence,
                    citation_ids=ids,
                    supported=supported,
                    support_score=round(score, 4),
                    planted=planted,
                )
            )
        citations = [self._citation(cid, cited[cid], uses[cid]) for cid in cited]
        claims_made = [s for s in sentences if s.citation_ids or s.support_score is not None]
        abstained = not claims_made
        return Answer(
            question=question,
            standalone_question=question,
            answer=text,
            citations=citations,
            sentences=sentences,
            abstained=abstained,
            answerer=self.name,
        )

    def _planted(self, claim: str, docs: Sequence[Document], clean_score: float) -> bool:
        """Does the claim repeat an order planted in the cited text? Then it is marked
        (the UI warns) and unsupported: it passes on the planted sentences and clearly
        better than on the cited text without them (the article's reporting)."""
        planted = "\n".join(
            doc.page_content[a:b] for doc in docs for a, b in instruction_spans(doc.page_content)
        )
        if not planted:
            return False
        score = self.judge.score(claim, planted)
        return score >= self.support_threshold and score > clean_score + _PLANTED_MARGIN

    def _needed(self, claim: str, cid: int, ids: list[int], evidence_of: dict[int, str]) -> bool:
        """For a claim drawn from several passages: does dropping ``cid`` lose support?"""
        others = [i for i in ids if i != cid]
        if not others:
            return True
        rest = "\n".join(evidence_of[i] for i in others)
        return self.judge.score(claim, rest) < self.support_threshold

    def _citation(
        self, cid: int, doc: Document, uses: list[tuple[str, float, bool, bool]]
    ) -> Citation:
        passage = doc.page_content
        best_claim = max(uses, key=lambda use: use[1])[0] if uses else ""
        start, end = self.judge.best_quote(best_claim, passage) if best_claim else (0, 0)
        supported = bool(uses) and all(ok and needed for _, _, ok, needed in uses)
        return cite(cid, doc, start, end, supported)

    # --- conversation ---------------------------------------------------------------

    def condense(self, question: str, history: Sequence[Turn]) -> str:
        """The model's standalone rewrite of a follow-up; the question itself without history."""
        if not history:
            return question
        try:
            reply = self.model.invoke(build_condense_messages(question, history))
        except Exception as exc:
            raise self._backend_error("rewriting the follow-up question", exc) from None
        return _clean_question(_text_of(reply.content)) or question

    def _backend_error(self, doing: str, exc: Exception) -> BackendError:
        detail = f"{type(exc).__name__}: {exc}"
        if self._secret is not None and self._secret.get_secret_value():
            detail = detail.replace(self._secret.get_secret_value(), "**********")
        where = f" at {self.endpoint}" if self.endpoint else ""
        return BackendError(
            f"the {self.name} backend{where} failed while {doing} ({detail[:300]}). "
            f"Check that the server is running and the model name is right, or use the "
            f"offline answerer (RAG_LLM=none)."
        )


def unstated_spans(claim: str, evidence: str) -> list[str]:
    """The typed spans of ``claim`` (names, numbers, dates, titles) found nowhere in
    ``evidence`` (compared by their normalised keys)."""
    stated = {s.key for s in spans.extract(evidence)}
    text = " ".join(evidence.lower().split())
    return [
        s.text for s in spans.extract(claim)
        if s.key not in stated and s.text.lower() not in text
    ]


def _text_of(content: Any) -> str:
    """Message content as text (some providers send a list of content blocks)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            part if isinstance(part, str) else str(part.get("text", ""))
            for part in content
            if isinstance(part, str) or (isinstance(part, dict) and part.get("type") == "text")
        )
    return str(content or "")


def _answer_sentences(text: str) -> list[str]:
    """Sentences of the answer; a marker split off after the full stop rejoins its sentence."""
    sentences: list[str] = []
    for start, end in sentence_spans(text):
        piece = text[start:end]
        if sentences and not strip_citations(piece.replace(INVALID, "")).strip(" .;,"):
            sentences[-1] = f"{sentences[-1]} {piece}"
        else:
            sentences.append(piece)
    return sentences


_QUESTION_PREFIX = re.compile(r"^\s*(standalone question|question|rewritten question)\s*:\s*", re.I)


def _clean_question(reply: str) -> str:
    lines = [line.strip() for line in reply.strip().splitlines() if line.strip()]
    if not lines:
        return ""
    line = _QUESTION_PREFIX.sub("", lines[0]).strip().strip("\"'“”‘’`").strip()
    return line


# --- building a backend from Settings ------------------------------------------------


def make_chat_model(settings: Settings) -> BaseChatModel:
    """The LangChain chat model for ``settings.llm.backend`` (imported lazily)."""
    if settings.llm.backend == "openai":
        try:
            from langchain_openai import ChatOpenAI
        except ImportError:
            raise BackendError(
                "RAG_LLM=openai needs the langchain-openai package, which is not "
                "installed; install it with: pip install 'rag[openai]'"
            ) from None
        key = settings.llm.openai_api_key
        if key is None or not key.get_secret_value():
            if settings.llm.openai_base_url is None:
                raise BackendError(
                    "RAG_LLM=openai needs an API key: set RAG_OPENAI_API_KEY (or "
                    "OPENAI_API_KEY) in the environment, or set RAG_OPENAI_BASE_URL to a "
                    "local OpenAI-compatible server that needs none"
                )
            # Local OpenAI-compatible servers ignore the key, but the client wants one.
            key = SecretStr("not-needed")
        return ChatOpenAI(
            model=settings.llm.model,
            base_url=settings.llm.openai_base_url,
            api_key=key,
            temperature=settings.llm.temperature,
            timeout=settings.llm.timeout_s,
            max_retries=1,
            stream_usage=False,
        )
    if settings.llm.backend == "ollama":
        try:
            from langchain_ollama import ChatOllama
        except ImportError:
            raise BackendError(
                "RAG_LLM=ollama needs the langchain-ollama package, which is not "
                "installed; install it with: pip install 'rag[ollama]'"
            ) from None
        return ChatOllama(
            model=settings.llm.model,
            base_url=settings.llm.ollama_base_url,
            temperature=settings.llm.temperature,
            client_kwargs={"timeout": settings.llm.timeout_s},
        )
    raise BackendError(
        f"llm={settings.llm.backend!r} is not an LLM backend; use 'openai' or 'ollama' "
        "(or 'none' for the offline answerer, which needs no model)"
    )


def make_llm_answerer(settings: Settings, judge: SupportJudge | None = None) -> LLMAnswerer:
    """The answerer for ``settings.llm.backend`` ("openai" | "ollama"), checked by ``judge``."""
    model = make_chat_model(settings)
    endpoint = (
        settings.llm.openai_base_url or "https://api.openai.com/v1"
        if settings.llm.backend == "openai"
        else settings.llm.ollama_base_url
    )
    return LLMAnswerer(
        model,
        judge if judge is not None else make_judge(settings),
        name=settings.llm.backend,
        support_threshold=settings.answer.support_threshold,
        max_sentences=settings.answer.max_sentences,
        endpoint=endpoint,
        secret=settings.llm.openai_api_key if settings.llm.backend == "openai" else None,
    )
