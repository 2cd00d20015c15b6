"""The Excel buttons on a fake Excel: same grid, same findings, same marks and summary as the file path.

For every example workbook: the book is "opened" in the fake Excel (tests/excel_fake.py), the
Validate button's Python entry point runs on it, and the result is compared with what
`tallycheck check --mark` writes into a copy of the same file: fills, note text and bold runs,
the summary sheet's cells, links and formats. Clear must then give back exactly the book that
was opened.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from excel_fake import XL_NONE, XL_SOLID, Cell, FakeApp, FakeBook, Fill, NoteModel, parse_cell
from lxml import etree
from tallycheck import check_workbook
from tallycheck.engine.grid import read_workbook
from tallycheck.excel import entry
from tallycheck.excel.book import read_book
from tallycheck.marks import clear_workbook, mark_workbook

EXAMPLES = sorted((Path(__file__).parent.parent / "examples").glob("*.xlsx"))
NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def fake_fill(cell: Cell | None) -> str | None:
    if cell is None or cell.fill.pattern == XL_NONE:
        return None
    n = cell.fill.color
    return f"FF{n & 0xFF:02X}{(n >> 8) & 0xFF:02X}{(n >> 16) & 0xFF:02X}"


def file_fill(c) -> str | None:
    if c.fill is None or c.fill.fill_type != "solid":
        return None
    return c.fill.fgColor.rgb


def file_runs(path: Path) -> dict[tuple[str, str], list[tuple[str, bool]]]:
    """Each note's rich-text runs (text, bold), by (sheet, cell), read from the package."""
    wb = openpyxl.load_workbook(path)
    out = {}
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        for i, ws in enumerate(wb.worksheets, start=1):
            rels = f"xl/worksheets/_rels/sheet{i}.xml.rels"
            if rels not in names:
                continue
            for rel in etree.fromstring(z.read(rels)):
                if rel.get("Type", "").endswith("/comments"):
                    part = "xl/" + rel.get("Target").replace("../", "")
                    root = etree.fromstring(z.read(part))
                    for c in root.iter(f"{NS}comment"):
                        runs = [
                            (r.findtext(f"{NS}t") or "", r.find(f"{NS}rPr/{NS}b") is not None)
                            for r in c.find(f"{NS}text").iter(f"{NS}r")
                        ]
                        out[(ws.title, c.get("ref"))] = runs
    return out


def when_free(text: object) -> object:
    return re.sub(r"Checked .*? with", "Checked … with", text) if isinstance(text, str) else text


def summary_cells(sheet) -> dict[str, tuple]:
    """(value, hyperlink location, fill, bold, integer format) of every cell of a summary."""
    out = {}
    for (r, c), cell in sheet.cells.items():
        if cell.blank():
            continue
        ref = f"{chr(64 + c)}{r}"
        value = cell.value
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        out[ref] = (when_free(value), cell.hyperlink[1] if cell.hyperlink else None, fake_fill(cell), cell.bold,
                    cell.number_format if value is not None else None)
    return out


def file_summary_cells(ws) -> dict[str, tuple]:
    out = {}
    for row in ws.iter_rows():
        for c in row:
            if c.value is None and not c.has_style:
                continue
            if c.value is None:
                continue
            fmt = c.number_format if c.number_format != "General" else "General"
            out[c.coordinate] = (when_free(c.value), c.hyperlink.location if c.hyperlink else None, file_fill(c),
                                 bool(c.font.b), fmt)
    return out


@pytest.fixture(autouse=True)
def own_temporary_folder(tmp_path: Path, monkeypatch) -> Path:
    """Each test's run locks and logs in its own temporary folder: test runs in parallel (other
    checkouts on the same machine) must not see each other's workbook locks."""
    import tempfile

    folder = tmp_path / "temp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    monkeypatch.setenv("TMPDIR", str(folder))
    return folder


@pytest.fixture(params=EXAMPLES, ids=[p.name for p in EXAMPLES])
def example(request) -> Path:
    return request.param


