"""Marking a feature-rich workbook changes the marked cells and nothing else; clear undoes it.

Every check reads the real files back: raw zip records, the parts' XML, python-calamine's values,
openpyxl's view of fills and notes. The workbook is built by tests/feature_workbook.py (charts,
images, sparklines, data bars, tables, notes, VBA, ...).
"""

from __future__ import annotations

import copy
import re
import shutil
import warnings
from pathlib import Path

import feature_workbook as fw
import openpyxl
import pytest
from lxml import etree
from tallycheck.engine.findings import Finding
from tallycheck.marks import clear_workbook, mark_workbook
from tallycheck.marks.package.relationships import relative, resolve

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
Q = f"{{{MAIN}}}"
RED, AMBER = "FFFFC7CE", "FFFFEB9C"

FINDINGS = [
    Finding("sum", "error", "Losses", "E6", ("B6", "C6", "D6", "E6"), 673_290, 674_290, 0,
            "Total 674,290 should equal Killed + Wounded + Missing = 673,290 (off by 1,000)"),
    # Two findings on the cell that has the analyst's note: one mark, the worse severity, both notes.
    Finding("sum", "warning", "Losses", "E7", ("B7", "C7", "D7", "E7"), 1_060_790, 1_060_790.4, 0.5,
            "Total 1,060,790 matches Killed + Wounded + Missing only when rounded"),
    Finding("share", "warning", "Losses", "$E$7", ("E7", "E8"), 0.5, 0.503, 0.001,
            "Share 50.3% should be 50.0% of the total"),
    # A cell that does not exist yet (row 20 has no cells) and a sheet without notes.
    Finding("average", "error", "Losses", "K20", ("K20",), 340, 343.2258, 0, "Average per day"),
    Finding("sum", "error", "Data", "D6", ("D3", "D4", "D5", "D6"), 200, 80, 0,
            "Wounded 80 should equal the sum above = 200"),
]
MARKED = {("Losses", "E6"): RED, ("Losses", "E7"): AMBER, ("Losses", "K20"): RED, ("Data", "D6"): RED}
# The parts marking these cells has to change; every other member must come out byte for byte.
TOUCHED = {
    "[Content_Types].xml", "xl/_rels/workbook.xml.rels", "xl/workbook.xml", "xl/styles.xml",
    "xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml", "xl/comments1.xml",
    "xl/drawings/vmlDrawing1.vml", "xl/worksheets/_rels/sheet2.xml.rels",
}


@pytest.fixture(scope="module", params=[".xlsx", ".xlsm"])
def original(request, tmp_path_factory) -> Path:
    """The feature workbook, built once per variant; tests mark copies of it."""
    folder = tmp_path_factory.mktemp("features")
    return fw.build(folder / f"features{request.param}", vba=request.param == ".xlsm")


@pytest.fixture
def book(original: Path, tmp_path: Path) -> Path:
    """A fresh copy of the original to mark."""
    path = tmp_path / original.name
    shutil.copyfile(original, path)
    return path


def _openpyxl(path: Path) -> openpyxl.Workbook:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return openpyxl.load_workbook(path)


def test_untouched_members_are_copied_byte_for_byte(original: Path, book: Path) -> None:
    mark_workbook(book, FINDINGS)
    before, after = fw.raw_records(original), fw.raw_records(book)
    changed = {name for name in before if before[name] != after.get(name)}
    assert changed == TOUCHED
    # Same members, same order, new ones after them.
    assert list(after)[: len(before)] == list(before)
    added = set(after) - set(before)
    assert added == {"xl/worksheets/sheet4.xml", "xl/comments2.xml", "xl/drawings/vmlDrawing3.vml",
                     "customXml/item1.xml", "customXml/itemProps1.xml", "customXml/_rels/item1.xml.rels"}
    if book.suffix == ".xlsm":
        assert after["xl/vbaProject.bin"] == before["xl/vbaProject.bin"]
        assert b"macroEnabled" in fw.parts(book)["[Content_Types].xml"]


