"""What the Tally Check buttons run (VBA ``RunPython``): validate, clear, show, on the open workbook.

Each function takes the calling workbook with ``xlwings.Book.caller()`` (the add-in's VBA passes
the active workbook; when the caller is the add-in itself, the active workbook is used), reads it
with tallycheck.excel.book, runs the same engine as the command line and marks through the same
marking logic (tallycheck.marks.logic) with tallycheck.excel.target.XlwingsTarget. While it runs,
Excel's status bar says so; when done, a message box gives the counts; anything that goes wrong
becomes a sentence in a message box, never a traceback (the traceback goes to a log file named in
the message). Each returns a dict of what it did, for tests and for callers from Python.

The VBA calls ``run(action)`` so that a missing or broken install can still be reported in words.
Imports are lazy: a click starts a fresh Python, and every module not imported is time saved.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported when used: a click starts a fresh Python
    from ..declared.sources import Loaded
    from ..engine import Report
    from .install import AddinSettings

TITLE = "Tally Check"
ACTIONS = ("validate_workbook", "validate_sheet", "clear_marks", "show_summary", "show_checked", "next_finding",
           "previous_finding", "mark_reviewed", "save_report", "go_to_finding")
_MAX_MESSAGE = 1000  # a message box shows about this much before it gets unwieldy


class Stop(Exception):
    """A reason to stop that the user can act on; shown as is."""


def run(action: str) -> bool:
    """Run one button's action by name (what the VBA calls); True when it ran.

    A failure Excel could not be told about in a message box (no workbook found, the message box
    itself failing) goes to stderr with a non-zero exit: RunPython then shows stderr in its own
    error box, on Windows and on a Mac. Under xlwings' UDF server (no process to exit) it is raised.
    """
    try:
        action, _, argument = action.partition(":")  # "save_report:<hex of the path>", "go_to_finding:<hex>"
        if action not in ACTIONS:
            raise Stop(f"Unknown Tally Check action {action!r}: the add-in and tallycheck do not match; "
                       "run 'tallycheck addin install' again.")
        if argument:
            result = globals()[action](None, bytes.fromhex(argument).decode("utf-16-be"))
        else:
            result = globals()[action]()
    except BaseException as exc:  # a bug in the plumbing itself: still a sentence, never silence
        log = _log(exc)
        result = {"ok": False, "shown": False, "error": f"Tally Check could not start: {exc}" + _details(log)}
    if not result.get("ok") and not result.get("shown", True):
        _unshown(result["error"])
    return True


def _unshown(sentence: str) -> None:
    import sys

    if "--from_xl=1" in sys.argv:  # a process RunPython started: it shows stderr when we exit 1
        sys.stderr.write(sentence + "\n")
        sys.stderr.flush()
        raise SystemExit(1)
    raise RuntimeError(sentence)


# -- the buttons -----------------------------------------------------------------------------------
def validate_workbook(book: Any = None) -> dict[str, Any]:
    """Check every table of the active workbook and mark what does not add up."""
    return _guarded("validate the workbook", book, lambda b: _validate(b, None))


def validate_sheet(book: Any = None) -> dict[str, Any]:
    """Check the tables of the active sheet only; the other sheets keep their marks."""
    def action(b: Any) -> dict[str, Any]:
        return _validate(b, b.sheets.active.name)

    return _guarded("validate this sheet", book, action)


def clear_marks(book: Any = None) -> dict[str, Any]:
    """Remove every mark Tally Check made, restoring fills and notes exactly."""
    return _guarded("clear the marks", book, _clear)


def show_summary(book: Any = None) -> dict[str, Any]:
    """Go to the summary sheet of the last run."""
    return _guarded("show the summary", book, _show_summary)


def show_checked(book: Any = None) -> dict[str, Any]:
    """Say which tables and relations Tally Check finds in the workbook (changes nothing)."""
    return _guarded("list what is checked", book, _show_checked)


def next_finding(book: Any = None) -> dict[str, Any]:
    """Select the next marked cell after the selection, across sheets, wrapping round."""
    return _guarded("go to the next finding", book, lambda b: _step(b, 1))


def previous_finding(book: Any = None) -> dict[str, Any]:
    """Select the marked cell before the selection, across sheets, wrapping round."""
    return _guarded("go to the previous finding", book, lambda b: _step(b, -1))


def mark_reviewed(book: Any = None) -> dict[str, Any]:
    """Accept the selected cell's findings: unmarked now, and not marked again while its figures stay."""
    return _guarded("mark the finding as reviewed", book, _mark_reviewed)


