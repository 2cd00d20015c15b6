"""The one engine both front doors call: workbooks in, reports out.

workbook -> grid -> tables -> relations -> pandera (once per kind, for the whole run) -> findings.
"""

from __future__ import annotations

import gc
import itertools
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from .findings import SEVERITY_ORDER, Finding, Series
from .grid import DEFAULT_MAX_SIZE, Sheet, Workbook, WorkbookError, parse_ref, read_bytes, read_workbook, reader_failed
from .relations import Claim, Relation, Rows, expanded, rule_counts, size

if TYPE_CHECKING:
    from ..declared.ruleset import RuleSet
    from ..declared.sources import Loaded
    from .tables import Table

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
    marked_cells: int = 0  # cells marked in it (or in its copy) by this run
    marked: bool | None = None  # with --mark: whether the marks were written (mark_error says why not)

    @property
    def readable(self) -> bool:
        """The workbook was read and checked (its findings say whether it passed)."""
        return self.error is None

    @property
    def passed(self) -> bool:
        """Read, checked, and no error-severity finding (warnings allowed), as exit status 0 means."""
        return self.error is None and not self.errors

    @property
    def ok(self) -> bool:
        """Deprecated alias of ``readable`` (it was True for a workbook full of errors); the JSON field keeps the name."""
        import warnings

        warnings.warn("Report.ok is deprecated: use Report.readable (or Report.passed)", DeprecationWarning, stacklevel=2)
        return self.readable

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
) -> Gathered:
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
        report.error = _bug(exc)
    _unchecked(report)
    return Gathered(report, [], [], [])


def _bug(exc: BaseException) -> str:
    return f"could not be checked: {type(exc).__name__}: {exc} (a tallycheck bug: please report it)"


def _unchecked(report: Report) -> None:
    """A report whose workbook could not be checked says only why."""
    report.findings.clear()
    report.tables.clear()
    report.series.clear()


def data_sheets(book: Workbook, declared: RuleSet) -> list[Sheet]:
    """The sheets that hold the analyst's tables: not our summary sheet, not a Rules sheet."""
    from ..marks.plan import is_summary_sheet

    return [s for s in book.sheets if not (is_summary_sheet(s.name, s.value(0, 0)) or declared.skips(s))]


class Gathered(NamedTuple):
    """One workbook read, its claims listed; the series tables wait to be drawn until a day fails."""

    report: Report
    claims: list[Claim]
    sheets: list[str]
    series_tables: list[Table]


def _gather_book(book: Workbook, report: Report, rules: Path | None = None, also: Sequence[Loaded] = ()) -> Gathered:
    """Find a read workbook's tables and list their relations (a file's, or a live Excel book's).

    Declared rules (the workbook's Rules sheet, ``rules`` or the tallycheck.toml found beside it)
    join the inferred relations table by table; ``finish`` adds cell relations and rule errors.
    """
    from ..declared import declared_rules
    from .tables import find_tables

    declared = declared_rules(book, rules, also)
    relations: list[Claim] = []
    series_tables: list[Table] = []
    for sheet in data_sheets(book, declared):
        for table in find_tables(sheet):
            found, direct = table_relations(table, declared, as_rows=True)
            if any(r.kind == "never_falls" for r in found):
                series_tables.append(table)
            relations.extend(found)
            report.findings.extend(direct)
            report.tables.append(
                TableSummary(
                    sheet=sheet.name, name=table.name, title=table.title,
                    columns=tuple((c.name, c.role) for c in table.columns),
                    relations=rule_counts(found),
                )
            )
    found, direct = declared.finish()
    relations.extend(found)
    report.findings.extend(direct)
    report.findings[:] = _uncalculated_once(report.findings, book)
    return Gathered(report, relations, [s.name for s in book.sheets], series_tables)


def _uncalculated_once(findings: list[Finding], book: Workbook) -> list[Finding]:
    """Formulas with no calculated value are one note for the workbook, not a warning per cell:
    they are not the analyst's mistake, and what they compute is left unchecked, never read as 0.
    Counted from the sheets, so that a column of nothing but such formulas is noted too."""
    from .findings import Finding

    refs = [(sheet, ref) for sheet in book.sheets for ref in sorted(sheet.uncached, key=parse_ref)]
    others = [f for f in findings if f.rule != "no_cached_value"]
    if not refs:
        return others
    sheet, ref = refs[0]
    why = (
        "the file asks Excel to recalculate when it opens" if book.recalculates
        else "the file was saved by a program that does not calculate"
    )
    n = len(refs)
    note = Finding(
        rule="no_cached_value", severity="info", sheet=sheet.name, cell=ref,
        cells=tuple(r if s is sheet else f"{s.name}!{r}" for s, r in refs[:50]), expected=None, found=None, tolerance=0,
        message=f"{n} formula{'s' if n != 1 else ''} ha{'ve' if n != 1 else 's'} no calculated value ({why}), first "
        f"{sheet.name}!{ref} (={sheet.formula(ref) or ''}): what {'they compute is' if n != 1 else 'it computes is'} not "
        "checked. Open and save the workbook in Excel (or recalculate it) to check them",
    )
    return [*others, note]


