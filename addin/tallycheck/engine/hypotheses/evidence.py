"""The evidence rules: how much agreement makes a relation, and the vectorised tests that count it.

Tables -> readings: what headers, labels and formulas propose, kept only where the table's own arithmetic agrees.

A header that says "Total" proposes that the column is a sum; it does not say of which columns. Every
proposal comes with its competing readings (which components, which part and whole, which period,
which count, which rows), each is evaluated on all the rows (or columns) where its cells are figures,
at once with numpy, and the reading the table obeys is kept: the one that holds most often, with
support that chance cannot explain. Only a kept reading becomes relations; the rows that break it
are the findings. A proposal no reading explains is reported once, in ``explain``, not row by row.

This room reads figures and decides readings; it never builds a finding or calls pandera.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

import numpy as np

from ..figures import figure_from_number
from ..grid import cell_ref

if TYPE_CHECKING:
    from ..figures import Figure
    from ..tables import Column, Table

# -- how much evidence makes a relation ------------------------------------------------------------


#: A reading a header or label proposes is kept when at least half of the rows where it can be
#: checked obey it. Real tables break their own totals often: Dyer's printed totals disagree with
#: their parts in 14 of 30 rows, two sources side by side in 7 of 15. A wrong reading (the running
#: number and the days added to the losses) holds in none.
PROPOSED_MAJORITY = 0.5
#: A Total beside columns whose headers are all casualty categories (killed, wounded, missing) is
#: stated by the headers themselves; the arithmetic only has to confirm which columns, and a third
#: of the rows agreeing exactly does (Dyer's printed totals: 12 of the 26 checkable rows). A
#: competing reading of such a table holds in none.
CATEGORY_SHARE = 1 / 3
#: A relation no header proposes (a column that happens to be the sum of others) needs three rows
#: in four: arithmetic alone must outvote coincidence, and a relation the table mostly breaks is
#: not one it states.
DISCOVERED_MAJORITY = 0.75
#: Exact agreement of counts in two rows, none of them all zeros, is more than chance when a header
#: proposed the relation. With no header, five rows: small counts (0-3 deaths a day) meet as sums
#: of other columns in three rows of five (NHS England's daily deaths by age, by trust).
MIN_HELD_PROPOSED = 2
MIN_HELD_DISCOVERED = 5
#: A column is searched as a part of a total only where it is at most the total in half the rows.
PART_AT_MOST_SHARE = 0.5
#: The totals shifted by these many rows against their parts give the agreement chance alone
#: produces; a reading must hold in at least CHANCE_FACTOR times as many rows. Daily deaths by
#: hospital (0, 1, 2 a day) meet as sums of three other hospitals in a third of the rows.
CHANCE_SHIFTS = (1, 2, 3)
CHANCE_FACTOR = 2
#: A ratio (a percentage, an average) says which part and whole it is only when it is at least this
#: many units of its last shown digit: every share under 1% shown as "1" agrees with every small part.
INFORMATIVE_UNITS = 5
#: A sum found by arithmetic alone whose breaking rows (at least this many) all fall short the same
#: way is not the table's relation: something is counted that no column shows.
ONE_SIDED_MIN = 3
#: A single indented row is a part of the row above (at most it) only if it is so in nearly all of
#: at least eight columns: in any one column, part <= whole holds by chance half the time.
ONE_PART_COLUMNS = 8
ONE_PART_SHARE = 0.9
#: With fewer checkable rows than this a table cannot vote; only unambiguous readings are checked
#: there (a Total beside casualty categories, a "Total" row, a formula).
VOTING_ROWS = 4
#: Columns searched as the components of one total: every subset of up to 12 columns is 4,095
#: candidate sums, evaluated in one matrix product. Wider tables search the 12 nearest the total.
#: A column no header calls Total searches its 8 nearest (255 subsets): every count column of a
#: table is such a candidate, and a sum nobody stated is rarely spread wider.
MAX_POOL = 12
MAX_POOL_DISCOVERED = 8
#: Rows the component search looks at; the kept reading is then checked on every row. A daily
#: series of 100,000 rows shows its arithmetic in its first few hundred.
SEARCH_ROWS = 256


CASUALTY_RE = re.compile(
    r"kill|dead|death|died|wound|injur|missing|captur|prisoner|pow\b|mia\b|kia\b|wia\b|casualt|loss|sick|"
    r"desert|hurt|fatal|victim|civilian|military|soldier|убит|ранен|пропа|пленн|вбит|поранен|зникл|полон|загибл",
    re.I,
)


@dataclass
class Reading:
    """One way of reading a proposed relation, with the evidence for it."""

    family: str  # sum, total_row, of_which, per_day, percent, cumulative
    subject: str  # the column or row the relation is about
    text: str  # "Total = Killed + Wounded + Missing"
    source: str  # header, label, formula, arithmetic
    held: int = 0
    checked: int = 0
    kept: bool = False
    why: str = ""
    parts: tuple[Any, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)
    cell: str = ""  # where a rejected proposal is noted: the header or label that proposed it

    def key(self, table: Table) -> str:
        """Names the reading across the relations built from it, so the check can count them."""
        subject = getattr(self.parts[0], "index", "") if self.parts else ""  # two Totals may read alike
        return f"{table.name}|{self.family}|{self.text}|{subject}"

    @property
    def unit(self) -> str:
        """What voted: rows for a column's relation, columns for a row's."""
        return "columns" if self.family in ("total_row", "of_which") else "rows"

    @property
    def support(self) -> str:
        return f"holds in {self.held} of {self.checked}"


class Figures(NamedTuple):
    """One column's figures over a run of rows, as arrays: the interval, the value, the decimals shown."""

    lo: np.ndarray
    hi: np.ndarray
    value: np.ndarray
    decimals: np.ndarray
    present: np.ndarray


