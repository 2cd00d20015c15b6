"""Every call tallycheck makes past xlwings' own wrappers, into Excel's object model (``.api``).

xlwings wraps most of what the Excel front door needs (values, formulas, number formats, fills via
``Range.color``, notes via ``Range.note``/``add_note``, sheets, fonts, alerts, the status bar). A
few things it has no wrapper for, and they are all here, nowhere else:

- a fill's pattern and theme colour (to put an analyst's own fill back exactly, not just its RGB);
- rich text in a note (our bold heading) and appending to / cutting from an existing note while
  keeping the analyst's own formatting;
- a note box's size (ours are wordy);
- the restore record as a custom XML part (``Workbook.CustomXMLParts``), the same place a marked
  file keeps it, so ``tallycheck clear`` finds a record Excel saved, and the button finds one the
  command line wrote;
- workbook and sheet protection; an internal hyperlink (``SubAddress``); a link's underline, the
  summary tab's colour and frozen header rows.

``COM_MEMBERS`` lists each object-model member used, by object; the tests' fake Excel implements
exactly these, and a test keeps this list, this module and the fake in step.

These names are Windows' (COM). On a Mac, ``.api`` is an AppleScript (appscript) reference that
raises AttributeError for them, so every function here has a Mac path that uses only xlwings'
cross-platform API (``Range.color``, ``Note.text``, ``Range.add_hyperlink``) or, where xlwings has
nothing, the add-in's own VBA functions (``MAC_MACROS``, through ``App.macro``; VBA is the same
language on both platforms). What a Mac cannot do is said once, in docs/excel.md: a patterned or
theme fill comes back as its plain colour, and an existing note's bold runs are not kept.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

#: Excel object-model members used here, by the object they are called on.
COM_MEMBERS: dict[str, frozenset[str]] = {
    "Range": frozenset({"Interior", "Hyperlinks", "Font"}),
    "Interior": frozenset({
        "Pattern", "Color", "ThemeColor", "TintAndShade", "PatternColor", "PatternThemeColor",
        "PatternTintAndShade",
    }),
    "Hyperlinks": frozenset({"Add"}),
    "Font": frozenset({"Underline", "Bold"}),
    "Comment": frozenset({"Text", "Shape"}),
    "Shape": frozenset({"TextFrame", "Width", "Height"}),
    "TextFrame": frozenset({"Characters"}),
    "Characters": frozenset({"Font", "Delete"}),
    "Workbook": frozenset({"CustomXMLParts", "ProtectStructure"}),
    "Worksheet": frozenset({"ProtectContents", "Tab"}),
    "Tab": frozenset({"Color"}),
    "Application": frozenset({"ActiveWindow"}),
    "Window": frozenset({"FreezePanes", "SplitRow", "SplitColumn", "ScrollRow"}),
    "CustomXMLParts": frozenset({"SelectByNamespace", "Add"}),
    "CustomXMLPart": frozenset({"XML", "Delete"}),
}

# XlPattern values (xlwings.constants.Pattern) <-> the patternType names a file's styles use.
XL_PATTERN_NONE = -4142
XL_PATTERN_SOLID = 1
XL_PATTERN_AUTOMATIC = -4105
XL_UNDERLINE_SINGLE = 2
PATTERNS: dict[int, str] = {
    XL_PATTERN_SOLID: "solid", -4126: "darkGray", -4125: "mediumGray", -4124: "lightGray",
    17: "gray125", 18: "gray0625", -4128: "darkHorizontal", -4166: "darkVertical",
    -4121: "darkDown", -4162: "darkUp", 9: "darkGrid", 10: "darkTrellis", 11: "lightHorizontal",
    12: "lightVertical", 13: "lightDown", 14: "lightUp", 15: "lightGrid", 16: "lightTrellis",
}
PATTERN_CODES = {name: code for code, name in PATTERNS.items()}
GRADIENTS = (4000, 4001)


def _bgr_to_argb(value: Any) -> str | None:
    try:
        n = int(value)
    except (TypeError, ValueError):
        return None
    if n < 0 or n > 0xFFFFFF:
        return None
    r, g, b = n & 0xFF, (n >> 8) & 0xFF, (n >> 16) & 0xFF
    return f"FF{r:02X}{g:02X}{b:02X}"


def argb_to_bgr(argb: str) -> int:
    """'FFFFC7CE' -> Excel's BGR integer."""
    rgb = argb[-6:]
    r, g, b = int(rgb[0:2], 16), int(rgb[2:4], 16), int(rgb[4:6], 16)
    return r + (g << 8) + (b << 16)


def _color(obj: Any, color: str, theme: str, tint: str) -> str | None:
    """A colour as the neutral spelling the restore record uses: 'theme:N:tint' or 'rgb:AARRGGBB'."""
    with contextlib.suppress(Exception):
        t = int(getattr(obj, theme))
        if 1 <= t <= 12:  # xlThemeColorDark1 = 1 is the file's theme index 0
            shade = float(getattr(obj, tint) or 0)
            return f"theme:{t - 1}:{shade:g}"
    argb = _bgr_to_argb(getattr(obj, color))
    return f"rgb:{argb}" if argb else None


