"""A fake Excel behind the xlwings API, for running the Excel front door on Linux.

It implements exactly the xlwings classes and members tallycheck.excel uses (App, Books, Book,
Sheets, Sheet, Range, Note, Font) with the same names and parameters, plus the few Excel
object-model members tallycheck.excel.xlapi reaches through ``.api`` (``xlapi.COM_MEMBERS``).
tests/test_excel_fake.py checks both against the real xlwings classes and the COM list, so the fake
cannot drift from what it stands for.

Cells behave as Excel's do where it matters here: typed text that looks like a number becomes one
unless it starts with an apostrophe; a fill is a pattern with colours (``Range.color`` reads None
for no fill); a note is rich text (a bold flag per character); a new sheet is activated.

``FakeApp(mac=True)`` is Excel for Mac as xlwings sees it: ``.api`` is an AppleScript reference
that knows none of Windows' object-model names (appscript raises AttributeError "Unknown property,
element or command"), threaded comments raise NotImplementedError, and the add-in's VBA functions
are reached with ``App.macro`` (lazy, as in xlwings: a missing macro fails when called).

``FakeBook.from_xlsx`` opens a workbook file the way Excel would show it (values, formulas,
number formats, fills, notes, merged cells, custom XML parts); ``FakeBook.save_xlsx`` writes it
back as Excel would save it, for the command line to read.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

XL_NONE = -4142
XL_SOLID = 1
WHITE = 0xFFFFFF
_THEME_RGB = [  # Office theme, xlThemeColorDark1..Accent6 (1-based in COM)
    0xFFFFFF, 0x000000, 0xE1ECEE, 0x7D491F, 0xC47244, 0x317DED, 0xA5A5A5, 0x00C0FF, 0xC69B5B,
    0x47AD70, 0xC1630, 0x85487,
]


def bgr(rgb: tuple[int, int, int]) -> int:
    return rgb[0] + (rgb[1] << 8) + (rgb[2] << 16)


def rgb_of(n: int) -> tuple[int, int, int]:
    return n & 0xFF, (n >> 8) & 0xFF, (n >> 16) & 0xFF


class XlwingsError(Exception):
    """xlwings.XlwingsError, raised where real xlwings raises it."""


class XlError(str):
    """A cell error value (#DIV/0!, ...)."""


# -- the cell model ----------------------------------------------------------------------------------
@dataclass
class Fill:
    pattern: int = XL_NONE
    color: int = WHITE
    theme: int | None = None
    tint: float = 0.0
    pattern_color: int = 0
    pattern_theme: int | None = None
    pattern_tint: float = 0.0


@dataclass
class NoteModel:
    chars: list[tuple[str, bool]]
    author: str = "Analyst"
    width: float = 108.0
    height: float = 59.25

    @property
    def text(self) -> str:
        return "".join(c for c, _ in self.chars)

    def runs(self) -> list[tuple[str, bool]]:
        out: list[tuple[str, bool]] = []
        for ch, bold in self.chars:
            if out and out[-1][1] == bold:
                out[-1] = (out[-1][0] + ch, bold)
            else:
                out.append((ch, bold))
        return out


@dataclass
class Cell:
    value: Any = None
    formula: str | None = None
    number_format: str = "General"
    fill: Fill = field(default_factory=Fill)
    note: NoteModel | None = None
    threaded: bool = False
    bold: bool = False
    size: float = 11.0
    font_color: tuple[int, int, int] = (0, 0, 0)
    underline: int = -4142
    hyperlink: tuple[str, str] | None = None
    quote_prefix: bool = False

    def blank(self) -> bool:
        return self == Cell()


_A1 = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d+)$")