def test_live_grid_equals_file_grid(example: Path) -> None:
    live = read_book(FakeBook.from_xlsx(example))
    disk = read_workbook(example)
    assert [s.name for s in live.sheets] == [s.name for s in disk.sheets]
    for a, b in zip(live.sheets, disk.sheets, strict=True):
        for attr in ("rows", "origin", "formulas", "errors", "formats", "hidden"):
            assert getattr(a, attr) == getattr(b, attr), (a.name, attr)
        assert sorted(a.merged) == sorted(b.merged)


def test_validate_marks_like_the_file_path(example: Path, tmp_path: Path) -> None:
    book = FakeBook.from_xlsx(example)
    before = book._snapshot()
    result = entry.validate_workbook(book)
    assert result["ok"], result
    report = check_workbook(example)
    assert [f.to_json() for f in result["findings"]] == [f.to_json() for f in report.findings]

    marked = tmp_path / example.name
    summary = mark_workbook(example, report.findings, out=marked)
    wb = openpyxl.load_workbook(marked)
    assert [s.name for s in book.sheets] == wb.sheetnames
    runs = file_runs(marked)
    for sheet in book.sheets:
        ws = wb[sheet.name]
        if sheet.name == summary.summary_sheet:
            assert summary_cells(sheet) == file_summary_cells(ws)
            assert sheet.frozen == (5, 0) and ws.freeze_panes == "A6"
            assert sheet.tab_color == 0x0000C0 and ws.sheet_properties.tabColor.rgb == "FFC00000"
            continue
        positions = set(sheet.cells) | {(c.row, c.column) for row in ws.iter_rows() for c in row}
        for r, c in positions:
            cell = sheet.cells.get((r, c))
            fc = ws.cell(r, c)
            assert fake_fill(cell) == file_fill(fc), (sheet.name, fc.coordinate)
            note = cell.note if cell is not None else None
            assert (note.text if note else None) == (fc.comment.text if fc.comment else None), (sheet.name, fc.coordinate)
            if note is not None:
                assert note.runs() == runs[(sheet.name, fc.coordinate)]
    assert book.sheets.active.name == before[0][0][0] or book.sheets.active.name in wb.sheetnames

    # Clear gives back exactly what was opened.
    cleared = entry.clear_marks(book)
    assert cleared["ok"] and cleared["cleared"] == result["cells"]
    assert book._snapshot() == before


def test_validate_twice_replaces_and_clear_restores_own_fill_and_note(tmp_path: Path) -> None:
    path = next(p for p in EXAMPLES if p.name == "missing-in-action.xlsx")
    book = FakeBook.from_xlsx(path)
    losses = book.sheets["Losses"]
    e7 = losses.cells[(7, 5)]
    e7.fill = Fill(pattern=-4125, color=0x00FFFF, pattern_color=0x0000FF)  # a patterned fill of their own
    e7.note = NoteModel([*((ch, True) for ch in "Ann:"), *((ch, False) for ch in " checked against the PDF")])
    before = book._snapshot()
    first = entry.validate_workbook(book)
    assert first["cells"] == 1
    assert e7.fill.pattern == 1 and e7.fill.color == 0xCEC7FF  # solid light red (BGR)
    assert e7.note.text.startswith("Ann: checked against the PDF\n\ntallycheck: error (sum)")
    assert e7.note.runs()[0] == ("Ann:", True) and e7.note.runs()[2][1] is True
    second = entry.validate_workbook(book)
    assert second["cleared"] == 1 and second["cells"] == 1
    assert [s.name for s in book.sheets].count("tallycheck") == 1
    assert e7.note.text.count("tallycheck: error") == 1
    entry.clear_marks(book)
    assert book._snapshot() == before


def test_theme_fill_comes_back_as_theme() -> None:
    path = next(p for p in EXAMPLES if p.name == "missing-in-action.xlsx")
    book = FakeBook.from_xlsx(path)
    e7 = book.sheets["Losses"].cells[(7, 5)]
    e7.fill = Fill(pattern=1, color=0xC47244, theme=5, tint=0.4)
    before = book._snapshot()
    entry.validate_workbook(book)
    assert e7.fill.theme is None
    entry.clear_marks(book)
    assert e7.fill.theme == 5 and e7.fill.tint == 0.4
    assert book._snapshot() == before


