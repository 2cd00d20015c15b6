"""The run as an Excel workbook: one row a finding, each a hyperlink to its workbook and to its cell.

An analyst filters and sorts the findings and clicks straight through to the marked cell: the
hyperlinks are external links (``file:///abs/book.xlsx`` with location ``'Sheet'!E7``), which Excel
and LibreOffice follow into the other workbook's cell.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.url import Url
from xlsxwriter.worksheet import Worksheet

from .. import __version__
from ..engine import Report
from ..report import summary_line
from ._shared import atomic_path, display_path, run_stamp

FINDING_COLUMNS = ("Workbook", "Sheet", "Cell", "Rule", "Severity", "Message", "Expected", "Found", "Tolerance", "Cells")
WORKBOOK_COLUMNS = ("Workbook", "Status", "Tables", "Errors", "Warnings", "Reason")
UNREADABLE_RULE = "unreadable"

_MAX_ROWS = 1_048_576  # Excel's sheet height
_MAX_LINKS = 65_530  # Excel's hyperlinks per sheet; xlsxwriter drops the cell (text too) past it
_WIDTH_CAP = {"Workbook": 60, "Message": 110, "Cells": 40, "Reason": 90}


def file_url(path: Path, location: str | None = None) -> Url:
    """An absolute ``file:///`` hyperlink, optionally to a cell (``'Sheet'!E7``).

    xlsxwriter's own ``file://`` parsing turns a POSIX path (no drive letter) into a relative link
    (``work\\main\\book.xlsx``), which Excel and LibreOffice then resolve against the report's folder.
    Spelling the scheme ``FILE:`` takes xlsxwriter's generic-URL branch, which keeps the path as is and
    splits off the location; the scheme is then written in its usual lower case. Non-ASCII characters
    stay as they are (as Excel itself writes them); the characters a URL cannot hold are escaped.
    Raises ValueError past Excel's URL length.
    """
    absolute = "".join(_escape_char(c) for c in path.resolve().as_posix())
    if absolute.startswith("//"):  # UNC: //server/share/book.xlsx
        target = "FILE:" + absolute
    elif absolute.startswith("/"):
        target = "FILE://" + absolute
    else:  # C:/Users/...
        target = "FILE:///" + absolute
    url = Url(target + ("#" + location if location else ""))
    for attr in ("_link", "_relationship_link"):
        value = getattr(url, attr, None)
        if isinstance(value, str) and value.startswith("FILE:"):
            setattr(url, attr, "file:" + value[5:])
    return url


_URL_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~/:!$&'()*+,;=@")


def _escape_char(char: str) -> str:
    if char in _URL_SAFE or ord(char) > 127:
        return char
    return "".join(f"%{byte:02X}" for byte in char.encode())


def cell_location(sheet: str, cell: str) -> str:
    """``'Sheet'!E7``: always quoted, quotes doubled, as Excel writes a reference to any sheet name."""
    return "'" + sheet.replace("'", "''") + "'!" + cell


class _Sheet:
    """A worksheet written row by row that remembers column widths and Excel's limits."""

    def __init__(self, book: xlsxwriter.Workbook, name: str, columns: Sequence[str], header: Any) -> None:
        self.ws: Worksheet = book.add_worksheet(name)
        self.columns = columns
        self.widths = [len(c) + 2 for c in columns]
        self.links = 0
        self.row = 0
        self.ws.write_row(0, 0, columns, header)

    def full(self) -> bool:
        return self.row >= _MAX_ROWS - 2  # keep one row for the note that says rows were left out

    def next_row(self) -> int:
        self.row += 1
        return self.row

    def text(self, col: int, value: str, fmt: Any = None) -> None:
        self.ws.write_string(self.row, col, value, fmt)
        self._fit(col, value)

    def number(self, col: int, value: object, fmt_int: Any, fmt_float: Any) -> None:
        """A figure as a number Excel can sort and sum; text figures ("over 200,000") stay text."""
        if value is None:
            return
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            self.text(col, str(value))
            return
        integral = float(value).is_integer()
        self.ws.write_number(self.row, col, value, fmt_int if integral else fmt_float)
        self._fit(col, f"{value:,.0f}" if integral else f"{value:,.4g}")

    def link(self, col: int, path: Path, location: str | None, label: str, fmt: Any, tip: str) -> None:
        """A hyperlink while Excel allows one more, else the label alone (a path too long for a URL too)."""
        url = None
        if self.links < _MAX_LINKS:
            try:
                url = file_url(path, location)
                url.text = label
                url.tip = tip if len(tip) <= 120 else tip[:119] + "…"
            except ValueError:
                url = None
        if url is None:
            self.ws.write_string(self.row, col, label)
        else:
            self.links += 1
            self.ws.write_url(self.row, col, url, fmt)
        self._fit(col, label)

    def _fit(self, col: int, value: str) -> None:
        width = len(value) + 2
        if width > self.widths[col]:
            self.widths[col] = width

    def finish(self, left_out: int) -> None:
        """Widths, frozen header, autofilter, print setup; and a note when Excel's height left rows out."""
        if left_out:
            self.ws.write_string(self.row + 1, 0, f"{left_out:,} more rows left out: a sheet holds {_MAX_ROWS:,} rows. See the CSV or JSON report.")
        for col, (name, width) in enumerate(zip(self.columns, self.widths, strict=True)):
            self.ws.set_column(col, col, min(width, _WIDTH_CAP.get(name, 24)))
        self.ws.freeze_panes(1, 0)
        self.ws.autofilter(0, 0, max(self.row, 1), len(self.columns) - 1)
        # printed: every column on the page, the header on every page
        self.ws.set_landscape()
        self.ws.fit_to_pages(1, 0)
        self.ws.repeat_rows(0)
        self.ws.set_footer("&L&A&RPage &P of &N")


