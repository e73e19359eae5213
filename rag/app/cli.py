"""The ``rag`` command: ingest, stats, ask, chat, ui (and eval, bench when present)."""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from rag.app.console import command_settings, fail, progress_bar
from rag.core.errors import RagError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Conversational question answering over news articles, every sentence cited.",
)

IndexDir = Annotated[
    Path | None, typer.Option("--index-dir", help="Index folder (default: index/chroma).")
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@app.command()
def ingest(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Files and folders of articles.")
    ] = None,
    prune: Annotated[bool, typer.Option(help="Remove articles whose files are gone.")] = False,
    rebuild: Annotated[
        bool, typer.Option(help="Drop the index and embed everything again.")
    ] = False,
    follow_links: Annotated[
        bool,
        typer.Option(
            "--follow-links",
            help="Follow symbolic links that lead out of the given folders (else reported).",
        ),
    ] = False,
    replace: Annotated[
        bool,
        typer.Option(
            help="Let an article take the id of one indexed from another file (else refused)."
        ),
    ] = False,
    repair: Annotated[
        bool,
        typer.Option(
            help="Re-embed every article from the texts the index keeps (damaged vectors)."
        ),
    ] = False,
    index_dir: IndexDir = None,
    as_json: JsonFlag = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Index articles (.md .txt .html .jsonl); unchanged articles cost nothing."""
    from rag.indexing.ingest import ingest as run_ingest

    if not paths and not repair:
        fail("give the files or folders to index, e.g. `rag ingest index/articles`", code=2)
    settings = command_settings(index_dir=index_dir)
    with progress_bar("passage", "embedding", quiet) as progress:
        try:
            summary = run_ingest(
                paths or [], settings, prune=prune, rebuild=rebuild, replace=replace,
                repair=repair, progress=progress, follow_links=follow_links,
            )
        except RagError as exc:
            fail(str(exc))
    for problem in summary.problems:
        typer.echo(f"skipped: {problem}", err=True)
    if as_json:
        typer.echo(json.dumps(summary.as_dict(), indent=2))
    else:
        typer.echo(
            f"articles: {summary.added} added, {summary.updated} updated, "
            f"{summary.unchanged} unchanged, {summary.removed} removed "
            f"({summary.duplicates} duplicates stored once); passages written: "
            f"{summary.passages_written} ({summary.passages_embedded} embedded); "
            f"{summary.seconds:.1f} s"
        )
    if summary.problems:
        indexed = summary.added + summary.updated + summary.unchanged
        rest = "the rest was indexed" if indexed else "nothing was indexed"
        typer.echo(f"{len(summary.problems)} input(s) skipped; {rest}", err=True)
        raise typer.Exit(1)


@app.command()
def stats(index_dir: IndexDir = None, as_json: JsonFlag = False) -> None:
    """Describe the index: articles, passages, sources, dates, model, size."""
    from rag.app.stats import index_stats

    settings = command_settings(index_dir=index_dir)
    try:
        info = index_stats(settings)
    except RagError as exc:
        fail(str(exc))
    if as_json:
        typer.echo(json.dumps(info, indent=2))
        return
    typer.echo(f"index: {info['location']} (collection {info['collection']})")
    typer.echo(f"articles: {info['articles']} (+{info['duplicates']} duplicates stored once)")
    typer.echo(f"passages: {info['passages']}")
    sources = ", ".join(f"{k} ({v})" for k, v in list(info["sources"].items())[:10]) or "-"
    typer.echo(f"sources: {sources}")
    typer.echo(f"dates: {info['date_min'] or '-'} .. {info['date_max'] or '-'}")
    kept = info.get("stored_dimension")
    reduced = f", stored in {kept}" if kept and kept != info["dimension"] else ""
    typer.echo(f"model: {info['model']} (dimension {info['dimension']}{reduced})")
    if info["bytes"] is not None:
        typer.echo(f"size: {info['bytes'] / 1e6:.1f} MB")


@app.command()
def reduce(
    dims: Annotated[
        int, typer.Option("--dims", help="Dimensions to keep (192 halves a 384-d model's).")
    ],
    index_dir: IndexDir = None,
    as_json: JsonFlag = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Keep the passage vectors in fewer dimensions: less memory, no re-embedding."""
    from rag.indexing.embeddings import make_embeddings
    from rag.indexing.reduce import reduce_index

    settings = command_settings(index_dir=index_dir)
    with progress_bar("passage", "copying", quiet) as progress:
        try:
            done = reduce_index(settings, make_embeddings(settings), dims, progress=progress)
        except (RagError, ValueError) as exc:
            fail(str(exc))
    if as_json:
        typer.echo(json.dumps(done, indent=2))
        return
    typer.echo(
        f"{done['passages']} passages now stored in {done['dims']} of {done['model_dims']} "
        f"dimensions (fitted on {done['fitted_on']}); {done['seconds']} s"
    )


def _filters(
    source: list[str] | None,
    date_from: str | None,
    date_to: str | None,
    article_id: list[str] | None,
) -> dict[str, Any]:
    return {
        "sources": source or None,
        "date_from": date_from,
        "date_to": date_to,
        "article_ids": article_id or None,
    }


Source = Annotated[list[str] | None, typer.Option("--source", help="Only this outlet.")]
DateFrom = Annotated[str | None, typer.Option("--date-from", help="YYYY-MM-DD, inclusive.")]
DateTo = Annotated[str | None, typer.Option("--date-to", help="YYYY-MM-DD, inclusive.")]
ArticleId = Annotated[list[str] | None, typer.Option("--article-id", help="Only this article.")]
Llm = Annotated[str | None, typer.Option("--llm", help="none | openai | ollama")]
TopK = Annotated[int | None, typer.Option("--k", help="Passages to answer from.")]
AsOf = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="The day the question is asked, YYYY-MM-DD (default: today); 'this week', "
        "'in March'... are read against it.",
    ),
]


