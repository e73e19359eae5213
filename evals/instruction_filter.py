"""False positives of the instruction filter on real news (issue 15, item 8).

Every sentence of every article in a news corpus (JSONL with a "text" field; by default
the RealTime QA corpus, read where it lies and never copied) is put through the filter
that blanks instruction-like sentences from evidence. Real news holds no orders to a
model, so every sentence blanked is a false positive. Printed for the filter before
issue 15 (one case-insensitive regex, kept here as the reference) and for
``rag.answering.instructions`` now. ``--slice N`` takes the first N articles;
``--show`` prints the sentences the current filter blanks (to read, not to commit).

    python evals/instruction_filter.py [corpus.jsonl] [--slice 150] [--show]
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from rag.answering.instructions import is_instruction_like
from rag.indexing.splitting import sentence_spans

DEFAULT_CORPUS = Path("/work/shared/benchmarks/realtimeqa/corpus.jsonl")

# The filter before issue 15 (rag/answering/prompts.py at 199ac72), for the "before" figure.
BEFORE = re.compile(
    r"\b(ignore|disregard|forget|override)\b[^.!?\n]{0,40}\b(instructions?|rules?|prompts?|"
    r"above|previous|system)\b|\b(system|assistant)\s*:|\byou are (now )?(an? )?"
    r"(ai|assistant|language model|chatbot)\b|\b(answer|reply|respond|say)\s+(only\s+)?"
    r"(with\s+)?[\"'“]?[A-Z]{4,}\b",
    re.I,
)


def sentences(path: Path, limit: int | None) -> list[str]:
    out: list[str] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle):
            if limit is not None and number >= limit:
                break
            text = str(json.loads(line).get("text", ""))
            out += [text[a:b] for a, b in sentence_spans(text)]
    return out


def measure(path: Path, limit: int | None = None) -> dict[str, int]:
    found = sentences(path, limit)
    return {
        "sentences": len(found),
        "blanked_before": sum(1 for s in found if BEFORE.search(s)),
        "blanked_now": sum(1 for s in found if is_instruction_like(s)),
    }


def main(argv: list[str]) -> int:
    args = [a for a in argv if not a.startswith("--")]
    limit = int(argv[argv.index("--slice") + 1]) if "--slice" in argv else None
    if limit is not None:
        args.remove(str(limit))
    path = Path(args[0]) if args else DEFAULT_CORPUS
    if not path.is_file():
        print(f"no corpus at {path}; pass a JSONL file of news articles", file=sys.stderr)
        return 1
    figures = measure(path, limit)
    print(json.dumps({"corpus": str(path), "articles": limit or "all", **figures}))
    if "--show" in argv:
        for sentence in sentences(path, limit):
            if is_instruction_like(sentence):
                print("NOW   ", " ".join(sentence.split())[:200])
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