def test_validate_sheet_marks_only_that_sheet() -> None:
    path = next(p for p in EXAMPLES if p.name == "estimates-and-shares.xlsx")
    book = FakeBook.from_xlsx(path)
    book.sheets["Estimates"].activate()
    result = entry.validate_sheet(book)
    assert result["ok"] and {f.sheet for f in result["findings"]} == {"Estimates"}
    assert "Only this sheet" in book.app.alerts[-1][0]
    assert book.sheets.active.name == "Estimates"


def test_validate_sheet_keeps_the_other_sheets_marks() -> None:
    """A reviewer working sheet by sheet: re-checking one sheet leaves the others' marks and summary rows."""
    path = next(p for p in EXAMPLES if p.name == "estimates-and-shares.xlsx")
    book = FakeBook.from_xlsx(path)
    before = book._snapshot()
    whole = entry.validate_workbook(book)
    sheets = {f.sheet for f in whole["findings"]}
    assert len(sheets) >= 2
    marked = book._snapshot()
    book.sheets["Estimates"].activate()
    again = entry.validate_sheet(book)
    assert again["ok"] and {f.sheet for f in again["findings"]} == {"Estimates"}
    assert "the other sheets keep their marks" in book.app.alerts[-1][0]
    assert book._snapshot() == marked  # same marks everywhere, same summary rows
    assert again["cells"] == whole["cells"]
    entry.clear_marks(book)
    assert book._snapshot() == before


def test_validate_sheet_after_the_command_line_marked_replaces_and_says_so(tmp_path: Path) -> None:
    path = next(p for p in EXAMPLES if p.name == "estimates-and-shares.xlsx")
    marked = tmp_path / path.name
    mark_workbook(path, check_workbook(path).findings, out=marked)
    book = FakeBook.from_xlsx(marked)
    book.sheets["Estimates"].activate()
    assert entry.validate_sheet(book)["ok"]
    assert "earlier marks (made by the command line) were replaced" in book.app.alerts[-1][0]


@pytest.mark.parametrize("mac", [False, True], ids=["windows", "mac"])
def test_mark_as_reviewed_unmarks_and_is_not_flagged_again(mac: bool, monkeypatch) -> None:
    monkeypatch.setattr("getpass.getuser", lambda: "ann")
    path = next(p for p in EXAMPLES if p.name == "soviet-ww2-losses.xlsx")
    book = FakeBook.from_xlsx(path, FakeApp(mac=mac))
    before = book._snapshot()
    assert "Validate workbook" in entry.mark_reviewed(book)["error"]
    first = entry.validate_workbook(book)
    accepted, other = first["findings"][0], first["findings"][1]
    sheet = book.sheets[accepted.sheet]
    sheet.activate()
    sheet.range("A1").select()
    assert "has no Tally Check finding" in entry.mark_reviewed(book)["error"]
    sheet.range(accepted.cell).select()
    done = entry.mark_reviewed(book)
    assert done["ok"] and done["reviewed"] == 1 and "marked as reviewed by ann" in book.app.alerts[-1][0]
    cell = sheet.cells[parse_cell(accepted.cell)]
    own = FakeBook.from_xlsx(path).sheets[accepted.sheet].cells.get(parse_cell(accepted.cell))
    assert fake_fill(cell) == fake_fill(own)  # its own fill again
    assert cell.note is None or "tallycheck:" not in cell.note.text
    summary = book.sheets["tallycheck"]
    texts = [c.value for c in summary.cells.values() if isinstance(c.value, str)]
    assert any(t.startswith("Reviewed: accepted") for t in texts) and "ann" in texts
    assert other.cell in texts  # the other finding is still listed and marked
    rerun = entry.validate_workbook(book)
    assert rerun["reviewed"] == 1 and rerun["cells"] == first["cells"] - 1
    assert "1 finding marked as reviewed earlier is not marked again" in book.app.alerts[-1][0]
    assert "ann" in [c.value for c in book.sheets["tallycheck"].cells.values()]
    entry.clear_marks(book)
    assert book._snapshot() == before


