"""`tallycheck` on the command line: a thin door over the engine (check, mark, clear, explain, schema).

It follows the conventions of ruff and pytest: output formats for people, editors and CI, rule
selection, settings in tallycheck.toml, globs expanded by the tool. Exit status is stable (see
docs/json-report.md): 0 nothing at or above --fail-on; 1 at least one such finding; 2 the tool
could not do everything asked (usage, a path not found, unreadable input, a mark or report not
written); 130 interrupted. No traceback reaches the user.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer
from typer.core import TyperCommand

if TYPE_CHECKING:
    from rich.console import Console

    from .engine import Report
    from .settings import Settings

class _PlainHelp(TyperCommand):
    """Help and usage with plain metavars, as click and most tools write them: PATH... (not typer's
    "{PATH}..." and "PATH <list[str]>")."""

    @staticmethod
    def _plain(text: str) -> str:
        text = re.sub(r"\{([A-Z]+)\}", r"\1", text)
        return re.sub(r" <(?:list\[)?\w+\]?>", lambda m: " " * len(m.group()), text)  # keeps the columns

    def get_usage(self, ctx: Any) -> str:
        return self._plain(super().get_usage(ctx))

    def get_help(self, ctx: Any) -> str:
        return self._plain(super().get_help(ctx))


app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Check casualty tables in Excel workbooks for arithmetic consistency, and mark what does not add up.",
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode=None,  # plain help: metavars as written (PATH, N, FILE), examples kept line by line
)


E = TypeVar("E", bound=StrEnum)


class OutputFormat(StrEnum):
    text = "text"
    concise = "concise"
    json = "json"
    github = "github"
    sarif = "sarif"


class FailOn(StrEnum):
    error = "error"
    warning = "warning"
    never = "never"


class Color(StrEnum):
    auto = "auto"
    always = "always"
    never = "never"


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


def _fail(message: str) -> NoReturn:
    """A usage problem: one sentence on standard error, exit status 2."""
    typer.echo(f"tallycheck: {message}", err=True)
    raise typer.Exit(2)


_GLOB = re.compile(r"[*?\[]")


def _expand(raw: Sequence[str]) -> tuple[list[Path], list[str], list[tuple[Path, str]]]:
    """Paths as typed: globs the shell left alone ('reports/*.xlsx', as Windows shells always do)
    expanded here. Returns the paths that exist ("-": standard input), a message for each that does
    not, and the lock files a glob matched (skipped, as in folders)."""
    import glob

    from .batch import LOCK_FILE

    found: list[Path] = []
    missing: list[str] = []
    skipped: list[tuple[Path, str]] = []
    for text_ in raw:
        if text_ == "-" or Path(text_).exists():
            found.append(Path(text_))
        elif _GLOB.search(text_):
            matches = [Path(m) for m in sorted(glob.glob(text_, recursive=True))]
            skipped += [(m, LOCK_FILE) for m in matches if m.name.startswith("~$")]
            found += [m for m in matches if not m.name.startswith("~$")]
            if not matches:
                missing.append(f"{text_}: no file or folder matches this pattern")
        else:
            missing.append(f"{text_}: no such file or folder")
    return found, missing, skipped


def _paths_or_exit(paths: Sequence[str], include: Sequence[str] = (), exclude: Sequence[str] = ()) -> list[Path]:
    """For explain, schema and clear: every path must exist (they change nothing or change files)."""
    from .batch import collect

    found, missing, _ = _expand(paths)
    for message in missing:
        typer.echo(f"tallycheck: {message}", err=True)
    if missing:
        raise typer.Exit(2)
    if any(str(p) == "-" for p in found):
        _fail("'-' (a workbook on standard input) works with `check` only")
    files = collect(found, include, exclude)
    if not files:
        _fail("no .xlsx or .xlsm workbooks found in " + ", ".join(map(str, paths)))
    return files


def _base(paths: Sequence[Path]) -> Path:
    """The deepest folder holding every input: marked copies keep their paths below it."""
    folders = [p.resolve() if p.is_dir() else p.resolve().parent for p in paths]
    return Path(os.path.commonpath(folders)) if folders else Path.cwd()


def _out_paths(files: list[Path], roots: list[Path], out: Path) -> dict[Path, Path]:
    """Where each marked copy goes: its path below the inputs' common folder, mirrored under ``out``.

    Refused before anything is written: an ``out`` that is a file, or is (or is inside) a folder
    being checked, or two inputs that would land on the same copy.
    """
    if out.exists() and not out.is_dir():
        _fail(f"--out {out} is a file; give a folder for the marked copies (it is created when missing)")
    target = out.resolve()
    for root in roots:
        folder = root.resolve() if root.is_dir() else None
        if folder is not None and (target == folder or folder in target.parents):
            _fail(f"--out {out} is inside {root}, which is being checked: the copies would be checked, "
                  "or would replace the originals; choose a folder outside it")
    base = _base(roots)

    def below(path: Path) -> Path:
        try:
            return path.resolve().relative_to(base)
        except ValueError:  # a symbolic link out of the folders given: its name alone (clashes are refused below)
            return Path(path.name)

    mapping = {f: out / below(f) for f in files}
    by_copy: dict[Path, list[Path]] = {}
    for source, copy in mapping.items():
        by_copy.setdefault(copy.resolve(), []).append(source)
        if copy.resolve() == source.resolve():
            _fail(f"--out {out} would put the marked copy of {source} on the original; choose another folder")
    clashes = [sources for sources in by_copy.values() if len(sources) > 1]
    if clashes:
        _fail("--out: these workbooks would be marked into the same copy, nothing was written: "
              + "; ".join(" and ".join(map(str, c)) for c in clashes))
    return mapping


def _rule_names(values: Sequence[str], option: str) -> tuple[str, ...]:
    """--select / --ignore values (comma-separated or repeated) as rule names; a typo is a sentence."""
    if not values:
        return ()
    import difflib

    from .declared.ruleset import _ALIASES, KNOWN_RULES

    known = (*KNOWN_RULES, "rule_error")
    names: list[str] = []
    for value in values:
        for name in filter(None, (v.strip() for v in value.split(","))):
            if name in _ALIASES:
                names.extend(_ALIASES[name])
            elif name in known:
                names.append(name)
            else:
                close = difflib.get_close_matches(name, [*known, *_ALIASES], n=1, cutoff=0.6)
                hint = f"; did you mean '{close[0]}'?" if close else f" (the rules are {', '.join(known)}, and dates)"
                _fail(f"{option} {name}: no rule of that name{hint}")
    return tuple(dict.fromkeys(names))


def _keep(reports: Sequence[Report], select: Sequence[str], ignore: Sequence[str]) -> None:
    """Drop the findings --select / --ignore leave out, in place, before any output counts them."""
    from .engine.findings import selected

    if not select and not ignore:
        return
    for report in reports:
        report.findings = selected(report.findings, select, ignore)


def _console(color: Color, *, stderr: bool = False) -> Console | _PlainConsole:
    """Rich console for our lines: colour by --color (auto: a terminal, unless NO_COLOR is set)."""
    if _plain(color):
        return _PlainConsole(stderr=stderr)
    from rich.console import Console

    if color is Color.always:
        return Console(stderr=stderr, force_terminal=True, no_color=False, highlight=False, soft_wrap=True, emoji=False)
    if color is Color.never:
        return Console(stderr=stderr, no_color=True, color_system=None, highlight=False, soft_wrap=True, emoji=False)
    return Console(stderr=stderr, highlight=False, soft_wrap=True, emoji=False)


def _plain(color: Color) -> bool:
    """No colour on either stream: --color never, or auto with neither a terminal nor rich's FORCE_COLOR /
    TTY_COMPATIBLE. Then lines are written without rich, which need not be imported (the usual case in CI)."""
    if color is Color.never:
        return True

    def terminal(stream: Any) -> bool:
        try:
            return bool(stream.isatty())
        except (AttributeError, ValueError, OSError):
            return False

    return (color is Color.auto and not {"FORCE_COLOR", "TTY_COMPATIBLE"} & os.environ.keys()
            and not terminal(sys.stdout) and not terminal(sys.stderr))


_RICH_DROPS = dict.fromkeys((7, 8, 11, 12, 13))  # the control codes rich leaves out of what it prints


class _PlainConsole:
    """Writes lines as a colourless rich console does (tabs expanded, the same control codes left out),
    for output nobody will see in colour."""

    no_color = True
    color_system = None

    def __init__(self, *, stderr: bool = False) -> None:
        self.stderr = stderr

    def print(self, text: str = "", *, markup: bool = True) -> None:
        """``text`` holds no markup (a plain console's painter adds none), so ``markup`` changes nothing."""
        (sys.stderr if self.stderr else sys.stdout).write(text.translate(_RICH_DROPS).expandtabs(8) + "\n")


_STYLES = {"path": "bold", "sheet": "cyan", "error": "bold red", "warning": "yellow", "summary": "bold"}


def _painter(console: Console | _PlainConsole) -> Callable[[str, str | None], str]:
    """Rich markup for each piece of a report line (escaped, so a header "[2024]" stays as typed)."""
    if isinstance(console, _PlainConsole):
        return lambda piece, kind: piece
    from rich.markup import escape

    if console.no_color or console.color_system is None:
        return lambda piece, kind: escape(piece)
    return lambda piece, kind: f"[{_STYLES[kind]}]{escape(piece)}[/]" if kind in _STYLES else escape(piece)


def _interruptible(command: Callable[..., None]) -> Callable[..., None]:
    """Ctrl-C anywhere in a command exits 130, the shell's status for it (click would say "Aborted!", 1)."""
    import functools

    @functools.wraps(command)
    def run_(*args: object, **kwargs: object) -> None:
        try:
            command(*args, **kwargs)
        except KeyboardInterrupt:
            typer.echo("tallycheck: interrupted", err=True)
            raise typer.Exit(130) from None

    return run_


_CHECK_EPILOG = """\
\b
Examples:
  tallycheck check reports/                   every .xlsx/.xlsm below reports/
  tallycheck check 'reports/2025-*.xlsx' -f concise
  tallycheck check reports/ --mark --out marked/
  tallycheck check reports/ --report out/run.html --fail-on warning
  tallycheck check reports/ --select sum,per_day --ignore date_gap
  tallycheck check - < book.xlsx              a workbook on standard input

include, exclude, jobs, select, ignore, fail-on and output-format can also be set in tallycheck.toml
or in pyproject.toml's [tool.tallycheck]; the command line wins.
"""


@app.command(epilog=_CHECK_EPILOG, cls=_PlainHelp)
@_interruptible
def check(
    paths: Annotated[list[str], typer.Argument(metavar="PATH", help="Workbooks or folders (searched recursively for .xlsx/.xlsm); quoted globs are expanded; - reads one workbook from standard input.", show_default=False)],
    fmt: Annotated[str | None, typer.Option("--output-format", "--format", "-f", metavar="FORMAT", help="text (default), concise (one line a finding), json, github (workflow annotations) or sarif.", show_default=False)] = None,
    mark: Annotated[bool, typer.Option("--mark", help="Also mark every finding in the workbooks (fill + note + summary sheet).")] = False,
    out: Annotated[Path | None, typer.Option("--out", metavar="DIR", help="With --mark: write marked copies under this folder (paths kept); originals untouched.")] = None,
    report: Annotated[Path | None, typer.Option("--report", metavar="FILE", help="Write a report for the whole run: .json, .csv, .xlsx or .html (its folder is created).")] = None,
    jobs: Annotated[str | None, typer.Option("--jobs", "-j", metavar="N", help="Workbooks checked in parallel (default: all cores).", show_default=False)] = None,
    include: Annotated[list[str] | None, typer.Option("--include", metavar="GLOB", help="Only check files found in folders that match this glob (repeatable).")] = None,
    exclude: Annotated[list[str] | None, typer.Option("--exclude", metavar="GLOB", help="Skip files and folders matching this glob (repeatable).")] = None,
    select: Annotated[list[str] | None, typer.Option("--select", metavar="RULE", help="Only report these rules (comma-separated or repeated): sum, per_day, dates, ...")] = None,
    ignore: Annotated[list[str] | None, typer.Option("--ignore", metavar="RULE", help="Do not report these rules (comma-separated or repeated).")] = None,
    fail_on: Annotated[str | None, typer.Option("--fail-on", metavar="LEVEL", help="Exit 1 on a finding of this severity or worse: error (default), warning or never.", show_default=False)] = None,
    changed: Annotated[bool, typer.Option("--changed", help="Re-check only workbooks whose content changed since the last run.")] = False,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Neither read nor write the results cache.")] = False,
    cache_dir: Annotated[Path, typer.Option("--cache-dir", metavar="DIR", help="Where results are cached by content hash.")] = Path(".tallycheck_cache"),
    scheduler: Annotated[str | None, typer.Option("--scheduler", metavar="ADDRESS", help="Run on an existing Dask distributed scheduler (tcp://host:8786).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only findings and problems: no progress bar, no summary line when all is well.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Also name every workbook checked and the settings file used.")] = False,
    color: Annotated[str, typer.Option("--color", metavar="WHEN", help="Colour by severity: auto (on a terminal, unless NO_COLOR is set), always or never.")] = "auto",
    rules: Annotated[Path | None, typer.Option("--rules", metavar="FILE", help=_RULES_HELP)] = None,
    max_size: Annotated[str, typer.Option("--max-size", metavar="SIZE", help=_MAX_SIZE_HELP)] = "256M",
) -> None:
    """Check workbooks and report every discrepancy by cell; changes nothing unless --mark."""
    import time

    started = time.perf_counter()
    from . import report as reports_
    from .batch import collect_with_skipped, run
    from .cache import Cache
    from .settings import SettingsError, find_settings, read_settings

    found, missing, globbed_locks = _expand(paths)
    settings_file = find_settings([p for p in found if str(p) != "-"])
    try:
        settings = read_settings(settings_file) if settings_file else None
    except (SettingsError, OSError, UnicodeDecodeError) as exc:
        _fail(str(exc))
    config = settings or _no_settings()
    # parsed here, not by typer, so that a wrong value is a sentence (typer's are pydantic's)
    fmt_ = _choice(OutputFormat, fmt or config.output_format or "text", "--output-format")
    fail_on_ = _choice(FailOn, fail_on or config.fail_on or "error", "--fail-on")
    color_ = _choice(Color, color, "--color")
    jobs_ = _whole_number(jobs, "--jobs", "workbooks to check at once") if jobs is not None else config.jobs
    chosen = _rule_names(select or config.select, "--select")
    dropped = _rule_names(ignore or config.ignore, "--ignore")
    if out is not None and not mark:
        _fail("--out only makes sense with --mark (it is where the marked copies go)")
    if report is not None and report.suffix.lower() not in (".json", ".csv", ".xlsx", ".html"):
        _fail(f"--report {report}: use a .json, .csv, .xlsx or .html file name")
    if report is not None and report.is_dir():
        _fail(f"--report {report} is a folder; give a file name such as {report / 'run.html'}")
    if report is not None and any(report.resolve() == Path(p).resolve() for p in paths if p != "-"):
        _fail(f"--report {report} is a workbook being checked; give the report another name")
    _rules_or_exit(rules)
    limit = _size_or_exit(max_size)
    err = _console(color_, stderr=True)
    if verbose and settings_file:
        err.print(f"tallycheck: settings from {reports_._display(settings_file)}", markup=False)
    for message in missing:
        typer.echo(f"tallycheck: {message}", err=True)
    stdin = [p for p in found if str(p) == "-"]
    if stdin and mark:
        _fail("--mark cannot mark a workbook read from standard input: give its path instead")
    files, skipped = collect_with_skipped([p for p in found if str(p) != "-"], include or config.include,
                                          exclude or config.exclude)
    skipped = list({path.resolve(): (path, why) for path, why in [*globbed_locks, *skipped]}.values())
    contents = {Path("-"): sys.stdin.buffer.read()} if stdin else {}
    files = [*files, *contents]
    if not files:
        if missing:
            raise typer.Exit(2)
        _fail("no .xlsx or .xlsm workbooks found in " + ", ".join(map(str, paths)))
    out_paths = _out_paths(files, [p for p in found if str(p) != "-"], out) if out is not None else None
    cache = None if no_cache else Cache(cache_dir)
    with _progress(len(files), enabled=not quiet and sys.stderr.isatty(), mark=mark) as on_result:
        result = run(
            files, jobs=jobs_, scheduler=scheduler, mark=mark, out_paths=out_paths, cache=cache,
            changed=changed, on_result=on_result, rules=rules, contents=contents, select=chosen, ignore=dropped,
            max_size=limit,
        )
    reports = result.reports
    _keep(reports, chosen, dropped)
    code = reports_.exit_code(reports, fail_on_.value)

    console = _console(color_)
    paint = _painter(console)
    body = {
        OutputFormat.text: lambda: reports_.text(reports, paint),
        OutputFormat.concise: lambda: reports_.concise(reports, paint),
        OutputFormat.json: lambda: reports_.json_text(reports),
        OutputFormat.github: lambda: reports_.github(reports),
        OutputFormat.sarif: lambda: reports_.sarif(reports),
    }[fmt_]()
    if fmt_ in (OutputFormat.text, OutputFormat.concise):
        if body:
            console.print(body)
    elif body:
        typer.echo(body)
    if verbose:
        for r in reports:
            if r.readable and not r.findings:
                err.print(f"tallycheck: {reports_._display(r.path)}: passed ({reports_._plural(len(r.tables), 'table')})",
                          markup=False)
    for message in result.mark_errors:
        err.print(f"tallycheck: cannot mark {message}", markup=False)
    if result.mark_errors or missing:
        code = 2
    elapsed = time.perf_counter() - started  # the whole command, as the user waited for it
    written = report is not None and _write_report(report, reports, elapsed)
    if report is not None and not written:
        code = 2
    facts = reports_.RunFacts(
        from_cache=result.from_cache, marked_in=out, marking=mark, report=report if written else None,
        skipped=len(skipped), missing=len(missing), elapsed=elapsed,
        interrupted_of=result.total if result.interrupted else None,
    )
    problems = code == 2 or any(r.findings for r in reports)
    if not quiet or problems:
        summary = [f"Skipped {reports_._display(path)}: {reason}" for path, reason in skipped]
        lines = [paint(line, None) for line in summary] + [paint(reports_.run_summary(reports, facts), "summary")]
        (console if fmt_ in (OutputFormat.text, OutputFormat.concise) else err).print(
            ("\n" if body and fmt_ is OutputFormat.text else "") + "\n".join(lines)
        )
    if result.interrupted:
        resume = "; run again with --changed to resume" if cache is not None and cache.folder.is_dir() else ""
        err.print(f"tallycheck: interrupted after {len(reports):,} of {result.total:,} workbooks{resume}", markup=False)
        code = 130
    raise typer.Exit(code)


def _choice(kind: type[E], value: str, option: str) -> E:
    """An option's value among its choices, or one sentence that lists them."""
    try:
        return kind(value)
    except ValueError:
        names = [m.value for m in kind]  # type: ignore[attr-defined]
        _fail(f"{option} {value}: choose {', '.join(names[:-1])} or {names[-1]}")


def _whole_number(value: str, option: str, what: str) -> int:
    """A count given on the command line (at least 1), or one sentence saying what is wanted."""
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        _fail(f"{option} {value}: give a whole number of {what}, at least 1")
    return number


def _no_settings() -> Settings:
    from .settings import Settings

    return Settings()


def _write_report(path: Path, reports: Sequence[Report], elapsed: float) -> bool:
    """Write --report (creating its folder); a failure is one sentence on standard error, not a traceback."""
    from .run_report import write_report

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_report(path, reports, elapsed=elapsed)
    except OSError as exc:
        typer.echo(f"tallycheck: cannot write the report {path}: {exc.strerror or exc}", err=True)
        return False
    return True


@contextmanager
def _progress(total: int, *, enabled: bool, mark: bool = False) -> Iterator[Callable[[object], None] | None]:
    """A progress bar on a terminal (files, findings so far, elapsed, remaining); nothing otherwise.
    It says "marking" when the workbooks are being marked, which is where most of a --mark run goes."""
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
        TextColumn("marking" if mark else "checking"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[findings]:,} findings"),
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


@app.command(cls=_PlainHelp)
@_interruptible
def explain(
    paths: Annotated[list[str], typer.Argument(metavar="PATH", help="Workbooks, or folders searched recursively.", show_default=False)],
    rules: Annotated[Path | None, typer.Option("--rules", metavar="FILE", help=_RULES_HELP)] = None,
) -> None:
    """Show, for each table found, the relations that will be checked and where each came from."""
    from .explain import explain_text

    _rules_or_exit(rules)
    text, code = explain_text(_paths_or_exit(paths), rules)
    typer.echo(text)
    raise typer.Exit(code)


@app.command(cls=_PlainHelp)
@_interruptible
def schema(
    paths: Annotated[list[str] | None, typer.Argument(metavar="PATH", help="Workbooks or folders; none: every kind's schema.", show_default=False)] = None,
    rules: Annotated[Path | None, typer.Option("--rules", metavar="FILE", help=_RULES_HELP)] = None,
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


@app.command(cls=_PlainHelp)
@_interruptible
def clear(
    paths: Annotated[list[str], typer.Argument(metavar="PATH", help="Workbooks, or folders searched recursively.", show_default=False)],
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
    """Console entry point; usage errors exit 2 (click's convention, and ours), Ctrl-C 130 (the shell's).

    No traceback reaches the user: an unexpected error is one line saying what it was (the
    traceback with TALLYCHECK_DEBUG=1).
    """
    import atexit
    import gc

    # At exit the interpreter's last collections would walk every object pandas, numpy and pandera
    # made (0.05-0.1 s of a one-workbook run); frozen, they are only freed. The run itself is unchanged.
    atexit.register(gc.freeze)
    # The checks' arrays are small (a table's columns): BLAS threads would not speed them up, but
    # OpenBLAS starts one per core when numpy is imported, and they compete with the start-up (two
    # cores: 0.03 s of a one-workbook run, 0.09 s of CPU) and with the workers of a batch. A value
    # the user set is kept.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    try:
        app(prog_name="tallycheck")
    except KeyboardInterrupt:
        typer.echo("tallycheck: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:
        if os.environ.get("TALLYCHECK_DEBUG"):
            raise
        typer.echo(f"tallycheck: unexpected error: {type(exc).__name__}: {exc} (a tallycheck bug: please report it; "
                   "TALLYCHECK_DEBUG=1 shows the traceback)", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