def test_every_feature_survives_marking(original: Path, book: Path) -> None:
    mark_workbook(book, FINDINGS)
    before, after = fw.probe(original), fw.probe(book)
    for feature, value in before.items():
        if feature == "legacy notes (text)":
            assert after[feature] == value + 3  # E6, K20, Data!D6; E7's note joins the analyst's
        elif feature == "note box size, colour, visibility":
            assert set(value) <= set(after[feature])  # the analyst's boxes keep colour and visibility
        else:
            assert after[feature] == value, feature


def test_values_read_by_calamine_do_not_change(original: Path, book: Path) -> None:
    mark_workbook(book, FINDINGS)
    before, after = fw.calamine_values(original), fw.calamine_values(book)
    assert list(after) == [*before, "tallycheck"]
    assert {k: v for k, v in after.items() if k != "tallycheck"} == before
    # The cached formula results are still there (E6 is a formula with a cached 674,290).
    assert before["Losses"][5][4] == 674_290


def _cells(sheet_xml: bytes) -> dict[str, etree._Element]:
    return {c.get("r"): c for c in etree.fromstring(sheet_xml).iter(Q + "c")}


def test_marked_sheet_differs_only_in_the_marked_cells_styles(original: Path, book: Path) -> None:
    mark_workbook(book, FINDINGS)
    before, after = fw.parts(original), fw.parts(book)
    for part, sheet in (("xl/worksheets/sheet1.xml", "Losses"), ("xl/worksheets/sheet2.xml", "Data")):
        old, new = _cells(before[part]), _cells(after[part])
        marked = {cell for (s, cell) in MARKED if s == sheet}
        assert set(new) - set(old) == marked - set(old)  # only the missing cell was created
        for ref, c in old.items():
            n = new[ref]
            n_attrib = {k: v for k, v in n.attrib.items() if k != "s"}
            assert n_attrib == {k: v for k, v in c.attrib.items() if k != "s"}
            assert [etree.tostring(x, method="c14n") for x in n] == [etree.tostring(x, method="c14n") for x in c]
            if ref not in marked:
                assert n.get("s") == c.get("s")
        # Outside the rows, the sheet differs at most by a new <legacyDrawing>.
        had_drawing = b"<legacyDrawing" in before[part]
        assert _shell(after[part], had_drawing) == _shell(before[part], had_drawing)


def _shell(data: bytes, keep_drawing: bool) -> bytes:
    root = etree.fromstring(data)
    root.remove(root.find(Q + "sheetData"))
    if not keep_drawing and root.find(Q + "legacyDrawing") is not None:
        root.remove(root.find(Q + "legacyDrawing"))
    return etree.tostring(root, method="c14n")


def test_marked_cells_keep_their_format_but_the_fill(original: Path, book: Path) -> None:
    mark_workbook(book, FINDINGS)
    old, new = _openpyxl(original), _openpyxl(book)
    for (sheet, ref), rgb in MARKED.items():
        cell, was = new[sheet][ref], old[sheet][ref]
        assert cell.fill.fill_type == "solid" and cell.fill.fgColor.rgb == rgb
        assert cell.value == was.value
        assert cell.number_format == was.number_format
        for attr in ("font", "border", "alignment", "protection"):
            assert copy.copy(getattr(cell, attr)) == copy.copy(getattr(was, attr)), (ref, attr)
    assert copy.copy(new["Losses"]["E8"].fill) == copy.copy(old["Losses"]["E8"].fill)  # an unmarked neighbour


def test_notes_say_what_was_expected_and_keep_the_analysts(book: Path) -> None:
    mark_workbook(book, FINDINGS)
    ws = _openpyxl(book)["Losses"]
    e6 = ws["E6"].comment.text
    for words in ("tallycheck: error (sum)", "Expected: 673,290", "Found: 674,290",
                  "Difference: 1,000 (found minus expected)", "Tolerance: 0 (must match exactly)",
                  "Cells involved: B6, C6, D6, E6", "off by 1,000"):
        assert words in e6
    e7 = ws["E7"].comment.text
    assert e7.startswith(fw.ANALYST_NOTE)  # the analyst's note first, unchanged
    assert "tallycheck: 2 findings, worst warning" in e7
    assert "Tolerance: 0.5" in e7 and "Share 50.3% should be 50.0%" in e7
    assert ws["E7"].comment.author == "Analyst"
    assert "Average per day" in ws["K20"].comment.text
    assert ws["A8"].comment.text == "Visible analyst note"  # an unmarked cell's note untouched


