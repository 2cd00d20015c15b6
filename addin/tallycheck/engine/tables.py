"""Grid -> tables: find casualty tables the way analysts lay them out.

Title rows above a header, a header row (or two, under merged group cells), a label column, a body of
figures, total and "of which" rows, notes beneath, blank rows or columns between tables.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from typing import Any, Literal

from .figures import Figure, figure_of
from .grid import Sheet, cell_ref
from .periods import PeriodContext, as_date, context_from_text

Role = Literal[
    "label", "date", "start", "end", "count", "total", "per_day", "percent", "change",
    "cumulative", "low", "best", "high", "measure", "text",
]
# "ratio": a row of rates, percent changes, averages or running numbers, never summed
RowKind = Literal["body", "total", "subtotal", "grand_total", "child", "ratio"]

TOTAL_RE = re.compile(
    r"^\s*(?:grand\s+total|approx\.?\s+totals?|totals?|sum|overall|all|both\s+(?:sides|armies)|всього|усього|разом|итого|всего|загалом)\b",
    re.I,
)
SUBTOTAL_RE = re.compile(r"^\s*(?:sub-?\s?totals?|проміжний підсумок|промежуточный итог)\b", re.I)
GRAND_RE = re.compile(r"^\s*grand\s+total\b|^\s*(?:загалом|всього по|итого по)\b", re.I)
CHILD_RE = re.compile(
    r"^(?:\s{2,}|\s*(?:of which|of whom|incl\.?|including|includes|inc\.|among them|thereof|з них|у тому числі|в т\.\s?ч\.|в том числе|из них)\b|\s*[-–—•·]\s)",
    re.I,
)
#: Rows of rates, changes in percent or averages between rows of counts ("Percent change",
#: "Rate per 100,000"): never a part of a total, never summed across.
RATIO_ROW_RE = re.compile(
    r"%|\bper\s*cent|\bpercent|\brate\b|\bratio\b|\baverage\b|\bmean\b|\bmedian\b|\bper\s+(?:\d|capita|head|1,?000|100)",
    re.I,
)
_WORD_RE = re.compile(r"[^\W\d_]+", re.U)

_ROLE_PATTERNS: list[tuple[Role, re.Pattern[str]]] = [
    ("per_day", re.compile(r"per\s*day|/\s*day|a day|daily\s+av|av\w*\.?\s+(?:per\s+)?da(?:y|ily)|per-day|за добу|в день|в сутки|/\s*добу", re.I)),
    ("percent", re.compile(r"%|percent|\bshare\b|proportion|частка|доля|відсот|процент", re.I)),
    # figures about the place, not casualties: summed in a Total row, never a component of a casualty total
    ("measure", re.compile(r"population|inhabitants|residents|\barea\b|\bkm|budget|\brate\b|per\s*\d|per cap|density|населення", re.I)),
    ("cumulative", re.compile(r"cumulative|to date|running total|so far|\bcum\.|накопич|наростаюч|нарастающ", re.I)),
    ("change", re.compile(r"\bchange\b|зміна|изменени|\bdaily\b|increase|\bnew\b|\+/-|±|Δ|\bdelta\b|\bdiff|приріст|прирост|за день", re.I)),
    ("start", re.compile(r"^\s*(?:start|from|begin\w*|period start|start date)\s*$", re.I)),
    ("end", re.compile(r"^\s*(?:end|to|until|period end|end date|as of)\s*$", re.I)),
    ("low", re.compile(r"^\s*(?:low|lower|min|minimum|low estimate|lower bound)\s*$", re.I)),
    ("best", re.compile(r"^\s*(?:best|central|mid|median|point|best estimate|central estimate)\s*$", re.I)),
    ("high", re.compile(r"^\s*(?:high|upper|max|maximum|high estimate|upper bound)\s*$", re.I)),
    ("total", re.compile(r"\btotals?\b|^\s*sum\s*$|overall|всього|усього|разом|итого|всего|загалом", re.I)),
]
_CHANGE_WORDS_RE = re.compile(r"\bchange\b|increase|\bnew\b|зміна|зміни|изменени|приріст|прирост|збільшення|увеличени", re.I)
_AVERAGE_RE = re.compile(r"average|\bavg\b|\bmean\b|середн|средн", re.I)
_LABEL_HEADER_RE = re.compile(r"^\s*(?:row labels|years?|date|day|period|month|category|item|type|country|region|label|рік|дата|год)\b", re.I)


#: A note that says a table's parts need not add up to its totals (ONS: "figures may not sum").
NOT_ADDITIVE_RE = re.compile(
    r"(?:may|might|will|do|does|did|need|would)\s*(?:not|n['’]t)\s+(?:necessarily\s+)?(?:sum|add(?:\s+up)?|equal|agree|match)"
    r"|(?:not|don['’]t)\s+(?:necessarily\s+)?(?:sum|add up)\b|figures are rounded independently|independently rounded",
    re.I,
)


def says_not_additive(texts: Sequence[str]) -> str | None:
    """The note that says the table's parts need not add up to its totals, if any."""
    for text in texts:
        if isinstance(text, str) and NOT_ADDITIVE_RE.search(text):
            return text.strip()
    return None