def column_figures(figure: Callable[[int, int], Figure | None], rows: Sequence[int], col: int) -> Figures:
    """Arrays of the figures in ``col`` over ``rows`` (absent cells: present False, values 0)."""
    figs = [figure(r, col) for r in rows]
    n = len(figs)
    present = np.fromiter((f is not None for f in figs), dtype=bool, count=n)
    stated = [f for f in figs if f is not None]
    lo, hi, value = np.zeros(n), np.zeros(n), np.zeros(n)
    decimals = np.zeros(n, dtype=np.int64)
    if stated:
        lo[present] = [f.lo for f in stated]
        hi[present] = [f.hi for f in stated]
        value[present] = [f.value for f in stated]
        decimals[present] = [f.decimals for f in stated]
    return Figures(lo, hi, value, decimals, present)


#: Runs of rows from which a column of plain numbers is read straight into arrays, with no Figure
#: per cell. Shorter runs are tables whose relations are built row by row, asking for each cell's
#: Figure anyway (so arrays first would only add work: 200 small workbooks, +5%); longer ones are
#: daily series, whose claims travel as arrays (100,000 rows: no 300,000 Figures kept).
PLAIN_COLUMN_ROWS = 1000


def plain_column(table: Table, rows: Sequence[int], col: int) -> Figures | None:
    """``column_figures`` without a Figure per cell, for a column of plain numbers (None: it is not one).

    A column whose cells are all numbers or empty (no text figures, dates or declared missing
    codes) is read straight into arrays; the decimals come from the number format, else from the
    number itself, as ``figures.figure_from_number`` finds them.
    """
    if table.missing or len(rows) < PLAIN_COLUMN_ROWS:
        return None
    values = table.sheet.column_values(rows, col)
    if not all(type(v) is float or v == "" or v is None for v in values):
        return None
    n = len(values)
    raw = np.fromiter((v if type(v) is float else np.nan for v in values), dtype=float, count=n)
    present = np.isfinite(raw)
    value = np.where(present, raw, 0.0)
    decimals = np.zeros(n, dtype=np.int64)
    formats = table.sheet.column_formats(col)
    for i in range(n) if formats else np.flatnonzero(present & (value != np.floor(value))):
        if present[i]:
            shown = figure_from_number(value[i], formats.get(rows[i]))
            value[i], decimals[i] = shown.value, shown.decimals
    return Figures(value.copy(), value.copy(), value, decimals, present)


def figures_of(figure: Callable[[int, int], Figure | None], rows: Sequence[int], col: int, table: Table | None = None) -> Figures:
    """A column's figures over ``rows``: straight from the sheet when ``table`` is given and the column
    is plain numbers (``plain_column``), else a Figure per cell through ``figure``."""
    return (plain_column(table, rows, col) if table is not None else None) or column_figures(figure, rows, col)


def rounding_allowance(decimals: np.ndarray, rounded: bool = False) -> np.ndarray:
    """Half a unit of the last shown digit, for figures shown with decimals; counts are exact,
    unless the table says its figures are rounded to a unit ('000, $m): then each may be off by half."""
    half = 0.5 * 10.0 ** (-decimals.astype(float))
    return half if rounded else np.where(decimals > 0, half, 0.0)