def col_number(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def col_letters(n: int) -> str:
    out = ""
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


def parse_cell(ref: str) -> tuple[int, int]:
    m = _A1.match(ref.strip())
    if not m:
        raise ValueError(ref)
    return int(m.group(2)), col_number(m.group(1))


def _coerce(text: str) -> Any:
    """What Excel makes of typed text."""
    if text.startswith("'"):
        return text[1:], True
    t = text.strip()
    if re.fullmatch(r"[-+]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?", t):
        return float(t.replace(",", "")), False
    if t.upper() in ("TRUE", "FALSE"):
        return t.upper() == "TRUE", False
    return text, False


# -- COM side (what xlapi reaches through .api) -------------------------------------------------------
class ComInterior:
    def __init__(self, cells: list[Cell], app: FakeApp | None = None) -> None:
        self._cells = cells
        self._app = app

    def _changing(self) -> None:
        if self._app is not None:
            _change(self._app)

    def _get(self, attr: str) -> Any:
        values = {repr(getattr(c.fill, attr)) for c in self._cells}
        return getattr(self._cells[0].fill, attr) if len(values) == 1 else None

    def _set(self, attr: str, value: Any) -> None:
        self._changing()
        for c in self._cells:
            setattr(c.fill, attr, value)

    @property
    def Pattern(self) -> Any:
        return self._get("pattern")

    @Pattern.setter
    def Pattern(self, v: int) -> None:
        self._changing()
        self._set("pattern", v)

    @property
    def Color(self) -> Any:
        return self._get("color")

    @Color.setter
    def Color(self, v: int) -> None:
        self._changing()
        for c in self._cells:
            c.fill.color, c.fill.theme, c.fill.tint = int(v), None, 0.0
            if c.fill.pattern == XL_NONE:
                c.fill.pattern = XL_SOLID

    @property
    def ThemeColor(self) -> Any:
        theme = self._get("theme")
        if theme is None:
            raise RuntimeError("Application-defined or object-defined error")
        return theme

    @ThemeColor.setter
    def ThemeColor(self, v: int) -> None:
        for c in self._cells:
            c.fill.theme, c.fill.color = int(v), _THEME_RGB[int(v) - 1]
            if c.fill.pattern == XL_NONE:
                c.fill.pattern = XL_SOLID

    @property
    def TintAndShade(self) -> Any:
        return self._get("tint")

    @TintAndShade.setter
    def TintAndShade(self, v: float) -> None:
        self._set("tint", float(v))

    @property
    def PatternColor(self) -> Any:
        return self._get("pattern_color")

    @PatternColor.setter
    def PatternColor(self, v: int) -> None:
        for c in self._cells:
            c.fill.pattern_color, c.fill.pattern_theme = int(v), None

    @property
    def PatternThemeColor(self) -> Any:
        theme = self._get("pattern_theme")
        if theme is None:
            raise RuntimeError("Application-defined or object-defined error")
        return theme

    @PatternThemeColor.setter
    def PatternThemeColor(self, v: int) -> None:
        self._set("pattern_theme", int(v))

    @property
    def PatternTintAndShade(self) -> Any:
        return self._get("pattern_tint")

    @PatternTintAndShade.setter
    def PatternTintAndShade(self, v: float) -> None:
        self._set("pattern_tint", float(v))


class ComHyperlinks:
    def __init__(self, rng: FakeRange) -> None:
        self._rng = rng

    def Add(self, Anchor: Any, Address: str, SubAddress: str = "", ScreenTip: str = "",
            TextToDisplay: str = "") -> None:
        _change(self._rng.sheet.book.app)
        for c in self._rng._cells():
            c.hyperlink = (Address, SubAddress)
            c.value, c.quote_prefix = TextToDisplay, False


class ComFont:
    def __init__(self, cells: list[Cell]) -> None:
        self._cells = cells

    @property
    def Underline(self) -> int:
        return self._cells[0].underline

    @Underline.setter
    def Underline(self, v: int) -> None:
        for c in self._cells:
            c.underline = v

    @property
    def Bold(self) -> bool:
        return self._cells[0].bold

    @Bold.setter
    def Bold(self, v: bool) -> None:
        for c in self._cells:
            c.bold = bool(v)


class ComRange:
    def __init__(self, rng: FakeRange) -> None:
        self._rng = rng

    @property
    def Interior(self) -> ComInterior:
        return ComInterior(self._rng._cells(), self._rng.sheet.book.app)

    @property
    def Hyperlinks(self) -> ComHyperlinks:
        return ComHyperlinks(self._rng)

    @property
    def Font(self) -> ComFont:
        return ComFont(self._rng._cells())


class ComCharFont:
    def __init__(self, note: NoteModel, start: int, length: int) -> None:
        self._note, self._start, self._length = note, start, length

    @property
    def Bold(self) -> bool:
        return all(b for _, b in self._note.chars[self._start - 1 : self._start - 1 + self._length])

    @Bold.setter
    def Bold(self, v: bool) -> None:
        for i in range(self._start - 1, min(len(self._note.chars), self._start - 1 + self._length)):
            self._note.chars[i] = (self._note.chars[i][0], bool(v))


class ComCharacters:
    def __init__(self, note: NoteModel, start: int, length: int) -> None:
        self._note, self._start, self._length = note, start, length

    @property
    def Font(self) -> ComCharFont:
        return ComCharFont(self._note, self._start, self._length)

    def Delete(self) -> None:
        del self._note.chars[self._start - 1 : self._start - 1 + self._length]


class ComTextFrame:
    def __init__(self, note: NoteModel) -> None:
        self._note = note

    def Characters(self, Start: int = 1, Length: int | None = None) -> ComCharacters:
        return ComCharacters(self._note, Start, len(self._note.chars) if Length is None else Length)


class ComShape:
    def __init__(self, note: NoteModel) -> None:
        self._note = note

    @property
    def TextFrame(self) -> ComTextFrame:
        return ComTextFrame(self._note)

    @property
    def Width(self) -> float:
        return self._note.width

    @Width.setter
    def Width(self, v: float) -> None:
        self._note.width = float(v)

    @property
    def Height(self) -> float:
        return self._note.height

    @Height.setter
    def Height(self, v: float) -> None:
        self._note.height = float(v)


class ComComment:
    def __init__(self, note: NoteModel) -> None:
        self._note = note

    def Text(self, Text: str | None = None, Start: int | None = None, Overwrite: bool | None = None) -> str:
        if Text is None:
            return self._note.text
        if Start is None:
            self._note.chars = [(ch, False) for ch in Text]
            return self._note.text
        at = Start - 1
        bold = self._note.chars[at - 1][1] if 0 < at <= len(self._note.chars) else False
        new = [(ch, bold) for ch in Text]
        if Overwrite:
            self._note.chars[at : at + len(Text)] = new
        else:
            self._note.chars[at:at] = new
        return self._note.text

    @property
    def Shape(self) -> ComShape:
        return ComShape(self._note)


class ComCustomXMLPart:
    def __init__(self, book: FakeBook, xml: str) -> None:
        self._book = book
        self.XML = xml
        root = etree.fromstring(xml.encode("utf-8"))
        self.NamespaceURI = etree.QName(root).namespace or ""

    def Delete(self) -> None:
        _change(self._book.app)
        self._book.custom_xml.remove(self)


class ComPartList:
    def __init__(self, parts: list[ComCustomXMLPart]) -> None:
        self._parts = parts

    @property
    def Count(self) -> int:
        return len(self._parts)

    def Item(self, i: int) -> ComCustomXMLPart:
        return self._parts[i - 1]


class ComCustomXMLParts:
    def __init__(self, book: FakeBook) -> None:
        self._book = book

    def SelectByNamespace(self, NamespaceURI: str) -> ComPartList:
        return ComPartList([p for p in self._book.custom_xml if p.NamespaceURI == NamespaceURI])

    def Add(self, XML: str = "") -> ComCustomXMLPart:
        assert not XML.lstrip().startswith("<?xml"), "pass the document, not a declaration"
        _change(self._book.app)
        part = ComCustomXMLPart(self._book, XML)
        self._book.custom_xml.append(part)
        return part


class ComWorkbook:
    def __init__(self, book: FakeBook) -> None:
        self._book = book

    @property
    def CustomXMLParts(self) -> ComCustomXMLParts:
        return ComCustomXMLParts(self._book)

    @property
    def ProtectStructure(self) -> bool:
        return self._book.protect_structure


class ComTab:
    def __init__(self, sheet: FakeSheet) -> None:
        self._sheet = sheet

    @property
    def Color(self) -> Any:
        return self._sheet.tab_color

    @Color.setter
    def Color(self, v: int) -> None:
        self._sheet.tab_color = v


class ComWorksheet:
    def __init__(self, sheet: FakeSheet) -> None:
        self._sheet = sheet

    @property
    def ProtectContents(self) -> bool:
        return self._sheet.protected

    @property
    def Tab(self) -> ComTab:
        return ComTab(self._sheet)


class ComWindow:
    def __init__(self, app: FakeApp) -> None:
        self._app = app

    def _sheet(self) -> FakeSheet:
        return self._app.books.active.sheets.active

    @property
    def FreezePanes(self) -> bool:
        return self._sheet().frozen is not None

    @FreezePanes.setter
    def FreezePanes(self, v: bool) -> None:
        """Freezes at the split, which Excel counts from the top row in view (ScrollRow)."""
        sheet = self._sheet()
        sheet.frozen = (sheet.scroll_row - 1 + sheet.split_row, sheet.split_col) if v else None

    @property
    def ScrollRow(self) -> int:
        return self._sheet().scroll_row

    @ScrollRow.setter
    def ScrollRow(self, v: int) -> None:
        self._sheet().scroll_row = int(v)

    @property
    def SplitRow(self) -> int:
        return self._sheet().split_row

    @SplitRow.setter
    def SplitRow(self, v: int) -> None:
        self._sheet().split_row = v

    @property
    def SplitColumn(self) -> int:
        return self._sheet().split_col

    @SplitColumn.setter
    def SplitColumn(self, v: int) -> None:
        self._sheet().split_col = v


class ComApplication:
    def __init__(self, app: FakeApp) -> None:
        self._app = app

    @property
    def ActiveWindow(self) -> ComWindow:
        return ComWindow(self._app)


class AppleScriptReference:
    """What ``.api`` is on a Mac: an appscript reference, which has none of COM's names."""

    def __init__(self, what: str) -> None:
        self._what = what

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(f"Unknown property, element or command: {name!r}")


def _change(app: FakeApp) -> None:
    """Count a change to the workbook; reject it as busy Excel does when its number is in fail_at."""
    app.changes += 1
    if app.changes in app.fail_at:
        raise RuntimeError("(-2147418111, 'Call was rejected by callee.', None, None)")


def _api(app: FakeApp, com: Any) -> Any:
    return AppleScriptReference(type(com).__name__) if app.mac else com


# -- xlwings side ---------------------------------------------------------------------------------------
class FakeFont:
    def __init__(self, rng: FakeRange) -> None:
        self._rng = rng

    @property
    def bold(self) -> bool:
        return self._rng._cells()[0].bold

    @bold.setter
    def bold(self, value: bool) -> None:
        for c in self._rng._cells(create=True):
            c.bold = value

    @property
    def size(self) -> float:
        return self._rng._cells()[0].size

    @size.setter
    def size(self, value: float) -> None:
        for c in self._rng._cells(create=True):
            c.size = value

    @property
    def color(self) -> tuple[int, int, int]:
        return self._rng._cells()[0].font_color

    @color.setter
    def color(self, value: tuple[int, int, int]) -> None:
        for c in self._rng._cells(create=True):
            c.font_color = tuple(value)


class FakeNote:
    def __init__(self, model: NoteModel, cell: Cell, app: FakeApp) -> None:
        self._model = model
        self._cell = cell
        self._app = app

    @property
    def api(self) -> ComComment:
        return _api(self._app, ComComment(self._model))

    @property
    def text(self) -> str:
        return self._model.text

    @text.setter
    def text(self, value: str) -> None:
        _change(self._app)
        self._model.chars = [(ch, False) for ch in value]

    def delete(self) -> None:
        _change(self._app)
        self._cell.note = None


class FakeComment:
    """A threaded comment (only its presence matters here)."""


class FakeRange:
    def __init__(self, sheet: FakeSheet, areas: list[tuple[int, int, int, int]], options: dict | None = None) -> None:
        self.sheet = sheet
        self._areas = areas
        self._options = options or {}

    # coordinates
    @property
    def row(self) -> int:
        return self._areas[0][0]

    @property
    def column(self) -> int:
        return self._areas[0][1]

    @property
    def shape(self) -> tuple[int, int]:
        r1, c1, r2, c2 = self._areas[0]
        return r2 - r1 + 1, c2 - c1 + 1

    @property
    def address(self) -> str:
        return ",".join(
            f"${col_letters(c1)}${r1}" + ("" if (r1, c1) == (r2, c2) else f":${col_letters(c2)}${r2}")
            for r1, c1, r2, c2 in self._areas
        )

    @property
    def last_cell(self) -> FakeRange:
        _, _, r2, c2 = self._areas[0]
        return FakeRange(self.sheet, [(r2, c2, r2, c2)])

    def resize(self, row_size: int | None = None, column_size: int | None = None) -> FakeRange:
        r1, c1, r2, c2 = self._areas[0]
        rows = row_size if row_size is not None else r2 - r1 + 1
        cols = column_size if column_size is not None else c2 - c1 + 1
        return FakeRange(self.sheet, [(r1, c1, r1 + rows - 1, c1 + cols - 1)])

    def options(self, convert: Any = None, **options: Any) -> FakeRange:
        return FakeRange(self.sheet, self._areas, {**self._options, **options})

    def _positions(self) -> list[tuple[int, int]]:
        return [(r, c) for r1, c1, r2, c2 in self._areas for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)]

    def _cells(self, create: bool = True) -> list[Cell]:
        out = []
        for pos in self._positions():
            if pos not in self.sheet.cells:
                if not create:
                    out.append(Cell())
                    continue
                self.sheet.cells[pos] = Cell()
            out.append(self.sheet.cells[pos])
        return out

    def _cell(self, r: int, c: int) -> Cell:
        return self.sheet.cells.get((r, c)) or Cell()

    @property
    def api(self) -> ComRange:
        return _api(self.sheet.book.app, ComRange(self))

    # values and formulas
    def _read(self, cell: Cell) -> Any:
        v = cell.value
        if isinstance(v, XlError):
            return str(v) if self._options.get("err_to_str") else None
        if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
            return dt.datetime(v.year, v.month, v.day)
        return v

    @property
    def value(self) -> Any:
        r1, c1, r2, c2 = self._areas[0]
        grid = [[self._read(self._cell(r, c)) for c in range(c1, c2 + 1)] for r in range(r1, r2 + 1)]
        if self._options.get("ndim") == 2:
            return grid
        if len(grid) == 1 and len(grid[0]) == 1:
            return grid[0][0]
        if len(grid) == 1:
            return grid[0]
        if all(len(r) == 1 for r in grid):
            return [r[0] for r in grid]
        return grid

    @value.setter
    def value(self, data: Any) -> None:
        _change(self.sheet.book.app)
        r1, c1, _, _ = self._areas[0]
        rows = data if isinstance(data, list) and data and isinstance(data[0], list) else [[data]]
        for i, row in enumerate(rows):
            for j, v in enumerate(row):
                cell = self.sheet.cells.setdefault((r1 + i, c1 + j), Cell())
                cell.formula, cell.quote_prefix = None, False
                if isinstance(v, str):
                    if v.startswith("="):
                        cell.formula, cell.value = v, None
                        continue
                    v, cell.quote_prefix = _coerce(v)
                elif isinstance(v, int) and not isinstance(v, bool):
                    v = float(v)
                cell.value = v

    @property
    def formula(self) -> Any:
        r1, c1, r2, c2 = self._areas[0]

        def text(cell: Cell) -> str:
            if cell.formula:
                return cell.formula
            v = cell.value
            if v is None or isinstance(v, XlError):
                return "" if v is None else str(v)
            if isinstance(v, float) and v.is_integer():
                return str(int(v))
            return str(v)

        grid = tuple(tuple(text(self._cell(r, c)) for c in range(c1, c2 + 1)) for r in range(r1, r2 + 1))
        return grid[0][0] if (r1, c1) == (r2, c2) else grid

    @property
    def number_format(self) -> str | None:
        codes = {self._cell(r, c).number_format for r, c in self._positions()}
        return codes.pop() if len(codes) == 1 else None

    @number_format.setter
    def number_format(self, value: str) -> None:
        for c in self._cells():
            c.number_format = value

    @property
    def color(self) -> tuple[int, int, int] | None:
        cell = self._cell(self.row, self.column)
        return None if cell.fill.pattern == XL_NONE else rgb_of(cell.fill.color)

    @color.setter
    def color(self, color_or_rgb: Any) -> None:
        _change(self.sheet.book.app)
        for c in self._cells():
            if color_or_rgb is None:
                c.fill = Fill()
                continue
            if isinstance(color_or_rgb, str):
                h = color_or_rgb.lstrip("#")
                color_or_rgb = (int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16))
            c.fill.color, c.fill.theme, c.fill.tint = bgr(color_or_rgb), None, 0.0
            if c.fill.pattern == XL_NONE:
                c.fill.pattern = XL_SOLID

    @property
    def font(self) -> FakeFont:
        return FakeFont(self)

    @property
    def column_width(self) -> float | None:
        return self.sheet.widths.get(self.column)

    @column_width.setter
    def column_width(self, value: float) -> None:
        for _, c1, _, c2 in self._areas:
            for c in range(c1, c2 + 1):
                self.sheet.widths[c] = value

    # notes and threaded comments
    @property
    def note(self) -> FakeNote | None:
        cell = self._cell(self.row, self.column)
        return FakeNote(cell.note, cell, self.sheet.book.app) if cell.note is not None else None

    def add_note(self, text: str) -> FakeNote:
        _change(self.sheet.book.app)
        if self.shape != (1, 1):
            raise ValueError("A note can only be added to a single cell")
        cell = self._cells()[0]
        if cell.note is not None:
            raise ValueError("This cell already has a note")
        cell.note = NoteModel([(ch, False) for ch in text], author="tallycheck user")
        return FakeNote(cell.note, cell, self.sheet.book.app)

    @property
    def comment(self) -> FakeComment | None:
        if self.shape != (1, 1):
            raise ValueError("A comment location must be a single cell")
        if self.sheet.book.app.mac:
            raise NotImplementedError("Threaded comments are not available through Excel for Mac AppleScript")
        return FakeComment() if self._cell(self.row, self.column).threaded else None

    def select(self) -> None:
        if self.sheet.book._active is not self.sheet:
            raise RuntimeError("Select method of Range class failed")  # as Excel: only on the active sheet
        self.sheet._selected = self

    def add_hyperlink(self, address: str, text_to_display: str | None = None, screen_tip: str | None = None) -> None:
        _change(self.sheet.book.app)
        for c in self._cells():
            c.hyperlink = (address, "")
            c.value, c.quote_prefix = text_to_display if text_to_display is not None else address, False

    # merged cells
    def _merge_of(self, r: int, c: int) -> tuple[int, int, int, int] | None:
        return next((m for m in self.sheet.merged if m[0] <= r <= m[2] and m[1] <= c <= m[3]), None)

    @property
    def merge_cells(self) -> bool | None:
        flags = {self._merge_of(r, c) is not None for r, c in self._positions()}
        return flags.pop() if len(flags) == 1 else None

    @property
    def merge_area(self) -> FakeRange:
        m = self._merge_of(self.row, self.column)
        return FakeRange(self.sheet, [m or (self.row, self.column, self.row, self.column)])


