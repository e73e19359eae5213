"""The figures of an evaluation, as pure functions over answers and labels.

* answer matching: ``answers`` by normalised containment on word boundaries (SQuAD-style
  normalisation: case, punctuation, articles and spacing ignored), ``must_include`` by
  case-insensitive substring after light normalisation (curly quotes, dashes, spacing);
* retrieval: hit rate at k (Success@k) and reciprocal rank (RR@10) over the ranked
  passages, article level (a passage counts when its article, or an article it
  duplicates, is an evidence id), computed by ir-measures (trec_eval's code) over the
  ranking of distinct article groups; the one place bench, eval and scripts take them;
* comparing two runs: a paired two-sided randomisation test per metric over the cases
  both ran (Fisher's, as ranx and Smucker et al. 2007 recommend for IR; scipy);
* citations: ALCE's citation recall and precision (Gao et al. 2023, "Enabling Large
  Language Models to Generate Text with Citations"), with a :class:`SupportJudge`
  standing in for ALCE's NLI model;
* abstention precision/recall and latency percentiles (numpy's).
"""

from __future__ import annotations

import json
import re
import string
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rag.answering.support import SupportJudge
from rag.core.citations import strip_citations
from rag.core.schema import Answer

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-"})
_PUNCT = str.maketrans({c: " " for c in string.punctuation})


# --- answers ---------------------------------------------------------------------------


def normalise_answer(text: str) -> str:
    """SQuAD-style: lower case, no punctuation, no a/an/the, single spaces."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    text = strip_citations(text).casefold()
    text = text.translate(_PUNCT)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def light_normalise(text: str) -> str:
    """Case-folded, curly quotes and dashes made plain, spacing collapsed."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    return " ".join(strip_citations(text).casefold().split())


def contains_answer(response: str, answer: str) -> bool:
    """Normalised ``answer`` occurs in normalised ``response`` as whole words."""
    wanted = normalise_answer(answer)
    if not wanted:
        return False
    return f" {wanted} " in f" {normalise_answer(response)} "


def missing_groups(response: str, groups: Sequence[Sequence[str]]) -> list[list[str]]:
    """The must_include groups none of whose alternatives occurs in ``response``."""
    text = light_normalise(response)
    return [
        list(group) for group in groups if not any(light_normalise(alt) in text for alt in group)
    ]


@dataclass
class AnswerVerdict:
    """Whether an answer matches a case's expectations, and what failed if not."""

    passed: bool | None  # None: the case gives nothing to check the answer against
    failures: list[str] = field(default_factory=list)


def judge_answer(
    answer_text: str,
    abstained: bool,
    *,
    answers: Sequence[str] = (),
    must_include: Sequence[Sequence[str]] = (),
    abstain: bool = False,
) -> AnswerVerdict:
    """Pass/fail of one answer. An abstention passes only when the case expects one."""
    if abstain:
        if abstained:
            return AnswerVerdict(True)
        return AnswerVerdict(False, ["answered, but the corpus cannot answer: should abstain"])
    if not answers and not must_include:
        return AnswerVerdict(None)
    if abstained:
        # The abstention text echoes the question, so never match answers inside it.
        return AnswerVerdict(False, ["abstained, but the case has an answer"])
    failures: list[str] = []
    if answers and not any(contains_answer(answer_text, a) for a in answers):
        failures.append("no accepted answer in the text: " + " | ".join(answers))
    for group in missing_groups(answer_text, must_include):
        failures.append("missing: " + " | ".join(group))
    return AnswerVerdict(not failures, failures)


# --- retrieval -------------------------------------------------------------------------


def passage_articles(metadata: Mapping[str, Any]) -> set[str]:
    """The article a retrieved passage belongs to, plus the articles it duplicates."""
    ids = {str(metadata.get("article_id", ""))}
    raw = metadata.get("duplicate_ids")
    if isinstance(raw, str) and raw:
        try:
            extra = json.loads(raw)
        except json.JSONDecodeError:
            extra = []
    elif isinstance(raw, list | tuple):
        extra = list(raw)
    else:
        extra = []
    ids.update(str(i) for i in extra if i)
    ids.discard("")
    return ids


def first_hit_rank(ranked: Sequence[set[str]], evidence_ids: Iterable[str]) -> int | None:
    """1-based rank of the first evidence article in a ranking, None when absent."""
    wanted = set(evidence_ids)
    for rank, articles in enumerate(ranked, start=1):
        if articles & wanted:
            return rank
    return None


#: The retrieval figures of one ranking, by their report names.
RANKING_MEASURES = {"recall@5": "Success@5", "recall@10": "Success@10", "rr@10": "RR@10"}


