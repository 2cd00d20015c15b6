"""`tallycheck` on the command line: a thin door over the engine (check, mark, clear).

Exit status is stable: 0 no error-severity finding; 1 at least one; 2 the tool could not do what was
asked (usage, unreadable input).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Check casualty tables in Excel workbooks for arithmetic consistency, and mark what does not add up.",
    context_settings={"help_option_names": ["-h", "--help"]},
)


class Format(StrEnum):
    text = "text"
    json = "json"


def _version(value: bool) -> None:
    if value:
        from . import __version__

        typer.echo(f"tallycheck {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")] = False,
) -> None:
    """tallycheck: totals, averages, cumulative tallies and shares that add up."""


def _paths_or_exit(paths: list[Path], include: Sequence[str] = (), exclude: Sequence[str] = ()) -> list[Path]:
    from .batch import collect

    missing = [p for p in paths if not p.exists()]
    for p in missing:
        typer.echo(f"tallycheck: {p}: no such file or folder", err=True)
    if missing:
        raise typer.Exit(2)
    files = collect(paths, include, exclude)
    if not files:
        typer.echo("tallycheck: no .xlsx or .xlsm workbooks found in " + ", ".join(map(str, paths)), err=True)
        raise typer.Exit(2)
    return files


def _out_path(path: Path, roots: list[Path], out: Path) -> Path:
    """Where the marked copy of ``path`` goes: its place under the folder it was found in, mirrored in ``out``."""
    for root in roots:
        if root.is_dir():
            try:
                return out / path.resolve().relative_to(root.resolve())
            except ValueError:
                continue
    return out / path.name


@app.command()
def check(
    paths: Annotated[list[Path], typer.Argument(help="Workbooks, or folders searched recursively for .xlsx/.xlsm.")],
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Report format on stdout.")] = Format.text,
    mark: Annotated[bool, typer.Option("--mark", help="Also mark every finding in the workbooks (fill + note + summary sheet).")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="With --mark: write marked copies under this folder; originals untouched.")] = None,
    report: Annotated[Path | None, typer.Option("--report", help="Write a report for the whole run: .json, .csv, .xlsx or .html.")] = None,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", min=1, help="Workbooks checked in parallel (default: all cores).")] = None,
    include: Annotated[list[str] | None, typer.Option("--include", help="Only check files matching this glob (repeatable).")] = None,
    exclude: Annotated[list[str] | None, typer.Option("--exclude", help="Skip files and folders matching this glob (repeatable).")] = None,
    changed: Annotated[bool, typer.Option("--changed", help="Re-check only workbooks whose content changed since the last run.")] = False,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Neither read nor write the results cache.")] = False,
    cache_dir: Annotated[Path, typer.Option("--cache-dir", help="Where results are cached by content hash.")] = Path(".tallycheck_cache"),
    scheduler: Annotated[str | None, typer.Option("--scheduler", help="Run on an existing Dask distributed scheduler (tcp://host:8786).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar and no summary line when all is well.")] = False,
    rules: Annotated[Path | None, typer.Option("--rules", help=_RULES_HELP)] = None,
    max_size: Annotated[str, typer.Option("--max-size", help=_MAX_SIZE_HELP)] = "256M",
) -> None:
    """Check workbooks and report every discrepancy by cell; changes nothing unless --mark."""
    from . import report as reports_
    from .batch import run
    from .cache import Cache

    if out is not None and not mark:
        typer.echo("tallycheck: --out only makes sense with --mark", err=True)
        raise typer.Exit(2)
    if report is not None and report.suffix.lower() not in (".json", ".csv", ".xlsx", ".html"):
        typer.echo(f"tallycheck: --report {report}: use a .json, .csv, .xlsx or .html file name", err=True)
        raise typer.Exit(2)
    _rules_or_exit(rules)
    limit = _size_or_exit(max_size)
    files = _paths_or_exit(paths, include or (), exclude or ())
    out_paths = {f: _out_path(f, paths, out) for f in files} if out is not None else None
    cache = None if no_cache else Cache(cache_dir)
    with _progress(len(files), enabled=not quiet and sys.stderr.isatty()) as on_result:
        result = run(
            files, jobs=jobs, scheduler=scheduler, mark=mark, out_paths=out_paths, cache=cache,
            changed=changed, on_result=on_result, rules=rules, max_size=limit,
        )
    reports = result.reports
    for message in result.mark_errors:
        typer.echo(f"tallycheck: cannot mark {message}", err=True)
    if report is not None:
        from .run_report import write_report

        write_report(report, reports, elapsed=result.elapsed)
    if fmt is Format.json:
        typer.echo(reports_.json_text(reports))
    elif not (quiet and not any(r.findings or not r.ok for r in reports)):
        typer.echo(reports_.text(reports))
    code = reports_.exit_code(reports)
    if result.mark_errors:
        code = 2
    if result.interrupted:
        typer.echo(
            f"tallycheck: interrupted after {len(reports):,} of {result.total:,} workbooks; "
            "run again with --changed to resume",
            err=True,
        )
        code = 2
    raise typer.Exit(code)


@contextmanager
def _progress(total: int, *, enabled: bool) -> Iterator[Callable[[object], None] | None]:
    """A progress bar on a terminal (files, findings so far, elapsed, remaining); nothing otherwise."""
    if not enabled or total < 2:
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("checking"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[findings]:,} findings"),
        TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("check", total=total, findings=0)
        seen = 0

        def advance(report: object) -> None:
            nonlocal seen
            seen += len(getattr(report, "findings", ()))
            bar.update(task, advance=1, findings=seen)

        yield advance


_RULES_HELP = "Rules file (tallycheck.toml, pyproject.toml or a workbook with a Rules sheet), instead of the tallycheck.toml found beside the workbooks."


_MAX_SIZE_HELP = "The most a workbook's XML may inflate to (256M, 1G, ...); bigger ones are reported as too large."
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}


def _size_or_exit(text: str) -> int:
    """'256M', '1.5G', '300000000' -> bytes; a usage error otherwise."""
    import re

    m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([KMG]?)B?\s*", text.upper())
    if m is None or float(m.group(1)) <= 0:
        typer.echo(f"tallycheck: --max-size {text}: give a size such as 256M or 2G", err=True)
        raise typer.Exit(2)
    return int(float(m.group(1)) * _UNITS[m.group(2)])


def _rules_or_exit(rules: Path | None) -> None:
    if rules is not None and not rules.is_file():
        typer.echo(f"tallycheck: --rules {rules}: no such file", err=True)
        raise typer.Exit(2)


@app.command()
def explain(
    paths: Annotated[list[Path], typer.Argument(help="Workbooks, or folders searched recursively.")],
    rules: Annotated[Path | None, typer.Option("--rules", help=_RULES_HELP)] = None,
) -> None:
    """Show, for each table found, the relations that will be checked and where each came from."""
    from .explain import explain_text

    _rules_or_exit(rules)
    text, code = explain_text(_paths_or_exit(paths), rules)
    typer.echo(text)
    raise typer.Exit(code)


@app.command()
def schema(
    paths: Annotated[list[Path] | None, typer.Argument(help="Workbooks or folders; none: every kind's schema.")] = None,
    rules: Annotated[Path | None, typer.Option("--rules", help=_RULES_HELP)] = None,
) -> None:
    """Export the pandera schemas that check PATH's relations, as YAML (one document per kind)."""
    from .explain import schema_yaml

    _rules_or_exit(rules)
    try:
        text = schema_yaml(_paths_or_exit(paths) if paths else [], rules)
    except ImportError as exc:  # pandera writes YAML with PyYAML
        typer.echo(f"tallycheck: schema needs PyYAML ({exc}): pip install pyyaml", err=True)
        raise typer.Exit(2) from None
    typer.echo(text, nl=False)


@app.command()
def clear(
    paths: Annotated[list[Path], typer.Argument(help="Workbooks, or folders searched recursively.")],
) -> None:
    """Remove every mark tallycheck made, restoring each cell's own fill and note."""
    from .marks import MarkError, clear_workbook

    code = 0
    restored = 0
    for path in _paths_or_exit(paths):
        try:
            restored += clear_workbook(path)
        except MarkError as exc:
            typer.echo(f"tallycheck: cannot clear {exc}", err=True)
            code = 2
    if code == 0:
        typer.echo(f"Cleared marks from {restored:,} cell{'s' if restored != 1 else ''}.")
    raise typer.Exit(code)


from .excel.install import addin_app  # noqa: E402 - `tallycheck addin install|remove|status`

app.add_typer(addin_app, name="addin")


def main() -> None:
    """Console entry point; usage errors exit 2 (click's convention, and ours)."""
    try:
        app(prog_name="tallycheck")
    except KeyboardInterrupt:
        typer.echo("tallycheck: interrupted", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