def write_xlsx(path: Path, reports: Sequence[Report], *, started: datetime | None = None, elapsed: float | None = None) -> None:
    """Findings (first sheet, one row each) and Workbooks (one row each, clean ones too)."""
    with atomic_path(path) as tmp:
        book = xlsxwriter.Workbook(
            str(tmp), {"strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False}
        )
        properties: dict[str, Any] = {
            "title": "tallycheck report",
            "subject": summary_line(reports),
            "comments": "; ".join(filter(None, [run_stamp(started, elapsed), f"tallycheck {__version__}"])),
        }
        if started is not None:
            properties["created"] = started
        book.set_properties(properties)
        fmt = _formats(book)
        _findings_sheet(book, reports, fmt)
        _workbooks_sheet(book, reports, fmt)
        book.close()


def _formats(book: xlsxwriter.Workbook) -> dict[str, Any]:
    return {
        "header": book.add_format({"bold": True, "bg_color": "#1F3A5F", "font_color": "#FFFFFF", "border": 1, "border_color": "#1F3A5F"}),
        "error": book.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006", "bold": True}),
        "warning": book.add_format({"bg_color": "#FFEB9C", "font_color": "#9C5700", "bold": True}),
        "ok": book.add_format({"bg_color": "#C6EFCE", "font_color": "#006100"}),
        "link": book.add_format({"font_color": "#0563C1", "underline": 1}),
        "int": book.add_format({"num_format": "#,##0"}),
        "float": book.add_format({"num_format": "#,##0.0###"}),
    }


def _findings_sheet(book: xlsxwriter.Workbook, reports: Sequence[Report], fmt: dict[str, Any]) -> None:
    sheet = _Sheet(book, "Findings", FINDING_COLUMNS, fmt["header"])
    left_out = 0
    for report in reports:
        name = display_path(report.path)
        items = [None] if report.error is not None else report.findings
        for f in items:
            if sheet.full():
                left_out += 1
                continue
            sheet.next_row()
            sheet.link(0, report.path, None, name, fmt["link"], f"Open {report.path.name}")
            if f is None:
                sheet.text(3, UNREADABLE_RULE)
                sheet.text(4, "error", fmt["error"])
                sheet.text(5, report.error or "")
                continue
            sheet.text(1, f.sheet)
            sheet.link(2, report.path, cell_location(f.sheet, f.cell), f.cell, fmt["link"], f"Go to {f.sheet}!{f.cell}")
            sheet.text(3, f.rule)
            sheet.text(4, f.severity, fmt.get(f.severity))
            sheet.text(5, f.message)
            sheet.number(6, f.expected, fmt["int"], fmt["float"])
            sheet.number(7, f.found, fmt["int"], fmt["float"])
            sheet.number(8, f.tolerance, fmt["int"], fmt["float"])
            sheet.text(9, ", ".join(f.cells))
    sheet.finish(left_out)
    sheet.ws.activate()


def _workbooks_sheet(book: xlsxwriter.Workbook, reports: Sequence[Report], fmt: dict[str, Any]) -> None:
    sheet = _Sheet(book, "Workbooks", WORKBOOK_COLUMNS, fmt["header"])
    left_out = 0
    for report in reports:
        if sheet.full():
            left_out += 1
            continue
        sheet.next_row()
        sheet.link(0, report.path, None, display_path(report.path), fmt["link"], f"Open {report.path.name}")
        if report.error is not None:
            sheet.text(1, "unreadable", fmt["error"])
            sheet.text(5, report.error)
            continue
        status = "errors" if report.errors else "warnings" if report.warnings else "ok"
        sheet.text(1, status, fmt["error" if report.errors else "warning" if report.warnings else "ok"])
        sheet.number(2, len(report.tables), fmt["int"], fmt["float"])
        sheet.number(3, report.errors, fmt["int"], fmt["float"])
        sheet.number(4, report.warnings, fmt["int"], fmt["float"])
    sheet.finish(left_out)