class FakeSheet:
    def __init__(self, book: FakeBook, name: str) -> None:
        self.book = book
        self._name = name
        self.cells: dict[tuple[int, int], Cell] = {}
        self.merged: list[tuple[int, int, int, int]] = []
        self.widths: dict[int, float] = {}
        self.visible = True
        self.protected = False
        self.tab_color: int | None = None
        self.frozen: tuple[int, int] | None = None
        self.split_row = 0
        self.split_col = 0
        self.scroll_row = 1  # the top row in view
        self._selected: FakeRange | None = None

    @property
    def name(self) -> str:
        return self._name

    @name.setter
    def name(self, value: str) -> None:
        self._name = value

    @property
    def api(self) -> ComWorksheet:
        return _api(self.book.app, ComWorksheet(self))

    def range(self, cell1: Any, cell2: Any = None) -> FakeRange:
        if cell2 is not None:
            (r1, c1), (r2, c2) = cell1, cell2
            return FakeRange(self, [(min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2))])
        if isinstance(cell1, tuple):
            return FakeRange(self, [(cell1[0], cell1[1], cell1[0], cell1[1])])
        areas = []
        for part in str(cell1).split(","):
            a, _, b = part.partition(":")
            r1, c1 = parse_cell(a)
            r2, c2 = parse_cell(b) if b else (r1, c1)
            areas.append((r1, c1, r2, c2))
        return FakeRange(self, areas)

    @property
    def used_range(self) -> FakeRange:
        used = [pos for pos, cell in self.cells.items() if not cell.blank()]
        if not used:
            return self.range("A1")
        return FakeRange(self, [(min(r for r, _ in used), min(c for _, c in used),
                                 max(r for r, _ in used), max(c for _, c in used))])

    def clear(self) -> None:
        _change(self.book.app)
        self.cells.clear()
        self.merged.clear()

    def delete(self) -> None:
        _change(self.book.app)
        self.book._sheets.remove(self)
        if self.book._active is self:
            self.book._active = self.book._sheets[0]

    def activate(self) -> None:
        self.book._active = self


