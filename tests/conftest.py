"""Shared helpers: workbooks the tests write themselves, and where the third-party corpus lives.

Every test writes its own files, except those marked ``corpus``: they read third-party workbooks
from ``../shared/`` (beside the repository, on development machines only) and skip without it.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
SHARED = ROOT.parent / "shared"
CALAMINE = SHARED / "data" / "calamine-tests"
NO_CORPUS = f"corpus test: needs the third-party workbooks in {SHARED} (development machines only)"


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Corpus tests skip, with one line saying why, where ../shared is absent (a fresh clone, CI)."""
    if item.get_closest_marker("corpus") is not None and not CALAMINE.is_dir():
        pytest.skip(NO_CORPUS)


def run_cli(
    *args: str, cwd: Path | None = None, stdin: bytes | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`tallycheck ARGS` in a real process, as a user runs it (text out; ``stdin`` bytes in)."""
    result = subprocess.run(
        [sys.executable, "-m", "tallycheck", *args], capture_output=True, cwd=cwd, timeout=120, input=stdin,
        env={**os.environ, **(env or {})},
    )
    return subprocess.CompletedProcess(result.args, result.returncode, result.stdout.decode(), result.stderr.decode())


def encrypted_workbook(path: Path, password: str = "secret") -> Path:
    """A password-protected .xlsx (ECMA-376 agile encryption, as Excel writes it)."""
    from msoffcrypto.format.ooxml import OOXMLFile

    plain = io.BytesIO()
    write_rows(plain, {"Losses": [["Year", "Killed"], ["2024", 1]]})
    plain.seek(0)
    with path.open("wb") as out:
        OOXMLFile(plain).encrypt(password, out)
    return path


def damaged_zip(path: Path) -> Path:
    """A workbook whose workbook part no longer matches its zip checksum (a bad copy, a bad disk)."""
    plain = io.BytesIO()
    write_rows(plain, {"Sheet1": [["Year", "Killed", "Wounded", "Total"], ["2024", 1, 2, 3]]})
    data = bytearray(plain.getvalue())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as z:
        info = z.getinfo("xl/workbook.xml")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + info.compress_size // 2] ^= 0x55
    path.write_bytes(bytes(data))
    return path


def write_rows(path: Path | io.BytesIO, sheets: dict[str, list[list[object]]], formats: dict[str, str] | None = None) -> Path:
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


@pytest.fixture(autouse=True)
def _own_addin_settings(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """The add-in reads its Settings from the user's own config file: on a developer's Windows or
    Mac that is a real file, which must not change what the tests find. Each test gets an empty one."""
    from tallycheck.excel import install

    loc = install.locations("win32", home=tmp_path_factory.mktemp("home"), env={})
    real = install.user_settings
    monkeypatch.setattr(install, "user_settings", lambda where=None: real(where or loc))