def test_messages_when_nothing_to_check_or_protected(tmp_path: Path) -> None:
    empty = FakeBook("Book1")
    empty._add_sheet("Sheet1").cells[(1, 1)] = Cell(value="just a note")
    result = entry.validate_workbook(empty)
    assert not result["ok"] and "Nothing to check" in result["error"]
    prompt, title, mode = empty.app.alerts[-1]
    assert title == "Tally Check" and mode == "critical" and "Traceback" not in prompt

    path = next(p for p in EXAMPLES if p.name == "missing-in-action.xlsx")
    book = FakeBook.from_xlsx(path)
    book.sheets["Losses"].protected = True
    before = book._snapshot()
    result = entry.validate_workbook(book)
    assert not result["ok"] and "sheet 'Losses' is protected" in result["error"]
    assert "1 error" in result["error"]
    assert book._snapshot() == before

    book = FakeBook.from_xlsx(path)
    book.protect_structure = True
    result = entry.validate_workbook(book)
    assert not result["ok"] and "workbook structure is protected" in result["error"]


def test_unexpected_failure_is_a_sentence_not_a_traceback(monkeypatch) -> None:
    path = next(p for p in EXAMPLES if p.name == "missing-in-action.xlsx")
    book = FakeBook.from_xlsx(path)

    def boom(*args, **kwargs):
        raise RuntimeError("the COM server went away")

    monkeypatch.setattr("tallycheck.excel.book.read_sheet", boom)
    result = entry.validate_workbook(book)
    prompt = book.app.alerts[-1][0]
    assert not result["ok"] and "could not validate the workbook" in prompt
    assert "the COM server went away" in prompt and "Traceback" not in prompt
    assert book.app.status_bar is False and book.app.screen_updating is True


def test_status_bar_while_running_and_counts_at_the_end() -> None:
    path = next(p for p in EXAMPLES if p.name == "russia-losses-by-year.xlsx")
    book = FakeBook.from_xlsx(path)
    entry.validate_workbook(book)
    assert any(isinstance(s, str) and s.startswith("Tally Check: ") for s in book.app.status_history)
    assert book.app.status_bar is False
    assert book.app.alerts[-1][0].startswith("2 errors and 0 warnings in 1 table")


def test_show_summary_and_show_checked() -> None:
    path = next(p for p in EXAMPLES if p.name == "soviet-ww2-losses.xlsx")
    book = FakeBook.from_xlsx(path)
    result = entry.show_summary(book)
    assert not result["ok"] and "Validate workbook" in result["error"]
    entry.validate_workbook(book)
    book.sheets[0].activate()
    assert entry.show_summary(book)["sheet"] == "tallycheck"
    assert book.sheets.active.name == "tallycheck"
    before = book._snapshot()
    checked = entry.show_checked(book)
    assert checked["ok"] and checked["tables"] == 5
    text = book.app.alerts[-1][0]
    assert text.startswith("Tally Check finds 5 tables and") and "Missing ▸" in text and "of_which" in text
    assert book._snapshot() == before  # listing changes nothing


def test_clear_without_marks_says_so() -> None:
    path = next(p for p in EXAMPLES if p.name == "missing-in-action.xlsx")
    book = FakeBook.from_xlsx(path)
    result = entry.clear_marks(book)
    assert result["ok"] and result["cleared"] == 0
    assert "no Tally Check marks" in book.app.alerts[-1][0]


def test_file_marks_cleared_with_the_button(tmp_path: Path) -> None:
    """A workbook marked by `tallycheck check --mark`, opened in Excel: Clear marks removes them."""
    path = next(p for p in EXAMPLES if p.name == "missing-in-action.xlsx")
    original = FakeBook.from_xlsx(path)._snapshot()
    marked = tmp_path / path.name
    mark_workbook(path, check_workbook(path).findings, out=marked)
    book = FakeBook.from_xlsx(marked)
    assert book.sheets["Losses"].cells[(7, 5)].note is not None
    result = entry.clear_marks(book)
    assert result["ok"] and result["cleared"] == 1
    assert book._snapshot()[0] == original[0]
    assert book.custom_xml == []