def agree(found_lo: np.ndarray, found_hi: np.ndarray, exp_lo: np.ndarray, exp_hi: np.ndarray, tol: np.ndarray | float, strict: bool = False) -> np.ndarray:
    """Intervals within the tolerance of each other: the same test checks.py gives pandera."""
    with np.errstate(invalid="ignore"):
        gap = np.maximum(exp_lo - found_hi, 0) + np.maximum(found_lo - exp_hi, 0)
        gap[np.isnan(gap)] = 0.0  # two open bounds (inf - inf) always meet
        if strict:
            return gap < tol
        scale = np.minimum(np.maximum(np.abs(found_lo), np.abs(exp_lo)), 1e15)
        scale[~np.isfinite(scale)] = 0.0
        return gap <= tol + 1e-9 * (1 + scale)


def finite(a: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """Open bounds ("over 5,000") replaced by the stated figure, for searching only."""
    return np.where(np.isfinite(a), a, fallback)


def enough(held: int, checked: int, proposed: bool, categories: bool = False) -> bool:
    """The evidence rule: how many rows must agree, and what share of those checked."""
    if categories:
        return held >= MIN_HELD_PROPOSED and held >= CATEGORY_SHARE * checked
    if proposed:
        return held >= MIN_HELD_PROPOSED and held >= PROPOSED_MAJORITY * checked
    return held >= MIN_HELD_DISCOVERED and held >= DISCOVERED_MAJORITY * checked


# -- sums of columns -------------------------------------------------------------------------------


@cache
def _subset_masks(n: int) -> np.ndarray:
    """Every subset of ``n`` columns with two or more members, as 0/1 rows."""
    codes = np.arange(1, 2**n, dtype=np.int64)
    masks = ((codes[:, None] >> np.arange(n)) & 1).astype(float)
    return masks[masks.sum(axis=1) >= 2]


def best_components(total: Figures, pool: list[Figures], natural: tuple[int, ...], rounded: bool = False) -> tuple[tuple[int, ...], int, int]:
    """The subset of ``pool`` whose sum the total equals in the most rows: (members, held, checked).

    A row counts only when the total is not zero and at least two of the subset's parts are not:
    0 = 0 + 0 and 7 = 7 + 0 say nothing about which columns add up. Ties go to the header's own
    reading (``natural``), then to the fewest parts.
    """
    if len(pool) < 2:
        return (), 0, 0
    return _best_subset(total, pool, natural, rounded)


def chance_agreement(total: Figures, pool: list[Figures], rounded: bool = False) -> int:
    """How many rows the best of all subsets agrees with when the totals are shifted against their
    rows: what coincidence gives (small counts meet often). Costly: asked only of a reading that
    would otherwise be kept."""
    chance = 0
    for shift in CHANCE_SHIFTS:
        if shift < len(total.value):
            shifted = Figures(*(np.roll(a, shift) for a in total))
            chance = max(chance, _best_subset(shifted, pool, (), rounded)[1])
    return chance


def could_be_part(part: Figures, total: Figures) -> bool:
    """A count is a part of a total only if it is at most the total in most rows where both are
    stated (the search skips the rest: 4,095 subsets become a few dozen on a wide table)."""
    both = part.present & total.present & (total.value != 0)
    if not both.any() or (part.value[both] < 0).any():
        return bool(both.any())
    return bool(np.mean(part.value[both] <= total.value[both] + 1e-9 * (1 + np.abs(total.value[both]))) >= PART_AT_MOST_SHARE)


def beats_chance(held: int, chance: int) -> bool:
    """Agreement that coincidence cannot explain: at least twice what shifted rows give, and by MIN_HELD."""
    return held >= CHANCE_FACTOR * chance and held - chance >= MIN_HELD_PROPOSED


def _best_subset(total: Figures, pool: list[Figures], natural: tuple[int, ...], rounded: bool = False) -> tuple[tuple[int, ...], int, int]:
    n = len(pool)
    masks = _subset_masks(n)
    lo = np.stack([finite(p.lo, p.value) for p in pool], axis=1)
    hi = np.stack([finite(p.hi, p.value) for p in pool], axis=1)
    absent = np.stack([~p.present for p in pool], axis=1).astype(float)
    nonzero = np.stack([p.present & (p.value != 0) for p in pool], axis=1).astype(float)
    allowance = np.stack([rounding_allowance(p.decimals, rounded) for p in pool], axis=1)
    sum_lo, sum_hi = lo @ masks.T, hi @ masks.T
    checkable = (absent @ masks.T == 0) & (nonzero @ masks.T >= 2) & (total.present & (total.value != 0))[:, None]
    tol = allowance @ masks.T + rounding_allowance(total.decimals, rounded)[:, None]
    t_lo, t_hi = finite(total.lo, total.value)[:, None], finite(total.hi, total.value)[:, None]
    held = (agree(t_lo, t_hi, sum_lo, sum_hi, tol) & checkable).sum(axis=0)
    checked = checkable.sum(axis=0)
    sizes = masks.sum(axis=1)
    is_natural = np.zeros(len(masks), dtype=bool)
    if len(natural) >= 2:
        want = np.zeros(n)
        want[list(natural)] = 1
        is_natural = (masks == want).all(axis=1)
    order = np.lexsort((sizes, ~is_natural, -held))
    best = int(order[0])
    members = tuple(int(i) for i in np.flatnonzero(masks[best]))
    return members, int(held[best]), int(checked[best])


#: Headers of columns that number or date the rows rather than count anything.
ID_HEADER_RE = re.compile(r"^\s*(?:no\.?|#|id|number|nr\.?|n°|№|rank|seq\w*|index|row|code)\s*$|\b(?:years?|yr|start|end|from|to|рік|год)\b", re.I)


def id_like(values: Figures, name: str = "") -> bool:
    """A running number or a year column (headed so: No., #, Year, Start): figures, but never a
    component of a casualty total. Counts that happen to run 1, 2, 3 stay counts."""
    if not ID_HEADER_RE.search(name):
        return False
    v = values.value[values.present]
    if len(v) < 2 or not np.all(v == np.round(v)):
        return False
    steps = np.diff(v)
    running = np.all(steps == 1) or np.all(steps == -1)
    years = np.all((v >= 1800) & (v <= 2100))
    return bool(running or years)


PERIOD_HEADER_RE = re.compile(r"^\s*(?:(?:18|19|20)\d\d|q[1-4]|h[12]|[1-4]q|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\w*)\b", re.I)


def unambiguous_sum(total: Column, parts: Sequence[Column]) -> bool:
    """A column headed Total beside components whose headers are all casualty categories, or all
    periods (2022 | 2023 | 2024 | Total): the headers say what adds up, whatever the row count."""
    if not parts or total.role != "total":
        return False
    return all(CASUALTY_RE.search(c.name) for c in parts) or all(PERIOD_HEADER_RE.match(c.name) for c in parts)


def describe_rejected(reading: Reading) -> str:
    """The one line ``explain`` gives a proposal no reading explains."""
    return f"{reading.text}: {reading.support} {reading.unit}; not checked"


def table_readings(table: Table) -> list[Reading]:
    """The readings recorded on a table while its relations were built (for explain and info findings)."""
    return getattr(table, "readings", [])


# -- the figures of one table, as columns ----------------------------------------------------------


class Cells(Protocol):
    """What the readings read a table through: one figure, or a column of them (rules.Reader)."""

    columns: TableFigures

    def figure(self, row: int, col: int) -> Figure | None: ...


class TableFigures:
    """A table's figures as column arrays over named runs of rows, built once per (column, run).

    A run's arrays are cut from the column's arrays over a wider run already built, when there is
    one: the families ask for the same columns over nearly the same rows.
    """

    def __init__(self, figure: Callable[[int, int], Figure | None], table: Table | None = None) -> None:
        self.figure = figure
        self.table = table  # given when every figure is read straight from the sheet: long plain columns skip Figures
        self._columns: dict[tuple[int, str], Figures] = {}
        self._rows: dict[str, Sequence[int]] = {}

    def column(self, col: int, rows: Sequence[int], run: str) -> Figures:
        key = (col, run)
        found = self._columns.get(key)
        if found is None:
            self._rows.setdefault(run, rows)
            found = self._columns[key] = self._cut(col, rows, run) or figures_of(self.figure, rows, col, self.table)
        return found

    def _cut(self, col: int, rows: Sequence[int], run: str) -> Figures | None:
        wanted = set(rows)
        for (c, other), figs in self._columns.items():
            if c != col or other == run:
                continue
            have = self._rows[other]
            if wanted <= set(have):
                at = {r: i for i, r in enumerate(have)}
                idx = np.fromiter((at[r] for r in rows), dtype=np.int64, count=len(rows))
                return Figures(*(a[idx] for a in figs))
        return None


def sample(rows: Sequence[int], limit: int = SEARCH_ROWS) -> list[int]:
    """At most ``limit`` rows, spread evenly: the search looks at these, the check at every row."""
    if len(rows) <= limit:
        return list(rows)
    step = len(rows) / limit
    return [rows[int(i * step)] for i in range(limit)]


def sum_support(total: Figures, parts: Sequence[Figures], rounded: bool = False) -> tuple[int, int]:
    """(rows that agree, rows checked) for one sum reading, on the rows of the arrays given."""
    if not parts:
        return 0, 0
    lo = np.sum([finite(p.lo, p.value) for p in parts], axis=0)
    hi = np.sum([finite(p.hi, p.value) for p in parts], axis=0)
    present = np.all([p.present for p in parts], axis=0) & total.present & (total.value != 0)
    tol = np.sum([rounding_allowance(p.decimals, rounded) for p in parts], axis=0) + rounding_allowance(total.decimals, rounded)
    ok = agree(finite(total.lo, total.value), finite(total.hi, total.value), lo, hi, tol) & present
    return int(ok.sum()), int(present.sum())


def one_sided(total: Figures, parts: Sequence[Figures]) -> bool:
    """The rows that break a sum all miss it the same way: the total counts something no column
    shows (ONS: "England and Wales" includes non-residents, "England" and "Wales" do not)."""
    value = np.sum([p.value for p in parts], axis=0)
    present = np.all([p.present for p in parts], axis=0) & total.present
    off = (total.value - value)[present]
    off = off[np.abs(off) > 1e-9 * (1 + np.abs(total.value[present]))]
    return len(off) >= ONE_SIDED_MIN and bool(np.all(off > 0) or np.all(off < 0))


def ratio_support(value: Figures, part: Figures, whole: Figures, scale: float, divisor: np.ndarray | None = None) -> tuple[int, int]:
    """(rows that agree, rows checked) for value = scale x part / whole, within the decimals shown."""
    denominator = whole.value if divisor is None else divisor
    usable = value.present & part.present & (part.value != 0) & np.isfinite(part.lo) & np.isfinite(part.hi)
    if divisor is None:
        usable &= whole.present & (whole.value > 0) & np.isfinite(whole.lo) & np.isfinite(whole.hi)
    else:
        usable &= np.isfinite(denominator) & (denominator > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        lo_w = np.where(usable, denominator if divisor is not None else whole.lo, 1.0)
        hi_w = np.where(usable, denominator if divisor is not None else whole.hi, 1.0)
        exp_lo = scale * part.lo / np.where(hi_w > 0, hi_w, np.inf)
        exp_hi = scale * part.hi / np.where(lo_w > 0, lo_w, np.nan)
    tol = 10.0 ** (-value.decimals.astype(float))
    usable &= np.abs(value.value) >= INFORMATIVE_UNITS * tol  # 1% shown as "1" agrees with anything small
    ok = agree(value.lo, value.hi, exp_lo, exp_hi, tol, strict=True) & usable
    return int(ok.sum()), int(usable.sum())


def pick(candidates: list[Reading]) -> Reading | None:
    """The reading held most often; ties to the order proposed (the header's own reading first)."""
    best: Reading | None = None
    for reading in candidates:
        if best is None or reading.held > best.held:
            best = reading
    return best


# -- shared by the families -----------------------------------------------------------------------


def sum_interval(parts: list[Figure]) -> tuple[float, float]:
    return (sum(p.lo for p in parts), sum(p.hi for p in parts))


def rounding_of(figures: list[Figure], rounded: bool = False) -> float:
    """How far a sum can drift when its operands were rounded to the decimals they show (counts: 0,
    unless the table's figures are rounded estimates, in thousands or millions)."""
    return sum(0.5 * 10.0**-f.decimals for f in figures if f.decimals > 0 or rounded)


def remember(table: Table, reading: Reading) -> None:
    table.readings.append(reading)


def header_cell(table: Table, col: Column) -> str:
    return cell_ref(table.header_rows[-1] if table.header_rows else table.top, col.index)


def label_cell(table: Table, row: int) -> str:
    return cell_ref(row, table.label_col if table.label_col is not None else table.left)
