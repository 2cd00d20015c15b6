"""Shared helpers: where the real data lives, and a small workbook writer for layout tests."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
SHARED = ROOT.parent / "shared"
CALAMINE = SHARED / "data" / "calamine-tests"


def write_rows(path: Path, sheets: dict[str, list[list[object]]], formats: dict[str, str] | None = None) -> Path:
    """Write a workbook from {sheet: [[row values], ...]} with openpyxl; returns its path.

    Strings starting with '=' become formulas with no cached value, as any script-written file has.
    ``formats`` maps "Sheet!B2" to a number format.
    """
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
        for ref, fmt in (formats or {}).items():
            sheet, _, cell = ref.rpartition("!")
            if sheet == title:
                ws[cell].number_format = fmt
    wb.save(path)
    return path


@pytest.fixture
def write_book(tmp_path: Path):
    """write_rows into the test's own folder: write_book(sheets, name="book.xlsx", formats=None)."""

    def write(sheets: dict[str, list[list[object]]], name: str = "book.xlsx", formats: dict[str, str] | None = None) -> Path:
        return write_rows(tmp_path / name, sheets, formats)

    return write


def flagged(report) -> set[tuple[str, str, str, str]]:
    """(sheet, cell, rule, severity) of every finding: what a user sees marked."""
    return {(f.sheet, f.cell, f.rule, f.severity) for f in report.findings}
