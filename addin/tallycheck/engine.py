"""The one engine both front doors call: workbooks in, reports out.

workbook -> grid -> tables -> relations -> pandera (once per kind, for the whole run) -> findings.
"""

from __future__ import annotations

import gc
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .findings import SEVERITY_ORDER, Finding, Series
from .grid import DEFAULT_MAX_SIZE, Sheet, Workbook, WorkbookError, parse_ref, read_bytes, read_workbook, reader_failed
from .relations import Relation

if TYPE_CHECKING:
    from .declared.ruleset import RuleSet

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")


@dataclass(frozen=True)
class TableSummary:
    """What the engine found and will check in one table (for reports and `explain`)."""

    sheet: str
    name: str
    title: str
    columns: tuple[tuple[str, str], ...]
    relations: dict[str, int]


@dataclass
class Report:
    """One workbook's result: its findings, the tables found, or why it could not be read."""

    path: Path
    findings: list[Finding] = field(default_factory=list)
    tables: list[TableSummary] = field(default_factory=list)
    error: str | None = None
    series: list[Series] = field(default_factory=list)
    sha256: str | None = None
    mark_error: str | None = None
    marked: bool | None = None  # with --mark: whether the marks were written (mark_error says why not)

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def errors(self) -> int:
        return sum(f.severity == "error" for f in self.findings)

    @property
    def warnings(self) -> int:
        return sum(f.severity == "warning" for f in self.findings)


def workbook_paths(paths: Iterable[Path | str]) -> list[Path]:
    """Files as given, folders searched recursively for .xlsx/.xlsm (Excel's ~$ lock files skipped)."""
    out: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*")
                if p.suffix.lower() in WORKBOOK_SUFFIXES and not p.name.startswith("~$") and p.is_file()
            )
            out.extend(found)
        else:
            out.append(path)
    return out


def _sheet_order(report_sheets: list[str], finding: Finding) -> tuple[int, int, int, int, str]:
    row, col = parse_ref(finding.cell)
    sheet = report_sheets.index(finding.sheet) if finding.sheet in report_sheets else len(report_sheets)
    return (sheet, row, col, SEVERITY_ORDER[finding.severity], finding.rule)


def _gather(
    path: Path, data: bytes | None = None, rules: Path | None = None, max_size: int = DEFAULT_MAX_SIZE
) -> tuple[Report, list[Relation], list[str]]:
    """Read one workbook and list its relations; nothing is validated yet."""
    import hashlib

    report = Report(path)
    try:
        data = read_bytes(path) if data is None else data
        report.sha256 = hashlib.sha256(data).hexdigest()
        book = read_workbook(path, data, max_size)
        return _gather_book(book, report, rules)
    except WorkbookError as exc:
        report.error = exc.reason
    except MemoryError:
        report.error = "too large to check in the memory available"
    except BaseException as exc:  # one odd workbook must not stop a run of thousands
        if not reader_failed(exc):  # Ctrl-C and exits go on up; a reader's Rust panic stops here
            raise
        report.error = f"could not be checked: {type(exc).__name__}: {exc} (a tallycheck bug: please report it)"
    report.findings.clear()
    report.tables.clear()
    report.series.clear()
    return report, [], []


def data_sheets(book: Workbook, declared: RuleSet) -> list[Sheet]:
    """The sheets that hold the analyst's tables: not our summary sheet, not a Rules sheet."""
    from .marks.plan import is_summary_sheet

    return [s for s in book.sheets if not (is_summary_sheet(s.name, s.value(0, 0)) or declared.skips(s))]


