"""xl/styles.xml: the fills and cell formats the marks need, appended after the workbook's own.

A marked cell gets a copy of its own cell format (number format, font, border, alignment,
protection all kept) with only the fill replaced, so the cell looks the same apart from the
colour. Nothing existing is edited: new fills, fonts and formats are appended, and released
again on clear when nothing else has come to use them.
"""

from __future__ import annotations

import copy
import hashlib

from lxml import etree

from ...engine.grid import is_date_format
from .ns import Dialect

# CT_Stylesheet's children, in schema order (ECMA-376 Part 1, 18.8.39).
_ORDER = (
    "numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs", "cellStyles", "dxfs",
    "tableStyles", "colors", "extLst",
)
# The sections we may append to; their children and the attribute cells' xfs use to point at them.
_SECTIONS = {"fonts": "font", "fills": "fill", "borders": "border", "cellXfs": "xf"}
# CT_Font's children in schema order.
_FONT_ORDER = (
    "b", "i", "strike", "condense", "extend", "outline", "shadow", "u", "vertAlign", "sz", "color",
    "name", "family", "charset", "scheme",
)
LINK_COLOR = "FF0563C1"
_ABSENT = "-"  # the record's spelling of "this section had no count attribute"


_INDEX_ATTRS = ("numFmtId", "fontId", "fillId", "borderId", "xfId")


def damage(root: etree._Element, dialect: Dialect) -> str | None:
    """A cell format whose indexes are not numbers, in words (None: the style sheet is sound).

    Marking copies a cell's format and clearing reads those indexes back: a damaged one would mark
    fine and then make the marks impossible to clear.
    """
    for holder in ("cellXfs", "cellStyleXfs"):
        for n, xf in enumerate(root.iterfind(f"{dialect.q(holder)}/{dialect.q('xf')}")):
            for attr in _INDEX_ATTRS:
                value = xf.get(attr)
                if value is not None and not value.isdigit():
                    return f"cell format {n} of {holder} has {attr}={value[:20]!r}"
    first = root.find(f"{dialect.q('cellXfs')}/{dialect.q('xf')}")
    if first is not None:
        fmt = int(first.get("numFmtId", "0"))
        codes = {f.get("numFmtId"): f.get("formatCode") for f in root.iterfind(f"{dialect.q('numFmts')}/{dialect.q('numFmt')}")}
        if is_date_format(fmt, codes.get(str(fmt))):
            # cells without a style take it: Excel and openpyxl show them as dates, python-calamine
            # as numbers; a mark gives such a cell a style, and its value would read otherwise
            return f"the default cell format shows dates (number format {fmt})"
    return None