def _set_color(obj: Any, spec: str | None, color: str, theme: str, tint: str) -> None:
    if not spec:
        return
    kind, _, rest = spec.partition(":")
    if kind == "theme":
        index, _, shade = rest.partition(":")
        setattr(obj, theme, int(index) + 1)
        setattr(obj, tint, float(shade or 0))
    elif kind == "rgb":
        setattr(obj, color, argb_to_bgr(rest))


def _interior(rng: Any) -> Any | None:
    """The range's COM Interior; None on a Mac (appscript has no such name)."""
    try:
        return rng.api.Interior
    except AttributeError:
        return None


def fill_state(rng: Any) -> dict[str, str]:
    """The cell's own fill as {'pattern', 'fg', 'bg'} (file terms: fg is a solid fill's colour)."""
    interior = _interior(rng)
    if interior is None:  # Mac: the colour xlwings reads is all there is
        color = rng.color
        if color is None:
            return {"pattern": "none"}
        r, g, b = color
        return {"pattern": "solid", "fg": f"rgb:FF{r:02X}{g:02X}{b:02X}"}
    pattern = interior.Pattern
    if pattern in (None, XL_PATTERN_NONE) or rng.color is None:
        return {"pattern": "none"}
    if pattern in GRADIENTS:
        return {"pattern": "gradient"}
    name = PATTERNS.get(int(pattern), "solid")
    back = _color(interior, "Color", "ThemeColor", "TintAndShade")
    if name == "solid":
        return {"pattern": "solid", "fg": back or ""}
    fore = _color(interior, "PatternColor", "PatternThemeColor", "PatternTintAndShade")
    return {"pattern": name, "fg": fore or "", "bg": back or ""}


def paint_solid(rng: Any, argb: str) -> None:
    """A solid fill of this colour, whatever pattern the cell had."""
    interior = _interior(rng)
    if interior is not None and interior.Pattern not in (XL_PATTERN_SOLID, XL_PATTERN_NONE, None):
        interior.Pattern = XL_PATTERN_SOLID
    rng.color = "#" + argb[-6:]


def restore_fill(rng: Any, state: dict[str, str]) -> None:
    """Put back a fill fill_state() described (a gradient cannot be rebuilt: it becomes no fill)."""
    pattern = state.get("pattern", "none")
    if pattern in ("none", "gradient") or pattern not in PATTERN_CODES:
        rng.color = None
        return
    interior = _interior(rng)
    if interior is None:  # Mac: the recorded colour, as a plain fill
        spec = state.get("fg") if pattern == "solid" else state.get("bg") or state.get("fg")
        kind, _, rest = (spec or "").partition(":")
        rng.color = "#" + rest[-6:] if kind == "rgb" else (_THEME_HEX.get(rest.split(":")[0]) if kind == "theme" else None)
        return
    interior.Pattern = PATTERN_CODES[pattern]
    if pattern == "solid":
        _set_color(interior, state.get("fg"), "Color", "ThemeColor", "TintAndShade")
    else:
        _set_color(interior, state.get("bg"), "Color", "ThemeColor", "TintAndShade")
        _set_color(interior, state.get("fg"), "PatternColor", "PatternThemeColor", "PatternTintAndShade")


#: The default Office theme's colours by file theme index, for a theme fill restored on a Mac.
_THEME_HEX = {
    "0": "#FFFFFF", "1": "#000000", "2": "#E7E6E6", "3": "#44546A", "4": "#4472C4", "5": "#ED7D31",
    "6": "#A5A5A5", "7": "#FFC000", "8": "#5B9BD5", "9": "#70AD47",
}


# -- notes --------------------------------------------------------------------------------------
def u16(text: str) -> int:
    """Length as Excel counts characters (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def set_bold(note: Any, start: int, length: int, bold: bool) -> bool:
    """Make characters start..start+length-1 (1-based) of a note bold or not."""
    if length <= 0:
        return True
    try:
        note.api.Shape.TextFrame.Characters(start, length).Font.Bold = bold
    except Exception:
        return False
    return True


def append_text(note: Any, text: str) -> None:
    """Add text at the end of a note, leaving the formatting of what is there untouched."""
    current = note.text or ""
    try:
        note.api.Text(Text=text, Start=u16(current) + 1, Overwrite=False)
    except Exception:
        note.text = current + text  # no object model: the analyst's runs lose their formatting
    if note.text != current + text:
        note.text = current + text


def cut_text(note: Any, start: int, length: int) -> None:
    """Remove characters start..start+length-1 (1-based) of a note, keeping the rest's format."""
    before = note.text or ""
    with contextlib.suppress(Exception):
        note.api.Shape.TextFrame.Characters(start, length).Delete()
    expected = _cut(before, start, length)
    if note.text != expected:
        note.text = expected


def _cut(text: str, start: int, length: int) -> str:
    data = text.encode("utf-16-le")
    a, b = (start - 1) * 2, (start - 1 + length) * 2
    return (data[:a] + data[b:]).decode("utf-16-le")