def _gather_book(book: Workbook, report: Report, rules: Path | None = None) -> tuple[Report, list[Relation], list[str]]:
    """Find a read workbook's tables and list their relations (a file's, or a live Excel book's).

    Declared rules (the workbook's Rules sheet, ``rules`` or the tallycheck.toml found beside it)
    join the inferred relations table by table; ``finish`` adds cell relations and rule errors.
    """
    from .declared import declared_rules
    from .rules import relations_of, series_of
    from .tables import find_tables

    declared = declared_rules(book, rules)
    relations: list[Relation] = []
    for sheet in data_sheets(book, declared):
        for table in find_tables(sheet):
            found, direct = relations_of(table, declared)
            if any(r.kind == "never_falls" for r in found):
                report.series.extend(series_of(table))
            relations.extend(found)
            report.findings.extend(direct)
            report.tables.append(
                TableSummary(
                    sheet=sheet.name, name=table.name, title=table.title,
                    columns=tuple((c.name, c.role) for c in table.columns),
                    relations=dict(Counter(r.rule for r in found)),
                )
            )
    found, direct = declared.finish()
    relations.extend(found)
    report.findings.extend(direct)
    return report, relations, [s.name for s in book.sheets]


class _FewCollections:
    """Let the cyclic collector run rarely while a batch builds its many small, short-lived objects.

    Figures, relations and findings are allocated by the hundred thousand and almost none form
    cycles; at the default threshold the collector rescans the growing batch every 700
    allocations, which cost 40% of building relations (bench: 2.1 -> 1.2 ms a workbook). The
    caller's settings come back when the last of any concurrent checks ends.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._depth = 0
        self._saved = gc.get_threshold()

    def __enter__(self) -> None:
        with self._lock:
            if self._depth == 0:
                self._saved = gc.get_threshold()
                gc.set_threshold(100_000, 50, 100)
            self._depth += 1

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._depth -= 1
            if self._depth == 0:
                gc.set_threshold(*self._saved)


_few_collections = _FewCollections()


def check_workbooks(
    paths: Sequence[Path | str],
    contents: Sequence[bytes | None] | None = None,
    rules: Path | None = None,
    max_size: int = DEFAULT_MAX_SIZE,
) -> list[Report]:
    """Check many workbooks, validating each kind of relation once for the whole batch.

    ``contents`` are the files' bytes when they travelled already (to a remote worker); the
    paths then only name them. ``rules`` is a rules file used instead of the tallycheck.toml found
    beside each workbook. A workbook whose XML parts inflate past ``max_size`` bytes is reported
    as too large instead of being read.
    """
    datas = list(contents) if contents is not None else [None] * len(paths)
    with _few_collections:
        return _validated([_gather(Path(p), d, rules, max_size) for p, d in zip(paths, datas, strict=True)])


def check_books(books: Sequence[Workbook], rules: Path | None = None) -> list[Report]:
    """Check workbooks already read into grids (e.g. a live Excel book read through xlwings)."""
    with _few_collections:
        return _validated([_gather_book(book, Report(book.path), rules) for book in books])


def _validated(gathered: list[tuple[Report, list[Relation], list[str]]]) -> list[Report]:
    """Validate every gathered relation (once per kind) and attach the findings to their reports."""
    from .checks import failed_checks, severity_of
    from .messages import finding_of

    relations: list[Relation] = []
    owner: list[int] = []
    for n, (_, rels, _) in enumerate(gathered):
        relations.extend(rels)
        owner.extend([n] * len(rels))
    for position, failed in failed_checks(relations).items():
        rel = relations[position]
        severity = severity_of(rel.kind, failed)
        if severity is not None:
            gathered[owner[position]][0].findings.append(finding_of(rel, severity))  # type: ignore[arg-type]
    reports = []
    for report, _, sheets in gathered:
        report.findings.sort(key=lambda f, s=sheets: _sheet_order(s, f))
        report.series = _flagged_series(report)
        reports.append(report)
    return reports


def _flagged_series(report: Report) -> list[Series]:
    """Only the series with discrepant days, each knowing which days those are."""
    from dataclasses import replace

    out = []
    for series in report.series:
        days = tuple(
            sorted({f.extra["date"] for f in report.findings if f.table == series.table and f.extra.get("series") == series.column})
        )
        if days:
            out.append(replace(series, flagged=days))
    return out


def check_workbook(path: Path | str, rules: Path | None = None, max_size: int = DEFAULT_MAX_SIZE) -> Report:
    """Check one workbook: every table found, every relation inferred or declared, every discrepancy by cell."""
    return check_workbooks([path], rules=rules, max_size=max_size)[0]