class FakeSheets:
    def __init__(self, book: FakeBook) -> None:
        self._book = book

    def __iter__(self):
        return iter(list(self._book._sheets))

    def __len__(self) -> int:
        return len(self._book._sheets)

    def __getitem__(self, key: int | str) -> FakeSheet:
        if isinstance(key, int):
            return self._book._sheets[key]
        for s in self._book._sheets:
            if s.name.casefold() == key.casefold():
                return s
        raise KeyError(key)

    @property
    def active(self) -> FakeSheet:
        return self._book._active

    def add(self, name: str | None = None, before: FakeSheet | None = None, after: FakeSheet | None = None) -> FakeSheet:
        _change(self._book.app)
        if name is not None and any(s.name.casefold() == name.casefold() for s in self._book._sheets):
            raise ValueError(f"Sheet named {name!r} already present in workbook")
        sheet = FakeSheet(self._book, name or f"Sheet{len(self._book._sheets) + 1}")
        sheets = self._book._sheets
        if after is not None:
            sheets.insert(sheets.index(after) + 1, sheet)
        elif before is not None:
            sheets.insert(sheets.index(before), sheet)
        else:
            sheets.insert(sheets.index(self._book._active), sheet)
        self._book._active = sheet  # Excel activates a new sheet
        return sheet