def note_size(note: Any) -> tuple[float, float] | None:
    try:
        shape = note.api.Shape
        return float(shape.Width), float(shape.Height)
    except Exception:
        return None


def set_note_size(note: Any, width: float, height: float) -> None:
    with contextlib.suppress(Exception):
        shape = note.api.Shape
        shape.Width = width
        shape.Height = height


# -- workbook-level ------------------------------------------------------------------------------
def protected(book: Any, sheets: list[Any]) -> list[str]:
    """What protection stops marking: 'the workbook structure' and/or sheet names."""
    try:
        structure = bool(book.api.ProtectStructure)
    except AttributeError:  # Mac: the add-in's VBA answers
        return _protected_by_vba(book, sheets)
    out = ["the workbook structure"] if structure else []
    for sheet in sheets:
        with contextlib.suppress(Exception):
            if sheet.api.ProtectContents:
                out.append(f"sheet {sheet.name!r}")
    return out


def _protected_by_vba(book: Any, sheets: list[Any]) -> list[str]:
    """TallyProtection(book) gives '1' or '0' (structure) then ':' and each protected sheet's name."""
    answer = str(_macro(book, "TallyProtection")(book.name) or "0")
    flag, *names = answer.split(":")
    wanted = {s.name for s in sheets}
    out = ["the workbook structure"] if flag == "1" else []
    return out + [f"sheet {n!r}" for n in names if n in wanted]


def _parts(book: Any, namespace: str) -> Iterator[Any]:
    parts = book.api.CustomXMLParts.SelectByNamespace(namespace)
    for i in range(int(parts.Count), 0, -1):
        yield parts.Item(i)


#: VBA functions of TallyCheck.bas that do through VBA what Python cannot reach over Excel for
#: Mac's AppleScript bridge (CustomXMLParts, protection).
RECORD_MACROS = ("TallyRecordRead", "TallyRecordWrite")
MAC_MACROS = (*RECORD_MACROS, "TallyProtection")
ADDIN_BOOK = "tallycheck.xlam"


def custom_xml_supported(book: Any) -> bool:
    try:
        book.api.CustomXMLParts  # noqa: B018 - probe
    except Exception:
        return False
    return True


def _macro(book: Any, name: str) -> Any:
    """Call the add-in's VBA function, or the workbook's own (the button template carries it too).

    xlwings' ``App.macro`` never fails on lookup, only when called, so the fallback is at call time.
    """

    def call(*args: Any) -> Any:
        errors = []
        for run in (book.app.macro(f"'{ADDIN_BOOK}'!{name}"), book.macro(name)):
            try:
                return run(*args)
            except Exception as exc:
                errors.append(exc)
        raise RuntimeError(f"the Tally Check macro {name} is not available (is the add-in loaded?): {errors[-1]}")

    return call


def read_custom_xml(book: Any, namespace: str) -> list[str]:
    """The XML of every custom XML part in this namespace (newest last)."""
    if not custom_xml_supported(book):
        xml = _macro(book, "TallyRecordRead")(book.name, namespace)
        return [xml] if xml else []
    return [part.XML for part in reversed(list(_parts(book, namespace)))]


def write_custom_xml(book: Any, namespace: str, xml: str | None) -> None:
    """Replace every part in this namespace by one holding xml (None: just remove them)."""
    if not custom_xml_supported(book):
        _macro(book, "TallyRecordWrite")(book.name, namespace, xml or "")
        return
    for part in list(_parts(book, namespace)):
        part.Delete()
    if xml is not None:
        book.api.CustomXMLParts.Add(xml)


def add_internal_link(rng: Any, location: str, display: str) -> None:
    """A hyperlink to a place in this workbook (what a file's <hyperlink location=...> is)."""
    try:
        links = rng.api.Hyperlinks
    except AttributeError:  # Mac: xlwings' own; Excel takes a '#' address as a place in the workbook
        rng.add_hyperlink(f"#{location}", display)
        return
    links.Add(Anchor=rng.api, Address="", SubAddress=location, TextToDisplay=display)


def underline(rng: Any) -> None:
    with contextlib.suppress(Exception):
        rng.api.Font.Underline = XL_UNDERLINE_SINGLE


def tab_color(sheet: Any, argb: str) -> None:
    with contextlib.suppress(Exception):
        sheet.api.Tab.Color = argb_to_bgr(argb)


def freeze_rows(sheet: Any, rows: int) -> None:
    """Freeze the top rows of a sheet (Excel freezes panes per window: activate, freeze, go back)."""
    with contextlib.suppress(Exception):
        book = sheet.book
        active = book.sheets.active
        sheet.activate()
        window = book.app.api.ActiveWindow
        window.FreezePanes = False
        window.ScrollRow = 1  # the split counts from the top row in view: a scrolled sheet froze too low
        window.SplitColumn = 0
        window.SplitRow = rows
        window.FreezePanes = True
        if active.name != sheet.name:
            active.activate()
