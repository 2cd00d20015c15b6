"""The run as CSV: one row a finding, one row per unreadable workbook, ready for Excel or pandas."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from pathlib import Path

from ..engine import Report
from ._shared import atomic_path, display_path

COLUMNS = ("path", "sheet", "cell", "rule", "severity", "expected", "found", "tolerance", "message", "cells")

UNREADABLE_RULE = "unreadable"

# Excel runs a cell that starts with one of these as a formula, even from a CSV (CSV injection):
# sheet names, labels and so messages come from workbooks someone else wrote.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _text(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


def _value(value: object) -> object:
    """Numbers stay numbers; text is guarded; None is an empty field."""
    if value is None:
        return ""
    if isinstance(value, str):
        return _text(value)
    return value


def rows(reports: Sequence[Report]) -> Iterator[tuple[object, ...]]:
    """The data rows, in the order of ``COLUMNS``: each finding, and each unreadable workbook's reason."""
    for report in reports:
        path = _text(display_path(report.path))
        if report.error is not None:
            yield (path, "", "", UNREADABLE_RULE, "error", "", "", "", _text(report.error), "")
            continue
        for f in report.findings:
            yield (
                path, _text(f.sheet), f.cell, f.rule, f.severity,
                _value(f.expected), _value(f.found), _value(f.tolerance), _text(f.message), ", ".join(f.cells),
            )


def write_csv(path: Path, reports: Sequence[Report]) -> None:
    """UTF-8 with a BOM, because without one Excel reads the file as ANSI and garbles "–" and "≤"."""
    with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        writer.writerows(rows(reports))
