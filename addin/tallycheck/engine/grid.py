"""Workbook -> grid: every sheet's values, formulas and number formats, by real cell position.

Values come from python-calamine (fast, and battle-tested on odd packages); formulas, error codes and
number formats come from one streaming pass over each sheet's XML, kept only where they matter.
The file is read from disk once; both parsers work on the same bytes.
"""

from __future__ import annotations

import dataclasses
import io
import itertools
import posixpath
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from lxml import etree

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_GENERAL_IDS = {0, 49}  # General and Text: nothing to learn from them

MIB = 1 << 20
#: The most a workbook's XML parts may inflate to, in all (``--max-size``). The readers hold about
#: five times the XML in memory (a 1.9 GB sheet passed 10 GB), so 256 MB keeps a check under ~2 GB;
#: a 100,000-row, 10-column daily series is about 40 MB of XML.
DEFAULT_MAX_SIZE = 256 * MIB
#: Deflate ratio above which a big part is treated as a zip bomb whatever --max-size says: real
#: sheets compress 7-11:1 (measured, identical rows included); deflate's ceiling is 1032:1.
MAX_RATIO = 100
#: Parts smaller than this are never judged by their ratio (a few MB of blanks is harmless).
RATIO_FLOOR = 8 * MIB
#: Cells in one sheet's bounding box: python-calamine allocates the whole box, 32 bytes a cell,
#: before it hands anything back (16M cells: 512 MB); one cell at XFD1048576 asks for 549 GB.
MAX_SHEET_CELLS = 1 << 24
EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLS = 16_384  # XFD
#: Excel's last date, 31 Dec 9999; python-calamine panics on date cells far beyond it (-Infinity,
#: 30 digits). Values of 10,000,000 or more (8 digits) are checked before the sheet is read.
MAX_DATE_SERIAL = 2_958_465
_STREAM_CHUNK = MIB
_XML_SUFFIXES = (".xml", ".rels", ".vml")


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
    _column_formats: dict[int, dict[int, str]] | None = field(default=None, repr=False)

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

    def column_values(self, rows: Sequence[int], col: int) -> list[Any]:
        """One column's cells over ``rows``, read straight from the grid ("" for an empty cell)."""
        r0, c = self.origin[0], col - self.origin[1]
        grid = self.rows
        n = len(grid)
        return [grid[r - r0][c] if 0 <= r - r0 < n and 0 <= c < len(grid[r - r0]) else "" for r in rows]

    def column_formats(self, col: int) -> dict[int, str]:
        """Row -> number format of the formatted cells of one column (indexed once per sheet)."""
        if self._column_formats is None:
            self._column_formats = {}
            for ref, code in self.formats.items():
                r, c = parse_ref(ref)
                self._column_formats.setdefault(c, {})[r] = code
        return self._column_formats.get(col, {})

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


#: A cell or a range in a formula (B5, $B$5, B5:D5), not a function name or another sheet's cell.
FORMULA_REF_RE = re.compile(r"(?<![A-Za-z!'])\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?(?![\w(])")


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


