"""Workbook -> grid: every sheet's values, formulas and number formats, by real cell position.

Values come from python-calamine (fast, and battle-tested on odd packages); formulas, error codes and
number formats come from one streaming pass over each sheet's XML, kept only where they matter.
The file is read from disk once; both parsers work on the same bytes.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from lxml import etree

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_GENERAL_IDS = {0, 49}  # General and Text: nothing to learn from them


class WorkbookError(Exception):
    """A workbook that cannot be read, with a reason a person can act on."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


@dataclass
class Sheet:
    """One worksheet's cells. Positions are 0-based (row, column) of the real sheet."""

    name: str
    rows: list[list[Any]]
    origin: tuple[int, int] = (0, 0)
    formulas: dict[str, str] = field(default_factory=dict)
    shared: dict[str, tuple[str, str]] = field(default_factory=dict)
    uncached: set[str] = field(default_factory=set)
    errors: dict[str, str] = field(default_factory=dict)
    formats: dict[str, str] = field(default_factory=dict)
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)
    hidden: bool = False
    pivots: list[tuple[int, int, int, int]] = field(default_factory=list)
    indented: set[str] = field(default_factory=set)

    @property
    def n_rows(self) -> int:
        return self.origin[0] + len(self.rows)

    @property
    def n_cols(self) -> int:
        return self.origin[1] + max((len(r) for r in self.rows), default=0)

    def value(self, row: int, col: int) -> Any:
        """The cell's value (cached value for formulas); None when empty."""
        r, c = row - self.origin[0], col - self.origin[1]
        if r < 0 or c < 0 or r >= len(self.rows) or c >= len(self.rows[r]):
            return None
        v = self.rows[r][c]
        return None if v == "" else v

    def number_format(self, row: int, col: int) -> str | None:
        return self.formats.get(cell_ref(row, col)) if self.formats else None

    def formula(self, ref: str) -> str | None:
        """The cell's formula, shared formulas translated to this cell."""
        if ref in self.formulas:
            return self.formulas[ref]
        if ref in self.shared:
            from openpyxl.formula.translate import Translator

            master_text, master_ref = self.shared[ref]
            return Translator("=" + master_text, origin=master_ref).translate_formula(ref).lstrip("=")
        return None


@dataclass
class Workbook:
    path: Path
    sheets: list[Sheet]
    recalculates: bool = False  # fullCalcOnLoad: formulas' cached values are not to be trusted


@lru_cache(maxsize=1 << 17)
def cell_ref(row: int, col: int) -> str:
    """0-based (row, col) -> "B7"."""
    letters = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{letters}{row + 1}"


def parse_ref(ref: str) -> tuple[int, int]:
    """"B7" -> 0-based (6, 1)."""
    ref = ref.replace("$", "")
    i = 0
    col = 0
    while i < len(ref) and ref[i].isalpha():
        col = col * 26 + (ord(ref[i].upper()) - 64)
        i += 1
    return int(ref[i:]) - 1, col - 1


def read_bytes(path: Path) -> bytes:
    """The file's bytes, or a WorkbookError a person can act on."""
    if path.suffix.lower() == ".xls":
        raise WorkbookError(path, "legacy .xls format is not supported; save it as .xlsx in Excel")
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise WorkbookError(path, "no such file") from None
    except PermissionError:
        raise WorkbookError(path, "permission denied: cannot read the file") from None
    except IsADirectoryError:
        raise WorkbookError(path, "is a folder, not a workbook") from None
    except OSError as exc:
        raise WorkbookError(path, f"cannot read the file ({exc.strerror or exc})") from None


_ENCRYPTION_INFO = "EncryptionInfo".encode("utf-16-le")


def package_problem(data: bytes) -> str | None:
    """Why these bytes are no .xlsx/.xlsm package, in words a person can act on (None: they are one)."""
    if not data:
        return "the file is empty (0 bytes)"
    if data.startswith(OLE_MAGIC):
        if _ENCRYPTION_INFO in data:
            return "password-protected (encrypted) workbook: remove the password in Excel to check it"
        return "legacy .xls (binary, or other OLE) file: save it as .xlsx in Excel"
    if not data.startswith(b"PK"):
        return "not an Excel workbook (not a zip package)"
    return None