def table_relations(
    table: Table, declared: RuleSet | None = None, as_rows: bool = False
) -> tuple[list[Relation], list[Finding]]:
    """A table's relations, inferred and declared, and the findings that need no arithmetic.

    The declared rules (the workbook's Rules sheet, a tallycheck.toml) say which cells hold no figure
    before inference reads them, then add what they state and apply their switches; inference never
    looks at them. A proposal no reading explains is one ``info`` note, unless a rule speaks for it.
    ``as_rows``: many claims may stay ``Rows`` blocks (the engine's own run), not one Relation each.
    """
    from .rules import Reader, inferred_relations, unexplained

    if declared is not None:
        declared.prepare(table)
    reader = Reader(table)
    relations: list[Claim] = inferred_relations(table, reader)
    if not as_rows or (declared is not None and declared.entries):  # rules sift and tune relation by relation
        relations = expanded(relations)
    if declared is not None:
        relations, direct = declared.apply(table, reader, relations)  # type: ignore[arg-type]
    else:
        direct = list(reader.uncached.values())
    stated = {r.rule for r in relations if isinstance(r, Relation) and "declared" in r.facts}  # the analyst has said what holds there
    return relations, direct + [f for f in unexplained(table) if f.rule not in stated]


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


def check_books(books: Sequence[Workbook], rules: Path | None = None, also: Sequence[Loaded] = ()) -> list[Report]:
    """Check workbooks already read into grids (e.g. a live Excel book read through xlwings).

    ``also``: declared rules from elsewhere (the Excel add-in's Settings), joined to each book's own.
    """
    with _few_collections:
        return _validated([_gather_book(book, Report(book.path), rules, also) for book in books])


def _validated(gathered: list[Gathered]) -> list[Report]:
    """Validate every gathered claim (once per kind) and attach the findings to their reports."""
    from bisect import bisect_right

    from .checks import failed_checks, severity_of
    from .messages import finding_of

    claims: list[Claim] = []
    owner: list[int] = []
    for n, (_, rels, _, _) in enumerate(gathered):
        claims.extend(rels)
        owner.extend([n] * len(rels))
    starts = list(itertools.accumulate(map(size, claims), initial=0))
    verdicts: dict[int, tuple[str | None, int, Relation]] = {}
    broken_books: set[int] = set()
    for position, failed in failed_checks(claims).items():
        n = bisect_right(starts, position) - 1  # the claim this frame row belongs to
        claim = claims[n]
        try:
            rel = claim.build(position - starts[n]) if isinstance(claim, Rows) else claim
        except Exception as exc:  # one odd workbook must not stop a run of thousands
            gathered[owner[n]].report.error = _bug(exc)
            broken_books.add(owner[n])
            continue
        verdicts[position] = (severity_of(rel.kind, failed), n, rel)
    checked: Counter[str] = Counter()
    for claim in claims:
        if isinstance(claim, Rows):
            if claim.reading is not None:
                checked[claim.reading] += len(claim)
        elif "reading" in claim.facts:
            checked[claim.facts["reading"]] += 1
    broken: Counter[str] = Counter(rel.facts["reading"] for s, _, rel in verdicts.values() if s and "reading" in rel.facts)
    for severity, n, rel in verdicts.values():
        if severity is not None:
            if "reading" in rel.facts:
                key = rel.facts["reading"]
                rel.facts["support"] = (checked[key] - broken[key], checked[key])
            gathered[owner[n]][0].findings.append(finding_of(rel, severity))  # type: ignore[arg-type]
    reports = []
    for n, (report, _, sheets, series_tables) in enumerate(gathered):
        if n not in broken_books:
            try:
                report.series = _flagged_series(report, series_tables)
            except Exception as exc:  # drawn from the workbook's grid, as its claims were: its own error
                report.error = _bug(exc)
                broken_books.add(n)
        if n in broken_books:
            _unchecked(report)
        else:
            report.findings.sort(key=lambda f, s=sheets: _sheet_order(s, f))
        reports.append(report)
    return reports


def _flagged_series(report: Report, tables: list[Table]) -> list[Series]:
    """Only the series with discrepant days, each knowing which days those are (drawn only then)."""
    from dataclasses import replace

    from .rules import series_of

    failing = {f.table for f in report.findings if f.extra.get("series") is not None}
    out = []
    for series in (s for table in tables if table.name in failing for s in series_of(table)):
        days = tuple(
            sorted({f.extra["date"] for f in report.findings if f.table == series.table and f.extra.get("series") == series.column})
        )
        if days:
            out.append(replace(series, flagged=days))
    return out


def check_workbook(path: Path | str, rules: Path | None = None, max_size: int = DEFAULT_MAX_SIZE) -> Report:
    """Check one workbook: every table found, every relation inferred or declared, every discrepancy by cell.

    A path that does not exist raises FileNotFoundError, as open() would (a typo is the caller's
    bug); a file that exists but cannot be read is a Report with ``error`` set, as in a batch.
    """
    if not Path(path).exists():
        raise FileNotFoundError(2, "No such file or directory", str(path))
    return check_workbooks([path], rules=rules, max_size=max_size)[0]