def test_run_dispatches_by_name() -> None:
    assert set(entry.ACTIONS) == {"validate_workbook", "validate_sheet", "clear_marks", "show_summary", "show_checked",
                                  "next_finding", "previous_finding", "mark_reviewed", "save_report", "go_to_finding"}
    for action in entry.ACTIONS:
        assert callable(getattr(entry, action))


def test_excel_marked_file_cleared_from_the_command_line(tmp_path: Path) -> None:
    """Marked with the button, saved by Excel: `tallycheck clear` restores the file's cells."""
    from excel_fake import save_like_excel

    path = next(p for p in EXAMPLES if p.name == "missing-in-action.xlsx")
    book = FakeBook.from_xlsx(path)
    book.sheets["Losses"].cells[(6, 5)].fill = Fill(pattern=1, color=0x00FFFF)  # their own yellow
    original = book._snapshot()
    entry.validate_workbook(book)
    saved = tmp_path / "saved.xlsx"
    save_like_excel(book, saved)
    assert clear_workbook(saved) == 1
    reopened = FakeBook.from_xlsx(saved)
    assert reopened._snapshot()[0] == original[0]
    assert reopened.custom_xml == []


def test_record_through_the_addins_vba_where_python_cannot_reach_custom_xml() -> None:
    """Excel for Mac: no CustomXMLParts over AppleScript; the add-in's VBA keeps the record."""
    path = next(p for p in EXAMPLES if p.name == "missing-in-action.xlsx")
    book = FakeBook.from_xlsx(path, FakeApp(mac=True))
    before = book._snapshot()
    assert entry.validate_workbook(book)["cells"] == 1
    assert len(book.custom_xml) == 1 and "TallyRecordWrite" in book.app.macro_calls
    assert entry.validate_workbook(book)["cleared"] == 1
    assert entry.clear_marks(book)["cleared"] == 1
    assert book._snapshot() == before
    assert "TallyRecordRead" in book.app.macro_calls


def test_mac_marks_and_clears_every_example(example: Path) -> None:
    """On a Mac (no Windows object-model names), Validate marks each finding and Clear restores all."""
    book = FakeBook.from_xlsx(example, FakeApp(mac=True))
    before = book._snapshot()
    result = entry.validate_workbook(book)
    assert result["ok"], result
    windows = FakeBook.from_xlsx(example)
    assert result["cells"] == entry.validate_workbook(windows)["cells"]
    for f in result["findings"]:
        cell = book.sheets[f.sheet].cells[parse_cell(f.cell)]
        assert cell.fill.pattern == XL_SOLID and cell.note is not None and "tallycheck: " in cell.note.text
    summary = book.sheets[result["summary_sheet"]] if result["cells"] else None
    if summary is not None:
        links = [c.hyperlink for c in summary.cells.values() if c.hyperlink]
        assert len(links) == len(result["findings"]) and all(a.startswith("#") for a, _ in links)
    cleared = entry.clear_marks(book)
    assert cleared["ok"], cleared
    assert book._snapshot() == before


def test_mac_own_fill_comes_back_and_protection_is_seen() -> None:
    path = next(p for p in EXAMPLES if p.name == "missing-in-action.xlsx")
    book = FakeBook.from_xlsx(path, FakeApp(mac=True))
    e7 = book.sheets["Losses"].cells[(7, 5)]
    e7.fill = Fill(pattern=XL_SOLID, color=0x00FFFF)  # their own yellow
    e7.note = NoteModel([(ch, False) for ch in "checked against the PDF"])
    before = book._snapshot()
    assert entry.validate_workbook(book)["cells"] == 1
    assert e7.fill.color == 0xCEC7FF and e7.note.text.startswith("checked against the PDF\n\ntallycheck: error")
    entry.clear_marks(book)
    assert book._snapshot() == before
    book.sheets["Losses"].protected = True
    result = entry.validate_workbook(book)
    assert not result["ok"] and "sheet 'Losses' is protected" in result["error"]
    assert book._snapshot() == before
    assert "TallyProtection" in book.app.macro_calls