class FakeBooks:
    def __init__(self, app: FakeApp) -> None:
        self._app = app

    @property
    def active(self) -> FakeBook:
        return self._app._books[-1]

    def __iter__(self):
        return iter(self._app._books)

    def __len__(self) -> int:
        return len(self._app._books)


class FakeApp:
    #: The Excel instance RunPython was started from (the one FakeBook.caller and FakeApps see).
    running: FakeApp | None = None

    def __init__(self, mac: bool = False) -> None:
        FakeApp.running = self
        self._books: list[FakeBook] = []
        self.alerts: list[tuple[str, str | None, str | None]] = []
        self.status_history: list[Any] = []
        self._status: Any = False
        self.screen_updating = True
        self.enable_events = True
        self.mac = mac
        self.fail_at: set[int] = set()  # the n-th changes to the workbook are rejected (see _change)
        self.changes = 0
        self.addin_open = True
        self.macro_calls: list[str] = []

    @property
    def books(self) -> FakeBooks:
        return FakeBooks(self)

    @property
    def selection(self) -> FakeRange | None:
        """The selected range of the active sheet (A1 until something is selected)."""
        sheet = self.books.active.sheets.active
        return sheet._selected or sheet.range("A1")

    @property
    def api(self) -> ComApplication:
        return _api(self, ComApplication(self))

    @property
    def status_bar(self) -> Any:
        return self._status

    @status_bar.setter
    def status_bar(self, value: Any) -> None:
        self._status = value
        self.status_history.append(value)

    def macro(self, name: str) -> Any:
        """A VBA function as Application.Run runs it: found when called, not when named (as xlwings)."""
        owner, _, func = name.rpartition("!")

        def run(*args: Any) -> Any:
            book = owner.strip("'")
            carried = (book == "tallycheck.xlam" and self.addin_open) or any(
                b.name == book and b.carries_macros for b in self._books)
            if not carried:
                raise RuntimeError(f"Cannot run the macro '{name}'. The macro may not be available in this workbook.")
            return _vba_function(self, func)(*args)

        return run

    def alert(self, prompt: str, title: str | None = None, buttons: str = "ok", mode: str | None = None,
              callback: str | None = None) -> str:
        self.alerts.append((prompt, title, mode))
        return "ok"