def _as_of(value: str | None) -> str:
    """The as-of day as YYYY-MM-DD, today by default; a bad date exits with the fix."""
    from rag.answering.news import resolve_as_of
    from rag.core.errors import BadQuestionError

    try:
        return resolve_as_of(value).isoformat()
    except BadQuestionError as exc:
        fail(f"--as-of: {exc}", code=2)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question.")],
    as_json: JsonFlag = False,
    index_dir: IndexDir = None,
    source: Source = None,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    article_id: ArticleId = None,
    llm: Llm = None,
    k: TopK = None,
    as_of: AsOf = None,
) -> None:
    """Answer one question with cited sources, as asked on --as-of (default today)."""
    from rag.indexing.preload import VectorLoad

    global _read_only_command
    _read_only_command = True
    day = _as_of(as_of)
    settings = command_settings(index_dir=index_dir, llm=llm, top_k=k)
    # The vectors load in a thread while the answerer's modules import (see preload).
    loading = VectorLoad.start(settings)
    loading.opened.wait()
    from rag.answering.chain import build_chain_at_once
    from rag.app.render import render_answer

    try:
        chain = build_chain_at_once(settings, loading)
        result = chain.invoke(
            {
                "question": question,
                "filters": _filters(source, date_from, date_to, article_id),
                "as_of": day,
            }
        )
    except (RagError, ValueError) as exc:
        fail(str(exc))
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
    else:
        typer.echo(render_answer(result))


@app.command()
def timeline(
    query: Annotated[str, typer.Argument(help="The story, e.g. 'port strike Valencia'.")],
    as_json: JsonFlag = False,
    index_dir: IndexDir = None,
    as_of: AsOf = None,
    date_from: Annotated[
        str | None, typer.Option("--from", help="First day, YYYY-MM-DD.")
    ] = None,
    date_to: Annotated[
        str | None, typer.Option("--to", help="Last day, YYYY-MM-DD (default: --as-of).")
    ] = None,
    source: Source = None,
    k: Annotated[int | None, typer.Option("--k", help="Articles to show (default 12).")] = None,
) -> None:
    """A story over time: the matching articles' key sentences by day, each cited."""
    from rag.answering.timeline import build_timeline
    from rag.app.render import render_timeline

    day = _as_of(as_of)
    settings = command_settings(index_dir=index_dir)
    try:
        result = build_timeline(settings).invoke(
            {
                "query": query, "as_of": day, "date_from": date_from, "date_to": date_to,
                "k": k, "filters": {"sources": source or None},
            }
        )
    except (RagError, ValueError) as exc:
        fail(str(exc))
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
    else:
        typer.echo(render_timeline(result))