def save_report(book: Any = None, path: str | None = None) -> dict[str, Any]:
    """Check the workbook and write the command line's report (.html, or .xlsx) at path; marks nothing."""
    return _guarded("save the report", book, lambda b: _save_report(b, path))


def go_to_finding(book: Any = None, where: str | None = None) -> dict[str, Any]:
    """Select the cell ("Sheet!A1") picked in the ribbon's Findings list, on its sheet."""
    return _guarded("go to the finding", book, lambda b: _go_to(b, where or ""))


# -- plumbing --------------------------------------------------------------------------------------
def caller_book() -> Any:
    """The workbook the button was pressed in (not the add-in itself).

    xlwings' Book.caller() reads the name from ``--wb=`` but cuts it at its first "=" (a workbook
    called "Q1=final.xlsx" is looked for as "Q1"): the whole name is then looked up among the open
    workbooks instead.
    """
    import sys

    import xlwings as xw

    wanted = next((a.partition("=")[2].strip().strip('"') for a in sys.argv if a.startswith("--wb=")), "")
    try:
        book = xw.Book.caller()
    except Exception:
        if "=" not in wanted:
            raise
        book = None
    if "=" in wanted and (book is None or str(book.name).casefold() != wanted.casefold()):
        book = next((b for app in xw.apps for b in app.books if str(b.name).casefold() == wanted.casefold()), None)
        if book is None:
            raise LookupError(f"no open workbook is named {wanted!r}")
    if str(book.name).lower().endswith((".xlam", ".xla")):
        book = book.app.books.active
    return book


def _alert(book: Any, text: str, *, critical: bool = False) -> bool:
    """A message box; False if Excel could not show it."""
    if book is None:
        return False
    if len(text) > _MAX_MESSAGE:
        text = text[: _MAX_MESSAGE - 1].rsplit("\n", 1)[0] + "\n…"
    try:
        book.app.alert(text, title=TITLE, mode="critical" if critical else "info")
    except Exception as exc:
        _log(exc)
        return False
    return True


def _status(book: Any, text: str | bool) -> None:
    with contextlib.suppress(Exception):
        book.app.status_bar = text


def _details(log: str | None) -> str:
    return f"\n\nDetails were written to {log}" if log else ""


def _lost(what: str, reason: str, exc: BaseException | None = None) -> dict[str, Any]:
    """No workbook to talk to: the sentence goes back to RunPython (see run)."""
    log = _log(exc) if exc is not None else _log_text(reason)
    return {"ok": False, "shown": False, "error": f"Tally Check could not {what}: {reason}{_details(log)}"}