def _vba_function(app: FakeApp, func: str) -> Any:
    """TallyRecordRead / TallyRecordWrite / TallyProtection of TallyCheck.bas, over the fake's model."""

    def book(name: str) -> FakeBook:
        return next(b for b in app._books if b.name == name)

    def read(book_name: str, ns: str) -> str:
        parts = [p for p in book(book_name).custom_xml if p.NamespaceURI == ns]
        return parts[-1].XML if parts else ""

    def write(book_name: str, ns: str, xml: str) -> bool:
        b = book(book_name)
        b.custom_xml[:] = [p for p in b.custom_xml if p.NamespaceURI != ns]
        if xml:
            b.custom_xml.append(ComCustomXMLPart(b, xml))
        return True

    def protection(book_name: str) -> str:
        b = book(book_name)
        return ("1" if b.protect_structure else "0") + "".join(f":{s.name}" for s in b._sheets if s.protected)

    functions = {"TallyRecordRead": read, "TallyRecordWrite": write, "TallyProtection": protection}
    if func not in functions:
        raise RuntimeError(f"Cannot run the macro {func!r}")
    app.macro_calls.append(func)
    return functions[func]


class FakeApps:
    """xlwings.apps: the running Excel instances (here, the one RunPython was started from)."""

    def __iter__(self):
        return iter([FakeApp.running] if FakeApp.running is not None else [])

    @property
    def active(self) -> FakeApp | None:
        return FakeApp.running


