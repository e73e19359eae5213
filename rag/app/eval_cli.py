"""``rag eval SUITE ...`` and ``rag eval export-feedback FEEDBACK.jsonl OUT.jsonl``.

``rag eval`` is a command group whose default command is ``run``: ``rag eval SUITE``
means ``rag eval run SUITE``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from rag.app.console import EXIT_BAD_INPUT, command_settings, fail, progress_bar
from rag.core.errors import RagError

#: Exit code when a metric is under its --fail-under floor (bad input: EXIT_BAD_INPUT, 2).
EXIT_BELOW_FLOOR = 1


class _DefaultToRun(TyperGroup):
    """A group that runs ``run`` when the first argument is not a subcommand."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


eval_app = typer.Typer(
    cls=_DefaultToRun,
    no_args_is_help=True,
    add_completion=False,
    help="Run an evaluation suite (rag eval SUITE.jsonl) or export feedback as cases.",
)


@eval_app.command("run")
def run(
    suite: Annotated[Path, typer.Argument(help="Suite file (.jsonl), one case per line.")],
    index_dir: Annotated[
        Path | None, typer.Option("--index-dir", help="Index folder (default: index/chroma).")
    ] = None,
    out: Annotated[
        Path, typer.Option("--out", help="Folder for report.json, report.md, report.html.")
    ] = Path("eval-report"),
    baseline: Annotated[
        Path | None,
        typer.Option("--baseline", help="report.json of an earlier run, to compare with."),
    ] = None,
    fail_under: Annotated[
        list[str] | None,
        typer.Option(
            "--fail-under",
            help="METRIC=VALUE: exit 1 when the metric is below VALUE (repeatable).",
        ),
    ] = None,
    llm: Annotated[str | None, typer.Option("--llm", help="none | openai | ollama")] = None,
    k: Annotated[int | None, typer.Option("--k", help="Passages to answer from.")] = None,
    date_window: Annotated[
        int | None,
        typer.Option(
            "--date-window",
            help="Filter each case to the DAYS days up to its question_date (off by default).",
        ),
    ] = None,
    judge: Annotated[
        str,
        typer.Option(
            "--judge",
            help="Citation support judge: auto (LLM when --llm is set, else offline) | "
            "offline | llm.",
        ),
    ] = "auto",
    split: Annotated[
        Path | None,
        typer.Option(
            "--split",
            help="JSON file of id lists (e.g. evals/realtimeqa_split.json): report each "
            "part (tune, validate) side by side.",
        ),
    ] = None,
    part: Annotated[
        str | None,
        typer.Option("--part", help="Ask only this part of --split (e.g. tune)."),
    ] = None,
    no_evidence_abstains: Annotated[
        bool,
        typer.Option(
            "--no-evidence-abstains",
            help="Score answer cases without evidence articles (RealTime QA questions whose "
            "answer is in no article) as unanswerable: right when the chain abstains.",
        ),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Ask every case of SUITE, score it, write the reports and print the summary."""
    from rag.evaluation.api import evaluate
    from rag.evaluation.compare import below_floors, parse_floors
    from rag.evaluation.judges import JUDGE_KINDS
    from rag.evaluation.runner import SUMMARY_KEYS
    from rag.evaluation.suite import load_suite, unanswerable_without_evidence

    settings = command_settings(index_dir=index_dir, llm=llm, top_k=k)
    try:
        floors = parse_floors(fail_under or [], [*SUMMARY_KEYS, "answerable_accuracy",
                                                 "cited_evidence_rate"])
        cases = load_suite(suite)
        if no_evidence_abstains:
            cases = unanswerable_without_evidence(cases)
        if judge not in JUDGE_KINDS:
            raise ValueError(f"--judge {judge!r} is unknown; use {' | '.join(JUDGE_KINDS)}")
        if judge == "llm" and settings.llm.backend == "none":
            raise ValueError("--judge llm needs an LLM backend: add --llm openai|ollama")
    except (ValueError, RagError) as exc:
        fail(str(exc), EXIT_BAD_INPUT)

    with progress_bar("case", "evaluating", quiet) as progress:
        try:
            report = evaluate(
                cases, settings, out_dir=None, baseline=baseline, progress=progress,
                date_window_days=date_window, judge_kind=judge, split=split, part=part,
            )
        except RagError as exc:
            fail(str(exc), EXIT_BAD_INPUT)
    report["suite"] = str(suite)
    from rag.evaluation.report import write_reports

    paths = write_reports(report, out)
    _print_summary(report)
    typer.echo(f"reports: {paths['json']}  {paths['md']}  {paths['html']}")
    problems = below_floors(report["summary"], floors)
    for problem in problems:
        typer.echo(f"FAIL: {problem}", err=True)
    if problems:
        raise typer.Exit(EXIT_BELOW_FLOOR)


def _print_summary(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    from rag.evaluation.report import summary_rows

    base = report.get("baseline")
    table = Table(title=f"rag eval: {report['suite']}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    if base:
        table.add_column("baseline", justify="right")
        table.add_column("delta", justify="right")
    for key, value, old, delta in summary_rows(report):
        table.add_row(key, value, old, delta) if base else table.add_row(key, value)
    console = Console(width=100)
    console.print(table)
    from rag.evaluation.report import split_rows

    parts, rows = split_rows(report)
    if parts:
        side = Table(title="split parts side by side (tune = chosen on)")
        side.add_column("metric")
        for name in parts:
            side.add_column(name, justify="right")
        for row in rows:
            side.add_row(*row)
        console.print(side)
    judge = report["judge"]
    agreement = judge.get("agreement")
    line = f"judge: {judge['name']} (threshold {judge['threshold']})"
    if agreement:
        line += f", agreement on {agreement['n']} labelled pairs {agreement['accuracy']:.3f}"
    console.print(line, markup=False, highlight=False)
    if base and base.get("significance"):
        tests = Table(title="change against the baseline (paired randomisation test)")
        for column in ("metric", "cases", "baseline", "now", "p", "significant"):
            tests.add_column(column, justify="left" if column == "metric" else "right")
        for name, row in base["significance"].items():
            p = "-" if row["p_value"] is None else f"{row['p_value']:.4f}"
            tests.add_row(name, str(row["n"]), f"{row['baseline']:.3f}", f"{row['value']:.3f}",
                          p, "yes" if row["significant"] else "no")
        console.print(tests)
    if base:
        from rag.evaluation.compare import settings_line

        if settings_line(base):
            console.print(settings_line(base), markup=False, highlight=False)
        console.print(
            f"{len(base['worse'])} case(s) worse, {len(base['better'])} better than "
            f"{base['path']}", markup=False, highlight=False,
        )
        for worse in base["worse"][:20]:
            console.print(f"  worse: {worse['id']}: {'; '.join(worse['changes'])}",
                          markup=False, highlight=False)


@eval_app.command("export-feedback")
def export_feedback_command(
    feedback: Annotated[Path, typer.Argument(help="The UI's feedback file (JSON Lines).")],
    out: Annotated[Path, typer.Argument(help="Suite file to append the cases to.")],
) -> None:
    """Turn reader feedback into suite cases: thumbs-up = regression, thumbs-down = to fix."""
    from rag.evaluation.feedback_export import export_feedback

    try:
        written, known = export_feedback(feedback, out)
    except RagError as exc:
        fail(str(exc), EXIT_BAD_INPUT)
    typer.echo(f"{written} case(s) written to {out}; {known} already there")


def register(app: typer.Typer) -> None:
    """Mount ``rag eval`` on the main ``rag`` app."""
    app.add_typer(eval_app, name="eval")
