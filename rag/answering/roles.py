"""Role questions: who holds a role, and whose role it is.

"Who is the president of Iran?" asks for a person (the expected type, rag.answering.spans)
but also names a role (president) and what it belongs to (Iran). Any sentence naming a
president near the word "Iran" looks like an answer ("...hostility toward Iran ..., Vice
President Kamala Harris..."); the person who holds the role is the one whose title
carries both ("Iranian President Massoud Pezeshkian"). And when no person in the passages
read is given that role for that owner ("Who is the president of Turkmenistan?" over an
article that names Russia's and Iran's presidents), the passages do not answer.

``role_question(question)`` reads the role and its owner (None for other questions);
``holds(asked, candidate)`` says how surely a PERSON span holds it: 1.0 when the role and
the owner are in the name's title or apposition, 0.5 when both are in its sentence, 0
otherwise. Words match by stem prefix ("Iranian" ~ "Iran").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.answering import spans
from rag.core.text import content_terms

_ADJECTIVES = r"(?:(?:current|new|former|acting|sitting|present|incumbent|next|top|chief)\s+)*"
_OF_FORM = re.compile(
    r"^\s*who\s+(?:is|was|are|were|will\s+be)\s+"
    r"(?:(?:elected|named|appointed|chosen|picked|sworn\s+in\s+as)\s+)?"
    rf"(?:the\s+|a\s+|an\s+)?{_ADJECTIVES}(?P<role>[\w-]+)\s+of\s+(?P<owner>[^?]+)",
    re.I,
)
_POSSESSIVE_FORM = re.compile(
    r"^\s*who\s+(?:is|was|are|were|will\s+be)\s+"
    r"(?:(?:elected|named|appointed|chosen)\s+)?"
    rf"(?P<owner>[\w .-]+?)[’']s?\s+{_ADJECTIVES}(?:[a-z]+\s+)?(?P<role>[\w-]+)\s*\??\s*$",
    re.I,
)
_WHICH_FORM = re.compile(
    r"^\s*(?i:which)\s+(?P<owner>[A-Z][\w-]+)\s+(?:[a-z]+\s+)?(?P<role>[\w-]+)\s", re.U
)
# Roles too loose to be matched by their word ("Which Russian official ...?" is answered
# by "Russian Deputy Foreign Minister Sergey Ryabkov").
_LOOSE = {"official", "leader", "person", "man", "woman", "politician", "star", "host",
          "executive", "celebrity"}
_WINDOW = 6  # words either side of the name


@dataclass(frozen=True)
class RoleQuestion:
    role: str  # the role's content term ("presid")
    owner: list[str]  # content terms of whose role it is (["iran"])


def role_question(question: str) -> RoleQuestion | None:
    """The role and its owner when the question asks who holds a role of someone."""
    for form in (_OF_FORM, _POSSESSIVE_FORM, _WHICH_FORM):
        match = form.match(question)
        if match is None or not spans.person_role(match.group("role")):
            continue
        if form is _WHICH_FORM and match.group("role").lower() in _LOOSE:
            continue
        role = content_terms(match.group("role"))
        owner = [t for t in content_terms(match.group("owner")) if not t.isdigit()]
        if role and owner:
            return RoleQuestion(role[0], owner)
    return None


def holds(asked: RoleQuestion, candidate: spans.Candidate) -> float:
    """How surely the candidate (a person) holds the asked role: 1.0, 0.5 or 0."""
    if candidate.type != spans.SpanType.PERSON:
        return 0.0
    title = _title(candidate)
    near = content_terms(" ".join(title))
    if _has(near, [asked.role]) and _has(near, asked.owner):
        return 1.0
    if _has(near, [asked.role]) and _other_nation(title, asked.owner):
        return 0.0  # "Russian Deputy Foreign Minister": a minister, not Israel's
    sentence = content_terms(candidate.sentence)
    if _has(sentence, [asked.role]) and _has(sentence, asked.owner):
        return 0.5
    return 0.0


def _title(candidate: spans.Candidate) -> list[str]:
    """The words that describe the name: its title before it, back to a break ("and",
    "with", a comma: "...Putin and Iranian President Massoud Pezeshkian"), and an
    apposition after it ("Massoud Pezeshkian, Iran's president, said")."""
    before = candidate.sentence[: candidate.start].split()[-_WINDOW:]
    for i in range(len(before) - 1, -1, -1):
        if before[i].lower() in _BREAKS or before[i].endswith((",", ";", ":")):
            before = before[i + 1:]
            break
    rest = candidate.sentence[candidate.end:]
    after: list[str] = []
    if rest.lstrip().startswith(","):
        after = re.split(r"[,;.]", rest.lstrip()[1:], maxsplit=1)[0].split()[:_WINDOW]
    return before + after


_BREAKS = {"and", "or", "with", "between", "by", "to", "from", "than", "as", "against"}


def _other_nation(title: list[str], owner: list[str]) -> bool:
    """The title names a country or a nationality that is not the owner's."""
    for word in title:
        word = re.sub(r"[’']s$", "", word.strip(",.;:"))
        if not word[:1].isupper():
            continue
        term = content_terms(word)
        nation = word.lower() in spans.country_names() or bool(_NATIONALITY.search(word))
        if nation and term and not _has(term, owner[:1]) and not _has(owner[:1], term):
            return True
    return False


_NATIONALITY = re.compile(r"^[A-Z][a-z]+(?:ian|ean|ese|ish|ani|i)$")


def _has(terms: list[str], wanted: list[str]) -> bool:
    return all(any(_stem_match(w, t) for t in terms) for w in wanted)


def _stem_match(a: str, b: str) -> bool:
    """Equal, or one a prefix (4+ letters) of the other: Iran ~ Iranian."""
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    return short == long or (len(short) >= 4 and long.startswith(short))