def _guarded(what: str, book: Any, action: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    """Run an action with feedback: status bar while running, a message box at the end.

    One run per workbook at a time (a second click while one runs, which on a Mac starts a second
    Python at once, is told so); Excel's screen updating and events are off while it runs.
    """
    try:
        book = book if book is not None else caller_book()
    except Exception as exc:
        return _lost(what, f"the workbook was not found ({type(exc).__name__}: {exc}).", exc)
    if book is None:
        return _lost(what, "no workbook is open.")
    try:
        name = str(book.name)
    except Exception as exc:  # the add-in alone is open: there is no active workbook
        return _lost(what, "no workbook is open.", exc)
    with _workbook_lock(name) as locked:
        if not locked:
            result: dict[str, Any] = {
                "ok": False, "busy": True,
                "error": f"Tally Check is already working on {name}. Wait for its message, then click again.",
            }
        else:
            result = _run_quietly(what, book, action)
    message = result.get("message") or result.get("error")
    if message:
        result["shown"] = _alert(book, message, critical=not result["ok"])
    if result.get("status"):  # a word that needs no message box (where the selection went)
        _status(book, result["status"])
    return result


def _run_quietly(what: str, book: Any, action: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    """The action with screen updating and events off, its failure as a sentence."""
    started = time.perf_counter()
    app = book.app
    saved = {}
    for setting in ("screen_updating", "enable_events"):  # the analyst's own event macros stay quiet
        with contextlib.suppress(Exception):
            saved[setting] = getattr(app, setting)
            setattr(app, setting, False)
    try:
        _status(book, f"Tally Check: working on {book.name}…")
        result = action(book)
        result.setdefault("ok", True)
    except Stop as exc:
        result = {"ok": False, "error": str(exc)}
    except Exception as exc:  # a readable sentence, never a traceback
        from ..engine.grid import WorkbookError
        from ..marks.errors import MarkError

        log = _log(exc)
        reason = exc.reason if isinstance(exc, (MarkError, WorkbookError)) else f"{type(exc).__name__}: {exc}"
        result = {"ok": False, "error": f"Tally Check could not {what}.\n\n{reason}{_details(log)}"}
    finally:
        for setting, value in saved.items():
            with contextlib.suppress(Exception):
                setattr(app, setting, value)
        _status(book, False)
    result["seconds"] = round(time.perf_counter() - started, 3)
    return result


@contextlib.contextmanager
def _workbook_lock(name: str) -> Iterator[bool]:
    """An OS lock on a file named after the workbook: yields False if another run holds it.

    The operating system releases it when the process ends, however it ends, so a crash never
    leaves a workbook locked.
    """
    import hashlib
    import sys
    import tempfile
    from pathlib import Path

    digest = hashlib.sha1(name.casefold().encode("utf-8")).hexdigest()[:16]
    path = Path(tempfile.gettempdir()) / f"tallycheck-{digest}.lock"
    try:
        handle = open(path, "a+b")  # noqa: SIM115 - held for the whole run
    except OSError:
        yield True  # no temporary folder to lock in: run unguarded rather than not at all
        return
    locked = False
    try:
        try:
            if sys.platform == "win32":
                import msvcrt

                handle.seek(0)
                msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
            else:
                import fcntl

                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            locked = True
        except OSError:
            pass
        yield locked
    finally:
        if locked and sys.platform == "win32":
            import msvcrt

            with contextlib.suppress(OSError):
                handle.seek(0)
                msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
        handle.close()  # closing the file releases a POSIX lock


def _log(exc: BaseException) -> str | None:
    """Write the traceback where a developer can find it; return the path."""
    import traceback

    return _log_text("".join(traceback.format_exception(exc)))


def _log_text(text: str) -> str | None:
    import tempfile
    from pathlib import Path

    try:
        path = Path(tempfile.gettempdir()) / "tallycheck-excel-error.log"
        path.write_text(text, encoding="utf-8")
        return str(path)
    except OSError:
        return None


def _version() -> str:
    from .. import __version__

    return __version__


def _counts(errors: int, warnings: int) -> str:
    e = f"{errors} error" + ("" if errors == 1 else "s")
    w = f"{warnings} warning" + ("" if warnings == 1 else "s")
    return f"{e} and {w}"


def _settings() -> tuple[AddinSettings, list[Loaded]]:
    """The ribbon's Settings from the user's config file, and the rule their tolerance states
    (``tolerance 1%``, joined to the workbook's own rules as a tolerance switch).

    A tolerance that is not a number is a sentence saying where to fix it, not a silent default.
    """
    from .install import user_settings

    settings = user_settings()
    if not str(settings.tolerance or "").strip():
        return settings, []  # the rule language is imported only for a tolerance to read
    from ..declared.parse import RuleSyntaxError, parse_tolerance
    from ..declared.sources import Loaded, Origin, RuleRow

    try:
        parse_tolerance(settings.tolerance)
        rule = RuleRow(text=f"tolerance {settings.tolerance}", origin=Origin(file="Tally Check Settings", index=1))
        return settings, [Loaded(rows=[rule])]
    except RuleSyntaxError as exc:
        raise Stop(f"Tally Check's Settings have a tolerance it cannot use: {exc}.\n\n"
                   "Type a number such as 5 or 1% in Tally Check > Settings > Tolerance (or leave it empty).") from None


def _check(book: Any, sheets: list[str] | None = None) -> tuple[Report, AddinSettings]:
    """Read and check the workbook as the Settings say: (report, settings).

    The same selection as the command line's --ignore (findings.selected), so a check turned off
    is neither counted, marked nor listed.
    """
    from ..declared.ruleset import _expand
    from ..engine import check_books
    from ..engine.findings import selected
    from .book import read_book

    settings, rules = _settings()
    _status(book, f"Tally Check: reading {book.name}…")
    grid = read_book(book, sheets)
    _status(book, f"Tally Check: checking {book.name}…")
    report = check_books([grid], also=rules)[0]
    if settings.checks_off:
        report.findings = selected(report.findings, ignore=tuple(_expand(settings.checks_off)))
    return report, settings


def _settings_line(settings: AddinSettings) -> str:
    """What the Settings changed, so a run's message never hides that checks were off."""
    said = []
    if settings.checks_off:
        said.append("checks off: " + ", ".join(settings.checks_off))
    if settings.tolerance:
        said.append(f"tolerance {settings.tolerance}")
    if not settings.notes:
        said.append("no notes")
    return f"Settings: {'; '.join(said)} (Tally Check > Settings)." if said else ""


def _validate(book: Any, only_sheet: str | None) -> dict[str, Any]:
    from .target import XlwingsTarget

    report, settings = _check(book, [only_sheet] if only_sheet else None)
    scope = f"sheet {only_sheet!r}" if only_sheet else book.name
    if not report.tables:
        raise Stop(
            f"Nothing to check in {scope}: Tally Check found no table of figures.\n\n"
            "A table needs a header row (Killed, Wounded, Total, Per day, ...) above columns of "
            "numbers. 'What is checked' lists what it finds."
        )
    target = XlwingsTarget(book)
    findings = report.findings
    from . import xlapi
    from .target import review_key, stored_findings, stored_reviews

    previous = target.read_record()
    earlier = stored_findings(previous)
    names = {s.name for s in book.sheets}
    kept = [f for f in earlier or [] if only_sheet and f.sheet != only_sheet and f.sheet in names]
    target.reviews = stored_reviews(previous)
    accepted = {review_key(r) for r in target.reviews}
    to_mark = [f for f in [*kept, *findings] if review_key(f) not in accepted]
    reviewed = sum(1 for f in findings if review_key(f) in accepted)
    touched = {f.sheet for f in to_mark} | ({c.sheet for c in previous.cells} if previous else set())
    blocked = xlapi.protected(book, [s for s in book.sheets if s.name in touched])
    if not to_mark:
        blocked = [b for b in blocked if b != "the workbook structure"]
    if blocked:
        raise Stop(
            f"Found {_counts(report.errors, report.warnings)} in {scope}, but cannot mark them: "
            f"{', '.join(blocked)} {'is' if len(blocked) == 1 else 'are'} protected.\n\n"
            "Unprotect it (Review > Unprotect Sheet / Protect Workbook) and click again."
        )
    _status(book, f"Tally Check: marking {len(to_mark)} finding(s) in {book.name}…")
    result = _mark(book, target, previous, to_mark, settings.notes)
    tables = len(report.tables)
    lines = [
        f"{_counts(report.errors, report.warnings)} in {tables} table{'s' if tables != 1 else ''} "
        f"of {scope}."
    ]
    if result.cells:
        lines.append(
            f"Marked {result.cells} cell{'s' if result.cells != 1 else ''} (red: error, amber: "
            f"warning{'; hover for the note' if settings.notes else ''}). Every finding is listed on the sheet "
            f"'{result.summary_sheet}'."
        )
    else:
        lines.append("Everything adds up." + (" Earlier marks were removed." if result.cleared else ""))
    if reviewed:
        lines.append(f"{reviewed} finding{'s' if reviewed != 1 else ''} marked as reviewed earlier "
                     f"{'are' if reviewed != 1 else 'is'} not marked again.")
    if result.notes_skipped:
        lines.append("No note on " + ", ".join(result.notes_skipped) + " (they have a threaded comment).")
    if only_sheet:
        if previous is None:
            lines.append("Only this sheet was checked.")
        elif earlier is None:
            lines.append("Only this sheet was checked; the earlier marks (made by the command line) were replaced.")
        else:
            lines.append("Only this sheet was checked; the other sheets keep their marks.")
    if _settings_line(settings):
        lines.append(_settings_line(settings))
    return {
        "message": "\n\n".join(lines), "errors": report.errors, "warnings": report.warnings,
        "tables": tables, "cells": result.cells, "cleared": result.cleared,
        "summary_sheet": result.summary_sheet, "findings": findings, "report": report,
        "reviewed": reviewed,
    }


def _mark(book: Any, target: Any, previous: Any, findings: list[Any], notes: bool) -> Any:
    """Mark these findings in place of the previous run's, rolling back if it fails part-way."""
    from datetime import UTC, datetime

    from ..marks.logic import apply_marks

    target.findings = findings
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    try:
        return apply_marks(target, findings, version=_version(), when=when, workbook=book.name, notes=notes)
    except Exception:
        target.roll_back(previous)  # never leave marks that Clear marks cannot remove
        raise


def _mark_reviewed(book: Any) -> dict[str, Any]:
    import getpass
    from datetime import UTC, datetime

    from ..marks.refs import a1, normalize_a1
    from . import xlapi
    from .target import XlwingsTarget, review, stored_findings, stored_reviews

    target = XlwingsTarget(book)
    previous = target.read_record()
    found = stored_findings(previous)
    if found is None:
        raise Stop("Click 'Validate workbook' first, then select a red or amber cell and click 'Mark as reviewed'.")
    selection = book.app.selection
    where_sheet, where_cell = selection.sheet.name, a1(selection.row, selection.column)
    hits = [f for f in found if f.sheet == where_sheet and normalize_a1(f.cell) == where_cell]
    if not hits:
        raise Stop(f"{where_sheet}!{where_cell} has no Tally Check finding: select a red or amber cell "
                   "('Next finding' goes to one), then click 'Mark as reviewed'.")
    blocked = xlapi.protected(book, [s for s in book.sheets if s.name == where_sheet])
    if blocked:
        raise Stop(f"Cannot change the marks: {', '.join(blocked)} is protected. Unprotect it and click again.")
    try:
        who = getpass.getuser()
    except Exception:
        who = "unknown"
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    target.reviews = stored_reviews(previous) + [review(f, who, when) for f in hits]
    from .install import user_settings

    _mark(book, target, previous, [f for f in found if f not in hits], user_settings().notes)  # its tolerance is no concern here
    n = len(hits)
    return {
        "message": f"{where_sheet}!{where_cell}: {n} finding{'s' if n != 1 else ''} marked as reviewed by {who}. "
        "It is no longer marked, a new check does not mark it again while its figures stay the same, and the "
        "summary sheet lists it under Reviewed. (Clear marks forgets reviews.)",
        "reviewed": n, "by": who,
    }


def _clear(book: Any) -> dict[str, Any]:
    from ..marks.logic import clear_marks as clear
    from . import xlapi
    from .target import XlwingsTarget

    target = XlwingsTarget(book)
    record = target.read_record()
    if record is None:
        return {"message": f"There are no Tally Check marks in {book.name}.", "cleared": 0}
    sheets = sorted({c.sheet for c in record.cells})
    blocked = xlapi.protected(book, [s for s in book.sheets if s.name in sheets])
    if blocked:
        raise Stop(f"Cannot clear the marks: {', '.join(blocked)} is protected. Unprotect it and click again.")
    restored = clear(target)
    return {
        "message": f"Removed the marks from {restored} cell{'s' if restored != 1 else ''} and the summary sheet "
        f"of {book.name}.",
        "cleared": restored,
    }


def _show_summary(book: Any) -> dict[str, Any]:
    from ..marks.plan import is_summary_sheet
    from .target import XlwingsTarget

    name = XlwingsTarget(book).summary_name()
    if name is None:
        name = next(
            (s.name for s in book.sheets
             if is_summary_sheet(s.name, s.range("A1").value)),
            None,
        )
    if name is None:
        raise Stop(f"There is no Tally Check summary in {book.name} yet: click 'Validate workbook' first.")
    book.sheets[name].activate()
    return {"sheet": name}


def describe(report: Any) -> str:
    """Which tables and relations the engine found, one line a table."""
    lines = []
    for t in report.tables:
        rels = ", ".join(f"{rule} ×{n}" for rule, n in sorted(t.relations.items())) or "no relation to check"
        title = f" “{t.title}”" if t.title else ""
        lines.append(f"{t.sheet} ▸ {t.name}{title}: {rels}")
    return "\n".join(lines)


def _show_checked(book: Any) -> dict[str, Any]:
    from ..engine import check_books
    from .book import read_book

    report = check_books([read_book(book)])[0]
    if not report.tables:
        raise Stop(f"Tally Check finds no table of figures in {book.name}, so there is nothing to check.")
    relations = sum(sum(t.relations.values()) for t in report.tables)
    head = (
        f"Tally Check finds {len(report.tables)} table{'s' if len(report.tables) != 1 else ''} and "
        f"{relations} relation{'s' if relations != 1 else ''} to check in {book.name}:"
    )
    return {"message": head + "\n\n" + describe(report), "tables": len(report.tables), "relations": relations,
            "report": report}


def _step(book: Any, direction: int) -> dict[str, Any]:
    """Move the selection to the neighbouring marked cell in (sheet, row, column) order."""
    from ..marks.refs import parse_a1
    from .target import XlwingsTarget

    record = XlwingsTarget(book).read_record()
    order = {s.name: i for i, s in enumerate(book.sheets)}
    cells = sorted(
        {(order[c.sheet], *parse_a1(c.cell)): c for c in (record.cells if record else []) if c.sheet in order}.items()
    )
    if not cells:
        raise Stop(f"There are no Tally Check marks in {book.name} to go to: click 'Validate workbook' first.")
    here = (-1, 0, 0) if direction > 0 else (len(order), 0, 0)
    try:
        selection = book.app.selection
        here = (order[selection.sheet.name], selection.row, selection.column)
    except Exception:  # no cell selected (a chart, another book): start from the first or the last
        pass
    later = [i for i, (key, _) in enumerate(cells) if (key > here if direction > 0 else key < here)]
    index = (later[0] if later else 0) if direction > 0 else (later[-1] if later else len(cells) - 1)
    _, cell = cells[index]
    where = _select(book, cell.sheet, cell.cell)
    return {"cell": where, "index": index + 1, "of": len(cells),
            "status": f"Tally Check: finding {index + 1} of {len(cells)}, {where} ({cell.severity})"}


def _select(book: Any, sheet_name: str, cell: str) -> str:
    """Activate the sheet and select the cell; 'Sheet!A1' for the status bar."""
    sheet = book.sheets[sheet_name]
    sheet.activate()
    sheet.range(cell).select()
    return f"{sheet_name}!{cell}"


def _go_to(book: Any, where: str) -> dict[str, Any]:
    from ..marks.refs import normalize_a1

    sheet_name, _, cell = where.rpartition("!")  # a sheet's name may hold "!", a cell's never
    if sheet_name not in {s.name for s in book.sheets}:
        raise Stop(f"{where} is not in {book.name} any more (a sheet renamed or deleted?): click 'Validate "
                   "workbook' to refresh the Findings list.")
    try:
        cell = normalize_a1(cell)
    except ValueError:
        raise Stop(f"{where!r} is not a cell: click 'Validate workbook' to refresh the Findings list.") from None
    where = _select(book, sheet_name, cell)
    return {"cell": where, "status": f"Tally Check: {where}"}


def _save_report(book: Any, path: str | None) -> dict[str, Any]:
    from pathlib import Path

    from ..run_report import write_report

    if not path:
        raise Stop("Click 'Save report…' on the Tally Check ribbon and choose where to save it.")
    target = Path(path)
    if target.suffix.lower() not in (".html", ".xlsx"):
        target = target.with_name(target.name + ".html")
    started = time.perf_counter()
    report, _ = _check(book)
    try:
        write_report(target, [report], elapsed=time.perf_counter() - started)
    except OSError as exc:
        raise Stop(f"Could not save the report to {target}: {exc.strerror or exc}. Choose another folder.") from None
    return {"message": f"Saved the report ({_counts(report.errors, report.warnings)} in {book.name}) to {target}.",
            "path": str(target), "report": report}