class FakeBook:
    def __init__(self, name: str, app: FakeApp | None = None, fullname: str | None = None) -> None:
        self.app = app or FakeApp()
        self.app._books.append(self)
        self._name = name
        self._fullname = fullname or name
        self._sheets: list[FakeSheet] = []
        self._active: FakeSheet | None = None
        self.custom_xml: list[ComCustomXMLPart] = []
        self.protect_structure = False
        self.carries_macros = False  # a workbook with TallyCheck.bas in it (the button template)

    @property
    def name(self) -> str:
        return self._name

    @property
    def fullname(self) -> str:
        """As xlwings': a web address (OneDrive, SharePoint, Teams) is mapped to a local sync folder,
        and raises when none is found (xlwings.utils.fullname_url_to_local_path)."""
        if "://" in self._fullname:
            raise XlwingsError(
                f"URL {self._fullname} not recognized as valid OneDrive/SharePoint link. See xlwings.org/error"
            )
        return self._fullname

    @property
    def sheets(self) -> FakeSheets:
        return FakeSheets(self)

    @property
    def api(self) -> ComWorkbook:
        return _api(self.app, ComWorkbook(self))

    def macro(self, name: str) -> Any:
        """This workbook's own VBA function, as xlwings' Book.macro names it."""
        return self.app.macro(f"'{self.name}'!{name}")

    @classmethod
    def caller(cls) -> FakeBook:
        """As xlwings' Book.caller(): the workbook named by RunPython's --wb= argument, cut at its
        first "=" as xlwings does (``arg.split("=")[1]``), looked up in the running Excel."""
        import sys

        wb, from_xl = None, None
        for arg in sys.argv:
            if arg.startswith("--wb="):
                wb = arg.split("=")[1].strip()
            elif arg.startswith("--from_xl"):
                from_xl = arg.split("=")[1].strip()
        if from_xl == "1" and FakeApp.running is not None:
            name = wb.lower()
            for book in FakeApp.running._books:
                if book.name.lower() == name:
                    return book
            raise KeyError(name)  # Books[name] of a workbook that is not open
        raise Exception("Book.caller() must not be called directly. Call through Excel or set a mock caller "
                        "first with Book.set_mock_caller().")

    # -- test helpers (not xlwings) --------------------------------------------------------------
    def _add_sheet(self, name: str) -> FakeSheet:
        sheet = FakeSheet(self, name)
        self._sheets.append(sheet)
        if self._active is None:
            self._active = sheet
        return sheet

    def _snapshot(self) -> Any:
        """Everything a user could see, for before/after comparisons."""
        return (
            [(s.name, {k: copy.deepcopy(v) for k, v in s.cells.items() if not v.blank()}, list(s.merged),
              s.tab_color) for s in self._sheets],
            [p.XML for p in self.custom_xml],
        )

    @classmethod
    def from_xlsx(cls, path: Path | str, app: FakeApp | None = None) -> FakeBook:
        """Open a workbook file as Excel would show it."""
        import openpyxl

        path = Path(path)
        values = openpyxl.load_workbook(path, data_only=True)
        formulas = openpyxl.load_workbook(path, data_only=False)
        book = cls(path.name, app, str(path))
        for ws in formulas.worksheets:
            sheet = book._add_sheet(ws.title)
            sheet.visible = ws.sheet_state == "visible"
            sheet.protected = bool(ws.protection.sheet)
            vs = values[ws.title]
            for row in ws.iter_rows():
                for c in row:
                    cell = Cell()
                    v = vs[c.coordinate].value
                    if c.data_type == "e" or (isinstance(v, str) and c.data_type == "e"):
                        v = XlError(v)
                    if isinstance(c.value, str) and c.data_type == "f":
                        cell.formula = c.value
                    if isinstance(v, int) and not isinstance(v, bool):
                        v = float(v)
                    if isinstance(v, dt.datetime) and v.time() == dt.time(0):
                        v = v.date()
                    cell.value = v
                    cell.number_format = c.number_format or "General"
                    fill = c.fill
                    if fill is not None and fill.fill_type == "solid":
                        fg = fill.fgColor
                        if fg.type == "theme":
                            cell.fill = Fill(XL_SOLID, _THEME_RGB[fg.theme], fg.theme + 1, float(fg.tint or 0))
                        elif fg.type == "rgb" and isinstance(fg.rgb, str):
                            cell.fill = Fill(XL_SOLID, bgr((int(fg.rgb[2:4], 16), int(fg.rgb[4:6], 16),
                                                            int(fg.rgb[6:8], 16))))
                    if c.comment is not None:
                        cell.note = NoteModel([(ch, False) for ch in c.comment.text], c.comment.author or "")
                    cell.bold = bool(c.font and c.font.b)
                    if not cell.blank():
                        sheet.cells[(c.row, c.column)] = cell
            for m in ws.merged_cells.ranges:
                sheet.merged.append((m.min_row, m.min_col, m.max_row, m.max_col))
        with zipfile.ZipFile(path) as z:
            for name in sorted(z.namelist()):
                if re.fullmatch(r"customXml/item\d+\.xml", name):
                    xml = z.read(name).decode("utf-8")
                    xml = xml[xml.index("?>") + 2 :] if xml.startswith("<?xml") else xml
                    book.custom_xml.append(ComCustomXMLPart(book, xml))
        return book


_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "http://schemas.openxmlformats.org/package/2006/content-types"
_CUSTOM_XML = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/customXml"
_CUSTOM_PROPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/customXmlProps"


