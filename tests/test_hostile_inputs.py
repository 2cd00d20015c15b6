"""Hostile and broken workbooks: each is that workbook's error with its reason, never an abort or a traceback.

Every case is a small workbook built here (openpyxl, then one part edited with zipfile); the
crash-prone ones run the command line in a child process, so that a regression shows as a failed
assertion on its exit status and output rather than as a dead test run.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
import tallycheck
from hostile import SHEET, cli, losses_book, no_traceback, rewrite, sub
from tallycheck.engine import grid


@pytest.fixture
def book(tmp_path: Path) -> Path:
    return losses_book(tmp_path / "losses.xlsx")


def _one(run) -> dict:
    (workbook,) = run.json()["workbooks"]
    return workbook


def _corner_cell(ref: bytes) -> object:
    return sub(rb"</sheetData>", b'<row r="1048576"><c r="' + ref + b'"><v>1</v></c></row></sheetData>')


def test_a_stray_cell_at_XFD1048576_is_reported_with_the_cell_to_delete(book: Path, tmp_path: Path) -> None:
    bad = rewrite(book, tmp_path / "corner.xlsx", {SHEET: _corner_cell(b"XFD1048576")})
    run = cli("check", "--format", "json", "--no-cache", str(bad), str(book), cwd=tmp_path)
    assert run.code == 2 and no_traceback(run)
    corner, good = run.json()["workbooks"]
    assert "sheet 'Losses'" in corner["error"] and "XFD1048576" in corner["error"] and "delete it" in corner["error"]
    assert good["ok"] and [f["cell"] for f in good["findings"]] == ["E4"]  # the other workbook is still checked


def test_a_cell_reference_beyond_excels_grid_is_a_corrupt_sheet(book: Path, tmp_path: Path) -> None:
    bad = rewrite(book, tmp_path / "zzzz.xlsx", {SHEET: sub(rb'r="E4"', b'r="ZZZZ99999999999"')})
    run = cli("check", "--format", "json", "--no-cache", str(bad), cwd=tmp_path)
    assert run.code == 2 and no_traceback(run)
    assert "ZZZZ99999999999 is outside Excel's grid" in _one(run)["error"]


def test_a_far_cell_in_a_narrow_sheet_is_read_as_usual(book: Path, tmp_path: Path) -> None:
    """A value at A1048576 makes a tall, narrow box: within the limit, so the sheet is checked."""
    far = rewrite(book, tmp_path / "tall.xlsx", {SHEET: _corner_cell(b"A1048576")})
    report = tallycheck.check_workbook(far)
    assert report.readable and [f.cell for f in report.findings] == ["E4"]


@pytest.mark.parametrize("value", [b"-Infinity", b"-999999999999999999999999999999", b"1E+300"])
def test_a_date_cell_holding_no_possible_date_names_the_cell(tmp_path: Path, value: bytes) -> None:
    dated = losses_book(tmp_path / "dated.xlsx", dated=True)
    bad = rewrite(dated, tmp_path / "bad-date.xlsx", {SHEET: sub(rb'(<c r="A6"[^>]*><v>)[^<]*', rb"\g<1>" + value)})
    run = cli("check", "--format", "json", "--no-cache", str(bad), cwd=tmp_path)
    assert run.code == 2 and no_traceback(run)
    error = _one(run)["error"]
    assert "cell A6 is formatted as a date" in error and value.decode() in error
    assert "panicked" not in run.stderr  # refused before python-calamine could panic on it


def test_a_reader_panic_is_that_workbooks_error_and_the_batch_goes_on(book: Path, tmp_path: Path, monkeypatch) -> None:
    """python-calamine's PanicException derives from BaseException: it must not end the run."""
    from python_calamine import CalamineSheet

    class PanicException(BaseException):  # pyo3's, as the reader raises it
        pass

    def panic(self, *args, **kwargs):
        raise PanicException("TimeDelta::milliseconds out of bounds")

    other = losses_book(tmp_path / "other.xlsx")
    monkeypatch.setattr(CalamineSheet, "to_python", panic)
    first, second = tallycheck.check_workbooks([book, other])
    assert "cannot read sheet 'Losses'" in first.error and "out of bounds" in first.error
    assert "cannot read sheet 'Losses'" in second.error


