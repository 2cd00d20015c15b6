"""A workbook with everything a lossy re-save can drop, and probes that show what survived.

Used by the marks tests (marking must keep every feature) and by benchmarks/openpyxl_losses.py
(which features an openpyxl load + save keeps). Built with XlsxWriter, the way an analyst's
workbook written by a script would be; the .xlsm variant carries a VBA project (a macro behind a
button) written by addin/vba_project.py, so the repository needs no third-party file for it.
"""

from __future__ import annotations

import hashlib
import re
import struct
import sys
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import xlsxwriter
from lxml import etree

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "addin"))

import vba_project as _vba

SHARED = Path(__file__).resolve().parents[2] / "shared"
CALAMINE = SHARED / "data" / "calamine-tests"  # third-party corpus: only tests marked `corpus` read it

#: The cells the tests mark: (sheet, cell). E7 carries the analyst's own note.
MARKED_SHEET = "Losses"
ANALYST_NOTE_CELL = "E7"
ANALYST_NOTE = "Analyst: total taken from the ministry's bulletin of 5 June."


def png(width: int = 24, height: int = 16, rgb: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    """A small solid-colour PNG, so the tests need no image file."""
    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


MACRO = 'Attribute VB_Name = "Module1"\r\nSub Macro1()\r\n    MsgBox "Checked"\r\nEnd Sub\r\n'


def vba_project() -> bytes:
    """A vbaProject.bin with the workbook's document modules and the button's macro."""
    modules = [
        _vba.document_module("ThisWorkbook", _vba.WORKBOOK_BASE),
        *(_vba.document_module(f"Sheet{n}", _vba.WORKSHEET_BASE) for n in (1, 2, 3)),
        _vba.Module("Module1", "standard", MACRO),
    ]
    return _vba.vba_project(modules)


def build(path: Path, *, vba: bool = False) -> Path:
    """Write the feature-rich workbook (an .xlsm with a VBA project and a button if vba)."""
    folder = path.parent
    image = folder / "logo.png"
    image.write_bytes(png())
    wb = xlsxwriter.Workbook(str(path))
    if vba:
        bin_path = folder / "vbaProject.bin"
        bin_path.write_bytes(vba_project())
        wb.add_vba_project(str(bin_path))
    bold = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    num = wb.add_format({"num_format": "#,##0", "border": 1})
    red_num = wb.add_format({"num_format": "#,##0", "font_color": "#9C0006", "italic": True})
    pct = wb.add_format({"num_format": "0.0%"})
    wrap = wb.add_format({"text_wrap": True, "align": "center", "valign": "top"})
    title = wb.add_format({"bold": True, "font_size": 14})

    ws = wb.add_worksheet(MARKED_SHEET)
    ws.merge_range("A1:F1", "Losses by year (as reported)", title)
    ws.write_rich_string("A2", "Source: ", wb.add_format({"bold": True}), "General Staff", " bulletins")
    ws.write_row("A3", ["Year", "Killed", "Wounded", "Missing", "Total", "Share"], bold)
    rows = [
        (2021, 1200, 3400, 500),
        (2022, 106720, 250000, 15000),
        (2023, 253290, 400000, 20000),
        (2024, 430790, 600000, 30000),
    ]
    for i, (year, k, w, m) in enumerate(rows, start=4):
        ws.write_number(i - 1, 0, year)
        ws.write_number(i - 1, 1, k, num)
        ws.write_number(i - 1, 2, w, num)
        ws.write_number(i - 1, 3, m, num)
        # Cached values as Excel would have them; 2023's total is off by 1,000 on purpose.
        total = k + w + m + (1000 if year == 2023 else 0)
        ws.write_formula(i - 1, 4, f"=B{i}+C{i}+D{i}" + ("+1000" if year == 2023 else ""), num, total)
        ws.write_formula(i - 1, 5, f"=E{i}/E$8", pct, total / 2_110_400)
    ws.write("A8", "Total", bold)
    ws.write_formula("B8", "=SUM(B4:B7)", num, 791_000)
    ws.write_formula("C8", "=SUM(C4:C7)", num, 1_253_400)
    ws.write_formula("D8", "=SUM(D4:D7)", num, 65_500)
    ws.write_formula("E8", "=SUM(E4:E7)", red_num, 2_110_400)
    ws.write_dynamic_array_formula("H4:H7", "=SORT(B4:B7)", None, 1200)
    ws.write_comment(ANALYST_NOTE_CELL, ANALYST_NOTE, {"author": "Analyst", "x_scale": 1.5, "color": "#C6EFCE"})
    ws.write_comment("A8", "Visible analyst note", {"visible": True})
    ws.write_url("A10", "https://example.org/bulletin", string="Bulletin (external link)")
    ws.write_url("A11", f"internal:'{MARKED_SHEET}'!E8", string="Go to the total")
    ws.write("A12", "Wrapped\ntext", wrap)
    ws.write_string("A13", "0123")  # a number stored as text: ignored error below
    ws.ignore_errors({"number_stored_as_text": "A13"})
    ws.data_validation("B4:D7", {"validate": "integer", "criteria": ">=", "value": 0})
    ws.conditional_format("B4:D7", {"type": "data_bar", "data_bar_2010": True, "bar_color": "#63BE7B"})
    ws.conditional_format("E4:E7", {"type": "cell", "criteria": ">", "value": 1_000_000, "format": red_num})
    ws.add_sparkline("G4", {"range": f"'{MARKED_SHEET}'!B4:D4"})
    ws.add_sparkline("G5", {"range": f"'{MARKED_SHEET}'!B5:D5", "type": "column"})
    ws.insert_image("J2", str(image), {"x_scale": 2, "y_scale": 2})
    ws.insert_textbox("J8", "A text box the analyst drew", {"width": 200, "height": 50})
    ws.embed_image("I4", str(image))
    ws.insert_checkbox("I6", True)
    ws.freeze_panes(3, 1)
    ws.set_column("A:A", 14)
    ws.set_column("B:E", 12)
    ws.set_header("&L&G&CLosses", {"image_left": str(image)})
    ws.autofilter("A3:F7")
    if vba:
        ws.insert_button("J12", {"macro": "Macro1", "caption": "Run macro"})

    data = wb.add_worksheet("Data")
    data.add_table("B2:D6", {"columns": [{"header": "Region"}, {"header": "Killed"}, {"header": "Wounded"}],
                             "data": [["North", 10, 20], ["South", 30, 40], ["East", 50, 60], ["West", 70, 80]]})
    chart = wb.add_chart({"type": "column"})
    chart.add_series({"name": "Killed", "categories": f"='{MARKED_SHEET}'!$A$4:$A$7",
                      "values": f"='{MARKED_SHEET}'!$B$4:$B$7", "fill": {"color": "#C00000"},
                      "data_labels": {"value": True}})
    chart.set_title({"name": "Killed per year"})
    chart.set_style(26)
    data.insert_chart("F2", chart)

    hidden = wb.add_worksheet("Hidden")
    hidden.write("A1", "hidden helper value")
    hidden.write_number("A2", 42)
    hidden.hide()

    sheet = wb.add_chartsheet("ChartSheet")
    pie = wb.add_chart({"type": "pie"})
    pie.add_series({"values": f"='{MARKED_SHEET}'!$B$8:$D$8", "categories": f"='{MARKED_SHEET}'!$B$3:$D$3"})
    sheet.set_chart(pie)

    wb.define_name("Killed", f"='{MARKED_SHEET}'!$B$4:$B$7")
    wb.define_name(f"'{MARKED_SHEET}'!LocalTotal", f"='{MARKED_SHEET}'!$E$8")
    wb.set_properties({"title": "Casualty tables", "author": "An analyst"})
    wb.set_custom_property("Checked", False)
    ws.activate()
    wb.close()
    return path


# -- reading a package back ------------------------------------------------------------------

def parts(path: Path) -> dict[str, bytes]:
    """Every member's content, in archive order."""
    with zipfile.ZipFile(path) as z:
        return {i.filename: z.read(i.filename) for i in z.infolist()}


def raw_records(path: Path) -> dict[str, tuple[int, int, int, bytes]]:
    """Each member's compression method, CRC, compressed size and compressed bytes."""
    out = {}
    with zipfile.ZipFile(path) as z:
        data = path.read_bytes()
        for i in z.infolist():
            start = i.header_offset + 30 + len(i.filename.encode()) + int.from_bytes(
                data[i.header_offset + 28 : i.header_offset + 30], "little")
            out[i.filename] = (i.compress_type, i.CRC, i.compress_size, data[start : start + i.compress_size])
    return out


def canonical(data: bytes) -> bytes:
    """A part in canonical XML: what a spreadsheet reads, whatever the serialiser's spelling."""
    return etree.tostring(etree.fromstring(data), method="c14n2")


def calamine_values(path: Path) -> dict[str, list[list[object]]]:
    """Every worksheet's values as python-calamine reads them (cached formula values included)."""
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(str(path))
    out = {}
    for name in wb.sheet_names:
        try:
            out[name] = wb.get_sheet_by_name(name).to_python()
        except Exception as exc:  # a chartsheet has no cells
            out[name] = [[f"<{type(exc).__name__}>"]]
    return out


# -- what a workbook holds: one probe per feature ------------------------------------------------

def _sheet_xml(p: dict[str, bytes], index: int = 1) -> bytes:
    return p.get(f"xl/worksheets/sheet{index}.xml", b"")


def _all(p: dict[str, bytes], prefix: str) -> bytes:
    return b"".join(v for k, v in sorted(p.items()) if k.startswith(prefix))


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:12] if data else "-"