class Styles:
    """The workbook's style sheet, extended by the marks."""

    def __init__(self, root: etree._Element, dialect: Dialect) -> None:
        self.root = root
        self.d = dialect
        self.changed = False
        self._base: dict[str, int] = {}
        self._count_attr: dict[str, str] = {}
        self._created: list[str] = []
        self._fills: dict[str, int] = {}
        self._refills: dict[tuple, int] = {}
        self._fonts: dict[str, int] = {}
        self._xfs: dict[tuple, int] = {}
        self._defaults = False  # whether _ensure_defaults has run since the sections last lost entries

    # -- sections ---------------------------------------------------------------------------
    def _section(self, name: str) -> etree._Element:
        """A section we append to; created (in schema order) if the workbook has none."""
        el = self.root.find(self.d.q(name))
        if el is None:
            el = etree.Element(self.d.q(name))
            later = _ORDER[_ORDER.index(name) + 1 :]
            for child in self.root:
                if isinstance(child.tag, str) and etree.QName(child).localname in later:
                    child.addprevious(el)
                    break
            else:
                self.root.append(el)
            self._created.append(name)
        if name not in self._base:
            self._base[name] = len(el.findall(self.d.q(_SECTIONS[name])))
            self._count_attr[name] = el.get("count", _ABSENT)
        self.changed = True
        return el

    def _append(self, name: str, child: etree._Element) -> int:
        section = self._section(name)
        items = section.findall(self.d.q(_SECTIONS[name]))
        if items:
            items[-1].addnext(child)
        else:
            section.insert(0, child)
        section.set("count", str(len(items) + 1))
        return len(items)

    def _ensure_defaults(self) -> None:
        """Index 0 of fonts/borders and 0-1 of fills must exist before anything refers to them.

        Once is enough until release() removes entries: each new format asks (a summary sheet, ~10).
        """
        if self._defaults:
            return
        fonts = self._section("fonts")
        if not fonts.findall(self.d.q("font")):
            font = etree.Element(self.d.q("font"))
            etree.SubElement(font, self.d.q("sz")).set("val", "11")
            etree.SubElement(font, self.d.q("name")).set("val", "Calibri")
            self._append("fonts", font)
        fills = self._section("fills")
        for pattern in ("none", "gray125")[len(fills.findall(self.d.q("fill"))) :]:
            fill = etree.Element(self.d.q("fill"))
            etree.SubElement(fill, self.d.q("patternFill")).set("patternType", pattern)
            self._append("fills", fill)
        if not self._section("borders").findall(self.d.q("border")):
            border = etree.Element(self.d.q("border"))
            for side in ("left", "right", "top", "bottom", "diagonal"):
                etree.SubElement(border, self.d.q(side))
            self._append("borders", border)
        if not self._section("cellXfs").findall(self.d.q("xf")):
            xf = etree.Element(self.d.q("xf"))
            for attr in ("numFmtId", "fontId", "fillId", "borderId"):
                xf.set(attr, "0")
            self._append("cellXfs", xf)
        self._defaults = True

    # -- what the marks ask for ----------------------------------------------------------------
    def fill(self, rgb: str) -> int:
        """Index of a solid fill of this ARGB colour (one per colour per run)."""
        if rgb not in self._fills:
            self._ensure_defaults()
            fill = etree.Element(self.d.q("fill"))
            pattern = etree.SubElement(fill, self.d.q("patternFill"))
            pattern.set("patternType", "solid")
            etree.SubElement(pattern, self.d.q("fgColor")).set("rgb", rgb)
            etree.SubElement(pattern, self.d.q("bgColor")).set("indexed", "64")
            self._fills[rgb] = self._append("fills", fill)
        return self._fills[rgb]

    def marked(self, base_xf: int, rgb: str) -> int:
        """A cell format like base_xf in every respect but a solid fill of colour rgb."""
        return self._xf(("mark", base_xf, rgb), base_xf, fill=self.fill(rgb))

    # -- fills described in words (for marks made in Excel, and for clearing them there) --------
    def describe_fill(self, xf: int) -> dict[str, str]:
        """A cell format's fill as {'pattern', 'fg', 'bg'} with colours 'rgb:AARRGGBB' / 'theme:N:tint'."""
        xfs = self.root.findall(f"{self.d.q('cellXfs')}/{self.d.q('xf')}")
        fills = self.root.findall(f"{self.d.q('fills')}/{self.d.q('fill')}")
        source = xfs[xf] if 0 <= xf < len(xfs) else None
        fill_id = int(source.get("fillId", "0") or 0) if source is not None else 0
        fill = fills[fill_id] if 0 <= fill_id < len(fills) else None
        pattern = fill.find(self.d.q("patternFill")) if fill is not None else None
        if fill is not None and fill.find(self.d.q("gradientFill")) is not None:
            return {"pattern": "gradient"}
        kind = pattern.get("patternType", "none") if pattern is not None else "none"
        if pattern is None or kind == "none":
            return {"pattern": "none"}
        out = {"pattern": kind}
        for tag, key in (("fgColor", "fg"), ("bgColor", "bg")):
            color = _color_words(pattern.find(self.d.q(tag)))
            if color:
                out[key] = color
        return out

    def shows_fill(self, xf: int, rgb: str) -> bool:
        """Whether a cell format has a solid fill of this ARGB colour (a mark's fill)."""
        described = self.describe_fill(xf)
        return described.get("pattern") == "solid" and described.get("fg", "").upper()[-6:] == rgb.upper()[-6:]

    def refilled(self, base_xf: int, fill: dict[str, str]) -> int:
        """A cell format like base_xf with the fill describe_fill() described."""
        key = tuple(sorted(fill.items()))
        if key not in self._refills:
            self._ensure_defaults()
            el = etree.Element(self.d.q("fill"))
            pattern = etree.SubElement(el, self.d.q("patternFill"))
            kind = fill.get("pattern", "none")
            pattern.set("patternType", "none" if kind == "gradient" else kind)
            for tag, name in (("fgColor", "fg"), ("bgColor", "bg")):
                words = fill.get(name, "")
                if kind not in ("none", "gradient") and words:
                    color = etree.SubElement(pattern, self.d.q(tag))
                    what, _, rest = words.partition(":")
                    if what == "theme":
                        index, _, tint = rest.partition(":")
                        color.set("theme", index)
                        if tint and float(tint):
                            color.set("tint", tint)
                    elif what == "rgb":
                        color.set("rgb", rest)
                    else:
                        color.set(what, rest)
            self._refills[key] = self._append("fills", el)
        return self._xf(("refill", base_xf, key), base_xf, fill=self._refills[key])

    def summary(self, kind: str, rgb: str | None = None, number_format: int = 0) -> int:
        """A format for the summary sheet: kind is 'plain', 'bold', 'title' or 'link'."""
        font = self._font(kind) if kind != "plain" else None
        fill = self.fill(rgb) if rgb else None
        return self._xf((kind, rgb, number_format), 0, font=font, fill=fill, num=number_format)

    def _font(self, kind: str) -> int:
        if kind in self._fonts:
            return self._fonts[kind]
        self._ensure_defaults()
        base = self._section("fonts").find(self.d.q("font"))
        font = etree.Element(self.d.q("font"))
        parts: dict[str, etree._Element] = {}
        for child in base:
            if isinstance(child.tag, str):
                name = etree.QName(child).localname
                if name in ("sz", "color", "name", "family", "charset", "scheme"):
                    parts[name] = copy.deepcopy(child)
        if kind in ("bold", "title"):
            parts["b"] = etree.Element(self.d.q("b"))
        if kind == "title":
            parts["sz"] = etree.Element(self.d.q("sz"), val="14")
        if kind == "link":
            parts["u"] = etree.Element(self.d.q("u"))
            parts["color"] = etree.Element(self.d.q("color"), rgb=LINK_COLOR)
            parts.pop("scheme", None)  # a theme font scheme would override the link colour
        for name in _FONT_ORDER:
            if name in parts:
                font.append(parts[name])
        self._fonts[kind] = self._append("fonts", font)
        return self._fonts[kind]

    def _xf(
        self, key: tuple, base_xf: int, *, fill: int | None = None, font: int | None = None,
        num: int | None = None,
    ) -> int:
        if key in self._xfs:
            return self._xfs[key]
        self._ensure_defaults()
        xfs = self._section("cellXfs").findall(self.d.q("xf"))
        source = xfs[base_xf] if 0 <= base_xf < len(xfs) else xfs[0]
        xf = copy.deepcopy(source)
        xf.tail = None
        if fill is not None:
            xf.set("fillId", str(fill))
            xf.set("applyFill", "1")
        if font is not None:
            xf.set("fontId", str(font))
            xf.set("applyFont", "1")
        if num is not None and key[0] != "mark":
            xf.set("numFmtId", str(num))
            xf.set("applyNumberFormat", "1")
        self._xfs[key] = self._append("cellXfs", xf)
        return self._xfs[key]

    # -- the record and clearing ---------------------------------------------------------------
    def state(self) -> dict[str, str]:
        """What release() needs: where our entries start, and a digest of them."""
        out = {"created": ",".join(self._created), "digest": self._digest(self._base)}
        for name, base in self._base.items():
            out[f"{name}.base"] = str(base)
            out[f"{name}.count"] = self._count_attr[name]
        return out

    def _digest(self, base: dict[str, int]) -> str:
        h = hashlib.sha256()
        for name in sorted(base):
            section = self.root.find(self.d.q(name))
            if section is None:
                h.update(b"-missing-")
                continue
            for el in section.findall(self.d.q(_SECTIONS[name]))[base[name] :]:
                h.update(etree.tostring(el, method="c14n"))
        return h.hexdigest()

    def ours(self, state: dict[str, str]) -> range:
        """The cell format indexes a previous run appended."""
        section = self.root.find(self.d.q("cellXfs"))
        base = int(state.get("cellXfs.base", "-1"))
        if section is None or base < 0:
            return range(0)
        return range(base, len(section.findall(self.d.q("xf"))))

    def release(self, state: dict[str, str], in_use: bool) -> bool:
        """Remove what a previous run appended, if it is unchanged and no cell uses it."""
        base = {k[: -len(".base")]: int(v) for k, v in state.items() if k.endswith(".base")}
        if not base or in_use or self._digest(base) != state.get("digest"):
            return False
        # An xf of the workbook's own must not have come to use one of our fonts or fills.
        for holder in ("cellXfs", "cellStyleXfs"):
            section = self.root.find(self.d.q(holder))
            if section is None:
                continue
            own = section.findall(self.d.q("xf"))[: base.get(holder, len(section))]
            for xf in own:
                for attr, sec in (("fontId", "fonts"), ("fillId", "fills")):
                    if sec in base and int(xf.get(attr, "0") or 0) >= base[sec]:
                        return False
        self._defaults = False
        created = set(filter(None, state.get("created", "").split(",")))
        for name, start in base.items():
            section = self.root.find(self.d.q(name))
            if section is None:
                continue
            for el in section.findall(self.d.q(_SECTIONS[name]))[start:]:
                section.remove(el)
            count = state.get(f"{name}.count", _ABSENT)
            if count == _ABSENT:
                section.attrib.pop("count", None)
            else:
                section.set("count", count)
        for name in created:
            section = self.root.find(self.d.q(name))
            if section is not None and not len(section):
                self.root.remove(section)
        self.changed = True
        return True


def _color_words(el: etree._Element | None) -> str | None:
    """A <fgColor>/<bgColor> as 'rgb:AARRGGBB', 'theme:N:tint' or 'indexed:N'."""
    if el is None:
        return None
    if el.get("rgb"):
        return "rgb:" + el.get("rgb", "").upper()
    if el.get("theme") is not None:
        return f"theme:{el.get('theme')}:{float(el.get('tint', '0') or 0):g}"
    if el.get("indexed") is not None:
        return "indexed:" + el.get("indexed", "")
    return None
