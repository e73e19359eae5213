"""Sentence boundaries: our splitter against pysbd and blingfire on real news articles.

    python evals/sentence_boundaries.py [--corpus ../shared/benchmarks/realtimeqa/corpus.jsonl]
    (needs `pip install pysbd blingfire`; they are not dependencies of rag)

Every splitter runs on each line of the first 200 articles (a line end is always a
boundary; blingfire alone would join paragraphs, missing 85 of the first 300 candidates).
A candidate is a sentence start inside a line proposed by any splitter. The verdicts in
evals/data/sentence_boundaries_judged.tsv were made by reading: every candidate among the
first 300 where the splitters disagree (the 260 where all three agree were read too and
all are real boundaries), and every candidate in the 200 articles where ours and
blingfire disagree. Prints errors (false splits + missed boundaries) and time.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_CORPUS = ROOT.parent / "shared" / "benchmarks" / "realtimeqa" / "corpus.jsonl"
JUDGED = Path(__file__).resolve().parent / "data" / "sentence_boundaries_judged.tsv"
Starts = Callable[[str], set[int]]


def _lines(text: str) -> list[tuple[int, str]]:
    return [(m.start(), m.group()) for m in re.finditer(r"[^\n]+", text) if m.group().strip()]


def _skip_space(text: str, i: int) -> int:
    while i < len(text) and text[i].isspace():
        i += 1
    return i


def splitters() -> dict[str, Starts]:
    import blingfire
    import pysbd

    from rag.indexing.splitting import sentence_spans

    segmenter = pysbd.Segmenter(language="en", clean=False, char_span=True)

    def per_line(starts: Callable[[str], list[int]]) -> Starts:
        return lambda text: {
            offset + _skip_space(line, s) for offset, line in _lines(text) for s in starts(line)
        }

    return {
        "ours": lambda text: {a for a, _ in sentence_spans(text)},
        "blingfire": per_line(
            lambda line: [a for a, _ in blingfire.text_to_sentences_and_offsets(line)[1]]
        ),
        "pysbd": per_line(lambda line: [s.start for s in segmenter.segment(line)]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", default=str(DEFAULT_CORPUS))
    parser.add_argument("--articles", type=int, default=200)
    args = parser.parse_args()
    if not Path(args.corpus).exists():
        raise SystemExit(f"no corpus at {args.corpus}; pass --corpus")
    with open(args.corpus, encoding="utf-8") as handle:
        articles = [json.loads(line) for line, _ in zip(handle, range(args.articles), strict=False)]
    judged = {}
    for line in JUDGED.read_text().splitlines():
        if not line.startswith("#"):
            article_id, offset, verdict = line.split("\t")
            judged[(article_id, int(offset))] = verdict
    found: dict[str, list[set[int]]] = {}
    for name, starts in splitters().items():
        began = time.perf_counter()
        found[name] = []
        for article in articles:
            text = article["text"]
            line_starts = {o + _skip_space(line, 0) for o, line in _lines(text)}
            found[name].append(starts(text) - line_starts)
        print(f"{name}: {time.perf_counter() - began:.2f} s for {len(articles)} articles")
    candidates = [
        (article["id"], pos, {n for n in found if pos in found[n][i]})
        for i, article in enumerate(articles)
        for pos in sorted(set().union(*(found[n][i] for n in found)))
    ]

    def truth(article_id: str, pos: int, votes: set[str]) -> str | None:
        return judged.get((article_id, pos), "yes" if len(votes) == len(found) else None)

    def errors(rows: list[tuple[str, int, set[str]]], name: str) -> tuple[int, int, int]:
        false = missed = unjudged = 0
        for article_id, pos, votes in rows:
            verdict = truth(article_id, pos, votes)
            if verdict is None:
                unjudged += 1
            elif verdict == "no" and name in votes:
                false += 1
            elif verdict == "yes" and name not in votes:
                missed += 1
        return false, missed, unjudged

    first = candidates[:300]
    print(f"\nfirst 300 candidates ({len(candidates)} in all), hand-judged:")
    print("| splitter | false splits | missed | errors |\n|---|---|---|---|")
    for name in found:
        false, missed, unjudged = errors(first, name)
        assert not unjudged, "every one of the first 300 candidates has a verdict"
        print(f"| {name} | {false} | {missed} | {false + missed} |")
    contested = [c for c in candidates if ("ours" in c[2]) != ("blingfire" in c[2])]
    print(f"\nall {len(articles)} articles, the {len(contested)} candidates where ours and "
          "blingfire disagree (where they agree, both are right or both wrong):")
    print("| splitter | false splits | missed | errors |\n|---|---|---|---|")
    for name in ("ours", "blingfire"):
        false, missed, _ = errors(contested, name)
        print(f"| {name} | {false} | {missed} | {false + missed} |")


if __name__ == "__main__":
    main()