def test_summary_sheet_lists_every_finding_with_a_link(book: Path) -> None:
    summary = mark_workbook(book, FINDINGS)
    assert (summary.findings, summary.cells, summary.errors, summary.warnings) == (5, 4, 3, 2)
    wb = _openpyxl(book)
    assert wb.sheetnames[-1] == summary.summary_sheet == "tallycheck"
    ws = wb["tallycheck"]
    header = [c.value for c in ws[5]]
    assert header[:7] == ["Sheet", "Cell", "Rule", "Severity", "Expected", "Found", "Difference"]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=6)]
    assert len(rows) == len(FINDINGS)
    assert rows[0][:7] == ["Losses", "E6", "sum", "error", 673_290, 674_290, 1000]
    assert ws["A2"].value.startswith("3 errors, 2 warnings. Checked ")
    assert "with tallycheck 0.1.0" in ws["A2"].value
    links = {c.coordinate: c.hyperlink.location for r in ws.iter_rows(min_row=6) for c in r if c.hyperlink}
    assert links == {f"B{6 + i}": f"'{f.sheet}'!{f.cell.replace('$', '')}" for i, f in enumerate(
        sorted(FINDINGS, key=lambda f: (f.sheet != "Losses", f.severity != "error")))}


def test_summary_sheet_name_does_not_collide(tmp_path: Path) -> None:
    path = tmp_path / "taken.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "Data"
    wb.active["A1"] = 1
    wb.create_sheet("TallyCheck")["A1"] = "the analyst's own sheet"
    wb.save(path)
    summary = mark_workbook(path, [Finding("sum", "error", "Data", "A1", ("A1",), 2, 1, 0, "x")])
    assert summary.summary_sheet == "tallycheck (2)"
    assert clear_workbook(path) == 1
    assert _openpyxl(path).sheetnames == ["Data", "TallyCheck"]


def test_clear_restores_the_original_package(original: Path, book: Path) -> None:
    mark_workbook(book, FINDINGS)
    assert clear_workbook(book) == len(MARKED)
    before, after = fw.parts(original), fw.parts(book)
    assert list(after) == list(before)
    raw_before, raw_after = fw.raw_records(original), fw.raw_records(book)
    differ = {name for name in before if raw_before[name] != raw_after[name]}
    assert differ <= TOUCHED
    for name in differ:  # re-serialised, e.g. <author></author> as <author/>: the same XML
        assert fw.canonical(after[name]) == fw.canonical(before[name]), name
    assert fw.probe(book) == fw.probe(original)
    assert fw.calamine_values(book) == fw.calamine_values(original)


def test_marking_twice_equals_marking_once_and_clear_still_restores(original: Path, book: Path) -> None:
    once = book.with_name("once" + book.suffix)
    mark_workbook(book, FINDINGS)
    shutil.copyfile(book, once)
    second = mark_workbook(book, FINDINGS)
    assert second.cleared == len(MARKED)

    def without_time(data: bytes) -> bytes:
        return re.sub(rb"\d{4}-\d\d-\d\d \d\d:\d\d UTC", b"<when>", data)

    a, b = fw.parts(once), fw.parts(book)
    assert list(a) == list(b)
    assert {k: without_time(v) for k, v in a.items()} == {k: without_time(v) for k, v in b.items()}
    ws = _openpyxl(book)["Losses"]
    assert ws["E7"].comment.text.count("tallycheck:") == 1  # not marked twice
    clear_workbook(book)
    assert fw.probe(book) == fw.probe(original)
    assert {k: fw.canonical(v) if k.endswith((".xml", ".rels", ".vml")) else v for k, v in fw.parts(book).items()} \
        == {k: fw.canonical(v) if k.endswith((".xml", ".rels", ".vml")) else v for k, v in fw.parts(original).items()}