def read_workbook(path: Path, data: bytes | None = None, max_size: int = DEFAULT_MAX_SIZE) -> Workbook:
    """Read every worksheet of an .xlsx/.xlsm (from ``data`` when the bytes travelled already).

    Before python-calamine sees the bytes, the package is inspected (every XML part inflated once,
    streamed, against ``max_size`` and its checksum; no DTDs) and each sheet's cell references are
    checked against Excel's grid and MAX_SHEET_CELLS: the reader aborts the process on some hostile
    inputs, so those are refused here, by name, with the reason.
    """
    path = Path(path)
    if data is None:
        data = read_bytes(path)
    problem = package_problem(data)
    if problem:
        raise WorkbookError(path, problem)
    package, worksheets = open_package(path, data, max_size)
    names = {n.replace("\\", "/"): n for n in package.namelist()}
    if any(n.endswith(".bin") and "workbook" in n.lower() for n in names):
        raise WorkbookError(path, "binary .xlsb workbooks are not supported; save it as .xlsx")
    try:
        workbook_part = _workbook_part(package, names)
        recalculates = _recalculates_on_open(package, names, workbook_part)
        targets = _targets(package, names, workbook_part)
        parts = _sheet_parts(package, names, workbook_part, targets)
        styles = _cell_styles(package, names, targets)
        sheet_data = {name: worksheets[part] if part in worksheets else package.read(part) for name, part in parts.items()}
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, NotImplementedError) as exc:
        raise WorkbookError(path, f"corrupt workbook: {_reason(exc)}") from None
    for name, xml in sheet_data.items():
        problem = sheet_problem(xml, styles.dates)
        if problem:
            raise WorkbookError(path, f"sheet {name!r}: {problem}")
    for member in names.values():  # a worksheet part the workbook part does not list, but calamine may
        if "worksheets/" in member.lower() and member not in parts.values():
            problem = sheet_problem(worksheets[member] if member in worksheets else package.read(member), styles.dates)
            if problem:
                raise WorkbookError(path, f"part {member}: {problem}")

    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        metadata = [m for m in book.sheets_metadata if str(m.typ) in ("SheetTypeEnum.WorkSheet", "WorkSheet")]
    except BaseException as exc:  # calamine raises its own family for every broken package
        if not reader_failed(exc):
            raise
        raise WorkbookError(path, f"corrupt workbook: {_reason(exc)}") from None

    # each worksheet's formulas, formats and errors first, so that its XML is let go before the
    # reader builds its own copy of the values (100,000 rows: 30 MB less at the peak); a sheet's
    # broken XML is reported after the reader has had its say on it, as when the values came first
    annotated: dict[str, Sheet | WorkbookError] = {}
    for meta in metadata:
        if meta.name in sheet_data:
            annotated[meta.name] = _annotations(path, meta.name, sheet_data.pop(meta.name), styles, package, names, parts)
    sheet_data.clear()
    worksheets.clear()

    sheets: list[Sheet] = []
    for meta in metadata:
        try:
            cal = book.get_sheet_by_name(meta.name)
            rows = cal.to_python(skip_empty_area=True)
            origin = cal.start or (0, 0)
            merged = [(a[0], a[1], b[0], b[1]) for a, b in (cal.merged_cell_ranges or [])]
        except BaseException as exc:  # a Rust panic arrives as PanicException, a BaseException
            if not reader_failed(exc):
                raise
            raise WorkbookError(path, f"cannot read sheet {meta.name!r}: {_reason(exc)}") from None
        notes = annotated.get(meta.name) or Sheet(meta.name, [])
        if isinstance(notes, WorkbookError):
            raise notes
        sheet = dataclasses.replace(
            notes, rows=rows, origin=tuple(origin), merged=merged, hidden="Visible" not in str(meta.visible)
        )
        if recalculates:  # a cached 0 is the placeholder a writer that cannot calculate leaves for Excel
            sheet.uncached.update(ref for ref in (*sheet.formulas, *sheet.shared) if _placeholder(sheet, ref))
        sheets.append(sheet)
    return Workbook(path, sheets, recalculates=recalculates)


