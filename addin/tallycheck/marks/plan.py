"""What the marks say: one mark per cell, the note's words, the summary sheet's rows.

Pure functions of the findings; no workbook here, so a file and a live Excel book get the same
fills, the same notes and the same summary.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..engine.findings import SEVERITY_ORDER, Finding
from .refs import normalize_a1

#: Fills by severity: Excel's own "Bad" (light red) and "Neutral" (light amber) colours.
FILLS = {"error": "FFFFC7CE", "warning": "FFFFEB9C"}
#: Base name of the summary sheet; a suffix is added if the workbook already has one.
SUMMARY_SHEET = "tallycheck"
SUMMARY_TITLE_PREFIX = "tallycheck: "  # the summary sheet's A1 starts so (see summary())


def is_summary_sheet(name: str, first_cell: object) -> bool:
    """A sheet a previous run added: named after SUMMARY_SHEET, its A1 our title (by a file or by Excel)."""
    return name.lower().startswith(SUMMARY_SHEET) and isinstance(first_cell, str) and first_cell.startswith(SUMMARY_TITLE_PREFIX)
#: Every note we write starts with this, so a reader (and clear) can tell it is ours.
NOTE_TAG = "tallycheck"

SUMMARY_HEADERS = (
    "Sheet", "Cell", "Rule", "Severity", "Expected", "Found", "Difference", "Tolerance",
    "Cells involved", "Message",
)


@dataclass(frozen=True)
class CellMark:
    """Everything one marked cell gets: the worst severity's fill and all its findings' notes."""

    sheet: str
    cell: str
    findings: tuple[Finding, ...]

    @property
    def severity(self) -> str:
        """The worst severity among the cell's findings."""
        return min((f.severity for f in self.findings), key=lambda s: SEVERITY_ORDER.get(s, 9))

    @property
    def fill(self) -> str:
        """ARGB colour of the cell's fill."""
        return FILLS.get(self.severity, FILLS["warning"])


def plan(findings: Sequence[Finding]) -> list[CellMark]:
    """Group findings by the cell they mark (ValueError for a reference that is not a cell).

    An ``info`` finding (a relation left unchecked, formulas not calculated) marks no cell: it
    says what was not checked, not that something is wrong."""
    groups: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        if f.severity == "info":
            continue
        groups.setdefault((f.sheet, normalize_a1(f.cell)), []).append(f)
    return [
        CellMark(sheet, cell, tuple(sorted(fs, key=lambda f: SEVERITY_ORDER.get(f.severity, 9))))
        for (sheet, cell), fs in groups.items()
    ]


def fmt(value: object) -> str:
    """A figure as an analyst writes it: 1,050,250 / 343.2258 / text as is / '-' if none."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value.is_integer() and abs(value) < 1e15:
            return f"{int(value):,}"
        return f"{value:,.6f}".rstrip("0").rstrip(".")
    return str(value)


def difference(f: Finding) -> float | int | None:
    """found - expected, when both are numbers."""
    e, x = f.expected, f.found
    numeric = (int, float)
    if isinstance(e, numeric) and isinstance(x, numeric) and not isinstance(e, bool):
        d = x - e
        return round(d, 10) if isinstance(d, float) else d
    return None


def _tolerance(f: Finding) -> str:
    return "0 (must match exactly)" if not f.tolerance else fmt(f.tolerance)


def note_blocks(mark: CellMark, version: str) -> list[tuple[str, bool]]:
    """The note as (text, bold) runs: a tagged heading, then each finding in plain words."""
    n = len(mark.findings)
    if n == 1:
        f = mark.findings[0]
        heading = f"{NOTE_TAG}: {f.severity} ({f.rule})"
    else:
        heading = f"{NOTE_TAG}: {n} findings, worst {mark.severity}"
    parts: list[str] = []
    for i, f in enumerate(mark.findings):
        lines = []
        if n > 1:
            lines.append(f"{i + 1}. {f.severity} ({f.rule})")
        lines.append(f.message)
        lines.append(f"Expected: {fmt(f.expected)}")
        lines.append(f"Found: {fmt(f.found)}")
        diff = difference(f)
        if diff is not None:
            lines.append(f"Difference: {fmt(diff)} (found minus expected)")
        lines.append(f"Tolerance: {_tolerance(f)}")
        if f.cells:
            lines.append(f"Cells involved: {', '.join(f.cells)}")
        parts.append("\n".join(lines))
    body = "\n" + "\n\n".join(parts)
    body += f"\n\n(Added by tallycheck {version}; Clear marks on the Tally Check ribbon, or 'tallycheck clear', removes it.)"
    return [(heading, True), (body, False)]


@dataclass(frozen=True)
class SummaryRow:
    """One finding as a row of the summary sheet."""

    sheet: str
    cell: str
    rule: str
    severity: str
    expected: object
    found: object
    difference: object
    tolerance: object
    cells: str
    message: str

    def values(self) -> tuple[object, ...]:
        """The row's cells in SUMMARY_HEADERS order."""
        return (self.sheet, self.cell, self.rule, self.severity, self.expected, self.found,
                self.difference, self.tolerance, self.cells, self.message)


@dataclass(frozen=True)
class Summary:
    """The summary sheet's content, independent of how a workbook stores it."""

    title: str
    lines: tuple[str, ...]
    headers: tuple[str, ...]
    rows: tuple[SummaryRow, ...]


def summary(findings: Sequence[Finding], version: str, when: str, workbook: str) -> Summary:
    """Every finding, worst first within each sheet, with when and how the check ran."""
    errors = sum(1 for f in findings if f.severity == "error")
    warnings = len(findings) - errors
    order = {name: i for i, name in enumerate(dict.fromkeys(f.sheet for f in findings))}
    rows = [
        SummaryRow(
            f.sheet, normalize_a1(f.cell), f.rule, f.severity, _cell_value(f.expected),
            _cell_value(f.found), difference(f), f.tolerance, ", ".join(f.cells), f.message,
        )
        for f in sorted(
            findings, key=lambda f: (order[f.sheet], SEVERITY_ORDER.get(f.severity, 9))
        )
    ]
    noun = "finding" if len(findings) == 1 else "findings"
    return Summary(
        title=f"{SUMMARY_TITLE_PREFIX}{len(findings)} {noun} in {workbook}",
        lines=(
            f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}. "
            f"Checked {when} with tallycheck {version}.",
            "Marked cells have a red (error) or amber (warning) fill and a note. Click a cell "
            "reference to go to it. Clear marks (Tally Check ribbon) or 'tallycheck clear' removes the marks and this sheet.",
        ),
        headers=SUMMARY_HEADERS,
        rows=tuple(rows),
    )


def _cell_value(value: object) -> object:
    """Numbers stay numbers (so the sheet can sort them); anything else becomes text."""
    if value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        return value
    return str(value)


_FORBIDDEN_IN_SHEET_NAMES = set("[]:*?/\\")


def unique_sheet_name(base: str, taken: Iterable[str]) -> str:
    """base, or 'base (2)', ...: a valid sheet name no sheet has (Excel compares names case-insensitively)."""
    base = "".join("_" if ch in _FORBIDDEN_IN_SHEET_NAMES else ch for ch in base)[:31]
    used = {name.casefold() for name in taken}
    name, n = base, 1
    while name.casefold() in used:
        n += 1
        suffix = f" ({n})"
        name = base[: 31 - len(suffix)] + suffix
    return name
