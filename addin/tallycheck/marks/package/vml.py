"""A sheet's legacy VML drawing (xl/drawings/vmlDrawingN.vml): the boxes notes pop up in.

Excel shows a note only if the sheet's VML drawing has a shape for it (ObjectType "Note" with the
cell's row and column). Shapes are written the way Excel and XlsxWriter write them. A sheet's VML
may also hold form controls (buttons in an .xlsm); those shapes are never touched.
"""

from __future__ import annotations

import math
import re

from lxml import etree

from .ns import VML_O, VML_V, VML_X

_NSMAP = {"v": VML_V, "o": VML_O, "x": VML_X}
_SHAPE_ID = re.compile(r"_x0000_s(\d+)")
_IDMAP = re.compile(rb"""<o:idmap[^>]*\bdata\s*=\s*["']([\d,\s]*)["']""")
NOTE_TYPE = "#_x0000_t202"
# Default column width and row height in pixels (Calibri 11), as Excel and XlsxWriter assume.
_COL_PX, _ROW_PX = 64, 20
NOTE_COLUMNS = 4  # our notes are wordy: four default columns wide
_CHARS_PER_LINE = 44
_LINE_PX = 12


def _v(tag: str) -> str:
    return f"{{{VML_V}}}{tag}"


def _o(tag: str) -> str:
    return f"{{{VML_O}}}{tag}"


def _x(tag: str) -> str:
    return f"{{{VML_X}}}{tag}"


def idmaps(data: bytes) -> set[int]:
    """The drawing ids a VML part claims (its shapes are numbered 1024*id + n)."""
    out: set[int] = set()
    for m in _IDMAP.finditer(data):
        out.update(int(x) for x in m.group(1).decode().replace(" ", "").split(",") if x)
    return out


def new_root(drawing_id: int) -> etree._Element:
    """An empty VML drawing with the note shape type, claiming one drawing id."""
    root = etree.Element("xml", nsmap=_NSMAP)
    layout = etree.SubElement(root, _o("shapelayout"))
    layout.set(_v("ext"), "edit")
    idmap = etree.SubElement(layout, _o("idmap"))
    idmap.set(_v("ext"), "edit")
    idmap.set("data", str(drawing_id))
    root.append(_note_shapetype())
    return root


def _note_shapetype() -> etree._Element:
    st = etree.Element(_v("shapetype"))
    st.set("id", "_x0000_t202")
    st.set("coordsize", "21600,21600")
    st.set(_o("spt"), "202")
    st.set("path", "m,l,21600r21600,l21600,xe")
    etree.SubElement(st, _v("stroke")).set("joinstyle", "miter")
    path = etree.SubElement(st, _v("path"))
    path.set("gradientshapeok", "t")
    path.set(_o("connecttype"), "rect")
    return st


def note_rows(text: str) -> int:
    """How many default rows a note box needs to show this text without clipping."""
    lines = sum(max(1, math.ceil(len(line) / _CHARS_PER_LINE)) for line in text.split("\n"))
    return max(4, math.ceil(lines * _LINE_PX / _ROW_PX) + 1)