def test_fake_mac_refuses_windows_object_model_names() -> None:
    """The fake's Mac mode fails as appscript does, so a Windows-only .api call cannot pass the tests."""
    book = FakeBook.from_xlsx(next(p for p in EXAMPLES if p.name == "missing-in-action.xlsx"), FakeApp(mac=True))
    rng = book.sheets["Losses"].range("E7")
    for probe in (lambda: rng.api.Interior, lambda: book.api.CustomXMLParts, lambda: book.sheets[0].api.ProtectContents,
                  lambda: book.app.api.ActiveWindow):
        with pytest.raises(AttributeError, match="Unknown property, element or command"):
            probe()
    with pytest.raises(NotImplementedError):
        rng.comment  # noqa: B018


def test_macros_are_looked_up_when_called_as_in_xlwings() -> None:
    """App.macro never fails on lookup; a missing add-in fails at the call, then the workbook's own is used."""
    path = next(p for p in EXAMPLES if p.name == "missing-in-action.xlsx")
    book = FakeBook.from_xlsx(path, FakeApp(mac=True))
    book.app.addin_open = False
    missing = book.app.macro("'tallycheck.xlam'!TallyRecordRead")
    with pytest.raises(RuntimeError, match="Cannot run the macro"):
        missing("x", "y")
    result = entry.validate_workbook(book)
    assert not result["ok"] and "macro TallyRecordRead is not available" in result["error"]
    book.carries_macros = True  # the button template carries TallyCheck.bas itself
    assert entry.validate_workbook(book)["cells"] == 1


def test_workbook_opened_from_sharepoint_is_checked_by_its_name() -> None:
    """Book.fullname of a SharePoint/OneDrive book makes xlwings map the URL to a disk path (and raise)."""
    path = next(p for p in EXAMPLES if p.name == "missing-in-action.xlsx")
    book = FakeBook.from_xlsx(path)
    book._fullname = "https://contoso.sharepoint.com/teams/Analysis/Shared%20Documents/missing-in-action.xlsx"
    result = entry.validate_workbook(book)
    assert result["ok"] and result["cells"] == 1, result
    assert entry.show_checked(book)["ok"]
    assert entry.clear_marks(book)["cleared"] == 1


def _changes_of_a_run(path: Path, mac: bool, rerun: bool) -> int:
    book = FakeBook.from_xlsx(path, FakeApp(mac=mac))
    if rerun:
        entry.validate_workbook(book)
    start = book.app.changes
    entry.validate_workbook(book)
    return book.app.changes - start


@pytest.mark.parametrize("mac", [False, True], ids=["windows", "mac"])
@pytest.mark.parametrize("rerun", [False, True], ids=["first-run", "re-run"])
def test_a_run_failing_part_way_can_always_be_cleared(mac: bool, rerun: bool) -> None:
    """Excel rejects the k-th change of a run (busy, 'Call was rejected by callee'), for every k:
    the message says the run failed, and Clear marks gives back exactly the workbook that was opened."""
    path = next(p for p in EXAMPLES if p.name == "estimates-and-shares.xlsx")
    total = _changes_of_a_run(path, mac, rerun)
    assert total > 8
    for k in range(1, total + 1):
        book = FakeBook.from_xlsx(path, FakeApp(mac=mac))
        before = book._snapshot()
        if rerun:
            entry.validate_workbook(book)
        book.app.fail_at = {book.app.changes + k}
        result = entry.validate_workbook(book)
        assert not result["ok"] and "Call was rejected by callee" in result["error"], k
        book.app.fail_at = set()
        cleared = entry.clear_marks(book)
        assert cleared["ok"], (k, cleared)
        assert book._snapshot() == before, k


def test_when_excel_keeps_refusing_the_rollback_clear_still_restores(monkeypatch) -> None:
    """The roll-back itself is refused too (Excel busy for a while): it is tried again, and what it
    could not undo is recorded for Clear marks."""
    monkeypatch.setattr("tallycheck.excel.target.PAUSE", 0)
    path = next(p for p in EXAMPLES if p.name == "estimates-and-shares.xlsx")
    total = _changes_of_a_run(path, False, False)
    for k in range(1, total + 1):
        book = FakeBook.from_xlsx(path)
        before = book._snapshot()
        book.app.fail_at = set(range(k, k + 6))
        assert not entry.validate_workbook(book)["ok"]
        book.app.fail_at = set()
        assert entry.clear_marks(book)["ok"]
        assert book._snapshot() == before, k


