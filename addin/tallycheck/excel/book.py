"""A workbook open in Excel -> tallycheck.engine.grid.Workbook, read in bulk through xlwings.

Per sheet: one read of the used range's values, one of its formulas, one number format per
column (a column of one format is one call; only a mixed column is read cell by cell, and then only
its numeric cells, the only ones whose format matters) and merged areas only in rows that have
any. The grid is what the file reader makes of the same workbook saved to disk: numbers as
floats, dates without a time as dates, errors as empty cells listed in ``errors``, the same origin
and extent (trimmed to the cells with content), so the engine finds the same tables and relations.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..engine.grid import Sheet, Workbook, cell_ref

_ERRORS = frozenset({
    "#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA", "#SPILL!",
    "#CALC!", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!", "#PYTHON!",
})


def read_book(book: Any, sheets: Iterable[str] | None = None) -> Workbook:
    """Read every worksheet (or only those named) of a live xlwings Book.

    The workbook is labelled by ``book.name``, never ``book.fullname``: for a workbook opened from
    SharePoint, Teams or OneDrive, xlwings turns the web address into a local path, which can fail
    or search the disk for minutes, and the path is only a label here.
    """
    wanted = set(sheets) if sheets is not None else None
    out = []
    for sheet in book.sheets:
        if wanted is not None and sheet.name not in wanted:
            continue
        out.append(read_sheet(sheet))
    return Workbook(Path(book.name), out)


def _grid(data: Any) -> list[list[Any]]:
    if isinstance(data, (list, tuple)):
        return [list(r) if isinstance(r, (list, tuple)) else [r] for r in data]
    return [[data]]


def _value(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, (bool, str)):
        return v
    if isinstance(v, int):
        return float(v)
    if isinstance(v, dt.datetime):
        return v.date() if v.time() == dt.time(0) and v.tzinfo is None else v
    return v


def read_sheet(sheet: Any) -> Sheet:
    """One worksheet: values, formulas, errors, number formats of numbers, merged areas."""
    used = sheet.used_range
    top, left = used.row - 1, used.column - 1
    raw = _grid(used.options(ndim=2, err_to_str=True).value)
    formulas_raw = _grid(used.formula)
    rows: list[list[Any]] = []
    errors: dict[str, str] = {}
    formulas: dict[str, str] = {}
    for i, row in enumerate(raw):
        out_row = []
        for j, v in enumerate(row):
            if isinstance(v, str) and v in _ERRORS:
                errors[cell_ref(top + i, left + j)] = v
                out_row.append("")
            else:
                out_row.append(_value(v))
        rows.append(out_row)
    for i, row in enumerate(formulas_raw):
        for j, f in enumerate(row):
            if isinstance(f, str) and f.startswith("=") and len(f) > 1:
                formulas[cell_ref(top + i, left + j)] = f[1:]

    # Trim to the cells with content, as the file reader's extent is.
    filled = [
        (i, j) for i, row in enumerate(rows) for j, v in enumerate(row)
        if v != "" or cell_ref(top + i, left + j) in errors
    ]
    if not filled:
        return Sheet(sheet.name, [], (0, 0), formulas=formulas, errors=errors, hidden=not sheet.visible)
    i0 = min(i for i, _ in filled)
    i1 = max(i for i, _ in filled)
    j0 = min(j for _, j in filled)
    j1 = max(j for _, j in filled)
    rows = [r[j0 : j1 + 1] for r in rows[i0 : i1 + 1]]
    origin = (top + i0, left + j0)
    result = Sheet(
        sheet.name, rows, origin, formulas=formulas, errors=errors, hidden=not sheet.visible
    )
    result.formats = _formats(sheet, result)
    result.merged = _merged(sheet, result)
    return result


def _relevant(code: Any) -> bool:
    if not isinstance(code, str) or not code or code.lower() == "general" or code == "@":
        return False
    from openpyxl.styles.numbers import is_date_format

    return not is_date_format(code)


def _formats(sheet: Any, grid: Sheet) -> dict[str, str]:
    """Number formats of the numeric cells, one call per column unless a column mixes formats."""
    out: dict[str, str] = {}
    r0, c0 = grid.origin
    height = len(grid.rows)
    for j in range(len(grid.rows[0]) if grid.rows else 0):
        numeric = [
            i for i, row in enumerate(grid.rows)
            if isinstance(row[j], (int, float)) and not isinstance(row[j], bool)
        ]
        if not numeric:
            continue
        column = sheet.range((r0 + 1, c0 + j + 1), (r0 + height, c0 + j + 1))
        code = column.number_format
        if code is not None:
            if _relevant(code):
                out.update({cell_ref(r0 + i, c0 + j): code for i in numeric})
            continue
        for i in numeric:
            code = sheet.range((r0 + i + 1, c0 + j + 1)).number_format
            if _relevant(code):
                out[cell_ref(r0 + i, c0 + j)] = code
    return out


def _merged(sheet: Any, grid: Sheet) -> list[tuple[int, int, int, int]]:
    """Merged areas as (first row, first col, last row, last col), 0-based."""
    if not grid.rows:
        return []
    r0, c0 = grid.origin
    height, width = len(grid.rows), len(grid.rows[0])
    whole = sheet.range((r0 + 1, c0 + 1), (r0 + height, c0 + width))
    if whole.merge_cells is False:
        return []
    found: dict[tuple[int, int, int, int], None] = {}
    for i in range(height):
        row = sheet.range((r0 + i + 1, c0 + 1), (r0 + i + 1, c0 + width))
        if row.merge_cells is False:
            continue
        j = 0
        while j < width:
            cell = sheet.range((r0 + i + 1, c0 + j + 1))
            if cell.merge_cells:
                area = cell.merge_area
                last = area.last_cell
                found[(area.row - 1, area.column - 1, last.row - 1, last.column - 1)] = None
                j = last.column - c0
            else:
                j += 1
    return list(found)
