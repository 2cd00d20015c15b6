"""`tallycheck` on the command line: a thin door over the engine (check, mark, clear).

Exit status is stable: 0 no error-severity finding; 1 at least one; 2 the tool could not do what was
asked (usage, unreadable input).
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Check casualty tables in Excel workbooks for arithmetic consistency, and mark what does not add up.",
    context_settings={"help_option_names": ["-h", "--help"]},
)


class Format(str, Enum):
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


def _paths_or_exit(paths: list[Path]) -> list[Path]:
    from .engine import workbook_paths

    missing = [p for p in paths if not p.exists()]
    for p in missing:
        typer.echo(f"tallycheck: {p}: no such file or folder", err=True)
    if missing:
        raise typer.Exit(2)
    files = workbook_paths(paths)
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
) -> None:
    """Check workbooks and report every discrepancy by cell; changes nothing unless --mark."""
    from . import report as reports_
    from .engine import check_workbooks

    if out is not None and not mark:
        typer.echo("tallycheck: --out only makes sense with --mark", err=True)
        raise typer.Exit(2)
    files = _paths_or_exit(paths)
    reports = check_workbooks(files)
    code = reports_.exit_code(reports)
    if mark:
        code = max(code, _mark(reports, paths, out))
    typer.echo(reports_.json_text(reports) if fmt is Format.json else reports_.text(reports))
    raise typer.Exit(code)


def _mark(reports: list, roots: list[Path], out: Path | None) -> int:
    from .marks import MarkError, mark_workbook

    code = 0
    for report in reports:
        if not report.ok:
            continue
        target = _out_path(report.path, roots, out) if out is not None else None
        if target is not None:
            target.parent.mkdir(parents=True, exist_ok=True)
        try:
            mark_workbook(report.path, report.findings, out=target)
        except MarkError as exc:
            typer.echo(f"tallycheck: cannot mark {exc}", err=True)
            code = 2
    return code


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


def main() -> None:
    """Console entry point; usage errors exit 2 (click's convention, and ours)."""
    try:
        app(prog_name="tallycheck")
    except KeyboardInterrupt:
        typer.echo("tallycheck: interrupted", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