def test_clear_failing_part_way_can_be_clicked_again() -> None:
    path = next(p for p in EXAMPLES if p.name == "estimates-and-shares.xlsx")
    for k in range(1, 12):
        book = FakeBook.from_xlsx(path)
        before = book._snapshot()
        entry.validate_workbook(book)
        book.app.fail_at = {book.app.changes + k}
        entry.clear_marks(book)
        book.app.fail_at = set()
        assert entry.clear_marks(book)["ok"]
        assert book._snapshot() == before, k


def test_a_second_click_while_a_run_holds_the_workbook_says_so() -> None:
    """On a Mac RunPython returns at once, so a double-click starts a second Python on the same book."""
    path = next(p for p in EXAMPLES if p.name == "missing-in-action.xlsx")
    book = FakeBook.from_xlsx(path)
    before = book._snapshot()
    with entry._workbook_lock(book.name) as first:  # the first click's process, still marking
        assert first
        result = entry.validate_workbook(book)
        assert not result["ok"] and result["busy"]
        assert book.app.alerts[-1][0] == (
            "Tally Check is already working on missing-in-action.xlsx. Wait for its message, then click again.")
        assert entry.clear_marks(book)["busy"]
        other = FakeBook.from_xlsx(next(p for p in EXAMPLES if p.name == "soviet-ww2-losses.xlsx"))
        assert entry.validate_workbook(other)["ok"]  # the lock is per workbook
    assert book._snapshot() == before
    assert entry.validate_workbook(book)["ok"]  # released when the first run ends


def test_the_lock_is_held_across_processes(tmp_path: Path) -> None:
    import subprocess
    import sys

    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys,time; from tallycheck.excel import entry\n"
         "with entry._workbook_lock('missing-in-action.xlsx') as ok:\n print(ok, flush=True); time.sleep(30)"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "True"
        book = FakeBook.from_xlsx(next(p for p in EXAMPLES if p.name == "missing-in-action.xlsx"))
        assert entry.validate_workbook(book)["busy"]
    finally:
        holder.kill()
        holder.wait()
    assert entry.validate_workbook(book)["ok"]  # the lock went with the process


def test_events_and_screen_updating_are_off_while_marking(monkeypatch) -> None:
    path = next(p for p in EXAMPLES if p.name == "missing-in-action.xlsx")
    book = FakeBook.from_xlsx(path)
    seen = []
    real = entry._validate

    def spy(b, only):
        seen.append((b.app.enable_events, b.app.screen_updating))
        return real(b, only)

    monkeypatch.setattr(entry, "_validate", spy)
    entry.validate_workbook(book)
    assert seen == [(False, False)]
    assert book.app.enable_events is True and book.app.screen_updating is True


def _runpython_command(action: str) -> str:
    """The command line's Python as xlwings' ExecuteWindows builds it around TallyPythonCommand."""
    from test_excel_addin_files import _python_command

    return 'import xlwings.utils;xlwings.utils.prepare_sys_path("false;x.xlsx;tallycheck.xlam;;;;"); ' + _python_command(action)