class Vml:
    """The note shapes of one VML drawing, backed by its lxml root."""

    def __init__(self, root: etree._Element) -> None:
        self.root = root
        _keep_html_pairs(root)
        self._notes: dict[tuple[str, str], etree._Element] = {}
        self._ids: set[int] = set()  # shape numbers in use (_x0000_sNNNN)
        for el in root.iter():
            if isinstance(el.tag, str):
                for attr in ("id", _o("spid")):
                    m = _SHAPE_ID.fullmatch(el.get(attr, "") or "")
                    if m:
                        self._ids.add(int(m.group(1)))
        self._max_id = max(self._ids, default=0)
        for shape in root.iter(_v("shape")):
            data = shape.find(_x("ClientData"))
            if data is not None and data.get("ObjectType") == "Note":
                key = (data.findtext(_x("Row")) or "", data.findtext(_x("Column")) or "")
                self._notes.setdefault(key, shape)

    def note(self, row0: int, col0: int) -> etree._Element | None:
        """The note shape anchored to a cell (0-based row and column), if any."""
        return self._notes.get((str(row0), str(col0)))

    def has_shapes(self) -> bool:
        """Whether any shape at all is left (a button keeps the drawing alive)."""
        return any(True for _ in self.root.iter(_v("shape")))

    def _next_shape_id(self, drawing_id: int) -> int:
        self._max_id = max(self._max_id, drawing_id * 1024) + 1
        self._ids.add(self._max_id)
        return self._max_id

    def add_note(self, row0: int, col0: int, rows: int, drawing_id: int) -> None:
        """Add a hidden note box for a cell, sized for `rows` default rows of text."""
        if not any(st.get("id") == "_x0000_t202" for st in self.root.iter(_v("shapetype"))):
            types = list(self.root.iter(_v("shapetype")))
            if types:
                types[-1].addnext(_note_shapetype())
            else:
                layout = self.root.find(_o("shapelayout"))
                if layout is not None:
                    layout.addnext(_note_shapetype())
                else:
                    self.root.insert(0, _note_shapetype())
        anchor = _anchor(row0, col0, rows)
        left = (anchor[0] * _COL_PX + anchor[1]) * 0.75
        top = (anchor[2] * _ROW_PX + anchor[3]) * 0.75
        shape = etree.SubElement(self.root, _v("shape"))
        shape.set("id", f"_x0000_s{self._next_shape_id(drawing_id)}")
        shape.set("type", NOTE_TYPE)
        shape.set(
            "style",
            f"position:absolute;margin-left:{left:g}pt;margin-top:{top:g}pt;"
            f"width:{NOTE_COLUMNS * _COL_PX * 0.75:g}pt;height:{rows * _ROW_PX * 0.75:g}pt;"
            f"z-index:{len(self._notes) + 1};visibility:hidden",
        )
        shape.set("fillcolor", "#ffffe1")
        shape.set(_o("insetmode"), "auto")
        etree.SubElement(shape, _v("fill")).set("color2", "#ffffe1")
        shadow = etree.SubElement(shape, _v("shadow"))
        shadow.set("on", "t")
        shadow.set("color", "black")
        shadow.set("obscured", "t")
        etree.SubElement(shape, _v("path")).set(_o("connecttype"), "none")
        box = etree.SubElement(shape, _v("textbox"))
        box.set("style", "mso-direction-alt:auto")
        div = etree.SubElement(box, "div")
        div.set("style", "text-align:left")
        div.text = ""
        data = etree.SubElement(shape, _x("ClientData"))
        data.set("ObjectType", "Note")
        etree.SubElement(data, _x("MoveWithCells"))
        etree.SubElement(data, _x("SizeWithCells"))
        etree.SubElement(data, _x("Anchor")).text = ", ".join(str(v) for v in anchor)
        etree.SubElement(data, _x("AutoFill")).text = "False"
        etree.SubElement(data, _x("Row")).text = str(row0)
        etree.SubElement(data, _x("Column")).text = str(col0)
        self._notes[(str(row0), str(col0))] = shape

    def remove_note(self, row0: int, col0: int) -> bool:
        """Remove the note box of a cell."""
        shape = self._notes.pop((str(row0), str(col0)), None)
        if shape is None:
            return False
        shape.getparent().remove(shape)
        m = _SHAPE_ID.fullmatch(shape.get("id", "") or "")
        if m:  # so that marking again numbers its shapes as the first run did
            self._ids.discard(int(m.group(1)))
            self._max_id = max(self._ids, default=0)
        return True

    def grow_note(self, row0: int, col0: int, rows: int) -> tuple[str, str] | None:
        """Make an existing note box tall and wide enough; return (old anchor, new anchor)."""
        shape = self.note(row0, col0)
        anchor_el = shape.find(f"{_x('ClientData')}/{_x('Anchor')}") if shape is not None else None
        if anchor_el is None or anchor_el.text is None:
            return None
        try:
            values = [int(v) for v in anchor_el.text.split(",")]
        except ValueError:
            return None
        if len(values) != 8:
            return None
        old = anchor_el.text
        grown = list(values)
        grown[4] = max(values[4], values[0] + NOTE_COLUMNS)
        grown[6] = max(values[6], values[2] + rows)
        if grown == values:
            return None
        anchor_el.text = ", ".join(str(v) for v in grown)
        return old, anchor_el.text

    def set_anchor(self, row0: int, col0: int, expect: str, text: str) -> bool:
        """Put back a note box's anchor if it is still the one we set."""
        shape = self.note(row0, col0)
        anchor_el = shape.find(f"{_x('ClientData')}/{_x('Anchor')}") if shape is not None else None
        if anchor_el is None or anchor_el.text != expect:
            return False
        anchor_el.text = text
        return True


def _keep_html_pairs(root: etree._Element) -> None:
    """Write an empty <div> as <div></div>, as Excel does: VML text boxes hold HTML, and an HTML
    reader takes <div/> for an unclosed <div>."""
    for el in root.iter("div", "font", "span", "p", "b", "i", "u"):
        if el.text is None and not len(el):
            el.text = ""


def _anchor(row0: int, col0: int, rows: int) -> list[int]:
    """Excel's anchor for a note box beside a cell: col, dx, row, dy of two corners."""
    top_row, top_dy = (row0 - 1, 10) if row0 > 0 else (0, 2)
    return [col0 + 1, 15, top_row, top_dy, col0 + 1 + NOTE_COLUMNS, 15, top_row + rows, 4]