#: Figures stated in thousands or millions are estimates rounded to that unit, parts and totals alike.
UNITS_RE = re.compile(
    r"'000|\(000s?\)|\b000s\b|\bthousands?\b|\bmillions?\b|[$£€]\s?(?:m|mn|bn|000)\b|\bin (?:thousands|millions)|\bтис\.|\bтыс\.",
    re.I,
)


#: The label of a row that numbers the columns (Week number | 1 | 2 | 3).
NUMBERING_RE = re.compile(r"\b(?:no\.?|number|nr\.?|week|day|month|quarter|period)\b|#|№|номер|тиждень|неделя", re.I)
#: A title or section row that says its figures are averages or estimates: each was rounded on its own.
ROUNDED_RE = re.compile(r"\baverages?\b|\bmeans?\b|\brounded\b|\bestimates?\b|\bestimated\b|середн|средн", re.I)
#: A header cell that names a unit, not a figure: the name is the header above it.
UNIT_ONLY_RE = re.compile(r"^\s*(?:'000|\(?000s?\)?|no\.?|number|n|%|per ?cent|[$£€]\s?(?:m|mn|bn|'?000)?|thousands?|millions?)\s*$", re.I)


@dataclass
class Column:
    index: int
    name: str
    role: Role
    group: str = ""
    source: str = "header"

    @property
    def letter(self) -> str:
        return cell_ref(0, self.index)[:-1]

    def words(self) -> set[str]:
        return {w.lower() for w in _WORD_RE.findall(self.name)}


@dataclass
class Row:
    index: int
    label: str
    kind: RowKind = "body"
    parent: int | None = None
    date: date | None = None


@dataclass
class Table:
    """A block of figures with its header, label column, rows and the text around it."""

    sheet: Sheet
    top: int
    left: int
    bottom: int
    right: int
    title: str
    header_rows: list[int]
    columns: list[Column]
    rows: list[Row]
    label_col: int | None
    notes: list[str] = field(default_factory=list)
    context: PeriodContext = field(default_factory=PeriodContext)
    _figures: dict[tuple[int, int], Figure | None] = field(default_factory=dict, repr=False)
    missing: frozenset[float | str] = frozenset()  # declared missing-value codes (-999, "n/a"): no figure
    readings: list[Any] = field(default_factory=list)  # hypotheses.Reading: kept and rejected, for explain
    not_additive: str | None = None  # the note saying its figures need not add up
    rounded_units: bool = False  # figures stated in thousands or millions ('000, $m): each rounded
    derived: dict[str, Any] = field(default_factory=dict, repr=False)  # what later rooms work out once per table

    @cached_property
    def name(self) -> str:
        where = f"{cell_ref(self.top, self.left)}:{cell_ref(self.bottom, self.right)}"
        return f"{self.sheet.name}!{where}" + (f" ({self.title})" if self.title else "")

    def figure(self, row: int, col: int) -> Figure | None:
        key = (row, col)
        try:
            return self._figures[key]
        except KeyError:
            pass
        value = self.sheet.value(row, col)
        if self.missing and (value.strip().casefold() if isinstance(value, str) else value) in self.missing:
            figure = None
        else:
            figure = figure_of(value, self.sheet.number_format(row, col))
        self._figures[key] = figure
        return figure

    def columns_with(self, *roles: Role) -> list[Column]:
        return [c for c in self.columns if c.role in roles]

    def body(self, *kinds: RowKind) -> list[Row]:
        return [r for r in self.rows if not kinds or r.kind in kinds]


