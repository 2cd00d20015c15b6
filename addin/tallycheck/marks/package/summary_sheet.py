"""The summary worksheet part: every finding, each with a link that jumps to its cell.

Strings are written inline (t="inlineStr") so the shared-strings part, which every other sheet
depends on, is never touched; links are internal locations, which need no relationships part.
"""

from __future__ import annotations

import math

from ..plan import FILLS, Summary
from ..refs import a1, column_letters
from .ns import Dialect
from .styles import Styles
from .xmlio import XML_DECLARATION, xml_text

_WIDTHS = (18, 9, 14, 10, 14, 14, 13, 12, 26, 100)
_HEADER_ROW = 5
_MAX_TEXT = 32_767


def quote_sheet(name: str) -> str:
    """A sheet name as a formula or link location spells it: 'It''s'."""
    return "'" + name.replace("'", "''") + "'"


def render(summary: Summary, styles: Styles, d: Dialect) -> bytes:
    """The worksheet part's bytes for a summary.

    Written as text, not built as an lxml tree: ~70 cells a workbook made this a tenth of marking
    a small one. The bytes are what lxml writes for the same tree (the part as it always was), and
    the written-package check parses them like every part marking writes.
    """
    title, bold, link = styles.summary("title"), styles.summary("bold"), styles.summary("link")
    plain_int, plain = styles.summary("plain", number_format=3), styles.summary("plain")
    severity_style = {sev: styles.summary("plain", rgb) for sev, rgb in FILLS.items()}
    last_row = _HEADER_ROW + len(summary.rows)
    out = [
        f'<worksheet xmlns="{_attr(d.main)}" xmlns:r="{_attr(d.r)}"><sheetPr><tabColor rgb="FFC00000"/>'
        f'<pageSetUpPr fitToPage="1"/></sheetPr><dimension ref="A1:{column_letters(len(summary.headers))}{last_row}"/>'
        f'<sheetViews><sheetView workbookViewId="0"><pane ySplit="{_HEADER_ROW}" topLeftCell="A{_HEADER_ROW + 1}" '
        'activePane="bottomLeft" state="frozen"/></sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/><cols>'
    ]
    for i, width in enumerate(_WIDTHS[: len(summary.headers)], start=1):
        out.append(f'<col min="{i}" max="{i}" width="{width}" customWidth="1"/>')
    out.append("</cols><sheetData>")

    def row(n: int, cells: list[tuple[int, object, int]]) -> None:
        out.append(f'<row r="{n}">')
        for c, value, style in cells:
            out.append(_cell(a1(n, c), value, style, plain, plain_int))
        out.append("</row>")

    row(1, [(1, summary.title, title)])
    for i, line in enumerate(summary.lines[: _HEADER_ROW - 2], start=2):
        row(i, [(1, line, plain)])
    row(_HEADER_ROW, [(c, text, bold) for c, text in enumerate(summary.headers, start=1)])
    links = []
    for n, item in enumerate(summary.rows, start=_HEADER_ROW + 1):
        cells = []
        for c, value in enumerate(item.values(), start=1):
            style = plain
            if c == 2:
                style = link
                links.append((a1(n, c), f"{quote_sheet(item.sheet)}!{item.cell}", f"{item.sheet}!{item.cell}"))
            elif c == 4:
                style = severity_style.get(item.severity, plain)
            cells.append((c, value, style))
        row(n, cells)
    out.append("</sheetData>")
    if links:
        out.append("<hyperlinks>")
        for ref, location, display in links:
            out.append(f'<hyperlink ref="{ref}" location="{_attr(location)}" display="{_attr(display)}"/>')
        out.append("</hyperlinks>")
    out.append('<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
               '<pageSetup orientation="landscape" fitToWidth="1" fitToHeight="0"/></worksheet>')
    return XML_DECLARATION + "".join(out).encode("utf-8")


def _cell(ref: str, value: object, style: int, plain: int, plain_int: int) -> str:
    """One <c>: a number as a number, anything else as an inline string; empty without a value."""
    if value is None or value == "":
        return f'<c r="{ref}" s="{style}"/>'
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not (isinstance(value, float) and not math.isfinite(value)):
            if style == plain and float(value).is_integer():
                style = plain_int
            return f'<c r="{ref}" s="{style}"><v>{repr(value) if isinstance(value, float) else str(value)}</v></c>'
        value = str(value)
    text = xml_text(str(value))[:_MAX_TEXT]
    space = ' xml:space="preserve"' if text != text.strip() else ""
    inner = f"<t{space}>{_text(text)}</t>"
    return f'<c r="{ref}" s="{style}" t="inlineStr"><is>{inner}</is></c>'


def _text(s: str) -> str:
    """Element text escaped as lxml escapes it (a carriage return too: a reader would drop it)."""
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def _attr(s: str) -> str:
    """An attribute value escaped as lxml escapes it (tabs and line breaks too: they would be read as spaces)."""
    return (_text(s).replace('"', "&quot;").replace("\t", "&#9;").replace("\n", "&#10;"))
