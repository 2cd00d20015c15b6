"""The summary worksheet part: every finding, each with a link that jumps to its cell.

Strings are written inline (t="inlineStr") so the shared-strings part, which every other sheet
depends on, is never touched; links are internal locations, which need no relationships part.
"""

from __future__ import annotations

import math

from lxml import etree

from ..plan import FILLS, Summary
from ..refs import a1, column_letters
from .ns import XML_NS, Dialect
from .styles import Styles
from .xmlio import xml_text

_WIDTHS = (18, 9, 14, 10, 14, 14, 13, 12, 26, 100)
_HEADER_ROW = 5
_MAX_TEXT = 32_767


def quote_sheet(name: str) -> str:
    """A sheet name as a formula or link location spells it: 'It''s'."""
    return "'" + name.replace("'", "''") + "'"


def render(summary: Summary, styles: Styles, d: Dialect) -> etree._Element:
    """The worksheet root for a summary."""
    q = d.q
    root = etree.Element(q("worksheet"), nsmap={None: d.main, "r": d.r})
    pr = etree.SubElement(root, q("sheetPr"))
    etree.SubElement(pr, q("tabColor")).set("rgb", "FFC00000")
    etree.SubElement(pr, q("pageSetUpPr")).set("fitToPage", "1")
    last_row = _HEADER_ROW + len(summary.rows)
    etree.SubElement(root, q("dimension")).set(
        "ref", f"A1:{column_letters(len(summary.headers))}{last_row}"
    )
    views = etree.SubElement(root, q("sheetViews"))
    view = etree.SubElement(views, q("sheetView"))
    view.set("workbookViewId", "0")
    pane = etree.SubElement(view, q("pane"))
    pane.set("ySplit", str(_HEADER_ROW))
    pane.set("topLeftCell", f"A{_HEADER_ROW + 1}")
    pane.set("activePane", "bottomLeft")
    pane.set("state", "frozen")
    etree.SubElement(root, q("sheetFormatPr")).set("defaultRowHeight", "15")
    cols = etree.SubElement(root, q("cols"))
    for i, width in enumerate(_WIDTHS[: len(summary.headers)], start=1):
        col = etree.SubElement(cols, q("col"))
        col.set("min", str(i))
        col.set("max", str(i))
        col.set("width", str(width))
        col.set("customWidth", "1")
    data = etree.SubElement(root, q("sheetData"))

    title, bold, link = styles.summary("title"), styles.summary("bold"), styles.summary("link")
    plain_int, plain = styles.summary("plain", number_format=3), styles.summary("plain")
    severity_style = {sev: styles.summary("plain", rgb) for sev, rgb in FILLS.items()}

    def row(n: int) -> etree._Element:
        el = etree.SubElement(data, q("row"))
        el.set("r", str(n))
        return el

    c_tag, v_tag, is_tag, t_tag = q("c"), q("v"), q("is"), q("t")  # ~70 cells a summary

    def cell(parent: etree._Element, r: int, c: int, value: object, style: int) -> None:
        el = etree.SubElement(parent, c_tag, {"r": a1(r, c), "s": str(style)})
        if value is None or value == "":
            return
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if isinstance(value, float) and not math.isfinite(value):
                value = str(value)
            else:
                etree.SubElement(el, v_tag).text = repr(value) if isinstance(
                    value, float) else str(value)
                if style == plain and float(value).is_integer():
                    el.set("s", str(plain_int))
                return
        el.set("t", "inlineStr")
        t = etree.SubElement(etree.SubElement(el, is_tag), t_tag)
        t.text = xml_text(str(value))[:_MAX_TEXT]
        if t.text != t.text.strip():
            t.set(f"{{{XML_NS}}}space", "preserve")

    cell(row(1), 1, 1, summary.title, title)
    for i, line in enumerate(summary.lines[: _HEADER_ROW - 2], start=2):
        cell(row(i), i, 1, line, plain)
    header = row(_HEADER_ROW)
    for c, text in enumerate(summary.headers, start=1):
        cell(header, _HEADER_ROW, c, text, bold)
    links = []
    for n, item in enumerate(summary.rows, start=_HEADER_ROW + 1):
        el = row(n)
        for c, value in enumerate(item.values(), start=1):
            style = plain
            if c == 2:
                style = link
                links.append((a1(n, c), f"{quote_sheet(item.sheet)}!{item.cell}",
                              f"{item.sheet}!{item.cell}"))
            elif c == 4:
                style = severity_style.get(item.severity, plain)
            cell(el, n, c, value, style)
    if links:
        hyperlinks = etree.SubElement(root, q("hyperlinks"))
        for ref, location, display in links:
            h = etree.SubElement(hyperlinks, q("hyperlink"))
            h.set("ref", ref)
            h.set("location", location)
            h.set("display", display)
    margins = etree.SubElement(root, q("pageMargins"))
    for side, value in (("left", "0.7"), ("right", "0.7"), ("top", "0.75"), ("bottom", "0.75"),
                        ("header", "0.3"), ("footer", "0.3")):
        margins.set(side, value)
    setup = etree.SubElement(root, q("pageSetup"))
    setup.set("orientation", "landscape")
    setup.set("fitToWidth", "1")
    setup.set("fitToHeight", "0")
    return root
