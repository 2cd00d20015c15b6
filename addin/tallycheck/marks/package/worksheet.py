"""A worksheet part, edited one cell's style at a time, plus its <legacyDrawing> reference.

A sheet of 100,000 rows is ~35 MB of XML; parsing it with lxml costs seconds and re-serialising
it would rewrite every byte. So the sheet is split into its shell (everything but the rows, parsed
with lxml) and the rows (kept as bytes). A row the marks touch is found by bisection over the
sorted <row r="..."> start tags, parsed on its own, edited, and spliced back; every other byte of
the sheet is kept. Sheets this does not fit (CDATA or comments among the rows, rows without
numbers, another encoding, an empty <sheetData/>) are parsed whole instead; both paths edit the
same lxml <row> elements through the same code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

from ..errors import PatchRefused
from ..refs import a1, parse_a1
from . import xmlio
from .ns import MC, Dialect

# CT_Worksheet's children after <legacyDrawing> (ECMA-376 Part 1, 18.3.1.99): a new
# <legacyDrawing> goes before the first of these.
_AFTER_LEGACY_DRAWING = {
    "legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls", "webPublishItems",
    "tableParts", "extLst",
}
_PLACEHOLDER = "tallycheck-rows-placeholder-5f1c"
_SHEETDATA_OPEN = re.compile(rb"<([A-Za-z_][\w.\-]*:)?sheetData[\s/>]")
_ROW_NUMBER = re.compile(rb"""\sr\s*=\s*["']\s*(\d+)\s*["']""")
_TAG_END = frozenset(b" \t\r\n>/")
_TRUE = ("1", "true")


class _Fallback(Exception):
    """The row bytes are not in the shape splicing needs; parse the sheet whole."""


@dataclass
class _Row:
    el: etree._Element  # the <row>, inside a wrapper element that carries the namespaces
    start: int | None  # byte span in the source rows (None for a row we are adding)
    end: int | None
    changed: bool = False
    removed: bool = False
    insert_at: int = 0  # for new rows: byte position in the source they go before


@dataclass
class _Splice:
    head_end: int  # just after <sheetData ...>
    tail_start: int  # at </sheetData>
    prefix: bytes  # namespace prefix of the rows, with colon, or b""
    rows: dict[int, _Row] = field(default_factory=dict)
    missing: set[int] = field(default_factory=set)  # row numbers a full scan found absent


class Worksheet:
    """Cell styles and the legacy drawing reference of one worksheet part."""

    def __init__(self, data: bytes, part: str, dialect: Dialect) -> None:
        self.part = part
        self.d = dialect
        self.original = data
        self.data = data
        self.shell_changed = False
        self.splice: _Splice | None = None
        self._rendered: bytes | None = None  # render()'s result until the next edit
        self._verbatim: list[tuple[int, int]] = []  # spans of _rendered copied from the source rows
        try:
            self._open_splice()
        except _Fallback:
            self._open_tree()

    # -- opening ----------------------------------------------------------------------------
    def _open_splice(self) -> None:
        data = self.data
        if xmlio.declared_encoding(data).replace("-", "") != "UTF8":
            raise _Fallback
        m = _SHEETDATA_OPEN.search(data)
        if m is None:
            raise _Fallback
        head_gt = data.find(b">", m.start())
        if head_gt < 0 or data[head_gt - 1 : head_gt] == b"/":
            raise _Fallback
        prefix = m.group(1) or b""
        tail = data.rfind(b"</" + prefix + b"sheetData>")
        if tail < head_gt:
            raise _Fallback
        head = data[: m.start()]
        for marker in (b"<!--", b"<![CDATA[", b"<!DOCTYPE"):
            if head.find(marker, len(xmlio.prologue(head))) >= 0:
                raise _Fallback
        for marker in (b"<!", b"<?"):  # comments, CDATA, PIs
            if _contains(data, marker, head_gt, tail):
                raise _Fallback
        try:
            root = xmlio.parse(data[: head_gt + 1] + data[tail:], self.part)
        except PatchRefused:
            raise _Fallback from None
        self.root = root
        sheet_data = self._sheet_data()
        if sheet_data is None or len(sheet_data) or (sheet_data.text or "").strip():
            raise _Fallback
        if sheet_data.prefix != (prefix[:-1].decode() if prefix else None):
            raise _Fallback
        self.splice = _Splice(head_gt + 1, tail, prefix)

    def _open_tree(self) -> None:
        self.splice = None
        self.root = xmlio.parse(self.data, self.part)
        if self._sheet_data() is None:
            raise PatchRefused(f"part {self.part} has no <sheetData>; not a worksheet")

    def _sheet_data(self) -> etree._Element | None:
        if self.root.tag != self.d.q("worksheet"):
            raise PatchRefused(f"part {self.part} is not a worksheet")
        return self.root.find(self.d.q("sheetData"))

    def _to_tree(self) -> None:
        """Leave splice mode, keeping every edit made so far."""
        self.data = self._render()[0]
        self._rendered = None
        self.shell_changed = False
        self._open_tree()

    # -- rows: splice mode ------------------------------------------------------------------
    def _next_row(self, pos: int) -> int | None:
        sp = self.splice
        assert sp is not None
        needle = b"<" + sp.prefix + b"row"
        while True:
            i = self.data.find(needle, pos, sp.tail_start)
            if i < 0:
                return None
            j = i + len(needle)
            if j < len(self.data) and self.data[j] in _TAG_END:
                return i
            pos = i + 1

    def _prev_row(self, pos: int) -> int | None:
        sp = self.splice
        assert sp is not None
        needle = b"<" + sp.prefix + b"row"
        while True:
            i = self.data.rfind(needle, sp.head_end, pos)
            if i < 0:
                return None
            if self.data[i + len(needle)] in _TAG_END:
                return i
            pos = i

    def _row_number_at(self, i: int) -> int:
        gt = self.data.find(b">", i)
        m = _ROW_NUMBER.search(self.data, i, gt)
        if m is None:
            raise _Fallback  # a row without r: numbers are implicit, count them in a tree
        return int(m.group(1))

    def _locate(self, n: int) -> tuple[int | None, int]:
        """(start of row n or None, position where row n would be inserted)."""
        sp = self.splice
        assert sp is not None
        lo, hi = sp.head_end, sp.tail_start
        while lo < hi:
            mid = (lo + hi) // 2
            s = self._next_row(mid)
            if s is None or self._row_number_at(s) >= n:
                hi = mid
            else:
                lo = s + 1
        s = self._next_row(lo)
        prev = self._prev_row(s if s is not None else sp.tail_start)
        if prev is not None and self._row_number_at(prev) >= n:
            raise _Fallback  # rows out of order
        if s is not None and self._row_number_at(s) == n:
            return s, s
        return None, s if s is not None else sp.tail_start

    def _wrap(self, fragment: bytes) -> etree._Element:
        decls = []
        for prefix, uri in (self._sheet_data().nsmap or {}).items():
            attr = "xmlns" if prefix is None else f"xmlns:{prefix}"
            decls.append(f'{attr}="{uri}"')
        text = f"<tcw {' '.join(decls)}>".encode() + fragment + b"</tcw>"
        return xmlio.parse(text, self.part)

    def _splice_row(self, n: int, create: bool) -> _Row | None:
        sp = self.splice
        assert sp is not None
        if n in sp.rows:
            row = sp.rows[n]
            if row.removed:
                if not create:
                    return None
                row.removed = False
                row.el = self._new_row_el(n)
                row.changed = True
            return row
        start, insert_at = self._locate(n)
        if start is not None:
            gt = self.data.find(b">", start)
            if self.data[gt - 1 : gt] == b"/":
                end = gt + 1
            else:
                close = self.data.find(b"</" + sp.prefix + b"row>", gt, sp.tail_start)
                if close < 0:
                    raise _Fallback
                end = close + len(b"</" + sp.prefix + b"row>")
            wrapper = self._wrap(self.data[start:end])
            if len(wrapper) != 1 or wrapper[0].tag != self.d.q("row"):
                raise _Fallback
            sp.rows[n] = _Row(wrapper[0], start, end)
            return sp.rows[n]
        # Bisection trusts the rows to be in order; before saying row n is not there, make sure
        # (a full scan, but only for the rare mark on a row that does not exist).
        if n not in sp.missing:
            number = re.compile(rb"<" + re.escape(sp.prefix) + rb"row\s[^>]*?\br\s*=\s*[\"']\s*"
                                + str(n).encode() + rb"\s*[\"']")
            if number.search(self.data, sp.head_end, sp.tail_start):
                raise _Fallback
            sp.missing.add(n)
        if not create:
            return None
        sp.rows[n] = _Row(self._new_row_el(n), None, None, changed=True, insert_at=insert_at)
        return sp.rows[n]

    def _new_row_el(self, n: int) -> etree._Element:
        wrapper = self._wrap(b"")
        row = etree.SubElement(wrapper, self.d.q("row"))
        row.set("r", str(n))
        return row

    # -- rows: tree mode --------------------------------------------------------------------
    def _tree_row(self, n: int, create: bool) -> etree._Element | None:
        sheet_data = self._sheet_data()
        assert sheet_data is not None
        numbered = []  # (number, row); a row without r follows the previous one
        number = 0
        for row in sheet_data.iterchildren(self.d.q("row")):
            r = row.get("r")
            number = int(r) if r and r.isdigit() else number + 1
            numbered.append((number, row))
        for number, row in numbered:  # first look everywhere: rows may be out of order
            if number == n:
                return row
        if not create:
            return None
        new = etree.Element(self.d.q("row"))
        new.set("r", str(n))
        # Before the first row numbered higher: a row without r there is the one after a
        # lower-numbered row, so it keeps its number.
        later = next((row for number, row in numbered if number > n), None)
        if later is not None:
            later.addprevious(new)
        else:
            sheet_data.append(new)
        return new

    # -- rows: either mode ------------------------------------------------------------------
    def _row(self, n: int, create: bool) -> tuple[etree._Element | None, _Row | None]:
        if self.splice is not None:
            try:
                handle = self._splice_row(n, create)
                return (handle.el if handle else None), handle
            except _Fallback:
                self._to_tree()
        return self._tree_row(n, create), None

    def _cell(self, row: etree._Element, n: int, col: int, create: bool) -> etree._Element | None:
        current = 0
        c_tag = self.d.q("c")
        for c in row.iterchildren(c_tag):
            r = c.get("r")
            current = parse_a1(r)[1] if r else current + 1
            if current == col:
                return c
            if current > col:  # c has an r: a cell without one is right after its neighbour
                if not create:
                    return None
                new = etree.Element(c_tag)
                new.set("r", a1(n, col))
                c.addprevious(new)
                return new
        if not create:
            return None
        new = etree.Element(c_tag)
        new.set("r", a1(n, col))
        ext = row.find(self.d.q("extLst"))
        if ext is not None:
            ext.addprevious(new)
        else:
            row.append(new)
        return new

    def _column_style(self, col: int) -> int:
        cols = self.root.find(self.d.q("cols"))
        if cols is not None:
            for c in cols.iterchildren(self.d.q("col")):
                if int(c.get("min", "0")) <= col <= int(c.get("max", "0")):
                    return int(c.get("style", "0") or 0)
        return 0

    # -- the interface the target uses -------------------------------------------------------
    def cell_style(self, ref: str) -> int:
        """The style index a cell shows now (a missing cell shows its row's or column's)."""
        n, col = parse_a1(ref)
        row, _ = self._row(n, create=False)
        if row is not None:
            c = self._cell(row, n, col, create=False)
            if c is not None:
                return int(c.get("s", "0") or 0)
            if row.get("customFormat") in _TRUE:
                return int(row.get("s", "0") or 0)
        return self._column_style(col)

    def set_style(self, ref: str, style: int) -> dict[str, str]:
        """Give a cell a style index; return what restore_style needs to undo it exactly."""
        n, col = parse_a1(ref)
        row, handle = self._row(n, create=False)
        created = ""
        if row is None:
            row, handle = self._row(n, create=True)
            created = "row"
        assert row is not None
        c = self._cell(row, n, col, create=False)
        token = {"created": created}
        if c is None:
            c = self._cell(row, n, col, create=True)
            token["created"] = created or "cell"
            spans = row.get("spans")
            if spans and ":" in spans and " " not in spans:
                lo, hi = (int(x) for x in spans.split(":"))
                if not lo <= col <= hi:
                    token["spans"] = spans
                    row.set("spans", f"{min(lo, col)}:{max(hi, col)}")
        elif c.get("s") is not None:
            token["s"] = c.get("s", "")  # kept even when empty: s="" must come back as s=""
        assert c is not None
        c.set("s", str(style))
        self._changed(handle)
        return token

    def restore_style(self, ref: str, token: dict[str, str], applied: int) -> bool:
        """Undo set_style if the cell still has the style we gave it; False if it was changed."""
        n, col = parse_a1(ref)
        row, handle = self._row(n, create=False)
        if row is None:
            return False
        c = self._cell(row, n, col, create=False)
        if c is None or c.get("s") != str(applied):
            return False
        created = token.get("created", "")
        empty = len(c) == 0 and set(c.attrib) <= {"r", "s"}
        if created and empty:
            row.remove(c)
            if "spans" in token:
                row.set("spans", token["spans"])
            if created == "row" and len(row) == 0 and set(row.attrib) <= {"r", "spans"}:
                self._remove_row(row, handle)
        elif "s" in token:
            c.set("s", token["s"])
        else:
            del c.attrib["s"]
        self._changed(handle)
        return True

    def _changed(self, handle: _Row | None) -> None:
        self._rendered = None
        if handle is not None:
            handle.changed = True
        elif self.splice is None:
            self.shell_changed = True

    def _remove_row(self, row: etree._Element, handle: _Row | None) -> None:
        if handle is None:
            row.getparent().remove(row)
        elif handle.start is None:
            assert self.splice is not None
            self.splice.rows = {k: v for k, v in self.splice.rows.items() if v is not handle}
        else:
            handle.removed = True

    # -- legacy drawing ----------------------------------------------------------------------
    def legacy_drawing(self) -> str | None:
        """The r:id of the sheet's <legacyDrawing> (its notes' VML), if it has one."""
        el = self.root.find(self.d.q("legacyDrawing"))
        return el.get(self.d.rid) if el is not None else None

    def add_legacy_drawing(self, rid: str) -> None:
        """Insert <legacyDrawing r:id=...> where the schema wants it."""
        el = etree.Element(self.d.q("legacyDrawing"), nsmap={"r": self.d.r})
        el.set(self.d.rid, rid)
        for child in self.root:
            if _local(child) in _AFTER_LEGACY_DRAWING or (
                child.tag == f"{{{MC}}}AlternateContent" and _wraps_later_element(child)
            ):
                child.addprevious(el)
                break
        else:
            self.root.append(el)
        self.shell_changed = True
        self._rendered = None

    def remove_legacy_drawing(self) -> None:
        """Remove the <legacyDrawing> element (one we added)."""
        el = self.root.find(self.d.q("legacyDrawing"))
        if el is not None:
            self.root.remove(el)
            self.shell_changed = True
            self._rendered = None

    # -- output -----------------------------------------------------------------------------
    def changed(self) -> bool:
        """Whether render() would differ from the bytes we were given."""
        if self.shell_changed or self.data is not self.original:
            return True
        return self.splice is not None and any(r.changed for r in self.splice.rows.values())

    def render(self) -> bytes:
        """The part's bytes: untouched rows verbatim, touched rows re-serialised."""
        if self._rendered is None:
            self._rendered, self._verbatim = self._render()
        return self._rendered

    def verbatim(self) -> list[tuple[int, int]]:
        """Spans of render()'s bytes that are runs of whole rows copied from the source as they were.

        Each edited row was parsed on its own as one complete element and spliced in at row
        boundaries, so what is left between the edits is whole source rows: checking the rest of
        the bytes checks all that marking wrote.
        """
        self.render()
        return self._verbatim

    def _render(self) -> tuple[bytes, list[tuple[int, int]]]:
        if self.splice is None:
            if not self.shell_changed and self.data is not self.original:
                return self.data, []
            return xmlio.serialize(self.root, self.original, xmlio.XML_DECLARATION), []
        sp = self.splice
        data = memoryview(self.data)  # slices of it are not copies: the rows are copied once, by join
        pieces: list[tuple[int, int, int, bytes]] = []  # (start, row number, end, new bytes)
        for n, row in sp.rows.items():
            if row.changed:
                new = b"" if row.removed else _serialize_row(row.el)
                if row.start is None or row.end is None:
                    pieces.append((row.insert_at, n, row.insert_at, new))
                else:
                    pieces.append((row.start, n, row.end, new))
        pieces.sort()
        if self.shell_changed:
            sheet_data = self._sheet_data()
            assert sheet_data is not None
            marker = etree.Comment(_PLACEHOLDER)
            sheet_data.append(marker)
            try:
                shell = xmlio.serialize(self.root, self.original, xmlio.XML_DECLARATION)
            finally:
                sheet_data.remove(marker)
            before, after = shell.split(f"<!--{_PLACEHOLDER}-->".encode(), 1)
        else:
            before, after = data[: sp.head_end], data[sp.tail_start :]
        out: list[bytes | memoryview] = [before]
        verbatim: list[tuple[int, int]] = []
        pos, size = sp.head_end, len(before)
        for start, _, end, new in pieces:
            size = _copy_rows(out, verbatim, data[pos:start], size)
            out.append(new)
            size += len(new)
            pos = end
        _copy_rows(out, verbatim, data[pos : sp.tail_start], size)
        out.append(after)
        return b"".join(out), verbatim


def _contains(data: bytes, marker: bytes, start: int, end: int) -> bool:
    """Whether data[start:end] holds a two-byte marker; memchr for its rare second byte first.

    bytes.find for a two-byte needle crawls (40 ms over a 35 MB sheet); '!' and '?' are rare
    among rows, and looking for one byte alone runs at memory speed.
    """
    first = data.find(marker[1:], start + 1, end)
    return first >= 0 and data.find(marker, first - 1, end) >= 0


def _copy_rows(
    out: list[bytes | memoryview], verbatim: list[tuple[int, int]], rows: memoryview, size: int
) -> int:
    """Append a run of source rows to out, noting where it lands; return out's new length."""
    if len(rows):
        verbatim.append((size, size + len(rows)))
        out.append(rows)
    return size + len(rows)


def _serialize_row(row: etree._Element) -> bytes:
    """A row's bytes without the namespace declarations its wrapper carries."""
    out = etree.tostring(row.getparent(), encoding="UTF-8")
    start = out.index(b">") + 1
    if out.endswith(b"/>"):
        return b""
    return out[start : out.rindex(b"</")]


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _wraps_later_element(alt: etree._Element) -> bool:
    for choice in alt:
        for child in choice:
            if _local(child) in _AFTER_LEGACY_DRAWING:
                return True
    return False
