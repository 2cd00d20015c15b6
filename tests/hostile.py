"""Helpers for the hostile-input tests: mutate a workbook's parts, run the CLI, read values back."""

from __future__ import annotations

import io
import json
import math
import os
import re
import subprocess
import sys
import threading
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook

SHEET = "xl/worksheets/sheet1.xml"
#: A losses table whose E4 total is off by 1,000: one finding, so marking writes a fill and a note.
ROWS = [
    ["Year", "Killed", "Wounded", "Missing", "Total"],
    [2022, 100, 200, 30, 330],
    [2023, 110, 220, 33, 363],
    [2024, 120, 240, 36, 1396],
]


def losses_book(path: Path, *, dated: bool = False) -> Path:
    """The ROWS table on a sheet "Losses" (with a date-formatted A6 when ``dated``), by openpyxl."""
    import datetime as dt

    wb = Workbook()
    ws = wb.active
    ws.title = "Losses"
    for row in ROWS:
        ws.append(row)
    if dated:
        ws["A6"] = dt.date(2024, 2, 24)
    wb.save(path)
    return path


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {i.filename: z.read(i) for i in z.infolist()}


def rewrite(path: Path, out: Path, edits: dict[str, Callable[[bytes], bytes]] | None = None,
            extra: dict[str, bytes] | None = None) -> Path:
    """A copy of a package with some members' bytes edited and some added (names may repeat)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if edits and info.filename in edits:
                data = edits[info.filename](data)
            dst.writestr(info.filename, data)
        for name, data in (extra or {}).items():
            dst.writestr(name, data)
    out.write_bytes(buf.getvalue())
    return out


def sub(pattern: bytes, repl: bytes) -> Callable[[bytes], bytes]:
    """An edit that must change something: re.sub, asserting the pattern was found."""

    def edit(data: bytes) -> bytes:
        new, n = re.subn(pattern, repl, data, count=1)
        assert n, f"{pattern!r} not found"
        return new

    return edit


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    peak_mb: float

    def json(self) -> dict[str, Any]:
        return json.loads(self.stdout)


def cli(*args: str, cwd: Path | None = None, timeout: float = 120) -> Run:
    """``tallycheck ARGS`` in a fresh process; its exit status, output and peak resident memory.

    ``timeout`` only stops a hung run (the test then fails); it is not a speed check.
    """
    proc = subprocess.Popen([sys.executable, "-m", "tallycheck", *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    chunks: dict[str, bytes] = {}

    def drain(name: str, stream: Any) -> None:
        chunks[name] = stream.read()

    readers = [threading.Thread(target=drain, args=(n, s)) for n, s in (("out", proc.stdout), ("err", proc.stderr))]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join(timeout)
    if any(reader.is_alive() for reader in readers):
        proc.kill()
        proc.wait()
        raise subprocess.TimeoutExpired(args, timeout)
    peak = 0.0
    if hasattr(os, "wait4"):  # this child's own peak, not the largest of all children so far
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        peak = usage.ru_maxrss / 1024
    else:  # pragma: no cover - Windows
        proc.wait()
    return Run(proc.returncode, chunks["out"].decode("utf-8", "replace"), chunks["err"].decode("utf-8", "replace"), peak)


def values(path: Path) -> dict[str, dict[tuple[int, int], Any]]:
    """Every sheet's non-empty cells as python-calamine reads them, by (row, column) of the sheet."""
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(str(path))
    out = {}
    for name in book.sheet_names:
        sheet = book.get_sheet_by_name(name)
        r0, c0 = sheet.start or (0, 0)
        out[name] = {(r0 + i, c0 + j): _same(v) for i, row in enumerate(sheet.to_python(skip_empty_area=True))
                     for j, v in enumerate(row) if v != ""}
    return out


def openpyxl_values(path: Path) -> dict[str, dict[tuple[int, int], Any]]:
    """Every sheet's non-empty cells as openpyxl reads them, by 0-based (row, column)."""
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True)
    try:
        return {ws.title: {(cell.row - 1, cell.column - 1): _same(cell.value) for row in ws.iter_rows()
                           for cell in row if getattr(cell, "value", None) is not None}
                for ws in wb.worksheets}
    finally:
        wb.close()


def _same(v: Any) -> Any:
    """NaN as a value equal to itself, so that a sheet holding one compares equal to its copy."""
    return "nan" if isinstance(v, float) and math.isnan(v) else v


def no_traceback(run: Run) -> bool:
    return "Traceback (most recent call last)" not in run.stdout + run.stderr