def ranking_scores(
    rankings: Mapping[str, Sequence[set[str]]], evidence: Mapping[str, Iterable[str]]
) -> dict[str, dict[str, float]]:
    """{query id: {"recall@5", "recall@10", "rr@10"}} of ranked article groups.

    Each group (an article with the articles it duplicates) is one ranked item, relevant
    when it holds an evidence article; ir-measures computes the measures. A query
    without a relevant item scores 0.
    """
    import ir_measures

    measures = {name: ir_measures.parse_measure(m) for name, m in RANKING_MEASURES.items()}
    qrels, run = [], []
    for query, ranked in rankings.items():
        wanted = set(evidence.get(query, ()))
        for rank, articles in enumerate(ranked, start=1):
            run.append(ir_measures.ScoredDoc(query, f"rank{rank}", float(-rank)))
            if articles & wanted:
                qrels.append(ir_measures.Qrel(query, f"rank{rank}", 1))
        qrels.append(ir_measures.Qrel(query, "not-retrieved", 1))
    scores = {query: dict.fromkeys(measures, 0.0) for query in rankings}
    names = {measure: name for name, measure in measures.items()}
    for metric in ir_measures.iter_calc(list(measures.values()), qrels, run):
        scores[metric.query_id][names[metric.measure]] = float(metric.value)
    return scores


def paired_test(old: Sequence[float], new: Sequence[float]) -> float | None:
    """Two-sided p-value that ``new`` and ``old`` (paired per case) differ in mean.

    Fisher's randomisation test: the sign of each case's difference is flipped at
    random (all 2^n flips when n <= 16, else 20,000 draws, seeded): the p-value is the
    share of flips whose mean difference is at least as far from 0 as the observed one.
    None when there is nothing to compare (no pairs, or no case differs).
    """
    import numpy as np
    from scipy import stats

    if len(old) != len(new):
        raise ValueError(f"paired values differ in length: {len(old)} and {len(new)}")
    diff = np.asarray(new, dtype=float) - np.asarray(old, dtype=float)
    if not len(diff) or not diff.any():
        return None
    if len(diff) == 1:
        return 1.0  # both signs of one difference are as far from 0: no evidence at all
    result = stats.permutation_test(
        (diff,), np.mean, permutation_type="samples", alternative="two-sided",
        n_resamples=20_000, rng=np.random.default_rng(20240601),
    )
    return float(result.pvalue)


# --- citations (ALCE) ------------------------------------------------------------------


@dataclass
class SentenceCitationVerdict:
    sentence: str
    citation_ids: list[int]
    supported: bool  # the cited passages together support the sentence
    precise: int  # citations that are needed or enough on their own
    unknown_ids: list[int] = field(default_factory=list)


@dataclass
class CitationScores:
    recall: float | None  # None: nothing to score (abstained or no sentences)
    precision: float | None
    sentences: list[SentenceCitationVerdict] = field(default_factory=list)


def citation_scores(answer: Answer, judge: SupportJudge, threshold: float) -> CitationScores:
    """ALCE citation recall and precision of one answer.

    Recall: share of answer sentences whose cited passages, joined, support them (a
    sentence without citations, or citing an unknown [n], is unsupported).
    Precision: share of citations that are not irrelevant; a citation is irrelevant when
    it does not support the sentence alone and the other citations support it without
    it. As in ALCE's code, a sentence with one citation counts it precise exactly when
    it is supported, and an unsupported sentence makes all its citations imprecise.
    Evidence is the cited passage's whole text (``Citation.passage``, or the quote when
    the passage is missing). Abstentions have nothing to score: both are None.
    """
    if answer.abstained or not answer.sentences:
        return CitationScores(None, None)
    evidence = {c.id: c.passage or c.quote for c in answer.citations}

    def supported(sentence: str, ids: Sequence[int]) -> bool:
        text = "\n".join(evidence[i] for i in ids)
        return bool(text.strip()) and bool(judge.supports(sentence, text, threshold))

    verdicts: list[SentenceCitationVerdict] = []
    entailed = 0
    precise_total = 0
    citations_total = 0
    for sentence in answer.sentences:
        ids = list(dict.fromkeys(sentence.citation_ids))
        unknown = [i for i in ids if i not in evidence]
        joint = bool(ids) and not unknown and supported(sentence.text, ids)
        precise = 0
        if joint and len(ids) > 1:
            for cid in ids:
                rest = [i for i in ids if i != cid]
                if supported(sentence.text, [cid]) or not supported(sentence.text, rest):
                    precise += 1
        elif joint:
            precise = len(ids)
        entailed += joint
        precise_total += precise
        citations_total += len(ids)
        verdicts.append(SentenceCitationVerdict(sentence.text, ids, joint, precise, unknown))
    recall = entailed / len(answer.sentences)
    precision = precise_total / citations_total if citations_total else 0.0
    return CitationScores(recall, precision, verdicts)


# --- abstention and aggregates -----------------------------------------------------------


def abstention_scores(
    expected: Sequence[bool], predicted: Sequence[bool]
) -> tuple[float | None, float | None]:
    """(precision, recall) of abstaining; None where the denominator is zero."""
    tp = sum(1 for e, p in zip(expected, predicted, strict=True) if e and p)
    said = sum(predicted)
    should = sum(expected)
    return (tp / said if said else None, tp / should if should else None)


def percentile(values: Sequence[float], q: float) -> float | None:
    """numpy's (linear-interpolated) percentile, q in 0..100; None for no values."""
    import numpy as np

    return float(np.percentile(values, q)) if len(values) else None


def percentile_of(values: Sequence[float], q: float) -> float:
    """:func:`percentile` of a sequence that must not be empty (benchmark timings)."""
    value = percentile(values, q)
    if value is None:
        raise ValueError("percentile of no values")
    return value


def mean(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None