def find_tables(sheet: Sheet) -> list[Table]:
    """Every table on a sheet, top to bottom, left to right."""
    tables: list[Table] = []
    segments: list[list[tuple[int, dict[int, Any]]]] = []
    pending_text: list[str] = []
    for block in _blocks(sheet):
        for segment in _segments(sheet, block):
            if _in_pivot(sheet, segment):
                continue
            table = _table_from(sheet, segment, pending_text)
            if table is not None and tables and _continues(tables[-1], table):
                # the same header again after a page break: the rows go on, and so does the table
                body = [(r, cells) for r, cells in segment if r > table.header_rows[-1]]
                joined = _table_from(sheet, segments[-1] + body, [])
                if joined is not None:
                    tables.pop()
                    table, segment = joined, segments.pop() + body
            if table is not None and not table.header_rows and tables and _header_above(tables[-1], segment):
                # a header (and perhaps its total row) set apart from the body by a blank row: one table
                joined = _table_from(sheet, segments[-1] + segment, [])
                if joined is not None:
                    tables.pop()
                    table, segment = joined, segments.pop() + segment
            if table is None:
                text = _segment_text(sheet, segment)
                if tables and tables[-1].bottom + 3 >= segment[0][0]:
                    tables[-1].notes.extend(text)
                    _refresh_context(tables[-1])
                pending_text.extend(text)
                continue
            pending_text = []
            tables.append(table)
            segments.append(segment)
    texts = [str(v) for row in sheet.rows for v in row if isinstance(v, str) and len(v) > 20]
    note = says_not_additive(texts)
    for table in tables:
        table.not_additive = note
    return tables


#: How far below a table the same header may repeat and still continue it (a printed page break).
PAGE_BREAK_ROWS = 6


def _continues(above: Table, table: Table) -> bool:
    """The table repeats the header of the one just above, which has no total row yet."""
    return (
        bool(table.header_rows) and bool(above.header_rows) and table.top - above.bottom <= PAGE_BREAK_ROWS
        and [(c.index, c.name) for c in table.columns] == [(c.index, c.name) for c in above.columns]
        and not any(r.kind in ("total", "subtotal", "grand_total") for r in above.rows)
    )


def _header_above(above: Table, segment: list[tuple[int, dict[int, Any]]]) -> bool:
    """The table above is a header with at most two rows under it, right above columns it covers."""
    cols = {c for _, cells in segment for c in cells}
    return (
        bool(above.header_rows) and len(above.rows) <= 2 and above.bottom + 3 >= segment[0][0]
        and above.left <= min(cols) and max(cols) <= above.right
    )


def _in_pivot(sheet: Sheet, segment: list[tuple[int, dict[int, Any]]]) -> bool:
    rows = [r for r, _ in segment]
    cols = [c for _, cells in segment for c in cells]
    return any(
        r1 <= max(rows) and r2 >= min(rows) and c1 <= max(cols) and c2 >= min(cols) for r1, c1, r2, c2 in sheet.pivots
    )


def _refresh_context(table: Table) -> None:
    table.context = _context_of([table.title, *table.notes])


def _context_of(texts: list[str]) -> PeriodContext:
    start = as_of = None
    for text in texts:
        ctx = context_from_text(text)
        start = start or ctx.series_start
        as_of = as_of or ctx.as_of
    return PeriodContext(start, as_of)


def _row_cells(sheet: Sheet, r: int) -> dict[int, Any]:
    i = r - sheet.origin[0]
    if i < 0 or i >= len(sheet.rows):
        return {}
    c0 = sheet.origin[1]
    return {c0 + j: v for j, v in enumerate(sheet.rows[i]) if type(v) is float or _filled(v)}


def _filled(v: Any) -> bool:
    return v != "" and v is not None and not (isinstance(v, str) and not v.strip())


def _has_numbers(cells: dict[int, Any]) -> bool:
    return any(type(v) is float or type(v) is int for v in cells.values())