def test_ctrl_c_inside_the_reader_still_stops_the_run(book: Path, monkeypatch) -> None:
    from python_calamine import CalamineSheet

    def interrupted(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(CalamineSheet, "to_python", interrupted)
    with pytest.raises(KeyboardInterrupt):
        tallycheck.check_workbook(book)


def _padded_sheet(pad: int) -> object:
    """The sheet with ``pad`` bytes of blanks before </sheetData>: inflates far more than it weighs."""
    return sub(rb"</sheetData>", b" " * pad + b"</sheetData>")


def test_a_workbook_over_max_size_is_too_large_and_says_how_to_raise_it(book: Path, tmp_path: Path) -> None:
    big = rewrite(book, tmp_path / "big.xlsx", {SHEET: _padded_sheet(3 << 20)})
    run = cli("check", "--format", "json", "--no-cache", "--max-size", "2M", str(big), cwd=tmp_path)
    assert run.code == 2 and no_traceback(run)
    error = _one(run)["error"]
    assert error.startswith("too large to check") and "2.0 MB limit" in error and "--max-size" in error
    assert cli("check", "--format", "json", "--no-cache", "--max-size", "8M", str(big), cwd=tmp_path).code == 1


def test_a_part_that_inflates_past_the_ratio_limit_is_refused_as_a_zip_bomb(book: Path, tmp_path: Path) -> None:
    bomb = rewrite(book, tmp_path / "bomb.xlsx", {SHEET: _padded_sheet(grid.RATIO_FLOOR + (1 << 20))})
    assert bomb.stat().st_size < grid.RATIO_FLOOR // grid.MAX_RATIO  # tens of KB for over 8 MB of XML
    report = tallycheck.check_workbook(bomb, max_size=1 << 30)  # a raised --max-size does not let it through
    assert report.error.startswith("unsafe workbook") and "suspicious compression" in report.error


def test_a_declared_size_over_the_limit_is_refused_before_inflating(book: Path, tmp_path: Path) -> None:
    """The zip directory says the sheet is 3 GB: refused on the directory's word, nothing inflated."""
    data = bytearray(book.read_bytes())
    name = SHEET.encode()
    central = next(i for i in _all(data, b"PK\x01\x02") if data[i + 46 : i + 46 + len(name)] == name)
    data[central + 24 : central + 28] = (3 << 30).to_bytes(4, "little")
    lying = tmp_path / "lying.xlsx"
    lying.write_bytes(bytes(data))
    assert tallycheck.check_workbook(lying).error.startswith("too large to check: its XML parts inflate to 3.0 GB")


def _all(data: bytes | bytearray, needle: bytes) -> list[int]:
    out, at = [], data.find(needle)
    while at >= 0:
        out.append(at)
        at = data.find(needle, at + 1)
    return out


@pytest.mark.parametrize("part", ["xl/workbook.xml", "xl/styles.xml", "_rels/.rels", "xl/_rels/workbook.xml.rels"])
def test_a_damaged_member_is_a_corrupt_workbook_not_a_tallycheck_bug(book: Path, tmp_path: Path, part: str) -> None:
    """A wrong CRC-32 in the zip directory: the member's bytes are not the ones it was written with."""
    data = bytearray(book.read_bytes())
    name = part.encode()
    central = next(i for i in _all(data, b"PK\x01\x02") if data[i + 46 : i + 46 + len(name)] == name)
    data[central + 16] ^= 0xFF
    bad = tmp_path / "bad-crc.xlsx"
    bad.write_bytes(bytes(data))
    run = cli("check", "--format", "json", "--no-cache", str(bad), cwd=tmp_path)
    assert run.code == 2 and no_traceback(run)
    error = _one(run)["error"]
    assert error.startswith(f"corrupt workbook: part {part} is damaged") and "bug" not in error


@pytest.mark.parametrize("part", ["[Content_Types].xml", "xl/workbook.xml", "xl/styles.xml", SHEET])
def test_a_part_declaring_a_dtd_is_an_unsafe_workbook(book: Path, tmp_path: Path, part: str) -> None:
    bomb = b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    bad = rewrite(book, tmp_path / "dtd.xlsx", {part: sub(rb"(<\?xml[^>]*\?>)?", rb"\g<1>" + bomb)})
    report = tallycheck.check_workbook(bad)
    assert report.error == (f"unsafe workbook: part {part} declares a DTD (<!DOCTYPE>), which Excel never "
                            "writes (entity expansion or XXE)")


def test_members_that_overlap_are_refused(book: Path, tmp_path: Path) -> None:
    """Two directory entries pointing into the same bytes: the overlapping zip-bomb layout."""
    src = zipfile.ZipFile(book)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info))
    data = bytearray(buf.getvalue())
    centrals = _all(data, b"PK\x01\x02")
    second_offset = data[centrals[1] + 42 : centrals[1] + 46]
    data[centrals[2] + 42 : centrals[2] + 46] = second_offset  # the third entry's data is the second's
    bad = tmp_path / "overlap.xlsx"
    bad.write_bytes(bytes(data))
    report = tallycheck.check_workbook(bad)
    assert report.error.startswith("corrupt") and "bug" not in report.error