def _annotations(
    path: Path, name: str, xml: bytes, styles: _Styles, package: zipfile.ZipFile, names: dict[str, str], parts: dict[str, str]
) -> Sheet | WorkbookError:
    """A sheet holding only the formulas, formats, errors and pivot ranges of one worksheet's XML
    (or the error that XML is, to raise once the values have been read)."""
    notes = Sheet(name, [])
    try:
        _read_annotations(xml, notes, styles)
        notes.pivots = _pivot_ranges(package, names, parts[name])
    except (etree.XMLSyntaxError, zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:
        return WorkbookError(path, f"corrupt sheet {name!r}: {_reason(exc)}")
    return notes


def reader_failed(exc: BaseException) -> bool:
    """Whether a reader's exception is the workbook's problem (not Ctrl-C or an exit).

    python-calamine turns a Rust panic into pyo3's PanicException, which derives from
    BaseException so that ``except Exception`` does not catch it; for us it is one more way a
    workbook cannot be read.
    """
    return isinstance(exc, Exception) or type(exc).__name__ == "PanicException"


def human_size(n: int) -> str:
    """Bytes in words: '1.8 GB', '256.0 MB', '900 bytes'."""
    for unit, scale in (("GB", 1 << 30), ("MB", MIB), ("KB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:,.1f} {unit}"
    return f"{n:,} bytes"


def open_package(path: Path | str, data: bytes, max_size: int = DEFAULT_MAX_SIZE) -> tuple[zipfile.ZipFile, dict[str, bytes]]:
    """The zip package, after every XML part has been inflated once, in bounded memory, and the
    worksheet parts as inflated then (the reader needs them next: each sheet is inflated once here).

    Each part is streamed and checked as it inflates: the total against ``max_size``, a big part's
    ratio against MAX_RATIO, its CRC (zipfile checks it at the end), and that it declares no DTD
    (Excel never writes one; entity bombs and XXE need one). Anything else is a WorkbookError that
    says corrupt, too large or unsafe.
    """
    if len(data) > max_size:
        raise WorkbookError(path, f"too large to check: the file is {human_size(len(data))}, over the "
                                  f"{human_size(max_size)} limit (raise it with --max-size)")
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
        infos = package.infolist()
    except (zipfile.BadZipFile, ValueError, NotImplementedError, EOFError, OSError) as exc:
        raise WorkbookError(path, f"corrupt workbook: {_reason(exc)}") from None
    spans = sorted((i.header_offset, i.header_offset + 30 + len(i.filename) + i.compress_size) for i in infos)
    for (_, end), (start, _) in itertools.pairwise(spans):
        if start < end:
            raise WorkbookError(path, "corrupt or crafted workbook: its zip members overlap (damaged, or "
                                      "a zip-bomb technique; never written by Excel)")
    xml = [i for i in infos if i.filename.lower().endswith(_XML_SUFFIXES) and not i.is_dir()]
    declared = sum(i.file_size for i in xml)
    if declared > max_size:
        big = max(xml, key=lambda i: i.file_size)
        raise WorkbookError(path, _too_large(big.filename, declared, big.compress_size, big.file_size, max_size))
    total = 0
    worksheets: dict[str, bytes] = {}
    for info in xml:
        chunks: list[bytes] | None = [] if "worksheets/" in info.filename.lower() else None
        try:
            total = _inflate(package, info, total, max_size, path, chunks)
            if chunks is not None:
                worksheets[info.filename] = b"".join(chunks)
        except WorkbookError:
            raise
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError, RuntimeError) as exc:
            raise WorkbookError(path, f"corrupt workbook: part {info.filename} is damaged ({_reason(exc)})") from None
    return package, worksheets


def _too_large(part: str, total: int, packed: int, inflated: int, limit: int) -> str:
    ratio = inflated / max(packed, 1)
    how = f"{part} inflates to {human_size(inflated)} from {human_size(packed)}"
    if ratio > MAX_RATIO:
        how += f" ({ratio:,.0f}:1, suspicious compression)"
    return (f"too large to check: its XML parts inflate to {human_size(total)}, over the {human_size(limit)} "
            f"limit ({how}); raise it with --max-size if the file is genuine")


def _inflate(
    package: zipfile.ZipFile, info: zipfile.ZipInfo, total: int, max_size: int, path: Path | str, keep: list[bytes] | None = None
) -> int:
    """Stream one part through zlib (checksum checked at its end); return the running total.

    ``keep`` collects the chunks, for a part the reader needs next (a worksheet): inflated once.
    """
    size = 0
    head = b""
    with package.open(info) as stream:
        while chunk := stream.read(_STREAM_CHUNK):
            if keep is not None:
                keep.append(chunk)
            if not head:
                head = chunk[:4096]
                if _declares_dtd(head):
                    raise WorkbookError(path, f"unsafe workbook: part {info.filename} declares a DTD "
                                              "(<!DOCTYPE>), which Excel never writes (entity expansion or XXE)")
            size += len(chunk)
            if total + size > max_size:
                raise WorkbookError(path, _too_large(info.filename, total + size, info.compress_size, size, max_size))
            if size > RATIO_FLOOR and size > MAX_RATIO * max(info.compress_size, 1):
                raise WorkbookError(path, f"unsafe workbook: part {info.filename} inflates past "
                                          f"{human_size(size)} from {human_size(info.compress_size)} "
                                          f"(over {MAX_RATIO}:1, suspicious compression: a zip bomb?)")
    return total + size


def _declares_dtd(head: bytes) -> bool:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        head = head.decode("utf-16", errors="ignore").encode()
    root = re.search(rb"<[A-Za-z_]", head)
    prologue = head[: root.start()] if root else head
    return b"<!doctype" in prologue.lower()


_CELL_REF = re.compile(rb'\br="([A-Za-z]+)([0-9]+)"')
_CELL_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c[\s>/]")
_BARE_CELL = re.compile(rb"<c[>/]")
# What Excel, openpyxl and XlsxWriter write, every cell as <c r="B7" ...>: swept with literal-led patterns
_FIRST_LETTERS = re.compile(rb'<c r="([A-Za-z]+)')
_FIRST_ROWS = re.compile(rb'<c r="[A-Za-z]+([0-9]+)"')
_LONG_ROW = re.compile(rb'\br="[A-Za-z]+[0-9]{7,}"')  # a row number of 7 digits or more may pass the last row
# the same, for sheets whose cells all start <c r=": literal-led, so swept at C speed (40 MB: 0.29 -> 0.11 s)
_LONG_PLAIN_ROW = re.compile(rb'<c r="[A-Za-z]+[0-9]{7,}"')
# A value no date can be made of starts like this: 8 digits or more (10,000,000 days and up), or
# a character no plain decimal has (an exponent, Infinity, NaN); ordinary figures fail at once.
_BIG_VALUE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?v>[-+]?(?:[0-9]{8}|[0-9.]*+[^0-9.<+-])")
_BIG_PLAIN_VALUE = re.compile(rb"<v>[-+]?(?:[0-9]{8}|[0-9.]*+[^0-9.<+-])")
_OUTSIDE = "corrupt sheet: cell reference {} is outside Excel's grid (A1:XFD1048576)"


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ch - 64
    return n


def sheet_problem(data: bytes, date_styles: frozenset[str] = frozenset()) -> str | None:
    """Why python-calamine must not be given this sheet's XML (None: it may).

    Cell references must lie in Excel's grid, and the box from the first to the last cell must
    stay under MAX_SHEET_CELLS (the reader allocates it whole); a date-formatted cell must hold a
    number a date can be made of. Sheets whose every cell starts ``<c r="`` (what Excel and the
    usual libraries write) are swept with literal-led patterns, the column letters first and the
    row numbers only when the sheet is wider than 16 columns; cells written without a reference
    (rare writers) are counted with the streaming parser.
    """
    plain = data.count(b"<c ") == data.count(b'<c r="') and b":c" not in data and not _BARE_CELL.search(data)
    if plain:
        letters = set(_FIRST_LETTERS.findall(data))
        numbers = lambda: set(_FIRST_ROWS.findall(data))  # noqa: E731 - only wide sheets need it
    else:
        refs = _CELL_REF.findall(data)
        if len(refs) < len(_CELL_TAG.findall(data)):  # some cells have no r: positions as a reader counts them
            return _sheet_problem_streaming(data)
        letters = {c for c, _ in refs}
        numbers = lambda: {r for _, r in refs}  # noqa: E731
    problem = _grid_problem(data, letters, numbers, plain) if letters else None
    return problem or _date_problem(data, date_styles, plain)


def _grid_problem(data: bytes, letters: set[bytes], numbers: Callable[[], set[bytes]], plain: bool) -> str | None:
    """References past XFD or row 1,048,576, or a bounding box over MAX_SHEET_CELLS, in words."""
    cols = [_column_number(c) for c in letters if len(c) <= 3]
    if len(cols) < len(letters) or max(cols) > EXCEL_MAX_COLS:
        bad = next(c for c in letters if len(c) > 3 or _column_number(c) > EXCEL_MAX_COLS)
        found = re.search(rb'\br="(' + bad + rb'[0-9]*)"', data)
        return _OUTSIDE.format((found.group(1) if found else bad).decode()[:40])
    width = max(cols) - min(cols) + 1
    long_row = (_LONG_PLAIN_ROW if plain else _LONG_ROW).search(data)
    if width * EXCEL_MAX_ROWS <= MAX_SHEET_CELLS and not long_row:
        return None  # narrow enough that even every row of the grid fits, and no row beyond it
    bound = _row_bound(data) if plain else None  # its patterns see only cells that start <c r="
    if bound is not None and bound <= EXCEL_MAX_ROWS and width * bound <= MAX_SHEET_CELLS:
        return None
    rows = [int(r) for r in numbers()]
    if max(rows) > EXCEL_MAX_ROWS:
        found = re.search(rb'\br="([A-Za-z]+' + str(max(rows)).encode() + rb')"', data)
        return _OUTSIDE.format(found.group(1).decode()[:40] if found else f"row {max(rows):,}")
    if width * (max(rows) - min(rows) + 1) <= MAX_SHEET_CELLS:
        return None
    return _area(data)


def _row_bound(data: bytes) -> int | None:
    """A cheap upper bound on the cells' row numbers, from two pattern searches (None: not found).

    The last <row r="N"> gives a guess; no cell may have more digits than N, nor a larger leading
    digit, so the bound is the next power of ten's step above N (100,001 -> 199,999).
    """
    last = re.findall(rb'<row r="([0-9]+)"', data[-(1 << 16) :]) or re.findall(rb'<row r="([0-9]+)"', data)
    if not last:
        return None
    guess = last[-1].decode()
    digits, lead = len(guess), int(guess[0])
    if re.search(rb'<c r="[A-Za-z]+[0-9]{%d}' % (digits + 1), data):
        return None
    if lead < 9 and re.search(rb'<c r="[A-Za-z]+[%d-9][0-9]{%d}"' % (lead + 1, digits - 1), data):
        return None
    return (lead + 1) * 10 ** (digits - 1) - 1


_FILLED_CELL_REF = re.compile(rb'\br="([A-Za-z]+)([0-9]+)"[^>]*?(?<!/)>')


def _area(data: bytes) -> str | None:
    """Too many cells between the first and the last that hold something: name the one that stretches the box."""
    filled = [(_column_number(c), int(r)) for c, r in _FILLED_CELL_REF.findall(data)]  # empty <c/> hold nothing
    if not filled:
        return None
    c_lo, c_hi = min(c for c, _ in filled), max(c for c, _ in filled)
    r_lo, r_hi = min(r for _, r in filled), max(r for _, r in filled)
    cells = (c_hi - c_lo + 1) * (r_hi - r_lo + 1)
    if cells <= MAX_SHEET_CELLS:
        return None
    far = max(filled, key=lambda cr: (cr[0] - c_lo) * (cr[1] - r_lo))
    return (f"its cells span {cell_ref(r_lo - 1, c_lo - 1)}:{cell_ref(r_hi - 1, c_hi - 1)} ({cells:,} cells, over "
            f"the {MAX_SHEET_CELLS:,} that can be read safely); a cell such as {cell_ref(far[1] - 1, far[0] - 1)} "
            "lies far from the rest: delete it if it is a stray entry")


def _sheet_problem_streaming(data: bytes) -> str | None:
    """sheet_problem for sheets whose cells lack references: positions counted as a reader does."""
    col_no = 0
    lo_r = lo_c = None
    hi_r = hi_c = 0
    try:
        for row_no, el in _cells(io.BytesIO(data)):
            if el is None:  # a new row
                col_no = 0
                continue
            ref = el.get("r")
            if ref:
                m = re.fullmatch(r"([A-Za-z]+)([0-9]+)", ref)
                if m is None:
                    return f"corrupt sheet: cell reference {ref[:40]!r} is not a cell"
                col_no, row = _column_number(m.group(1).encode()), int(m.group(2))
            else:
                col_no, row = col_no + 1, row_no
            if col_no > EXCEL_MAX_COLS or row > EXCEL_MAX_ROWS:
                return f"corrupt sheet: a cell at row {row:,}, column {col_no:,} is outside Excel's grid (A1:XFD1048576)"
            if len(el):
                lo_r, lo_c = min(lo_r or row, row), min(lo_c or col_no, col_no)
                hi_r, hi_c = max(hi_r, row), max(hi_c, col_no)
            el.clear()
    except etree.XMLSyntaxError:
        return None  # the reader reports it as corrupt itself
    if lo_r is not None and (hi_r - lo_r + 1) * (hi_c - lo_c + 1) > MAX_SHEET_CELLS:
        return (f"its cells span {cell_ref(lo_r - 1, lo_c - 1)}:{cell_ref(hi_r - 1, hi_c - 1)}, over the "
                f"{MAX_SHEET_CELLS:,} cells that can be read safely")
    return None


_STYLE_ATTR = re.compile(rb'\ss="([0-9]+)"')
_TYPE_ATTR = re.compile(rb'\st="([a-zA-Z]+)"')

#: How far before a value its cell's opening tag can be: attributes, a formula, an inline string.
CELL_TAG_REACH = 1 << 16


def _date_problem(data: bytes, date_styles: frozenset[str], plain: bool = False) -> str | None:
    """A date-formatted cell whose value no date can be made of (the reader panics on it)."""
    if not date_styles and b't="d"' not in data:
        return None
    prefixed = b":c " in data  # cells written with a namespace prefix (<x:c ...>): rare, searched only then
    for m in (_BIG_PLAIN_VALUE if plain and b":v>" not in data else _BIG_VALUE).finditer(data):
        value_at = data.index(b">", m.start()) + 1
        try:
            if abs(float(data[value_at : data.find(b"<", value_at)])) <= MAX_DATE_SERIAL:
                continue  # a number any date can be made of, whatever the cell's style: the common case
        except ValueError:
            pass
        window = max(0, m.start() - CELL_TAG_REACH)  # the cell's tag is just before its value: never rescan the sheet
        start = data.rfind(b"<c ", window, m.start())
        if prefixed:
            start = max(start, data.rfind(b":c ", window, m.start()))
        head = data[start : data.find(b">", start) + 1] if start >= 0 else b""
        style = _STYLE_ATTR.search(head)
        kind = _TYPE_ATTR.search(head)
        if kind is not None and kind.group(1) not in (b"n", b"d"):
            continue
        style_id = style.group(1).decode() if style is not None else "0"
        if style_id not in date_styles and (kind is None or kind.group(1) != b"d"):
            continue
        value_at = data.index(b">", m.start()) + 1
        text = data[value_at : data.find(b"<", value_at)].decode("utf-8", "replace").strip()
        try:
            fine = abs(float(text)) <= MAX_DATE_SERIAL
        except ValueError:
            fine = kind is not None and kind.group(1) == b"d"  # an ISO date text: the reader parses those
        if not fine:
            ref = re.search(rb'\br="([A-Za-z]+[0-9]+)"', head)
            where = f"cell {ref.group(1).decode()}" if ref else "a cell"
            return (f"{where} is formatted as a date but holds {text[:40]}, which is no date "
                    "(Excel's dates end on 31 Dec 9999); correct the cell")
    return None


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
# Built-in date and time formats (14-22, 45-47, and the East Asian 27-36, 50-58): calamine reads them as dates.
_BUILTIN_DATE_IDS = frozenset((*range(14, 23), *range(27, 37), 45, 46, 47, *range(50, 59)))
_DATE_PARTS = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.|_.|\*.')


def is_date_format(num_fmt_id: int, code: str | None = None) -> bool:
    """Whether a number format (built-in id, or custom code) shows a date or a time."""
    return num_fmt_id in _BUILTIN_DATE_IDS or (code is not None and _is_date_code(code))


def _is_date_code(code: str) -> bool:
    """A number format that shows a date or a time (d, m, y, h, s outside quotes and brackets)."""
    return re.search(r"[dmyhs]", _DATE_PARTS.sub("", code.split(";", 1)[0]).lower()) is not None


@dataclass(frozen=True)
class _Styles:
    """What a cell's style index says that matters here: its number format, and whether it is indented."""

    formats: dict[str, str]  # style index (the s attribute) -> number format code; General and dates left out
    indented: frozenset[str]  # style indexes with an indent (Excel's Increase Indent: an "of which" row)
    dates: frozenset[str] = frozenset()  # style indexes with a date or time format

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
    custom = {_int(f.get("numFmtId")): f.get("formatCode", "") for f in styles.iterfind("{*}numFmts/{*}numFmt")}
    formats = {}
    indented = set()
    dates = set()
    for index, xf in enumerate(styles.iterfind("{*}cellXfs/{*}xf")):
        alignment = xf.find("{*}alignment")
        if alignment is not None and alignment.get("indent", "0") not in ("", "0"):
            indented.add(str(index))
        fmt_id = _int(xf.get("numFmtId", "0"))
        if fmt_id in _GENERAL_IDS:
            continue
        code = custom.get(fmt_id, _BUILTIN_NUMBER_FORMATS.get(fmt_id))
        if is_date_format(fmt_id, code):
            dates.add(str(index))
        elif code and code.lower() != "general":
            formats[str(index)] = code
    return _Styles(formats, frozenset(indented), frozenset(dates))


def _int(text: str | None) -> int:
    """A style attribute's number; a damaged one counts as General (0) instead of failing the read."""
    try:
        return int(text or 0)
    except ValueError:
        return 0


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
    col_no = 0
    for row_no, el in _cells(stream):
        if el is None:  # a new row
            col_no = 0
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


def _cells(stream: Any) -> Iterator[tuple[int, Any]]:
    """(row number, cell element) for each cell as its end is parsed; (row number, None) as a row starts.

    Rows without an ``r`` follow the previous one; finished rows are freed as the parse goes on.
    """
    row_no = 0
    for event, el in etree.iterparse(stream, events=("start", "end"), tag=("{*}row", "{*}c"), huge_tree=True,
                                     resolve_entities=False, no_network=True):
        if el.tag.rsplit("}", 1)[-1] == "row":
            if event == "start":
                r = el.get("r")
                row_no = int(r) if r and r.isdigit() else row_no + 1
                yield row_no, None
            else:
                el.clear()
                _drop_previous(el)
        elif event == "end":
            yield row_no, el


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
