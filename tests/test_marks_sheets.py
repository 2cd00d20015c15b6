"""Worksheets as other writers produce them: each is marked, read back, cleared, compared.

The packages are written by hand here, part by part, because the point is XML that Excel and
XlsxWriter never write: rows and cells without references, a prefixed namespace, CDATA among the
rows, an empty <sheetData/>, rows out of order, a threaded comment, marks on cells and rows that
do not exist yet.
"""

from __future__ import annotations

import io
import warnings
import zipfile
from pathlib import Path

import feature_workbook as fw
import openpyxl
import pytest
from tallycheck.engine.findings import Finding
from tallycheck.marks import clear_workbook, mark_workbook
from tallycheck.marks.errors import PatchRefused
from tallycheck.marks.package.ns import dialect_of
from tallycheck.marks.package.validate import check_written
from tallycheck.marks.package.worksheet import Worksheet

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"

STYLES = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="{MAIN}"><fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts><fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders><cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/><xf numFmtId="3" fontId="0" fillId="0" borderId="0" applyNumberFormat="1"/></cellXfs></styleSheet>"""


def package(path: Path, sheet: str, extra: dict[str, bytes] | None = None, sheet_rels: str | None = None) -> Path:
    """A one-sheet workbook package from a sheet's XML."""
    overrides = {"/xl/workbook.xml": f"{CT}.sheet.main+xml", "/xl/worksheets/sheet1.xml": f"{CT}.worksheet+xml",
                 "/xl/styles.xml": f"{CT}.styles+xml"}
    for name in extra or {}:
        if name.endswith("threadedComment1.xml"):
            overrides["/" + name] = "application/vnd.ms-excel.threadedcomments+xml"
    types = "".join(f'<Override PartName="{k}" ContentType="{v}"/>' for k, v in overrides.items())
    parts = {
        "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
        'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-'
        f'package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>{types}</Types>',
        "_rels/.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
        'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
        '2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{R}"><sheets>'
        '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
        'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.'
        'org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
        "</Relationships>",
        "xl/styles.xml": STYLES,
        "xl/worksheets/sheet1.xml": sheet,
    }
    if sheet_rels:
        parts["xl/worksheets/_rels/sheet1.xml.rels"] = sheet_rels
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return path


def sheet(rows: str, root: str = f'<worksheet xmlns="{MAIN}" xmlns:r="{R}">', close: str = "</worksheet>") -> str:
    return f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n{root}{rows}{close}'


SHEETS = {
    "ordinary": sheet('<sheetData><row r="1" spans="1:3"><c r="A1"><v>1</v></c><c r="B1" s="1"><v>2</v></c>'
                      '<c r="C1"><v>3</v></c></row><row r="3"><c r="A3"><v>4</v></c></row>'
                      '<row r="5" spans="1:3"><c r="A5"><v>5</v></c><c r="C5"><v>6</v></c></row></sheetData>'
                      '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'),
    "no references": sheet("<sheetData><row><c><v>1</v></c><c><v>2</v></c><c><v>3</v></c></row><row/>"
                           "<row><c><v>4</v></c></row><row><c><v>5</v></c><c><v>6</v></c></row></sheetData>"),
    "prefixed namespace": sheet('<x:sheetData><x:row r="1"><x:c r="A1"><x:v>1</x:v></x:c><x:c r="B1"><x:v>2</x:v>'
                                '</x:c><x:c r="C1"><x:v>3</x:v></x:c></x:row><x:row r="5"><x:c r="A5"><x:v>5</x:v>'
                                "</x:c></x:row></x:sheetData>",
                                root=f'<x:worksheet xmlns:x="{MAIN}" xmlns:r="{R}">', close="</x:worksheet>"),
    "cdata": sheet('<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t><![CDATA[<row r="3">]]></t></is></c>'
                   '<c r="B1"><v>2</v></c></row><row r="5"><c r="A5"><v>5</v></c></row></sheetData>'),
    "empty": sheet("<sheetData/>"),
    "rows out of order": sheet('<sheetData><row r="5"><c r="A5"><v>5</v></c></row><row r="1"><c r="A1"><v>1</v></c>'
                               '<c r="B1"><v>2</v></c></row><row r="3"><c r="A3"><v>4</v></c></row></sheetData>'),
}
# Existing cells, a missing cell inside a row, a missing row between rows, one past the end.
TARGETS = {
    "ordinary": ["B1", "B5", "F5", "A4", "D9"],
    "no references": ["B1", "A3", "D4", "A6"],
    "prefixed namespace": ["B1", "B5", "A3"],
    "cdata": ["B1", "A3", "C5"],
    "empty": ["C3"],
    "rows out of order": ["B1", "A3", "A5", "C4"],
}


