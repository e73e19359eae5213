"""Chat history handling: normalise the turns, and condense a follow-up without an LLM.

"Who is Iran's president?" then "Who did he meet in Ashgabat?" becomes "Who did Iran's
president meet in Ashgabat?": a pronoun is replaced by what the previous question asked
about (or, failing that, the first name the previous answer gives), and a short
elliptical follow-up ("And Saudi Arabia?") borrows the previous question's words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from rag.core.citations import strip_citations
from rag.core.schema import Turn
from rag.core.text import content_terms

_PERSON_PRONOUNS = {"he", "she", "him", "her", "his", "hers", "himself", "herself"}
_THING_PRONOUNS = {"it", "its", "they", "them", "their", "theirs", "this", "that"}
_POSSESSIVE = {"his", "her", "hers", "its", "their", "theirs"}
_PRONOUN = re.compile(
    r"\b(" + "|".join(sorted(_PERSON_PRONOUNS | _THING_PRONOUNS, key=len, reverse=True)) + r")\b",
    re.I,
)
_SUBJECT = re.compile(
    r"^\s*(?:who|what|which)\s+(?:is|was|are|were)\s+(?:the\s+)?(?P<subject>.+?)\s*[?.!]*\s*$",
    re.I,
)
_ABOUT = re.compile(
    r"^\s*(?:who|what|why|when|where|how)\b.*?\b(?:about|of|did|does|do|is|was)\s+"
    r"(?P<subject>[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*)",
)
_NAME = re.compile(
    r"\b(?:President|Minister|Prime Minister|Foreign Minister|Deputy Foreign Minister|"
    r"Secretary|Chancellor|King|Queen|Senator|Governor|Mr\.|Ms\.|Dr\.)?\s*"
    r"(?P<name>[A-Z][a-z]+(?:\s+[A-Z][a-z]+)+)"
)


def normalise_history(history: Iterable[Any] | None) -> list[Turn]:
    """Accept LangChain messages, (role, text) tuples or {"role", "content"} dicts."""
    turns: list[Turn] = []
    for item in history or []:
        role: Any
        text: Any
        if isinstance(item, tuple | list) and len(item) == 2:
            role, text = item
        elif isinstance(item, dict):
            role, text = item.get("role"), item.get("content")
        elif hasattr(item, "type") and hasattr(item, "content"):
            role, text = item.type, item.content
        else:
            raise ValueError(
                f"chat_history entry {item!r} is not a message; use ('human'|'ai', text) "
                "tuples or LangChain HumanMessage/AIMessage objects"
            )
        role = {"user": "human", "assistant": "ai", "human": "human", "ai": "ai"}.get(
            str(role).lower()
        )
        if role is None:
            raise ValueError(
                f"chat_history role {item!r} is unknown; use 'human' or 'ai'"
            )
        turns.append((role, str(text)))
    return turns


def condense_question(question: str, history: Sequence[Turn]) -> str:
    """A standalone form of ``question`` built from the history, without an LLM."""
    previous_questions = [text for role, text in history if role == "human"]
    if not previous_questions:
        return question
    previous = previous_questions[-1]
    previous_answer = next((text for role, text in reversed(history) if role == "ai"), "")
    pronouns = [m for m in _PRONOUN.finditer(question)]
    if pronouns:
        referent = _referent(previous, previous_answer, pronouns[0].group(1).lower())
        if referent:
            return _substitute(question, pronouns[0], referent)
    if len(content_terms(question)) <= 2:
        # "And Saudi Arabia?" / "Why?": the new words plus the previous question.
        return f"{question.rstrip('?. ')} ({previous.rstrip('?. ')})?"
    return question


_AUX = re.compile(
    r"^\s*(?:who|what|when|where|why|how)\s+(?:did|does|do|has|have|had|will|would|can|"
    r"could|should|is|was|are|were)\s+(?P<rest>.+?)\s*[?.!]*\s*$",
    re.I,
)
_PREPOSITIONS = {"about", "in", "on", "at", "to", "for", "with", "from", "after", "before",
                 "during", "over", "against", "toward", "towards", "by"}


def _subject_before_verb(question: str) -> str:
    """'What did the finance minister say about X?' -> 'the finance minister'."""
    match = _AUX.match(question)
    if not match:
        return ""
    words = match.group("rest").split()
    stop = next((i for i, w in enumerate(words) if w.lower() in _PREPOSITIONS), len(words))
    subject = words[: stop - 1]  # the word before the preposition (or the end) is the verb
    if not subject or subject[0].lower() in _PERSON_PRONOUNS | _THING_PRONOUNS:
        return ""
    return " ".join(subject)


def _referent(previous_question: str, previous_answer: str, pronoun: str) -> str:
    subject = _SUBJECT.match(previous_question)
    if subject:
        described = subject.group("subject").strip()
        if pronoun in _PERSON_PRONOUNS and previous_question.lower().startswith("who"):
            # "Who is Iran's president?" was answered with a name: "he" is that person.
            name = _name_for(described, previous_answer)
            if name:
                return name
        return described
    before_verb = _subject_before_verb(previous_question)
    if before_verb:
        return before_verb
    about = _ABOUT.match(previous_question)
    if about:
        return about.group("subject").strip()
    if pronoun in _PERSON_PRONOUNS:
        found = _NAME.search(strip_citations(previous_answer))
        if found:
            return found.group("name")
    return ""


def _name_for(description: str, answer: str) -> str:
    """The name in ``answer`` introduced by the description's words
    ("Iranian President Massoud Pezeshkian" for "Iran's president")."""
    wanted = content_terms(description)
    text = strip_citations(answer)
    best, best_hits = "", 0
    for match in _NAME.finditer(text):
        before = content_terms(text[max(0, match.start() - 40) : match.end()])
        hits = sum(
            any(w == b or (len(w) >= 4 and (b.startswith(w) or w.startswith(b))) for b in before)
            for w in wanted
        )
        if hits > best_hits:
            best, best_hits = match.group("name"), hits
        elif not best and len(text.split()) <= 12:
            best = match.group("name")  # a short answer that is just the name
    return best


def _substitute(question: str, match: re.Match[str], referent: str) -> str:
    pronoun = match.group(1).lower()
    replacement = referent
    if pronoun in _POSSESSIVE:
        replacement = referent + ("'" if referent.endswith("s") else "'s")
    start, end = match.span(1)
    if start == 0:
        replacement = replacement[0].upper() + replacement[1:]
    return question[:start] + replacement + question[end:]