def _blocks(sheet: Sheet) -> list[list[tuple[int, dict[int, Any]]]]:
    """Runs of consecutive non-blank rows."""
    blocks: list[list[tuple[int, dict[int, Any]]]] = []
    current: list[tuple[int, dict[int, Any]]] = []
    previous_title = False
    for r in range(sheet.origin[0], sheet.n_rows):
        cells = _row_cells(sheet, r)
        if not cells:
            if current:
                blocks.append(current)
            current, previous_title = [], False
            continue
        # "Table 2: ..." then a header row, right under the previous table: a new table
        if previous_title and len(current) > 2 and _is_header_row(cells) and any(figure_of(v) is not None for _, c in current[:-1] for v in c.values()):
            blocks.append(current[:-1])
            current = current[-1:]
        # rows of figures, then two header rows at once (a group over its columns): the next table
        elif len(current) > 2 and not _has_numbers(cells) and _is_header_row(cells) and _is_header_row(_row_cells(sheet, r + 1)) and any(
            figure_of(v) is not None for v in current[-1][1].values() if not isinstance(v, str) or not _is_text(v)
        ):
            blocks.append(current)
            current = []
        current.append((r, cells))
        only = next(iter(cells.values())) if len(cells) == 1 else None
        previous_title = isinstance(only, str) and _is_text(only) and not TOTAL_RE.match(only)
    if current:
        blocks.append(current)
    return blocks


def _segments(sheet: Sheet, block: list[tuple[int, dict[int, Any]]]) -> list[list[tuple[int, dict[int, Any]]]]:
    """Split a block at fully empty columns, for tables side by side."""
    occupied: set[int] = set()
    for _, cells in block:
        occupied.update(cells)
    top, bottom = block[0][0], block[-1][0]
    for r1, c1, r2, c2 in sheet.merged:
        if r1 <= bottom and r2 >= top:
            occupied.update(range(c1, c2 + 1))
    cols = sorted(occupied)
    runs: list[list[int]] = [[cols[0]]]
    for c in cols[1:]:
        if c == runs[-1][-1] + 1:
            runs[-1].append(c)
        else:
            runs.append([c])
    if len(runs) == 1 or any(len(run) < 2 for run in runs):
        return [block]
    out = []
    for run in runs:
        lo, hi = run[0], run[-1]
        seg = [(r, {c: v for c, v in cells.items() if lo <= c <= hi}) for r, cells in block]
        seg = [(r, cells) for r, cells in seg if cells]
        if seg:
            out.append(seg)
    return out


def _segment_text(sheet: Sheet, segment: list[tuple[int, dict[int, Any]]]) -> list[str]:
    return [" ".join(str(v) for _, v in sorted(cells.items())) for _, cells in segment]


def _is_text(v: Any) -> bool:
    return isinstance(v, str) and figure_of(v) is None


def _is_header_row(cells: dict[int, Any]) -> bool:
    """Names over columns: words, and perhaps years ("Category | 2022 | 2023 | Total"), but no figures."""
    if len(cells) < 2:
        return False
    years = sum(  # years or dates across the top: "Age group | 21 Mar | 22 Mar | ... | Total"
        1 for v in cells.values()
        if isinstance(v, (date, datetime)) or (_year_like(v) and (not isinstance(v, str) or v.strip().isdigit()))
    )
    texts = sum(1 for v in cells.values() if _is_text(v))
    return texts >= 1 and texts + years == len(cells) and (2 * texts >= len(cells) or years >= 2)


