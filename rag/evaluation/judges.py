"""Support judges for citation precision/recall: the offline one, or an LLM when configured.

The offline judge is :class:`rag.answering.support.OfflineSupportJudge` (lexical coverage with
hard checks on numbers, names and negation, plus all-MiniLM-L6-v2 cosine); its
agreement with the hand-labelled pairs in rag/evaluation/data/support_pairs.jsonl goes into every
report. When ``settings.llm.backend`` is not ``"none"``, :class:`LLMSupportJudge` asks the
configured chat model a yes/no entailment question per (sentence, evidence), as ALCE
asks its NLI model.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.answering.support import SupportJudge, make_judge
from rag.core.citations import strip_citations
from rag.evaluation.judge_agreement import agreement, load_support_pairs

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings
    from langchain_core.language_models import BaseChatModel

    from rag.core.settings import Settings

_VERDICT = re.compile(r"\b(yes|no)\b", re.I)

JUDGE_PROMPT = (
    "You check citations. Answer with one word, yes or no.\n"
    "Does the evidence fully support the claim (every fact in the claim is stated or "
    "directly implied by the evidence)?\n\nEvidence:\n{evidence}\n\nClaim: {claim}\n\n"
    "Answer (yes or no):"
)


class LLMSupportJudge(SupportJudge):
    """Entailment by a chat model: 1.0 for "yes", 0.0 for "no" (or an unreadable reply)."""

    def __init__(self, chat_model: BaseChatModel, name: str = "llm") -> None:
        if chat_model is None:
            raise ValueError("LLMSupportJudge needs a LangChain chat model")
        self.chat_model = chat_model
        self.name = name

    def __repr__(self) -> str:
        return f"LLMSupportJudge({self.name!r})"

    def score(self, sentence: str, evidence: str) -> float:
        claim = strip_citations(sentence)
        if not claim or not evidence.strip():
            return 0.0
        reply = self.chat_model.invoke(JUDGE_PROMPT.format(evidence=evidence, claim=claim))
        content = reply.content if hasattr(reply, "content") else reply
        match = _VERDICT.search(content if isinstance(content, str) else str(content))
        return 1.0 if match and match.group(1).lower() == "yes" else 0.0


JUDGE_KINDS = ("auto", "offline", "llm")


def make_support_judge(
    settings: Settings,
    embeddings: Embeddings | None = None,
    chat_model: Any = None,
    kind: str = "auto",
) -> SupportJudge:
    """The LLM judge when an LLM is configured (or ``chat_model`` is given), else offline.

    ``kind`` forces one: "offline" (even with an LLM configured: an LLM judging its
    own answers is lenient with itself) or "llm" (needs ``settings.llm.backend``).
    """
    if kind not in JUDGE_KINDS:
        raise ValueError(f"judge {kind!r} is unknown; use one of {', '.join(JUDGE_KINDS)}")
    if kind == "offline":
        return make_judge(settings, embeddings)
    if chat_model is not None:
        return LLMSupportJudge(chat_model, name=getattr(chat_model, "model_name", "llm"))
    if kind == "llm" and settings.llm.backend == "none":
        raise ValueError(
            "the llm judge needs an LLM: set RAG_LLM=openai or ollama (or --llm), or use "
            "the offline judge"
        )
    if settings.llm.backend != "none":
        from rag.answering.llm import make_chat_model

        name = f"{settings.llm.backend}:{settings.llm.model}"
        return LLMSupportJudge(make_chat_model(settings), name=name)
    return make_judge(settings, embeddings)


def judge_agreement(
    judge: SupportJudge, pairs_path: str | Path, threshold: float
) -> dict[str, Any] | None:
    """The judge's agreement with hand-labelled pairs at ``threshold``; None without them."""
    path = Path(pairs_path)
    if not path.is_file():
        return None
    figures = agreement(judge, load_support_pairs(path), threshold=threshold)
    figures.pop("scores", None)
    figures["pairs"] = str(path)
    return figures