def save_like_excel(book: FakeBook, path: Path | str) -> None:
    """Write the fake book as Excel would save it: styles per cell, notes as rich-text runs,
    custom XML parts as customXml/itemN.xml related from the workbook."""
    import openpyxl
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill
    from openpyxl.styles.colors import Color

    path = Path(path)
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for sheet in book._sheets:
        ws = wb.create_sheet(sheet.name)
        for (r, c), cell in sorted(sheet.cells.items()):
            if cell.blank():
                continue
            target = ws.cell(r, c)
            target.value = f"={cell.formula.lstrip('=')}" if cell.formula else (
                str(cell.value) if isinstance(cell.value, XlError) else cell.value)
            target.number_format = cell.number_format
            if cell.bold:
                target.font = Font(b=True)
            f = cell.fill
            if f.pattern != XL_NONE:
                kinds = {1: "solid", -4125: "mediumGray", -4124: "lightGray", -4126: "darkGray"}
                if f.theme is not None:
                    fg = Color(theme=f.theme - 1, tint=f.tint)
                else:
                    r_, g_, b_ = rgb_of(f.color)
                    fg = Color(rgb=f"FF{r_:02X}{g_:02X}{b_:02X}")
                if f.pattern == XL_SOLID:
                    target.fill = PatternFill(fill_type="solid", fgColor=fg)
                else:
                    r_, g_, b_ = rgb_of(f.pattern_color)
                    target.fill = PatternFill(fill_type=kinds.get(f.pattern, "solid"),
                                              fgColor=Color(rgb=f"FF{r_:02X}{g_:02X}{b_:02X}"), bgColor=fg)
            if cell.note is not None:
                target.comment = Comment(cell.note.text, cell.note.author)
            if cell.hyperlink is not None:
                target.hyperlink = f"#{cell.hyperlink[1]}" if cell.hyperlink[1] else cell.hyperlink[0]
                if cell.hyperlink[1]:
                    target.hyperlink.location = cell.hyperlink[1]
                    target.hyperlink.target = None
        for r1, c1, r2, c2 in sheet.merged:
            ws.merge_cells(start_row=r1, start_column=c1, end_row=r2, end_column=c2)
        if not sheet.visible:
            ws.sheet_state = "hidden"
    wb.save(path)
    _excel_post_process(book, path)


def _excel_post_process(book: FakeBook, path: Path) -> None:
    """Notes as Excel writes them (one <r> per run, bold ones with <b/>) and the custom XML parts."""
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    wb_rels = etree.fromstring(parts["xl/_rels/workbook.xml.rels"])
    workbook = etree.fromstring(parts["xl/workbook.xml"])
    by_rid = {r.get("Id"): r.get("Target") for r in wb_rels}
    names = {}
    for s in workbook.iter(f"{{{_MAIN}}}sheet"):
        rid = s.get("{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id")
        names["xl/" + by_rid[rid].lstrip("/").removeprefix("xl/")] = s.get("name")
    for part, sheet_name in names.items():
        rels_name = part.replace("worksheets/", "worksheets/_rels/") + ".rels"
        if rels_name not in parts:
            continue
        sheet = book.sheets[sheet_name]
        for rel in etree.fromstring(parts[rels_name]):
            if not rel.get("Type", "").endswith("/comments"):
                continue
            target = rel.get("Target")
            cpart = "xl/" + target.split("xl/")[-1].replace("../", "") if target.startswith("/") else \
                "xl/" + target.replace("../", "")
            root = etree.fromstring(parts[cpart])
            for c in root.iter(f"{{{_MAIN}}}comment"):
                r, col = parse_cell(c.get("ref"))
                note = sheet.cells[(r, col)].note
                text = c.find(f"{{{_MAIN}}}text")
                for child in list(text):
                    text.remove(child)
                for chunk, bold in note.runs():
                    run = etree.SubElement(text, f"{{{_MAIN}}}r")
                    rpr = etree.SubElement(run, f"{{{_MAIN}}}rPr")
                    if bold:
                        etree.SubElement(rpr, f"{{{_MAIN}}}b")
                    etree.SubElement(rpr, f"{{{_MAIN}}}sz").set("val", "9")
                    t = etree.SubElement(run, f"{{{_MAIN}}}t")
                    t.text = chunk
                    t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
            parts[cpart] = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    ct = etree.fromstring(parts["[Content_Types].xml"])
    for n, custom in enumerate(book.custom_xml, start=1):
        item, props = f"customXml/item{n}.xml", f"customXml/itemProps{n}.xml"
        parts[item] = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n' + custom.XML).encode("utf-8")
        parts[props] = (
            '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\r\n<ds:datastoreItem '
            'ds:itemID="{00000000-0000-0000-0000-00000000000' + str(n) + '}" '
            'xmlns:ds="http://schemas.openxmlformats.org/officeDocument/2006/customXml"><ds:schemaRefs>'
            f'<ds:schemaRef ds:uri="{custom.NamespaceURI}"/></ds:schemaRefs></ds:datastoreItem>'
        ).encode("utf-8")
        parts[f"customXml/_rels/item{n}.xml.rels"] = (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n<Relationships xmlns="{_REL}">'
            f'<Relationship Id="rId1" Type="{_CUSTOM_PROPS}" Target="itemProps{n}.xml"/></Relationships>'
        ).encode()
        rel = etree.SubElement(wb_rels, f"{{{_REL}}}Relationship")
        rel.set("Id", f"rIdCustom{n}")
        rel.set("Type", _CUSTOM_XML)
        rel.set("Target", f"../customXml/item{n}.xml")
        o = etree.SubElement(ct, f"{{{_CT}}}Override")
        o.set("PartName", f"/{props}")
        o.set("ContentType", "application/vnd.openxmlformats-officedocument.customXmlProperties+xml")
    if not any(d.get("Extension") == "xml" for d in ct.iter(f"{{{_CT}}}Default")):
        d = etree.SubElement(ct, f"{{{_CT}}}Default")
        d.set("Extension", "xml")
        d.set("ContentType", "application/xml")
    parts["xl/_rels/workbook.xml.rels"] = etree.tostring(wb_rels, xml_declaration=True, encoding="UTF-8",
                                                         standalone=True)
    parts["[Content_Types].xml"] = etree.tostring(ct, xml_declaration=True, encoding="UTF-8", standalone=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