@app.command()
def chat(
    index_dir: IndexDir = None,
    source: Source = None,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    llm: Llm = None,
    as_of: AsOf = None,
) -> None:
    """A conversation in the terminal; follow-up questions use the history."""
    from rag.answering.chain import build_chain
    from rag.app.render import render_answer, wrap_lines

    day = _as_of(as_of)
    settings = command_settings(index_dir=index_dir, llm=llm)
    try:
        chain = build_chain(settings)
    except RagError as exc:
        fail(str(exc))
    history: list[tuple[str, str]] = []
    # Lines wrap at word boundaries to the terminal (a terminal cuts words in two).
    width = min(shutil.get_terminal_size((100, 24)).columns, 120) - 1
    typer.echo(
        wrap_lines(
            f"Ask about the indexed articles as of {day} (empty line or Ctrl-D to quit).", width
        )
    )
    while True:
        try:
            question = input("\nyou> ").strip()
        except (EOFError, KeyboardInterrupt):
            break
        if not question:
            break
        try:
            result = chain.invoke(
                {
                    "question": question,
                    "chat_history": history,
                    "filters": _filters(source, date_from, date_to, None),
                    "as_of": day,
                }
            )
        except (RagError, ValueError) as exc:
            typer.echo(f"error: {exc}", err=True)
            continue
        if result.standalone_question and result.standalone_question != question:
            typer.echo(wrap_lines(f"(searched for: {result.standalone_question})", width))
        typer.echo(wrap_lines(render_answer(result), width))
        history += [("human", question), ("ai", result.answer)]


@app.command()
def ui(
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8501,
    address: Annotated[
        str, typer.Option(help="Interface to listen on; 0.0.0.0 shares it on the network.")
    ] = "127.0.0.1",
    headless: Annotated[bool, typer.Option(help="Do not open a browser.")] = False,
) -> None:
    """Start the Streamlit chat UI."""
    from importlib.resources import files

    from rag.core.runtime import go_offline

    go_offline()  # inherited by the Streamlit process
    # The page ships inside the package (with its .streamlit/config.toml beside it), so
    # a wheel install serves what a clone does.
    app_path = Path(str(files("rag.app.ui") / "streamlit_app.py"))
    if not app_path.exists():
        fail(f"the UI page is missing at {app_path}; reinstall rag (pip install rag)")
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(app_path),
        "--server.port", str(port), "--server.address", address,
        "--browser.gatherUsageStats", "false",
    ]
    if headless:
        cmd += ["--server.headless", "true"]
    sys.stdout.flush()
    sys.stderr.flush()
    # Become the Streamlit server: stopping `rag ui` (Ctrl-C, SIGTERM) stops the server
    # itself, and no child process is left behind.
    os.execv(sys.executable, cmd)


#: What ``rag bench`` needs beyond rag itself (the ``bench`` extra), by import name.
BENCH_EXTRA = ("langchain_huggingface", "langchain_text_splitters")


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,
)
def bench(ctx: typer.Context) -> None:
    """Time ingestion and questions against plain LangChain (a clone, the bench extra)."""
    import importlib.util

    root = Path(__file__).resolve().parents[2]
    if not (root / "benchmarks" / "bench.py").is_file():
        fail(
            "rag bench runs from a clone of the repository (it lives in benchmarks/, not in "
            "the installed package): clone it, then `pip install -e '.[bench]'` there",
            2,
        )
    missing = [name for name in BENCH_EXTRA if importlib.util.find_spec(name) is None]
    if missing:
        fail(
            f"rag bench needs the bench extra ({', '.join(missing)} missing): run "
            f"`pip install -e '{root}[bench]'` (or `make bench`)",
            2,
        )
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    from benchmarks.bench import main as bench_main

    bench_main(ctx.args)


def _mount_commands() -> None:
    """Commands that live in their own modules register themselves here."""
    from rag.app import eval_cli

    eval_cli.register(app)


_mount_commands()


# Set by commands that only read: their process may end without tearing Chroma down.
_read_only_command = False


def main() -> None:
    """The ``rag`` script. A command that only read the index ends its process at once
    once its output is written: an orderly exit stops Chroma's in-process system and
    frees its vectors, 0.8 s of a cold ``rag ask`` at a million passages, for nothing
    (nothing is pending: Chroma persisted what it read before answering)."""
    try:
        app()
        code: int | str | None = 0
    except SystemExit as done:
        code = done.code
    if not _read_only_command:
        sys.exit(code)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code if isinstance(code, int) else 1)
