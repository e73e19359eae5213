"""Chat history handling: normalise the turns, and condense a follow-up without an LLM.

First decide whether the turn depends on the history at all (``depends_on_history``):
pronouns and possessives ("he", "its"), "that/this" standing for what was just said,
"there", "else", and ellipsis ("Where?", "Why not?", "On what date?", "And Russia's?",
"What about Harris?"). A question that stands on its own is answered on its own; an "it"
that stands for nothing ("Will it rain?") is no follow-up.

The previous question is read as it was understood (itself condensed against the turns
before it), so "Why?" after "Who criticized him?" knows who "him" was. A dependent turn
is rewritten by putting the referent in place, never by appending the previous question:
- a question word ("Where?", "When was that?", "Why not?", "Over what?") takes the
  previous question's place, and what answered the old question word goes where that
  word stood: "Where did Putin and Pezeshkian meet?" (Ashgabat) + "When was that?" ->
  "When did Putin and Pezeshkian meet in Ashgabat?"; "Which weapons does Moscow refrain
  from delivering to Iran?" + "Why?" -> "Why does Moscow refrain from delivering
  high-grade weaponry like Su-35s and S-400s to Iran?" (the gap is found by aligning the
  question's words around it with the answer). When no clean swap exists, both questions
  make one sentence ("Who wants Pezeshkian impeached, and over what?");
- "And X?" / "What about X?" puts X in the slot of the previous question it matches (a
  name of the same kind, else the subject, else the object of a "which" question):
  "Who is Iran's president?" + "And Russia's?" -> "Who is Russia's president?";
- a pronoun is replaced by a referent of its kind, chosen from typed candidates: spans
  of the question and answer (``rag.answering.spans``), the subject of the previous
  question (found without a tagger: past names, "between X and Y", participles), the
  span or clause that answered it. "he/she": after "Who is X?" or "Who criticized X?"
  the person answered (the name nearest the question's words in the answer), after
  "Who did X meet?" X; a second person pronoun is the other person. "they": the people
  the answer joins with "and", else the subject of the sentence that answered. "it/that":
  the place answered to "In which city ...?", the clause that answered "What could
  reduce ...?", else what the previous question was about. "there": a place.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from rag.answering import spans
from rag.core.citations import strip_citations
from rag.core.schema import Turn
from rag.core.text import content_terms

#: How the grounded answerer's abstention opens (rag.answering.grounded.abstention).
ABSTENTION_OPENING = "The indexed articles don't say."
#: The notes the chain adds after an answer (rag.answering.news): they name no referent.
_NOTES = re.compile(r"\s*\b(?:Newest source|Sources disagree|No article dated)\b[^\n]*$")
#: How many turns before a question can still be referred to by it.
_IN_VIEW = 6
_PERSON_PRONOUNS = {"he", "she", "him", "her", "his", "hers", "himself", "herself"}
_THING_PRONOUNS = {"it", "its", "they", "them", "their", "theirs", "this", "that"}
_WH = ("who", "whom", "whose", "what", "which", "when", "where", "why", "how")
_POSSESSIVE = {"his", "her", "hers", "its", "their", "theirs"}
_PRONOUN = re.compile(
    r"\b(" + "|".join(sorted(_PERSON_PRONOUNS | _THING_PRONOUNS, key=len, reverse=True)) + r")\b",
    re.I,
)
_SUBJECT = re.compile(
    r"^\s*(?:who|what|which)\s+(?:is|was|are|were)\s+(?P<subject>.+?)\s*[?.!]*\s*$",
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


def depends_on_history(question: str) -> bool:
    """True when the question cannot be understood without the turns before it."""
    q = question.strip()
    lower = q.lower()
    if _PERSON_PRONOUN.search(q) or _THING_PRONOUN.search(_EXPLETIVE_IT.sub(" ", q)):
        return True
    if _THAT.search(q) or _THERE.search(q) or re.search(r"\belse\b", lower):
        return True
    return bool(_ELLIPSIS_LEAD.match(q) or _BARE_WH.match(q))


# "it" that stands for nothing: weather and "seem/appear" ("Will it rain?", "It seems
# that ...")
_EXPLETIVE_IT = re.compile(
    r"\bit\s+(?:(?:will|would|could|might|may|did|does|is|was)\s+)?(?:not\s+)?"
    r"(?=(?:rain|snow|hail|storm|seem|appear|rained|snowed|seemed|appeared|"
    r"rains|snows|seems|appears|raining|snowing)\b)",
    re.I,
)
_PERSON_PRONOUN = re.compile(r"\b(he|she|him|her|his|hers|himself|herself)\b", re.I)
_THING_PRONOUN = re.compile(r"\b(it|its|they|them|their|theirs|itself|themselves)\b", re.I)
# "that"/"this" standing for what was just said: "When was that?", "Why is that so?"
_THAT = re.compile(
    r"(?:\b(?:was|is|did|does|do|about|after|before|of|for|by|cause[sd]?|mean|happen)\s+"
    r"(?:that|this)\b(?!\s+(?!happen|mean|so\b)[a-z]{3,}))|(?:\b(?:that|this)\s*[?.!]*\s*$)"
    # "What else would that change?": after an auxiliary, one word before the end
    r"|(?:\b(?:would|will|could|can|should|might|may|did|does|do)\s+(?:that|this)"
    r"(?=\s+[a-z]+\s*[?.!]*\s*$))",
    re.I,
)
_THERE = re.compile(
    r"(?<!\bis )(?<!\bare )(?<!\bwas )(?<!\bwere )\bthere\b(?!\s+(?:is|are|was|were|be)\b)",
    re.I,
)
_WHOLE_QUESTION = re.compile(
    r"(?i)^(?:who|whom|whose|what|which|when|where|why|how|is|are|was|were|do|does|did|"
    r"has|have|can|could|will|would|should)\s+\S+\s+\S+"
)
_PREPOSITIONS_RE = ("about", "in", "on", "at", "to", "for", "with", "from", "of", "by",
                    "against", "over", "near", "into")
_ELLIPSIS_LEAD = re.compile(r"^\s*(?:and|but|so|what about|how about|and what about)\b\s*"
                            r"(?P<rest>.*?)\s*[?.!]*\s*$", re.I)
_BARE_WH = re.compile(
    r"^\s*(?:(?P<prep>over|for|to|with|from|about|on|in|at|by|since|against|after|"
    r"before)\s+(?=wh))?(?P<wh>who|whom|(?:what|which)(?:\s+(?!else\b|for\b|about\b|then\b|"
    r"now\b|so\b|if\b|is\b|was\b|did\b|does\b|do\b|are\b|were\b)[a-z]+)?|when|where|why|how)"
    r"(?P<not>\s+not)?"
    r"(?:\s+(?:was|is|did|does|do|were|are)\s+(?:that|this|it)(?:\s+(?:happen|so))?)?"
    r"\s*[?.!]*\s*$",
    re.I,
)


def condense_question(question: str, history: Sequence[Turn]) -> str:
    """A standalone form of ``question`` built from the history, without an LLM."""
    asked = [i for i, (role, _) in enumerate(history) if role == "human"]
    if not asked or not depends_on_history(question):
        return question
    last = asked[-1]
    # The previous question as it was understood: "Why?" after "Who criticized him?"
    # needs "him" resolved first (bounded: only the turns still in view).
    earlier = list(history[max(0, last - _IN_VIEW) : last])
    previous = condense_question(history[last][1].strip(), earlier)
    previous_answer = _NOTES.sub("", strip_citations(
        next((text for role, text in history[last + 1 :] if role == "ai"), "")
    ))
    if previous_answer.startswith(ABSTENTION_OPENING):
        previous_answer = ""  # an abstention names nothing the follow-up can refer to
    bare = _BARE_WH.match(question)
    if bare:
        wh = f"{bare.group('prep')} {bare.group('wh')}" if bare.group("prep") else bare.group("wh")
        swapped = _swap_wh(previous, wh, bool(bare.group("not")),
                           _answer_span(previous, previous_answer), previous_answer)
        if swapped:
            return swapped
        # No clean swap: both questions in one, as a person would ask them ("Who wants
        # Pezeshkian impeached, and over what?").
        short = question.strip().rstrip(" ?.!")
        return f"{previous.rstrip(' ?.!')}, and {short[:1].lower()}{short[1:]}?"
    lead = _ELLIPSIS_LEAD.match(question)
    rest = lead.group("rest") if lead else ""
    if rest and _WHOLE_QUESTION.match(rest) and rest.lower() != question.strip().lower():
        # "And what do hardliners favor?": a question of its own after "and"
        return condense_question(f"{rest[:1].upper()}{rest[1:]}?", history)
    if lead and lead.group("rest") and len(content_terms(lead.group("rest"))) <= 3:
        return _fill_slot(previous, lead.group("rest")) or question
    return _resolve_pronouns(question, previous, previous_answer)


# --- "Where?", "When was that?", "Why not?" ----------------------------------------------

_NEGATIVE = {"does": "doesn't", "do": "don't", "did": "didn't", "is": "isn't",
             "are": "aren't", "was": "wasn't", "were": "weren't", "has": "hasn't",
             "have": "haven't", "can": "can't", "will": "won't", "would": "wouldn't",
             "should": "shouldn't", "could": "couldn't"}
_AUX_WORDS = set(_NEGATIVE)
_LEADING_WH = re.compile(
    r"^\s*(?:(?:in|at|from|to|on|for|with)\s+)?(?:(?:which|what)\s+(?:[\w’'-]+\s+){0,3}?"
    r"(?=(?:" + "|".join(_AUX_WORDS) + r")\b)|(?:who|whom|whose|what|when|where|why|how"
    r"(?:\s+(?:many|much|long|old|far)\s+[\w’'-]+)?)\s+)",
    re.I,
)


def _swap_wh(
    previous: str, wh: str, negate: bool, answer: str = "", answer_text: str = ""
) -> str:
    """The previous question asked again with another question word (``answer``, the
    previous answer's span, stands in when the question word was the subject)."""
    body = previous.rstrip(" ?.!")
    match = _LEADING_WH.match(body)
    if match:
        rest = body[match.end():]
        first = rest.split(" ", 1)
        if first[0].lower() in _AUX_WORDS and len(first) > 1:
            aux, tail = first
            # "What was the main topic of the X meeting?" + "Where?" -> "Where was the X
            # meeting?": the thing that can have a place or time is the last "of" phrase.
            if wh.lower() in ("where", "when") and " of " in tail and aux.lower() in (
                "is", "was", "are", "were"
            ):
                tail = tail.rsplit(" of ", 1)[1]
            elif _asked_what(match.group(0)) and wh.lower() != "what":
                # "Which weapons does Moscow refrain from delivering to Iran?" + "Why?":
                # the weapons answered go where the question word's object was; when
                # nothing lines up, no swap ("Which Gulf ally does Moscow avoid
                # upsetting, and why?" follows).
                filled = _fill_gap(tail, answer_text)
                if not filled:
                    return ""
                tail = filled
            tail = _drop_dangling(tail)
            tail = _with_answered(tail, match.group(0), wh, answer)
        elif answer and _tense(rest) and _answers_here(answer, answer_text, previous):
            # "Who criticized him?" answered "Fereshteh Sadeghi" + "Why?" -> "Why did
            # Fereshteh Sadeghi criticize him?"
            aux, tail = _tense(rest), f"{answer} {_base_verb(rest)}"
        else:
            return ""
    else:
        # A yes/no question: "Does Russia deliver Su-35s to Iran?" + "Why not?".
        first = body.split(" ", 1)
        if first[0].lower() not in _AUX_WORDS or len(first) < 2:
            return ""
        aux, tail = first[0].lower(), first[1]
    if negate:
        aux = _NEGATIVE.get(aux.lower(), aux + " not")
    return f"{wh[:1].upper()}{wh[1:].lower()} {aux.lower()} {tail}?"


def _asked_what(wh_phrase: str) -> bool:
    """The question word stood for an object: "which weapons", "what", "(to) whom"."""
    words = [w.lower() for w in wh_phrase.split()]
    objects = ("what", "which", "who", "whom")
    return bool(words) and (words[0] in objects or (len(words) > 1 and words[1] in objects))


_TOKEN = re.compile(r"[\w’'-]+|[^\w\s]")


def _fill_gap(tail: str, answer_text: str) -> str:
    """``tail`` with the words the answer puts in its gap, found by aligning the tail's
    words around the gap with the answer ("refrain from delivering [GAP] to Iran" in
    "...refrains from delivering high-grade weaponry like Su-35s and S-400s to Iran").
    Empty when no gap lines up."""
    words = tail.split()
    gap, filler = _gap(words, answer_text)
    return " ".join([*words[:gap], *filler, *words[gap:]]) if filler else ""


def _gap(words: list[str], answer_text: str, only_end: bool = False) -> tuple[int, list[str]]:
    """Where in ``words`` the answer's words go, and those words (none: no gap)."""
    tokens = _TOKEN.findall(answer_text)
    stems = [_stem(t) for t in tokens]
    for gap in range(len(words), 1, -1):
        if only_end and gap < len(words):
            break
        if gap == len(words) and words[-1].lower() not in _PREPOSITIONS:
            continue  # at the end only after a preposition ("preparing for [GAP]")
        left, before = _stem(words[gap - 1]), _stem(words[gap - 2])
        right = _stem(words[gap]) if gap < len(words) else ""
        for j, stem in enumerate(stems):
            if stem != left or before not in stems[max(0, j - 3) : j]:
                continue
            filler = _filler(tokens, stems, j + 1, right)
            if filler and not any(_stem(w) in {_stem(f) for f in filler} for w in words):
                return gap, filler
    return 0, []


def _filler(tokens: list[str], stems: list[str], start: int, right: str) -> list[str]:
    """The answer's words from ``start`` up to ``right`` (within 8 words) or, at the end
    of the question, up to the end of the noun phrase (punctuation, a clause word, an
    "-ing" word, a verb after a plural noun; at most 5 words)."""
    if right:
        for k in range(start + 1, min(len(tokens), start + 9)):
            if stems[k] == right:
                between = tokens[start:k]
                return between if all(t[0].isalnum() for t in between) else []
        return []
    found: list[str] = []
    for token in tokens[start : start + 6]:
        lower = token.lower()
        if not token[0].isalnum() or lower in ("which", "who", "that", "while", "as", "and"):
            break
        if found and (lower.endswith("ing") or (
            found[-1].lower().endswith("s") and token.islower() and lower not in _PREPOSITIONS
            and len(found) >= 2
        )):
            break
        found.append(token)
    return found if len(found) <= 5 else []


def _stem(word: str) -> str:
    terms = content_terms(word)
    return terms[0] if terms else word.lower()


def _with_answered(tail: str, old_wh: str, wh: str, answer: str) -> str:
    """The previous answer put where its question word stood: "Where did Putin and
    Pezeshkian meet?" answered "Ashgabat" + "When was that?" -> "When did Putin and
    Pezeshkian meet in Ashgabat?" (only a place or date answering "where"/"when")."""
    old = old_wh.strip().split()[-1].lower()
    if not answer or old == wh.lower() or old not in ("where", "when"):
        return tail
    if answer.lower() in tail.lower():
        return tail
    if old == "where":
        return f"{tail} in {answer}"
    day = re.search(r"\d", answer) and not re.fullmatch(r"\d{4}", answer.strip())
    return f"{tail} {'on' if day else 'in'} {answer}"


def _drop_dangling(tail: str) -> str:
    """"Israel preparing for" -> "Israel preparing" (the question word took the object)."""
    words = tail.split()
    if len(words) > 2 and words[-1].lower() in {"for", "about", "to", "with", "on", "from",
                                                "of", "in", "at"}:
        return " ".join(words[:-1])
    return tail


def _tense(rest: str) -> str:
    """The auxiliary for the verb that opens ``rest``: "did" for a regular past
    ("criticized"), "does" for a present ("wants"); empty when it cannot be told
    ("met")."""
    verb = rest.split(" ", 1)[0].lower()
    if verb.endswith("ed") and len(verb) > 4:
        return "did"
    if verb.endswith("s") and not verb.endswith(("ss", "us", "is")) and len(verb) > 3:
        return "does"
    return ""


def _answers_here(answer: str, answer_text: str, previous: str) -> bool:
    """The answered name stands next to the question's other words in the answer ("...
    criticized by conservative journalist Fereshteh Sadeghi" for "Who criticized X?"),
    and is not a capitalised word that only opens a sentence ("Hardline lawmakers")."""
    if answer_text.lstrip().startswith(answer) and " " not in answer:
        return False
    wanted = [w for w in content_terms(previous) if not spans.named_in_question(answer, w)]
    at = max(0, answer_text.find(answer))
    if len(answer_text.split()) <= 12:
        return True  # a short answer is about the question
    window = content_terms(answer_text[max(0, at - 60) : at + len(answer) + 60])
    return any(_same_term(w, t) for w in wanted for t in window)


def _base_verb(rest: str) -> str:
    """"criticized him" -> "criticize him", "wants" -> "want" (regular forms only)."""
    words = rest.split(" ", 1)
    verb = words[0]
    if _tense(rest) == "does":
        cut = 2 if verb.endswith(("ches", "shes", "sses", "xes", "zes")) else 1
        return " ".join([verb[:-cut], *words[1:]])
    for ending, base in (("ied", "y"), ("zed", "ze"), ("ated", "ate"), ("sed", "se"),
                         ("ved", "ve"), ("ed", "")):
        if verb.endswith(ending) and len(verb) > len(ending) + 2:
            verb = verb[: -len(ending)] + base
            if ending == "ed" and len(verb) > 2 and verb[-1] == verb[-2]:
                verb = verb[:-1]  # "banned" -> "ban"
            break
    return " ".join([verb, *words[1:]])


def _answer_span(
    previous: str, previous_answer: str, kinds: frozenset[spans.SpanType] | None = None
) -> str:
    """The span of the previous answer that answered the previous question (typed;
    only of ``kinds`` when given)."""
    expected = spans.expected_type(previous)
    if not expected.wants_span:
        return ""
    fitting = [
        s for s in spans.extract(previous_answer)
        if expected.weight(s.type) >= 0.5 and not spans.named_in_question(previous, s.text)
        and (kinds is None or s.type in kinds)
    ]
    fitting.sort(key=lambda s: -expected.weight(s.type))  # stable: first of the best type
    return fitting[0].text if fitting else ""


# --- "And Russia's?", "What about Harris?" -----------------------------------------------


def _fill_slot(previous: str, new: str) -> str:
    """The previous question with ``new`` in the place of what it matches."""
    new = new.strip(" ?.!,")
    body = previous.rstrip(" ?.!")
    new_spans = spans.extract(new[:1].upper() + new[1:])
    possessive = bool(re.search(r"[’']s$", new))
    if possessive:
        old = re.search(r"\b([A-Z][\w-]*(?:\s+[A-Z][\w-]*)*)[’']s\b", body)
        if old:
            return f"{body[: old.start()]}{new}{body[old.end():]}?"
    of = re.match(r"(?i)^of\s+(.+)$", new)
    if of:
        old = re.search(r"\bof\s+([A-Z][\w-]*(?:\s+[A-Z][\w-]*)*)", body)
        if old:
            return f"{body[: old.start(1)]}{of.group(1)}{body[old.end(1):]}?"
    if new[:1].islower() and new_spans and new_spans[0].type == spans.SpanType.ENTITY:
        new_spans = []  # "reformists", capitalised above only to be read: not a name
    named = [s for s in spans.extract(body) if s.type != spans.SpanType.DATE]
    bare = re.sub(r"(?i)^the\s+", "", new)
    if new_spans and named:
        # Another kind's slot only for a bare name ("the EU"), not a phrase holding one.
        same = _same_kind(new_spans[0].type, named,
                          related=len(new_spans[0].text) >= len(bare) - 1)
        if same:
            old_span = same[0]
            before = body[: old_span.start]
            put = bare if re.search(r"(?i)\bthe\s+$", before) else new
            return f"{before}{put}{body[old_span.end:]}?"
    subject = _subject_before_verb(body)
    whole_span = bool(new_spans) and len(new_spans[0].text) >= len(new) - 1
    if subject and not whole_span:
        # "What are EU leaders focused on?" + "What about the US presidential candidates?"
        start = body.find(subject)
        before = _agree(body[:start], new)
        return f"{before}{new}{body[start + len(subject):]}?"
    gap = _OBJECT_GAP.match(body)
    if gap:
        # "Which Gulf ally does Moscow avoid upsetting?" + "What about Israel?" -> "Does
        # Moscow avoid upsetting Israel?": the new name where the question word's object was
        return f"{gap.group('aux').capitalize()} {gap.group('rest')} {new}?"
    topic = _topic(body)
    if topic and topic.lower() not in new.lower():
        return f"What about {new} and {topic}?"
    return ""


def _same_kind(kind: spans.SpanType, named: list[Any], related: bool) -> list[Any]:
    """The spans of the previous question that a new name of ``kind`` can stand for:
    its own kind first; a person or an unknown name for either; and, when ``related``,
    a political body for a country or the other way round ("the EU" for "the US")."""
    same = [s for s in named if s.type == kind]
    if same:
        return same
    groups = [{spans.SpanType.PERSON, spans.SpanType.ENTITY}]
    if related:
        groups.append({spans.SpanType.COUNTRY, spans.SpanType.ORGANISATION})
    for group in groups:
        if kind in group:
            return [s for s in named if s.type in group]
    return []


_SINGULAR_AUX = {"do": "does", "are": "is", "have": "has", "were": "was"}
_PLURAL_AUX = {v: k for k, v in _SINGULAR_AUX.items()}


def _agree(before: str, subject: str) -> str:
    """The auxiliary just before a new subject agreeing with it ("What does the hardline
    faction ...", "What do the reformists ...")."""
    words = before.rstrip().rsplit(" ", 1)
    if len(words) < 2:
        return before
    head = subject.split()[-1].lower()
    plural = " and " in subject or (head.endswith("s") and not head.endswith(("ss", "’s", "'s")))
    table = _PLURAL_AUX if plural else _SINGULAR_AUX
    aux = words[1].lower()
    if aux not in table:
        return before
    return f"{words[0]} {table[aux]} "


_OBJECT_GAP = re.compile(
    r"(?i)^\s*(?:which|what)(?:\s+[\w’'-]+){0,3}?\s+(?P<aux>does|do|did)\s+"
    r"(?P<rest>.+\s(?!(?:" + "|".join(_PREPOSITIONS_RE) + r")\b)[a-z]+)\s*$"
)


def _topic(question: str) -> str:
    """The main name of a question (its first non-date span), or its subject."""
    named = [s for s in spans.extract(question) if s.type != spans.SpanType.DATE]
    named.sort(key=lambda s: s.type == spans.SpanType.ENTITY)  # known kinds first
    if named:
        return named[0].text
    return _subject_before_verb(question)


# --- pronouns ------------------------------------------------------------------------------


def _resolve_pronouns(question: str, previous: str, previous_answer: str) -> str:
    out = question
    person = _PERSON_PRONOUN.search(out)
    if person:
        referent = _person_referent(previous, previous_answer)
        if referent:
            out = _substitute(out, person, referent)
            second = _PERSON_PRONOUN.search(out, person.start() + len(referent))
            other = next((p for p in _people(previous, loose=True)
                          if p not in referent and referent not in p), "")
            if second and other:
                # "Who criticized Abbas Araghchi?" + "Why did she criticize him?"
                out = _substitute(out, second, other)
    there = _THERE.search(out)
    if there:
        place = _place_referent(previous, previous_answer)
        if place:
            start, end = there.span()
            out = f"{out[:start]}in {place}{out[end:]}"
    reason = _FOR_THAT.search(out)
    if reason:
        # "Who criticized him for it?": "it" is what the previous question said was done
        clause = _event_clause(previous, previous_answer)
        if clause:
            return f"{out[: reason.start(1)]}{clause}{out[reason.end(1):]}"
    thing = _THING_PRONOUN.search(out) or _THAT.search(out)
    if thing and not person:
        match = re.search(
            r"\b(it|its|they|them|their|theirs|that|this)\b", out[thing.start():], re.I
        )
        referent = (
            _thing_referent(previous, previous_answer, match.group(1).lower()) if match else ""
        )
        if referent and match is not None:
            offset = thing.start()
            span = (offset + match.start(1), offset + match.end(1))
            out = _replace(out, span, match.group(1).lower(), referent)
    return out


_FOR_THAT = re.compile(r"(?i)\bfor\s+(it|that|this)\s*[?.!]*\s*$")
_ADJUNCT_WH = ("why", "how", "when", "where")


def _event_clause(previous: str, previous_answer: str) -> str:
    """What the previous question said someone did, as a gerund clause: "Who did Araghchi
    report to on military cooperation?" answered "...reported to EU officials on military
    cooperation..." -> "reporting to EU officials on military cooperation". Empty when
    the question had no "did/does" or its question word's gap cannot be filled."""
    match = _AUX.match(previous)
    if not match or match.group("aux").lower() not in ("did", "does", "do"):
        return ""
    subject = _subject_before_verb(previous)
    rest = match.group("rest")
    if not subject or not rest.startswith(subject):
        return ""
    predicate = rest[len(subject):].split()
    if not predicate:
        return ""
    asked = previous.strip().split()[0].lower()
    if asked not in _ADJUNCT_WH:
        filled = _fill_gap(" ".join(predicate), previous_answer)
        if not filled:
            return ""
        predicate = filled.split()
    return " ".join([_gerund(predicate[0]), *predicate[1:]])


def _gerund(verb: str) -> str:
    """"report" -> "reporting", "make" -> "making", "ban" -> "banning", "die" -> "dying"."""
    lower = verb.lower()
    if lower.endswith("ie"):
        return verb[:-2] + "ying"
    if lower.endswith("e") and not lower.endswith(("ee", "ye", "oe")) and len(lower) > 2:
        return verb[:-1] + "ing"
    vowels = "aeiou"
    if (len(lower) <= 4 and len(lower) >= 3 and lower[-1] not in vowels + "wxy"
            and lower[-2] in vowels and lower[-3] not in vowels):
        return verb + verb[-1] + "ing"
    return verb + "ing"


def _person_referent(previous: str, previous_answer: str) -> str:
    """The person "he/she" stands for. After "Who is X?" or "Who criticized X?" it is the
    person answered; after "Who did X meet?" (X the subject) it is X, the one the question
    was about; else the person the previous question or answer names."""
    asked_who = previous.lower().lstrip().startswith(("who", "whom", "whose"))
    described_name = _SUBJECT.match(previous)
    if asked_who and described_name and _people(described_name.group("subject"), loose=True):
        names = _people(described_name.group("subject"), loose=True)
        if " ".join(names) == described_name.group("subject").strip():
            return names[0]  # "Who is Fereshteh Sadeghi?" + "Who did she attack?"
    if asked_who and _DO_SUPPORT.match(previous):
        asked_about = _subject_before_verb(previous)
        # The person answered when the answer names one beside the question's words
        # ("...plans to direct tech billionaire Elon Musk"), else the one asked about.
        answered = _person_beside(previous, previous_answer, asked_about)
        if answered:
            return answered
        if _could_be_person(asked_about):
            return asked_about
    if asked_who:
        subject = _SUBJECT.match(previous)
        described = subject.group("subject") if subject else previous
        name = _name_for(described, previous_answer, previous)
        if name:
            return name
    in_question = _people(previous)
    if in_question:
        # "Who questioned Ghislaine Maxwell?" answered by no person: "her" is Maxwell
        return in_question[0]
    described = _subject_before_verb(previous)
    if _could_be_person(described) and not asked_who:
        return described  # "What did the finance minister say?" + "What will he raise?"
    in_answer = _people(previous_answer)
    if in_answer:
        return in_answer[0]
    loose = [n for n in _people(previous, loose=True) if not any(c.isdigit() for c in n)]
    if loose:
        return loose[0]  # "Who did Araghchi report to?": the one-word name asked about
    if asked_who:
        subject = _SUBJECT.match(previous)
        if subject:
            return subject.group("subject").strip()
    return ""


def _person_beside(previous: str, answer: str, subject: str) -> str:
    """A person of ``answer`` with one of the question's words (not the subject's) in the
    40 characters before the name."""
    own = set(content_terms(subject))
    for x in spans.extract(previous):
        own |= set(content_terms(x.text))  # names say where, not what was done
    wanted = [w for w in content_terms(previous) if w not in own]
    for span in spans.extract(answer):
        if span.type != spans.SpanType.PERSON or spans.named_in_question(previous, span.text):
            continue
        before = content_terms(answer[max(0, span.start - 40) : span.start])
        if any(w == b for w in wanted for b in before):  # the same word ("direct"), not
            return span.text                             # a longer one ("Director")
    return ""


def _could_be_person(subject: str) -> bool:
    """Not a place or organisation by name ("Russia" is not "he")."""
    if not subject:
        return False
    found = spans.extract(subject)
    whole = [x for x in found if x.start == 0 and x.end >= len(subject.rstrip())]
    return not any(x.type in _NOT_PERSON for x in whole)


_NOT_PERSON = {spans.SpanType.COUNTRY, spans.SpanType.CITY, spans.SpanType.PLACE,
               spans.SpanType.ORGANISATION}


def _people(text: str, loose: bool = False) -> list[str]:
    kinds = {spans.SpanType.PERSON} | ({spans.SpanType.ENTITY} if loose else set())
    return [s.text for s in spans.extract(text) if s.type in kinds and _one_name(s.text)]


def _one_name(text: str) -> bool:
    """Not two sentences' words taken for one name ("Jeffrey Epstein. Over")."""
    return not re.search(r"[.!?]\s", text)


_PLACES = frozenset({spans.SpanType.CITY, spans.SpanType.PLACE, spans.SpanType.COUNTRY})


def _place_referent(previous: str, previous_answer: str) -> str:
    places = _PLACES
    for text in (previous, previous_answer):
        found = [s.text for s in spans.extract(text) if s.type in places]
        if found:
            return found[0]
    return ""


def _thing_referent(previous: str, previous_answer: str = "", pronoun: str = "it") -> str:
    """What "it/they/that" stands for: the answer to a "which country" question, else the
    previous question's subject, else the phrase it asked about."""
    if pronoun in ("its", "their") or (
        pronoun == "that" and previous.lower().startswith("where")
    ):
        # "Which country's capital hosted the forum?" + "Who is its president?": the
        # country answered; "Where was the forum held?" + "Which country is that in?".
        answered = _answer_span(previous, previous_answer)
        if answered:
            return answered
    if pronoun in ("it", "that", "this") and _ASKS_WHICH.match(previous):
        # "In which city did they gather?" + "What is it the capital of?": the city (a
        # place answered; a publication or date answered is seldom "it")
        answered = _answer_span(previous, previous_answer, _PLACES) or _place_named_as_such(
            previous, previous_answer)
        if answered:
            return answered
    if pronoun in ("they", "them", "their", "theirs"):
        people = _answered_people(previous, previous_answer)
        if people:
            return people  # "Who met in Ashgabat?" + "What did they discuss?"
        group = _answered_subject(previous, previous_answer)
        if group:
            return group  # "Who has criticized Iran?" answered "EU leaders ... have ..."
        who = re.match(r"(?i)^\s*who\s+(?!(?:is|are|was|were|did|does|do|has|have)\b)(.+?)"
                       r"\s*[?.!]*\s*$", previous)
        if who:
            return f"the people who {who.group(1)}"
    asked_who = previous.lower().lstrip().startswith(("who", "whom", "whose"))
    claim = (not asked_who and _answered_subject(previous, previous_answer)) or (
        _answered_object(previous, previous_answer))
    if claim:
        return claim
    before_verb = _subject_before_verb(previous)
    if before_verb:
        return before_verb
    subject = _SUBJECT.match(previous)
    if subject:
        return subject.group("subject").strip()
    about = _ABOUT.match(previous) or _OBJECT.search(previous)
    if about and not _is_date(about.group("subject")):
        return about.group("subject").strip()
    named = [x.text for x in spans.extract(previous) if x.start > 0
             and x.type not in (spans.SpanType.DATE, spans.SpanType.PERSON)
             and spans.family(x.type) == "name"]
    if named:
        return _with_article(named[0], previous)  # "How much of the Washburn Fire ...?"
    return ""


def _with_article(name: str, question: str) -> str:
    """The name with the noun phrase the question wrote around it: "the Washburn Fire",
    "the Epstein files" (a lowercase noun after the name, not an auxiliary or verb)."""
    at = question.find(name)
    phrase = f"the {name}" if at >= 4 and question[at - 4 : at].lower() == "the " else name
    after = question[at + len(name) :].split()
    if after and after[0].isalpha() and after[0].islower() and after[0] not in (
        _AUX_WORDS | _PREPOSITIONS | _DETERMINERS | {"do", "did", "does", "and", "or"}
    ) and not after[0].endswith("ed") and len(after[0]) > 2:
        phrase = f"{phrase} {after[0]}"
    return phrase


def _is_date(text: str) -> bool:
    found = spans.extract(text)
    return bool(found) and all(x.type == spans.SpanType.DATE for x in found)


# "In which city ...?", "Which country ...?": a question for a thing of a kind
_ASKS_WHICH = re.compile(r"(?i)^\s*(?:(?:in|at|from|to|on|for)\s+)?(?:which|what)\s+"
                         r"(?!(?:is|was|are|were|did|does|do|could|would|will|can)\b)[a-z]+")


_PLACE_NOUNS = re.compile(r"(?i)\b(?:city|town|village|capital|region|province|district|"
                          r"state|country|port|island)\s+(?:of\s+)?$")


def _place_named_as_such(previous: str, previous_answer: str) -> str:
    """A name the answer introduces as a place ("the city of Vasylkiv") when a place was
    asked for and the gazetteer does not know it."""
    expected = spans.expected_type(previous)
    if max(expected.weight(t) for t in _PLACES) < 0.5:
        return ""
    for x in spans.extract(previous_answer):
        if x.type == spans.SpanType.ENTITY and not spans.named_in_question(previous, x.text) \
                and _PLACE_NOUNS.search(previous_answer[max(0, x.start - 20) : x.start]):
            return x.text
    return ""


def _answered_people(previous: str, previous_answer: str) -> str:
    """The people a "who" question was answered with, joined: "Putin and Pezeshkian"."""
    if not previous.lower().lstrip().startswith(("who", "whom")):
        return ""
    people = [x for x in spans.extract(previous_answer) if x.type == spans.SpanType.PERSON
              and not spans.named_in_question(previous, x.text)]
    # Only names the answer joins with "and" ("Putin and Iranian President Massoud
    # Pezeshkian"), not one named further on ("..., Ebrahim Raisi").
    for i, first in enumerate(people):
        group = [first]
        for after in people[i + 1 :]:
            between = previous_answer[group[-1].end : after.start]
            if " and " not in f" {between} " or "," in between or len(between.split()) > 5:
                break
            group.append(after)
        if len(group) >= 2:
            return " and ".join(x.text for x in group)
    return ""


_CLAUSE_OPENERS = {"though", "although", "while", "when", "if", "because", "as", "but",
                   "and", "so", "since", "after", "before", "meanwhile", "however", "yet"}
_SUBJECT_QUESTION = re.compile(
    r"^\s*(?:what|who|which\s+[\w-]+)\s+(?:(?:could|would|will|can|might|may|should|has|"
    r"have)\s+)?"
    # the verb, not a noun the question word qualifies ("What stance do they take?")
    r"(?P<verb>[a-z]+)\b(?!\s+(?:do|does|did|is|are|was|were|has|have|can|could|will|"
    r"would)\b)",
    re.I,
)
_CLAUSE_AUX = re.compile(
    r"\s(?:could|would|will|can|might|may|should|has|have|had|is|are|was|were)\s", re.I
)


def _answered_object(previous: str, previous_answer: str) -> str:
    """What answered "What did Russia warn Israel against?": the noun phrase after the
    question's last words in the answer ("...against targeting Iranian nuclear sites")."""
    body = previous.strip().rstrip(" ?.!")
    if not re.match(r"(?i)^what\s+(?:did|does|do)\s", body):
        return ""
    words = body.split()
    if words[-1].lower() not in _PREPOSITIONS:
        return ""  # only a question ending on its preposition asks for a thing
    _, filler = _gap(words[2:], previous_answer, only_end=True)
    return " ".join(filler)


def _answered_subject(previous: str, previous_answer: str) -> str:
    """What answered a question whose "what" was the subject ("What could reduce Iran's
    dependence?" answered "A shift in Washington's approach could offer ... reducing its
    dependence"): the subject of the answer's sentence holding the question's verb."""
    match = _SUBJECT_QUESTION.match(previous)
    if not match or match.group("verb").lower() in _AUX_WORDS | {"do", "did", "does"}:
        return ""
    if match.group("verb").lower() in _DETERMINERS | {"kind", "type", "sort"}:
        return ""  # "What could a shift ... offer?": "what" is the object
    verb = content_terms(match.group("verb"))
    if not verb:
        return ""
    for sentence in re.split(r"(?<=[.!?])\s+", previous_answer):
        if not any(_same_term(verb[0], t) for t in content_terms(sentence)):
            continue
        aux = _CLAUSE_AUX.search(sentence)
        if aux is None:
            # "..., the hardline faction argues for ...": the words before the verb
            at = next((m for m in re.finditer(r"[\w’'-]+", sentence)
                       if any(_same_term(verb[0], t) for t in content_terms(m.group()))), None)
            subject = sentence[: at.start()].strip() if at else ""
        else:
            subject = sentence[: aux.start()].strip()
        subject = subject.rsplit(",", 1)[-1].strip()  # "Similarly, EU leaders"
        first = subject.split()[0].lower() if subject else ""
        if first in _CLAUSE_OPENERS or any(
            w.lower() in _PERSON_PRONOUNS | _THING_PRONOUNS for w in subject.split()
        ):
            continue  # "Though it ...": not a noun phrase
        if subject and len(subject.split()) <= 8 and "," not in subject:
            return subject[0].lower() + subject[1:] if subject.split()[0].lower() in (
                _DETERMINERS) else subject
    return ""


_OBJECT = re.compile(
    r"\b(?:about|of|on|at|in|for|to|near|over|against|with|from|by)\s+(?P<subject>(?:the\s+)?[\w’'–-]+(?:\s+[\w’'–-]+){0,3})"
    r"\s*[?.!]*\s*$",
    re.I,
)


def _replace(question: str, span: tuple[int, int], pronoun: str, referent: str) -> str:
    replacement = referent
    if pronoun in _POSSESSIVE:
        replacement = referent + ("'" if referent.endswith("s") else "'s")
    start, end = span
    if start == 0:
        replacement = replacement[0].upper() + replacement[1:]
    return question[:start] + replacement + question[end:]


_AUX = re.compile(
    r"^\s*(?:(?:(?:by|in|on|at|for|with|from|to)\s+)?(?:who|when|where|why|"
    r"how(?:\s+(?:many|much|long|often|far)(?:\s+[\w’'-]+)??)?|"
    r"(?:what|which)(?:\s+[\w’'-]+){0,3}?)\s+)?"
    r"(?P<aux>did|does|do|has|have|had|will|would|can|could|should|is|was|are|were)\s+"
    r"(?P<rest>.+?)\s*[?.!]*\s*$",
    re.I,
)
_DO_SUPPORT = re.compile(
    r"^\s*(?:who|whom|what|which)\s+(?:did|does|do|has|have|had|will|would|can|could)\s+",
    re.I,
)
_PREPOSITIONS = {"about", "in", "on", "at", "to", "for", "with", "from", "after", "before",
                 "during", "over", "against", "toward", "towards", "by", "between", "of",
                 "near", "into", "under", "without", "since"}
_DETERMINERS = {"the", "a", "an", "this", "that", "these", "those", "its", "his", "her",
                "their", "our", "your", "my"}
#: English irregular past participles (a closed class): "Where was the forum held?".
_IRREGULAR_PARTICIPLES = {
    "held", "made", "built", "done", "seen", "taken", "given", "known", "told", "found",
    "kept", "left", "met", "paid", "put", "run", "said", "sent", "set", "shown", "sold",
    "spent", "won", "brought", "bought", "caught", "taught", "thought", "fought", "chosen",
    "driven", "written", "spoken", "broken", "stolen", "hit", "hurt", "cut", "shut", "led",
    "fed", "read", "lost", "struck", "hung", "begun", "drawn", "grown", "thrown", "born",
}


def _subject_before_verb(question: str) -> str:
    """The subject of a question with an auxiliary, without a part-of-speech tagger:
    'What did the finance minister say about X?' -> 'the finance minister'; 'Why did the
    meeting between Putin and Pezeshkian draw attention?' -> 'the meeting between Putin
    and Pezeshkian'; 'What did Russia warn Israel against?' -> 'Russia'; 'Where was the
    forum held?' -> 'the forum'; 'When was the Ashgabat forum?' -> 'the Ashgabat forum'."""
    match = _AUX.match(question)
    if not match:
        return ""
    words = match.group("rest").split()
    if not words or words[0].lower() in _PERSON_PRONOUNS | _THING_PRONOUNS - {"this", "that"}:
        return ""
    if match.group("aux").lower() in ("is", "was", "are", "were"):
        return _copula_subject(words)
    if _verb_first(words[0], match.group("aux").lower()):
        return ""  # "Who has criticized Iran?": the question word is the subject
    return " ".join(words[: _verb_index(words)])


def role_words(question: str) -> list[str]:
    """The words describing whom a question asks about when it names a role, not a
    person: "What did Iran's supreme leader say?" -> ["supreme", "leader"] (the
    answerer abstains when the passages never use one of them: they are about someone
    else). Only questions with "did/does/will ..." and an owner's role ("X's <role>")."""
    if not _DO_SUPPORT.match(question) or question.lower().lstrip().startswith("who"):
        return []
    subject = _subject_before_verb(question)
    owner = re.match(r"^(?:the\s+)?[\w-]+(?:\s+[\w-]+)?[’']s\s+(?P<role>.+)$", subject)
    if not owner:
        return []  # only "X's <role>": "the outlook for ..." describes no one
    return [w for w in re.findall(r"[\w-]+(?![\w’'])", owner.group("role"))
            if w.islower() and w not in _DETERMINERS and len(w) >= 5]


def _verb_first(word: str, aux: str) -> bool:
    """"has criticized", "will lead": a verb right after the auxiliary."""
    bare = word.lower()
    if not word[:1].islower() or bare in _DETERMINERS:
        return False
    if aux in ("has", "have", "had"):
        return bare in _IRREGULAR_PARTICIPLES or bare.endswith(("ed", "en"))
    return aux not in ("did", "does", "do") and not bare.endswith("s")


def _copula_subject(words: list[str]) -> str:
    """After "is/was": the words before a participle ("the forum held"), else all of the
    noun phrase before a preposition ("the outlook for X" stays whole: no verb in it)."""
    for i, word in enumerate(words):
        bare = word.lower().strip("’'")
        if word[:1].islower() and (
            bare in _IRREGULAR_PARTICIPLES or re.search(r"(?:ed|ing)$", bare)
        ):
            return " ".join(words[:i])  # empty when the question word was the subject
    return " ".join(words)


def _verb_index(words: list[str]) -> int:
    """Where the verb stands after "did/does/will <subject>": past a run of names (with
    "and", "of", "'s"), past a preposition that leads to a name, else before the last
    lowercase word of the run (or the one before it when that is a plural object)."""
    i = 0
    if _capitalised(words[0]) and not words[0].lower().endswith(("’s", "'s")):
        while i < len(words) and (_capitalised(words[i]) or (
            words[i].lower() in ("and", "of") and i + 1 < len(words)
            and _capitalised(words[i + 1])
        )):
            i += 1
        if i < len(words) and not _capitalised(words[i]) and not _plural_then_more(words, i):
            return i  # "Russia warn Israel against": the name run is the subject
        i = 0  # "Iranian hardliners want": the name qualifies a noun
    if words[0].lower() in _DETERMINERS:
        # "the Epstein Transparency Act pass Congress": the name closes the subject
        k = 1
        while k < len(words) and _capitalised(words[k]):
            k += 1
        if 1 < k < len(words) and words[k].islower() and words[k] not in _PREPOSITIONS \
                and not _plural_then_more(words, k) and not _ADJECTIVE.search(words[k]):
            return k
    run: list[int] = []
    while i < len(words):
        word = words[i].lower()
        if word in _PREPOSITIONS:
            follows = words[i + 1] if i + 1 < len(words) else ""
            if run and _capitalised(follows):
                # "the meeting between Putin and Pezeshkian draw": a name in the phrase
                i += 1
                while i < len(words) and (_capitalised(words[i]) or (
                    words[i].lower() == "and" and i + 1 < len(words)
                    and _capitalised(words[i + 1]))):
                    i += 1
                if words[i - 1].endswith(("’s", "'s")) and i + 1 < len(words):
                    return i + 1  # "in Washington's approach offer": a noun, then the verb
                if i < len(words) and words[i].lower() not in _PREPOSITIONS:
                    if not _noun_after_name(words, i):
                        return i
                    i = run[-1] + 1  # "report to EU officials": the name leads a noun
                    break
                continue
            break
        run.append(i)
        i += 1
    if not run:
        return 0
    verb = run[-1]
    last = words[verb].lower()
    if len(run) >= 3 and last.endswith("s") and not last.endswith(("ss", "us", "is")):
        verb = run[-2]  # "the malaria vaccine cut infections": a plural object
    if words[run[0]].lower() not in _DETERMINERS and len(run) >= 3:
        first = words[run[0]]
        if first.islower() and first.endswith("s") and not first.endswith(("ss", "’s", "'s")):
            verb = run[1]  # "farmers sell cattle": a bare plural subject
    return verb


_ADJECTIVE = re.compile(r"(?:al|ian|ic|ive|ous|ful|less|ary|ern|ese|ish)$")


def _plural_then_more(words: list[str], i: int) -> bool:
    """A plural noun with a word after it ("hardliners want"), not a verb ("warn")."""
    word = words[i].lower()
    return (
        i + 1 < len(words) and word.endswith("s") and not word.endswith(("ss", "us", "is"))
        and not _capitalised(words[i + 1]) and words[i + 1].lower() not in _PREPOSITIONS
    )


def _noun_after_name(words: list[str], i: int) -> bool:
    """"EU officials on" / "EU officials": a plural noun the name qualifies, not a verb."""
    word = words[i].lower()
    last = i + 1 == len(words) or words[i + 1].lower() in _PREPOSITIONS
    return last and word.endswith("s") and not word.endswith(("ss", "us", "is"))


def _capitalised(word: str) -> bool:
    return bool(word) and word[0].isupper()


def _name_for(description: str, answer: str, question: str = "") -> str:
    """The person in ``answer`` introduced by the description's words
    ("Massoud Pezeshkian" in "Iranian President Massoud Pezeshkian" for "Iran's
    president"); in a short answer that is just a name, that name."""
    wanted = content_terms(description)
    text = strip_citations(answer)
    anchors = [m.start() for m in re.finditer(r"[\w’'-]+", text)
               if any(_same_term(w, t) for w in wanted for t in content_terms(m.group()))]
    best, best_key = "", (0, -1.0)
    for span in spans.extract(text):
        if span.type not in (spans.SpanType.PERSON, spans.SpanType.ENTITY) or not _one_name(
            span.text
        ):
            continue
        if question and spans.named_in_question(question, span.text):
            continue  # "Who succeeded Ebrahim Raisi?" is not answered by Raisi
        if text[span.end : span.end + 2] in ("’s", "'s"):
            continue  # "Jeffrey Epstein's ex-girlfriend": the name qualifies another
        before = content_terms(text[max(0, span.start - 40) : span.end])
        hits = sum(any(_same_term(w, b) for b in before) for w in wanted)
        # Ties go to the name nearest the question's words ("Massoud Pezeshkian, who was
        # elected after ... Ebrahim Raisi" for "Who succeeded Ebrahim Raisi?").
        distance = min((abs(a - span.start) for a in anchors), default=len(text))
        key = (hits, -float(distance))
        if hits and key > best_key:
            best, best_key = span.text, key
        elif (
            not best_key[0]
            and (len(text.split()) <= 12 or span.type == spans.SpanType.PERSON)
            and (not best or -float(distance) > best_key[1])
        ):
            best, best_key = span.text, (0, -float(distance))  # the name nearest
    return best


def _same_term(a: str, b: str) -> bool:
    """Two stems of one word ("iran" ~ "iranian")."""
    return a == b or (len(a) >= 4 and (b.startswith(a) or a.startswith(b)))


def _substitute(question: str, match: re.Match[str], referent: str) -> str:
    pronoun = match.group(1).lower()
    replacement = referent
    if pronoun in _POSSESSIVE:
        replacement = referent + ("'" if referent.endswith("s") else "'s")
    start, end = match.span(1)
    if start == 0:
        replacement = replacement[0].upper() + replacement[1:]
    return question[:start] + replacement + question[end:]