def _read(path: Path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return openpyxl.load_workbook(path)


@pytest.mark.parametrize("name", list(SHEETS))
def test_unusual_sheets_mark_and_clear_cleanly(tmp_path: Path, name: str) -> None:
    original = package(tmp_path / "original.xlsx", SHEETS[name])
    book = tmp_path / "book.xlsx"
    book.write_bytes(original.read_bytes())
    findings = [Finding("sum", "error", "Sheet1", ref, (ref,), 1, 2, 0, f"check {ref}") for ref in TARGETS[name]]
    summary = mark_workbook(book, findings)
    assert summary.cells == len(findings)
    values = fw.calamine_values(book)
    assert values.pop("tallycheck")
    assert values == fw.calamine_values(original)
    ws = _read(book)["Sheet1"]
    for ref in TARGETS[name]:
        assert ws[ref].fill.fgColor.rgb == "FFFFC7CE", ref
        assert f"check {ref}" in ws[ref].comment.text
    if name == "ordinary":
        assert ws["B1"].number_format == "#,##0"  # the marked cell kept its number format
        xml = fw.parts(book)["xl/worksheets/sheet1.xml"]
        assert b'<row r="5" spans="1:6">' in xml  # widened for F5, restored by clear
    assert clear_workbook(book) == len(findings)
    before, after = fw.parts(original), fw.parts(book)
    assert list(after) == list(before)
    for part in before:
        assert fw.canonical(after[part]) == fw.canonical(before[part]), part


def test_marks_are_spliced_into_big_sheets_without_rewriting_other_rows(tmp_path: Path) -> None:
    rows = "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c><c r="B{r}" s="1"><v>{r * 2}</v></c></row>'
                   for r in range(1, 3001))
    original = package(tmp_path / "original.xlsx", sheet(f"<sheetData>{rows}</sheetData>"))
    book = tmp_path / "book.xlsx"
    book.write_bytes(original.read_bytes())
    mark_workbook(book, [Finding("sum", "error", "Sheet1", "B1500", ("B1500",), 1, 2, 0, "x"),
                         Finding("sum", "error", "Sheet1", "B3000", ("B3000",), 1, 2, 0, "x")])
    before = fw.parts(original)["xl/worksheets/sheet1.xml"]
    after = fw.parts(book)["xl/worksheets/sheet1.xml"]
    # Everything up to row 1500 is the original's bytes, and so is row 1501 onwards up to 3000.
    cut = before.index(b'<row r="1500">')
    assert after[:cut] == before[:cut]
    assert before[before.index(b'<row r="1501">') : before.index(b'<row r="3000">')] in after
    clear_workbook(book)
    assert fw.parts(book)["xl/worksheets/sheet1.xml"] == before


def test_a_cell_with_a_threaded_comment_keeps_it_and_is_still_filled(tmp_path: Path) -> None:
    threaded = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><ThreadedComments xmlns="http://schemas.'
                'microsoft.com/office/spreadsheetml/2018/threadedcomments"><threadedComment ref="B1" '
                'dT="2024-01-01T00:00:00.00" personId="{00000000-0000-0000-0000-000000000001}" '
                'id="{00000000-0000-0000-0000-000000000002}"><text>A modern comment</text></threadedComment>'
                "</ThreadedComments>")
    rels = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
            '2006/relationships"><Relationship Id="rId1" Type="http://schemas.microsoft.com/office/2017/10/'
            'relationships/threadedComment" Target="../threadedComments/threadedComment1.xml"/></Relationships>')
    original = package(tmp_path / "original.xlsx", SHEETS["ordinary"],
                       {"xl/threadedComments/threadedComment1.xml": threaded}, rels)
    book = tmp_path / "book.xlsx"
    book.write_bytes(original.read_bytes())
    summary = mark_workbook(book, [Finding("sum", "error", "Sheet1", "B1", ("B1",), 1, 2, 0, "x"),
                                   Finding("sum", "error", "Sheet1", "C1", ("C1",), 1, 2, 0, "y")])
    assert summary.notes_skipped == ("Sheet1!B1",)
    ws = _read(book)["Sheet1"]
    assert ws["B1"].fill.fgColor.rgb == "FFFFC7CE" and ws["B1"].comment is None
    assert "y" in ws["C1"].comment.text
    assert fw.parts(book)["xl/threadedComments/threadedComment1.xml"] == threaded.encode()
    clear_workbook(book)
    before, after = fw.parts(original), fw.parts(book)
    assert {k: fw.canonical(v) for k, v in after.items()} == {k: fw.canonical(v) for k, v in before.items()}