def _count(pattern: bytes) -> Callable[[bytes], int]:
    rx = re.compile(pattern)
    return lambda data: len(rx.findall(data))


PROBES: dict[str, Callable[[dict[str, bytes]], object]] = {
    "cached formula values": lambda p: _count(rb"<f>[^<]*</f><v>[^<]+</v>")(_sheet_xml(p)),
    "dynamic-array formula (metadata.xml)": lambda p: ("xl/metadata.xml" in p, b' cm="1"' in _sheet_xml(p)),
    "picture in cell (richData)": lambda p: sorted(k for k in p if k.startswith("xl/richData/")),
    "checkbox (feature property bag)": lambda p: sorted(k for k in p if "featurePropertyBag" in k),
    "sparklines": lambda p: _count(rb"<x14:sparkline>")(_sheet_xml(p)),
    "data bar 2010 extension": lambda p: _count(rb"<x14:dataBar")(_sheet_xml(p)),
    "text box shape": lambda p: _count(rb"<xdr:sp[ >]")(_all(p, "xl/drawings/drawing")),
    "header/footer image": lambda p: (b"<legacyDrawingHF" in _sheet_xml(p), _count(rb"o:title=")(_all(p, "xl/drawings/vml"))),
    "note box size, colour, visibility": lambda p: sorted(
        re.findall(rb'fillcolor="[^"]*"|<x:Visible/>|width:[\d.]+pt', _all(p, "xl/drawings/vmlDrawing"))),
    "rich text in cells": lambda p: _count(rb"<r>")(p.get("xl/sharedStrings.xml", b"")),
    "ignoredErrors": lambda p: b"<ignoredErrors>" in _sheet_xml(p),
    "docProps/app.xml": lambda p: _digest(p.get("docProps/app.xml", b"")),
    "docProps/custom.xml": lambda p: _digest(p.get("docProps/custom.xml", b"")),
    "VBA project": lambda p: _digest(p.get("xl/vbaProject.bin", b"")),
    "form button (VML)": lambda p: _count(rb'ObjectType="Button"')(_all(p, "xl/drawings/vml")),
    "charts (XML unchanged)": lambda p: _digest(_all(p, "xl/charts/")),
    "chartsheet": lambda p: sorted(k for k in p if k.startswith("xl/chartsheets/") and k.endswith(".xml")),
    "pictures (media files)": lambda p: (sum(k.startswith("xl/media/") for k in p), _digest(_all(p, "xl/media/"))),
    "defined names": lambda p: _count(rb"<definedName ")(p.get("xl/workbook.xml", b"")),
    "data validation": lambda p: _count(rb"<dataValidation ")(_sheet_xml(p)),
    "conditional formats": lambda p: _count(rb"<conditionalFormatting")(_sheet_xml(p)),
    "table": lambda p: sorted(k for k in p if k.startswith("xl/tables/")),
    "hyperlinks": lambda p: _count(rb"<hyperlink ")(_sheet_xml(p)),
    "freeze panes": lambda p: b'state="frozen"' in _sheet_xml(p),
    "hidden sheet": lambda p: b'state="hidden"' in p.get("xl/workbook.xml", b""),
    "merged cells": lambda p: _count(rb"<mergeCell ")(_sheet_xml(p)),
    "autofilter": lambda p: b"<autoFilter " in _sheet_xml(p),
    "legacy notes (text)": lambda p: _count(rb"<comment ")(_all(p, "xl/comments")),
}


def probe(path: Path) -> dict[str, object]:
    """Each feature's fingerprint in a workbook file."""
    p = parts(path)
    return {name: fn(p) for name, fn in PROBES.items()}