def test_new_findings_replace_stale_marks(book: Path) -> None:
    mark_workbook(book, FINDINGS)
    summary = mark_workbook(book, FINDINGS[:1])
    assert summary.cleared == len(MARKED) and summary.cells == 1
    ws = _openpyxl(book)["Losses"]
    assert ws["E6"].fill.fgColor.rgb == RED
    assert ws["E7"].fill.fill_type is None and ws["E7"].comment.text == fw.ANALYST_NOTE
    assert ws["K20"].comment is None
    assert "Data" in _openpyxl(book).sheetnames and _openpyxl(book)["Data"]["D6"].comment is None
    # No findings at all: the previous marks go, nothing new comes.
    empty = mark_workbook(book, [])
    assert (empty.cleared, empty.cells, empty.summary_sheet) == (1, 0, None)
    assert "tallycheck" not in _openpyxl(book).sheetnames


def test_findings_on_the_previous_summary_sheet_are_ignored(book: Path) -> None:
    mark_workbook(book, FINDINGS)
    # A checker that reads every sheet may take the summary's Expected/Found columns for a table.
    again = mark_workbook(book, [*FINDINGS, Finding("sum", "error", "tallycheck", "G6", ("E6", "F6", "G6"),
                                                     -1000, 1000, 0, "Difference should be Found - Expected")])
    assert again.cells == len(MARKED)
    ws = _openpyxl(book)["tallycheck"]
    assert ws["G6"].comment is None and ws.max_row == 5 + len(FINDINGS)


def test_out_leaves_the_original_byte_identical(original: Path, book: Path, tmp_path: Path) -> None:
    out = tmp_path / "copies" / "nested" / ("marked" + book.suffix)
    summary = mark_workbook(book, FINDINGS, out=out)
    assert summary.path == out and out.exists()
    assert book.read_bytes() == original.read_bytes()
    assert _openpyxl(out)["Losses"]["E6"].fill.fgColor.rgb == RED
    cleared = tmp_path / "cleared" / book.name
    assert clear_workbook(out, out=cleared) == len(MARKED)
    assert fw.probe(cleared) == fw.probe(original)
    assert _openpyxl(out)["Losses"]["E6"].fill.fgColor.rgb == RED  # the marked copy untouched


def test_clear_on_a_workbook_without_marks_changes_nothing(book: Path, tmp_path: Path) -> None:
    stat = book.stat()
    assert clear_workbook(book) == 0
    assert book.stat().st_mtime_ns == stat.st_mtime_ns
    assert mark_workbook(book, []).written is False
    copy = tmp_path / "copy" / book.name
    assert clear_workbook(book, out=copy) == 0
    assert copy.read_bytes() == book.read_bytes()


def test_a_marked_file_can_be_moved_and_still_cleared(original: Path, book: Path, tmp_path: Path) -> None:
    mark_workbook(book, FINDINGS)
    moved = tmp_path / "elsewhere" / "renamed.xlsx"
    moved.parent.mkdir()
    book.rename(moved)
    assert clear_workbook(moved) == len(MARKED)
    assert fw.probe(moved) == fw.probe(original)


@pytest.mark.parametrize(("source", "part", "target"), [
    ("xl/workbook.xml", "xl/worksheets/sheet4.xml", "worksheets/sheet4.xml"),
    ("xl/worksheets/sheet1.xml", "xl/comments1.xml", "../comments1.xml"),
    ("xl/worksheets/sheet1.xml", "xl/drawings/vmlDrawing1.vml", "../drawings/vmlDrawing1.vml"),
    ("", "xl/workbook.xml", "xl/workbook.xml"),
    ("customXml/item1.xml", "customXml/itemProps1.xml", "itemProps1.xml"),
    ("a/b/c.xml", "d/e f.xml", "../../d/e%20f.xml"),
])
def test_relationship_targets_are_relative_to_the_source_folder(source: str, part: str, target: str) -> None:
    assert relative(source, part) == target
    assert resolve(source, target) == part