def read_workbook(path: Path, data: bytes | None = None) -> Workbook:
    """Read every worksheet of an .xlsx/.xlsm (from ``data`` when the bytes travelled already)."""
    path = Path(path)
    if data is None:
        data = read_bytes(path)
    problem = package_problem(data)
    if problem:
        raise WorkbookError(path, problem)
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
        package.testzip  # noqa: B018 - opening reads the central directory
    except zipfile.BadZipFile as exc:
        raise WorkbookError(path, f"corrupt workbook: {exc}") from None
    names = {n.replace("\\", "/"): n for n in package.namelist()}
    if any(n.endswith(".bin") and "workbook" in n.lower() for n in names):
        raise WorkbookError(path, "binary .xlsb workbooks are not supported; save it as .xlsx")

    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # calamine raises its own family for every broken package
        raise WorkbookError(path, f"corrupt workbook: {_reason(exc)}") from None

    workbook_part = _workbook_part(package, names)
    recalculates = _recalculates_on_open(package, names, workbook_part)
    targets = _targets(package, names, workbook_part)
    parts = _sheet_parts(package, names, workbook_part, targets)
    styles = _cell_styles(package, names, targets)
    sheets: list[Sheet] = []
    for meta in book.sheets_metadata:
        if str(meta.typ) not in ("SheetTypeEnum.WorkSheet", "WorkSheet"):
            continue
        try:
            cal = book.get_sheet_by_name(meta.name)
            rows = cal.to_python(skip_empty_area=True)
            origin = cal.start or (0, 0)
            merged = [(a[0], a[1], b[0], b[1]) for a, b in (cal.merged_cell_ranges or [])]
        except Exception as exc:
            raise WorkbookError(path, f"cannot read sheet {meta.name!r}: {_reason(exc)}") from None
        sheet = Sheet(
            meta.name, rows, tuple(origin), merged=merged, hidden="Visible" not in str(meta.visible)
        )
        part = parts.get(meta.name)
        if part:
            try:
                _read_annotations(package.read(part), sheet, styles)
                sheet.pivots = _pivot_ranges(package, names, part)
            except (etree.XMLSyntaxError, zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:
                raise WorkbookError(path, f"corrupt sheet {meta.name!r}: {_reason(exc)}") from None
        if recalculates:  # a cached 0 is the placeholder a writer that cannot calculate leaves for Excel
            sheet.uncached.update(ref for ref in (*sheet.formulas, *sheet.shared) if _placeholder(sheet, ref))
        sheets.append(sheet)
    return Workbook(path, sheets, recalculates=recalculates)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]


def _read_xml(package: zipfile.ZipFile, names: dict[str, str], part: str) -> Any | None:
    member = names.get(part.lstrip("/"))
    if member is None:
        return None
    try:
        return etree.fromstring(package.read(member))
    except etree.XMLSyntaxError:
        return None