def test_no_workbook_found_is_a_sentence_on_stderr_and_exit_1(tmp_path: Path) -> None:
    """RunPython shows the log only for a non-zero exit: a workbook that cannot be found must not pass silently."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-B", "-c", _runpython_command("validate_workbook"),
                          '--wb="book=1.xlsx"', "--from_xl=1"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 1
    assert out.stderr.startswith("Tally Check could not validate the workbook: the workbook was not found (")
    assert "Details were written to" in out.stderr and "Traceback" not in out.stderr


def test_a_message_box_that_fails_is_reported_to_runpython(monkeypatch) -> None:
    path = next(p for p in EXAMPLES if p.name == "missing-in-action.xlsx")
    book = FakeBook.from_xlsx(path)

    def refuse(*args, **kwargs):
        raise RuntimeError("Call was rejected by callee.")

    monkeypatch.setattr(book.app, "alert", refuse)
    monkeypatch.setattr(entry, "caller_book", lambda: book)
    book.sheets["Losses"].protected = True
    monkeypatch.setattr("sys.argv", ["-c", "--wb=missing-in-action.xlsx", "--from_xl=1"])
    with pytest.raises(SystemExit) as stop:
        entry.run("validate_workbook")
    assert stop.value.code == 1
    monkeypatch.setattr("sys.argv", ["udf-server"])  # xlwings' UDF server: no process to exit, raise instead
    with pytest.raises(RuntimeError, match="sheet 'Losses' is protected"):
        entry.run("validate_workbook")
    with pytest.raises(RuntimeError, match="Unknown Tally Check action 'nonsense'"):
        entry.run("nonsense")


@pytest.mark.parametrize("mac", [False, True], ids=["windows", "mac"])
def test_next_and_previous_finding_walk_the_marked_cells_across_sheets(mac: bool) -> None:
    path = next(p for p in EXAMPLES if p.name == "soviet-ww2-losses.xlsx")
    book = FakeBook.from_xlsx(path, FakeApp(mac=mac))
    assert "Validate workbook" in entry.next_finding(book)["error"]
    result = entry.validate_workbook(book)
    order = {s.name: i for i, s in enumerate(book.sheets)}
    marked = sorted({(order[f.sheet], *parse_cell(f.cell)): f"{f.sheet}!{f.cell}" for f in result["findings"]}.items())
    expected = [where for _, where in marked]
    assert len(expected) >= 2
    book.sheets[0].activate()
    walked = [entry.next_finding(book)["cell"] for _ in range(len(expected) + 1)]
    assert walked == [*expected, expected[0]]  # wraps round after the last
    selection = book.app.selection
    assert f"{selection.sheet.name}!{selection.address.replace('$', '')}" == expected[0]
    assert book.app.status_bar.startswith(f"Tally Check: finding 1 of {len(expected)}, {expected[0]} (")
    back = [entry.previous_finding(book)["cell"] for _ in range(len(expected))]
    assert back == expected[::-1]  # from the first, back round to the last, then down to the first
    before = book._snapshot()
    entry.next_finding(book)
    assert book._snapshot() == before and not [a for a in book.app.alerts if "finding 1 of" in a[0]]


def test_the_calling_workbook_is_found_by_its_whole_name(monkeypatch) -> None:
    """RunPython passes --wb="Q1=final.xlsx"; xlwings' Book.caller() looks for "q1" and fails."""
    import xlwings as xw
    from excel_fake import FakeApps

    app = FakeApp()
    addin = FakeBook("tallycheck.xlam", app)
    addin._add_sheet("Tally Check")
    book = FakeBook.from_xlsx(next(p for p in EXAMPLES if p.name == "missing-in-action.xlsx"), app)
    book._name = "Q1=final.xlsx"
    monkeypatch.setattr(xw.Book, "caller", FakeBook.caller)
    monkeypatch.setattr(xw, "apps", FakeApps())
    monkeypatch.setattr("sys.argv", ["-c", "--wb=Q1=final.xlsx", "--from_xl=1", "--hwnd=1"])
    with pytest.raises(KeyError):
        xw.Book.caller()  # what xlwings itself does with this name
    result = entry.validate_workbook()
    assert result["ok"] and result["cells"] == 1
    monkeypatch.setattr("sys.argv", ["-c", "--wb=tallycheck.xlam", "--from_xl=1", "--hwnd=1"])
    assert entry.caller_book() is book  # the add-in called: the active workbook is the one to check


def test_a_scrolled_summary_sheet_is_frozen_below_its_header_again() -> None:
    path = next(p for p in EXAMPLES if p.name == "soviet-ww2-losses.xlsx")
    book = FakeBook.from_xlsx(path)
    entry.validate_workbook(book)
    book.sheets["tallycheck"].scroll_row = 40  # the analyst scrolled down the summary
    entry.validate_workbook(book)
    assert book.sheets["tallycheck"].frozen == (5, 0)