def _without_refs(data: bytes) -> bytes:
    return re.sub(rb'(<c\b[^>]*?) r="[A-Z]+[0-9]+"', rb"\1", data)


def test_cells_written_without_references_are_placed_as_a_reader_places_them(book: Path, tmp_path: Path) -> None:
    plain = rewrite(book, tmp_path / "no-refs.xlsx", {SHEET: _without_refs})
    report = tallycheck.check_workbook(plain)
    assert report.readable and [f.cell for f in report.findings] == ["E4"]


def test_a_row_of_unreferenced_cells_past_column_XFD_is_outside_the_grid(book: Path, tmp_path: Path) -> None:
    wide = b'<row r="9">' + b"<c><v>1</v></c>" * (grid.EXCEL_MAX_COLS + 1) + b"</row></sheetData>"
    bad = rewrite(book, tmp_path / "wide.xlsx", {SHEET: lambda d: _without_refs(d).replace(b"</sheetData>", wide)})
    run = cli("check", "--format", "json", "--no-cache", str(bad), cwd=tmp_path)
    assert run.code == 2 and no_traceback(run)
    assert "column 16,385 is outside Excel's grid" in _one(run)["error"]


def _wide_book(path: Path) -> Path:
    """Twenty columns (wider than the shortcut for narrow sheets) of a few rows."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Wide"
    ws.append([f"C{n}" for n in range(20)])
    for r in range(1, 5):
        ws.append([r * 10 + n for n in range(20)])
    wb.save(path)
    return path


def test_a_far_row_in_a_wide_sheet_is_found_even_when_it_has_as_many_digits_as_the_last_row(tmp_path: Path) -> None:
    """T999999 in a 20-column sheet: 20 x 999,999 cells, over the limit, though no cell has more digits than its row."""
    wide = _wide_book(tmp_path / "wide.xlsx")
    far = b'<row r="999999"><c r="T999999"><v>1</v></c></row></sheetData>'
    bad = rewrite(wide, tmp_path / "far.xlsx", {SHEET: lambda d: d.replace(b"</sheetData>", far)})
    assert tallycheck.check_workbook(wide).readable
    error = tallycheck.check_workbook(bad).error
    assert "its cells span A1:T999999" in error and "T999999 lies far from the rest" in error


def test_a_row_past_the_last_in_a_narrow_sheet_is_outside_the_grid(book: Path, tmp_path: Path) -> None:
    bad = rewrite(book, tmp_path / "past.xlsx", {SHEET: _corner_cell(b"A1048577")})
    assert tallycheck.check_workbook(bad).error == "sheet 'Losses': " + grid._OUTSIDE.format("A1048577")


def test_a_broken_chart_sheet_does_not_stop_the_tables_being_checked(tmp_path: Path) -> None:
    # a chart sheet holds no cells: its XML is no worksheet's, whatever state it is in
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Data"
    for row in (["Item", "Killed", "Wounded", "Total"], ["A", 1, 2, 3], ["B", 2, 3, 6], ["C", 4, 4, 8], ["D", 1, 1, 2]):
        ws.append(row)
    wb.create_chartsheet("Chart1")
    wb.save(tmp_path / "good.xlsx")
    broken = rewrite(tmp_path / "good.xlsx", tmp_path / "broken.xlsx",
                     {"xl/chartsheets/sheet1.xml": lambda xml: xml.replace(b"</chartsheet>", b"</chartsheet_oops>")})
    report = tallycheck.check_workbook(broken)
    assert report.error is None
    assert [(f.sheet, f.cell, f.rule) for f in report.findings] == [("Data", "D3", "sum")]