def _rels_of(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def _targets(package: zipfile.ZipFile, names: dict[str, str], part: str) -> dict[str, tuple[str, str]]:
    """Relationship id -> (type, resolved part path) for one part."""
    rels = _read_xml(package, names, _rels_of(part))
    if rels is None:
        return {}
    folder = posixpath.dirname(part)
    out = {}
    for rel in rels.iterfind("{*}Relationship"):
        target = rel.get("Target", "").replace("\\", "/")
        resolved = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
        out[rel.get("Id")] = (rel.get("Type", ""), resolved)
    return out


def _workbook_part(package: zipfile.ZipFile, names: dict[str, str]) -> str:
    for kind, target in _targets(package, names, "").values():
        if kind.endswith("/officeDocument"):
            return target
    return "xl/workbook.xml"


def _placeholder(sheet: Sheet, ref: str) -> bool:
    row, col = parse_ref(ref)
    return sheet.value(row, col) in (0, None, "")


def _recalculates_on_open(package: zipfile.ZipFile, names: dict[str, str], workbook_part: str) -> bool:
    """The workbook asks Excel to recalculate every formula on open (``fullCalcOnLoad``), as
    xlsxwriter and pandas write it: its cached formula values are not the author's figures."""
    workbook = _read_xml(package, names, workbook_part)
    if workbook is None:
        return False
    calc = workbook.find("{*}calcPr")
    return calc is not None and calc.get("fullCalcOnLoad", "").lower() in ("1", "true")


def _sheet_parts(
    package: zipfile.ZipFile, names: dict[str, str], workbook_part: str, targets: dict[str, tuple[str, str]]
) -> dict[str, str]:
    """Sheet name -> the zip member that holds its cells (``targets``: the workbook part's relationships)."""
    workbook = _read_xml(package, names, workbook_part)
    if workbook is None:
        return {}
    parts = {}
    for sheet in workbook.iterfind(".//{*}sheets/{*}sheet"):
        rid = next((v for k, v in sheet.attrib.items() if k.endswith("}id")), None)
        _, target = targets.get(rid, ("", ""))
        if target in names:
            parts[sheet.get("name")] = names[target]
    return parts


def _pivot_ranges(package: zipfile.ZipFile, names: dict[str, str], sheet_part: str) -> list[tuple[int, int, int, int]]:
    """Where the sheet's pivot tables are: Excel computes them, so they are not the analyst's arithmetic."""
    member = next((k for k, v in names.items() if v == sheet_part), sheet_part)
    out = []
    for kind, target in _targets(package, names, member).values():
        if not kind.endswith("/pivotTable"):
            continue
        pivot = _read_xml(package, names, target)
        location = pivot.find("{*}location") if pivot is not None else None
        if location is not None and location.get("ref"):
            first, _, last = location.get("ref").partition(":")
            (r1, c1), (r2, c2) = parse_ref(first), parse_ref(last or first)
            out.append((r1, c1, r2, c2))
    return out


# The built-in number formats that show figures (ECMA-376 Part 1, 18.8.30); dates and times are left
# out because calamine types those cells as dates already. Kept here rather than importing openpyxl:
# the Excel button starts a fresh Python on every click, and openpyxl's import costs ~0.15 s.
_BUILTIN_NUMBER_FORMATS = {
    1: "0", 2: "0.00", 3: "#,##0", 4: "#,##0.00", 9: "0%", 10: "0.00%", 11: "0.00E+00",
    12: "# ?/?", 13: "# ??/??", 37: "#,##0 ;(#,##0)", 38: "#,##0 ;[Red](#,##0)",
    39: "#,##0.00;(#,##0.00)", 40: "#,##0.00;[Red](#,##0.00)", 48: "##0.0E+0",
}
_DATE_PARTS = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.|_.|\*.')


def _is_date_code(code: str) -> bool:
    """A number format that shows a date or a time (d, m, y, h, s outside quotes and brackets)."""
    return re.search(r"[dmyhs]", _DATE_PARTS.sub("", code.split(";", 1)[0]).lower()) is not None


@dataclass(frozen=True)
class _Styles:
    """What a cell's style index says that matters here: its number format, and whether it is indented."""

    formats: dict[str, str]  # style index (the s attribute) -> number format code; General and dates left out
    indented: frozenset[str]  # style indexes with an indent (Excel's Increase Indent: an "of which" row)

    def wanted(self) -> set[str]:
        return set(self.formats) | self.indented

    def note(self, sheet: Sheet, ref: str, style: str) -> None:
        if style in self.formats:
            sheet.formats[ref] = self.formats[style]
        if style in self.indented:
            sheet.indented.add(ref)


def _cell_styles(package: zipfile.ZipFile, names: dict[str, str], targets: dict[str, tuple[str, str]]) -> _Styles:
    styles_part = next((t for k, t in targets.values() if k.endswith("/styles")), "xl/styles.xml")
    styles = _read_xml(package, names, styles_part)
    if styles is None:
        return _Styles({}, frozenset())
    custom = {int(f.get("numFmtId")): f.get("formatCode", "") for f in styles.iterfind("{*}numFmts/{*}numFmt")}
    formats = {}
    indented = set()
    for index, xf in enumerate(styles.iterfind("{*}cellXfs/{*}xf")):
        alignment = xf.find("{*}alignment")
        if alignment is not None and alignment.get("indent", "0") not in ("", "0"):
            indented.add(str(index))
        fmt_id = int(xf.get("numFmtId", "0"))
        if fmt_id in _GENERAL_IDS:
            continue
        code = custom.get(fmt_id, _BUILTIN_NUMBER_FORMATS.get(fmt_id))
        if code and code.lower() != "general" and not _is_date_code(code):
            formats[str(index)] = code
    return _Styles(formats, frozenset(indented))


_R_ATTR = re.compile(rb'\br="([A-Za-z]{1,3}[0-9]+)"')
_T_ATTR = re.compile(rb'\bt="([a-zA-Z]+)"')
_CELL_WITH_R = re.compile(rb'<c\s[^>]*?\br="')
_ERROR_CELL = re.compile(rb'<c\s([^>]*?\bt="e"[^>]*)>\s*(?:<f\b.*?</f>|<f\b[^>]*/>)?\s*<v>([^<]*)</v>', re.S)


def _read_annotations(data: bytes, sheet: Sheet, styles: _Styles) -> None:
    """Formulas, formulas without a cached value, error codes and number formats, by cell.

    Most cells carry none of these, so the sheet XML is scanned with compiled patterns (C speed)
    and only the few cells that match are parsed; unusual XML (prefixed elements, cells without
    an ``r`` attribute) takes the slower streaming parser instead.
    """
    plain = b"<c " in data and b":c " not in data and b"<c>" not in data
    if not plain or data.count(b"<c ") != len(_CELL_WITH_R.findall(data)):
        _read_annotations_streaming(io.BytesIO(data), sheet, styles)
        return
    wanted = styles.wanted()
    if wanted:
        ids = b"|".join(re.escape(k.encode()) for k in wanted)
        r_first = re.compile(rb'<c r="([A-Z]{1,3}[0-9]+)"[^>]*?\ss="(' + ids + rb')"')
        if not styles.indented:  # the common case, in one C-speed sweep
            codes = {k.encode(): v for k, v in styles.formats.items()}
            sheet.formats.update({ref.decode(): codes[style] for ref, style in r_first.findall(data)})
        else:
            for m in r_first.finditer(data):
                styles.note(sheet, m.group(1).decode(), m.group(2).decode())
        if re.search(rb'<c (?:(?!r=)[a-z]+="[^"]*" )+r=', data):  # writers that put r after other attributes
            s_first = re.compile(rb'<c\s([^>]*?\bs="(' + ids + rb')"[^>]*)>')
            for m in s_first.finditer(data):
                r = _R_ATTR.search(m.group(1))
                if r:
                    styles.note(sheet, r.group(1).decode(), m.group(2).decode())
    if b"<f" in data:
        for m in re.finditer(rb"<f[\s>/]", data):
            start = data.rfind(b"<c ", 0, m.start())
            end = data.find(b"</c>", m.start())
            if start < 0 or end < 0:
                continue
            try:
                cell = etree.fromstring(data[start : end + 4])
            except etree.XMLSyntaxError:
                continue
            _note_formula(cell, sheet)
    if b't="e"' in data:
        for m in _ERROR_CELL.finditer(data):
            r = _R_ATTR.search(m.group(1))
            if r:
                sheet.errors[r.group(1).decode()] = m.group(2).decode() or "#ERROR"
    _resolve_shared(sheet)


def _note_formula(cell: Any, sheet: Sheet, ref: str | None = None) -> None:
    ref = ref or cell.get("r")
    f = cell.find("{*}f") if cell.find("f") is None else cell.find("f")
    if f is None or ref is None:
        return
    text = f.text or ""
    if f.get("t") == "shared":
        si = f.get("si", "")
        if text:
            sheet.formulas[ref] = text
            sheet.shared.setdefault("#" + si, (text, ref))
        else:
            sheet.shared[ref] = ("#" + si, "")
    else:
        sheet.formulas[ref] = text
    v = cell.find("v") if cell.find("v") is not None else cell.find("{*}v")
    if v is None or not (v.text or "").strip():
        sheet.uncached.add(ref)


def _resolve_shared(sheet: Sheet) -> None:
    masters = {k: v for k, v in sheet.shared.items() if k.startswith("#")}
    for ref, (si, _) in list(sheet.shared.items()):
        if not ref.startswith("#"):
            sheet.shared[ref] = masters.get(si, ("", ref))


def _read_annotations_streaming(stream: Any, sheet: Sheet, styles: _Styles) -> None:
    """The careful path, for XML the patterns would misread: one lxml pass over every cell."""
    row_no = 0
    col_no = 0
    for event, el in etree.iterparse(stream, events=("start", "end"), tag=("{*}row", "{*}c"), huge_tree=True):
        local = el.tag.rsplit("}", 1)[-1]
        if local == "row":
            if event == "start":
                row_no = int(el.get("r") or row_no + 1)
                col_no = 0
            else:
                el.clear()
                _drop_previous(el)
            continue
        if event == "start":
            continue
        ref = el.get("r")
        if ref is None:
            ref = cell_ref(row_no - 1, col_no)
        else:
            col_no = parse_ref(ref)[1]
        col_no += 1
        style = el.get("s")
        if style is not None:
            styles.note(sheet, ref, style)
        _note_formula(el, sheet, ref)
        if el.get("t") == "e":
            v = el.find("{*}v")
            sheet.errors[ref] = (v.text if v is not None else None) or "#ERROR"
        el.clear()
    _resolve_shared(sheet)


def _drop_previous(el: Any) -> None:
    parent = el.getparent()
    if parent is not None:
        while el.getprevious() is not None:
            del parent[0]


def iter_cells(sheet: Sheet) -> Iterator[tuple[int, int, Any]]:
    """Every non-empty cell as (row, col, value)."""
    r0, c0 = sheet.origin
    for i, row in enumerate(sheet.rows):
        for j, v in enumerate(row):
            if v != "" and v is not None:
                yield r0 + i, c0 + j, v