def _header_text(value: Any) -> str:
    """A header cell as its name: 2022, not 2022.0."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (date, datetime)):
        return value.strftime("%d %b %Y").lstrip("0")
    return str(value).strip()


def _header_names(sheet: Sheet, header_rows: list[int], cols: list[int]) -> dict[int, tuple[str, str]]:
    """Column -> (name, group), merged group cells spread over the columns they cover."""
    grid: dict[int, dict[int, str]] = {}
    for r in header_rows:
        row = {c: _header_text(v) for c, v in _row_cells(sheet, r).items()}
        for r1, c1, r2, c2 in sheet.merged:
            if r1 <= r <= r2 and sheet.value(r1, c1) is not None:
                for c in range(c1, c2 + 1):
                    row.setdefault(c, str(sheet.value(r1, c1)).strip())
        grid[r] = row
    out = {}
    for c in cols:
        parts = [grid[r].get(c, "") for r in header_rows]
        parts = [p for p in parts if p]
        if len(parts) > 1 and UNIT_ONLY_RE.match(parts[-1]):  # "Yes" over "no." and "%": "Yes (no.)", "Yes (%)"
            parts = [*parts[:-2], f"{parts[-2]} ({parts[-1]})"]
        name = parts[-1] if parts else ""
        group = parts[0] if len(parts) > 1 and parts[0] != name else ""
        out[c] = (name, group)
    return out


def _role_of(name: str, values: list[Any]) -> tuple[Role, str]:
    name = name.replace("_", " ")  # new_positive_tests: words a program joined
    dates = numbers = parsed = texts = 0
    for v in values:  # one pass: a daily series' columns hold 100,000 values
        kind = type(v)
        if kind is float:  # most cells: the reader's numbers
            numbers += 1
        elif kind is str or isinstance(v, str):
            if as_date(v) is not None:
                dates += 1
            if figure_of(v) is not None:
                parsed += 1
            else:
                texts += 1
        elif isinstance(v, (date, datetime)):
            dates += 1
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            numbers += 1
    figures = numbers + parsed
    if values and dates >= max(1, 0.6 * len(values)):
        for role in ("start", "end"):
            pattern = dict(_ROLE_PATTERNS)[role]
            if pattern.search(name):
                return role, "header"
        return "date", "values"
    if figures == 0 or texts > figures:
        return "text", "values"
    for role, pattern in _ROLE_PATTERNS:
        if role in ("start", "end"):
            continue
        if pattern.search(name):
            if role == "per_day" and _CHANGE_WORDS_RE.search(name) and not _AVERAGE_RE.search(name):
                return "change", "header"  # "Зміна за добу", "Change per day": the day's change, not an average
            return role, "header"
    return "count", "values"


def _is_group_cell(sheet: Sheet, row: int, col: int) -> bool:
    return any(r1 == row and c1 == col and c2 > c1 for r1, c1, _, c2 in sheet.merged)


def _table_from(sheet: Sheet, segment: list[tuple[int, dict[int, Any]]], before: list[str]) -> Table | None:
    rows = list(segment)
    titles: list[str] = []
    header_rows: list[int] = []
    header_cols: set[int] = set()
    while rows and len(rows[0][1]) == 1 and _is_text(next(iter(rows[0][1].values()))) and not TOTAL_RE.match(str(next(iter(rows[0][1].values())))):
        if len(rows) > 1 and _is_header_row(rows[1][1]) and _is_group_cell(sheet, rows[0][0], next(iter(rows[0][1]))):
            break  # a merged group header ("Losses" over Killed/Wounded/Missing), not a title
        titles.append(str(next(iter(rows[0][1].values()))).strip())
        rows = rows[1:]
    if rows and len(rows[0][1]) == 1 and len(rows) > 1 and _is_header_row(rows[1][1]):
        header_rows.append(rows[0][0])
        header_cols.update(rows[0][1])
        rows = rows[1:]
    if rows and _is_header_row(rows[0][1]):
        header_rows.append(rows[0][0])
        header_cols.update(rows[0][1])
        rows = rows[1:]
        if len(header_rows) == 1 and rows and _is_header_row(rows[0][1]) and not any(figure_of(v) for v in rows[0][1].values() if not isinstance(v, str)):
            header_rows.append(rows[0][0])
            header_cols.update(rows[0][1])
            rows = rows[1:]
    notes: list[str] = []
    while rows and len(rows[-1][1]) == 1 and _is_text(next(iter(rows[-1][1].values()))):
        notes.insert(0, str(next(iter(rows[-1][1].values()))).strip())
        rows = rows[:-1]
    if not rows:
        return None
    cols = sorted({c for _, cells in rows for c in cells} | header_cols)
    has_figures = any(figure_of(v) is not None for _, cells in rows for v in cells.values() if not isinstance(v, (date, datetime)))
    if not has_figures or len(cols) < 2:
        return None
    names = _header_names(sheet, header_rows, cols) if header_rows else {c: (cell_ref(0, c)[:-1], "") for c in cols}
    columns: list[Column] = []
    for c in cols:
        values = [cells[c] for _, cells in rows if c in cells]
        name, group = names[c]
        role, source = _role_of(name, values)
        columns.append(Column(c, name, role, group, source))
    label_col = _label_column(columns, rows)
    for col in columns:
        if col.index == label_col and col.role != "date":
            col.role = "label"
    table_rows = _rows_of(sheet, rows, label_col, columns)
    top = header_rows[0] if header_rows else rows[0][0]
    table = Table(
        sheet=sheet, top=top, left=cols[0], bottom=rows[-1][0], right=cols[-1],
        title=(titles[0] if titles else (before[-1] if before else "")),
        header_rows=header_rows, columns=columns, rows=table_rows, label_col=label_col, notes=notes,
    )
    header_text = [_header_text(sheet.value(r, c)) for r in header_rows for c in cols if sheet.value(r, c) is not None]
    header_text += [v for _, cells in rows[:3] for v in cells.values() if isinstance(v, str)]  # a units row: $m | $m | ...
    sections = [v for _, cells in rows if len(cells) == 1 for v in cells.values() if isinstance(v, str)]
    table.rounded_units = any(UNITS_RE.search(t) for t in (*before[-2:], *titles, *notes, *header_text)) or any(
        ROUNDED_RE.search(t) for t in (*before[-2:], *titles, *sections)
    )
    table.context = _context_of([*before, *titles, *notes])
    return table


def _label_column(columns: list[Column], rows: list[tuple[int, dict[int, Any]]]) -> int | None:
    """The leftmost column of names, dates or years that the rows are known by."""
    first = columns[0]
    if first.role in ("text", "date"):
        return first.index
    values = [cells[first.index] for _, cells in rows if first.index in cells]
    labels = [v for v in values if not (isinstance(v, str) and TOTAL_RE.match(v))]  # "Total" labels a year column too
    if _LABEL_HEADER_RE.match(first.name) or (labels and all(_year_like(v) for v in labels)):
        return first.index
    return None


def _year_like(value: Any) -> bool:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value).is_integer() and 1900 <= value <= 2100
    return isinstance(value, str) and re.match(r"^\s*(?:19|20)\d\d\b", value) is not None


def _numbers_the_columns(cells: dict[int, Any], label_col: int | None) -> bool:
    """A row of running numbers across the columns (Week number | 1 | 2 | 3 ...): a header, not counts."""
    if len(cells) < 4:  # a label and fewer than three numbers
        return False
    values = [v for c, v in sorted(cells.items()) if c != label_col and isinstance(v, (int, float)) and not isinstance(v, bool)]
    if len(values) < 3 or values[1] - values[0] != 1:
        return False  # the common case, decided without the label
    label = str(cells.get(label_col, "")) if label_col is not None else ""
    long_enough = len(values) >= 6 or (len(values) >= 3 and NUMBERING_RE.search(label) is not None)  # 1, 2, 3 killed is no header
    return long_enough and all(float(v).is_integer() for v in values) and all(b - a == 1 for a, b in itertools.pairwise(values))


def _rows_of(sheet: Sheet, rows: list[tuple[int, dict[int, Any]]], label_col: int | None, columns: list[Column]) -> list[Row]:
    out: list[Row] = []
    parent: int | None = None
    date_col = next((c.index for c in columns if c.role == "date"), None)
    for r, cells in rows:
        raw = cells.get(label_col) if label_col is not None else None
        label = raw.isoformat() if isinstance(raw, (date, datetime)) else ("" if raw is None else str(raw))
        dated = isinstance(raw, (date, datetime)) or (isinstance(raw, str) and as_date(raw) is not None)  # a date is no "Total" or "of which" label
        if isinstance(raw, float) and raw.is_integer():
            label = str(int(raw))
        row = Row(r, label)
        row.date = as_date(cells.get(date_col)) if date_col is not None else None
        if not dated and GRAND_RE.match(label):
            row.kind = "grand_total"
        elif not dated and SUBTOTAL_RE.match(label):
            row.kind = "subtotal"
        elif not dated and TOTAL_RE.match(label):
            row.kind = "total"
        elif not dated and (RATIO_ROW_RE.search(label) or _numbers_the_columns(cells, label_col)):
            row.kind = "ratio"
        elif not dated and (CHILD_RE.match(label) or (sheet.indented and label_col is not None and cell_ref(r, label_col) in sheet.indented)) and parent is not None:
            row.kind = "child"
            row.parent = parent
        if row.kind == "body":
            parent = r
        elif row.kind != "child":
            parent = None
        out.append(row)
    return out