def _repackaged(book: Path, part: str, data: bytes) -> bytes:
    """The package at book with one part's bytes replaced."""
    buf = io.BytesIO()
    with zipfile.ZipFile(book) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, data if info.filename == part else src.read(info))
    return buf.getvalue()


def test_the_written_check_parses_what_marking_wrote_and_leaves_copied_rows_to_the_source(tmp_path: Path) -> None:
    rows = [f'<row r="{n}"><c r="A{n}"><v>{n}</v></c><c r="B{n}"><v>{n * 2}</v></c></row>' for n in range(1, 31)]
    source = sheet("<sheetData>" + "".join(rows) + "</sheetData>")
    book = package(tmp_path / "book.xlsx", source)
    part = "xl/worksheets/sheet1.xml"
    ws = Worksheet(source.encode(), part, dialect_of(MAIN))
    for ref in ("B5", "B20"):
        ws.set_style(ref, 1)
    data, spans = ws.render(), ws.verbatim()
    # what is left between the edits is the source's own rows, byte for byte
    assert [data[a:b].decode() for a, b in spans] == ["".join(rows[:4]), "".join(rows[5:19]), "".join(rows[20:])]
    original = book.read_bytes()

    def check(sheet_bytes: bytes, verbatim: dict[str, list[tuple[int, int]]] | None) -> None:
        check_written(_repackaged(book, part, sheet_bytes), original, [part], "xl/workbook.xml",
                      contents={part: sheet_bytes}, verbatim=verbatim)

    check(data, {part: spans})
    # damage in a row marking wrote (row 5), outside the spans
    ours = data[: spans[0][1]] + data[spans[0][1] :].replace(b"</row>", b"</rox>", 1)
    with pytest.raises(PatchRefused, match="damaged part"):
        check(ours, {part: spans})
    copied = data.replace(b"</row>", b"</rox>", 1)  # damage in row 1, copied as it was: the source's to judge
    check(copied, {part: spans})
    with pytest.raises(PatchRefused, match="damaged part"):
        check(copied, None)  # without the spans the whole part is parsed
    with pytest.raises(PatchRefused, match="damaged part"):  # bytes that are not what the package holds
        check_written(_repackaged(book, part, data), original, [part], "xl/workbook.xml", contents={part: ours})


def test_the_summary_sheet_keeps_any_text_a_finding_carries(tmp_path: Path) -> None:
    book = package(tmp_path / "book.xlsx", SHEETS["ordinary"])
    messages = {"B1": 'Totals & parts: <1> "quoted"\r\n\tand tabbed', "C1": "  padded  ", "A3": "bell\x07 dropped",
                "A5": "x" * 40_000}
    findings = [Finding("sum", "error", "Sheet1", ref, (ref,), float("nan") if ref == "A3" else 1, 2.5, 0, text)
                for ref, text in messages.items()]
    mark_workbook(book, findings)
    rows = {r[1].value: r for r in _read(book)["tallycheck"].iter_rows(min_row=6)}
    assert rows["B1"][9].value == messages["B1"]
    assert rows["C1"][9].value == "  padded  "
    assert rows["A3"][9].value == "bell dropped" and rows["A3"][4].value == "nan" and rows["A3"][5].value == 2.5
    assert rows["A5"][9].value == "x" * 32_767  # a cell holds at most this much text
