"""Tables -> relations: what the headers, labels and arithmetic of a table say must hold.

One function per family of relation. Each returns Relation instances (checked later, together with
every other table's) and never decides pass or fail itself.
"""

from __future__ import annotations

import calendar
import itertools
import re
from collections.abc import Callable, Iterator
from datetime import date
from typing import TYPE_CHECKING

import numpy as np

from . import hypotheses
from .figures import Figure, figure_from_number, format_number
from .findings import Finding, Series
from .grid import cell_ref
from .periods import Days, Period, as_date, period_between, period_from_label
from .relations import Relation
from .tables import Column, Row, Table

if TYPE_CHECKING:
    from .declared.ruleset import RuleSet

#: A row label that is nothing but "Total" (or a year's total) says what the row is, even when none
#: of its columns agree; "Total deaths, all ages" or "All persons" must be confirmed by its columns.
TOTAL_ONLY_RE = re.compile(
    r"^\s*(?:grand\s+|sub-?\s?)?(?:totals?|sum|both\s+(?:sides|armies)|всього|усього|разом|итого|всего|загалом)\s*(?:(?:19|20)\d\d|18\d\d)?\s*:?\s*$", re.I
)
EXCLUDING_RE = re.compile(r"\bexcl\w*|\bexcept\b|\bwithout\b|\bother than\b|\bbar\b", re.I)
DAYS_RE = re.compile(r"^\s*(?:no\.?\s+of\s+|number\s+of\s+)?days?\b|^\s*duration|^\s*(?:днів|дней|дні|дни|кількість днів|количество дней)\b", re.I)
CHILD_WORDS_RE = re.compile(
    r"^\s*(?:of which|of whom|incl\.?|including|includes|inc\.|among them|thereof|з них|у тому числі|в т\.\s?ч\.|в том числе|из них)\b", re.I
)
_RANGE_RE = re.compile(r"(?<![A-Za-z!'])\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?(?![\w(])")


class Reader:
    """Figures of one table, noting formulas whose cached value is missing instead of reading 0."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.uncached: dict[str, Finding] = {}
        if not table.sheet.uncached:  # the common case: every formula has its value, read straight through
            self.figure = table.figure  # type: ignore[method-assign]
        self.columns = hypotheses.TableFigures(self.figure)

    def figure(self, row: int, col: int) -> Figure | None:
        sheet = self.table.sheet
        if (ref := cell_ref(row, col)) in sheet.uncached:
            if ref not in self.uncached:
                formula = sheet.formula(ref) or ""
                self.uncached[ref] = Finding(
                    rule="no_cached_value", severity="warning", sheet=sheet.name, cell=ref, cells=(ref,),
                    expected=None, found=None, tolerance=0,
                    message=f"Formula ={formula} has no cached value (the file was saved by a program that "
                    "does not calculate): open and save it in Excel, or recalculate, so it can be checked",
                    table=self.table.name, extra={"formula": formula},
                )
            return None
        return self.table.figure(row, col)


def relations_of(table: Table, declared: RuleSet | None = None) -> tuple[list[Relation], list[Finding]]:
    """Every relation a table implies, and the findings that need no arithmetic (missing cached values).

    ``declared`` (the workbook's declared rules) adds the relations it states and applies its switches.
    """
    if declared is not None:
        declared.prepare(table)
    reader = Reader(table)
    relations: list[Relation] = []
    for family in (column_sums, row_totals, of_which, per_day_averages, cumulative_series, estimate_order, percentages):
        relations.extend(family(table, reader))
    if declared is not None:
        relations, direct = declared.apply(table, reader, relations)
    else:
        relations, direct = relations, list(reader.uncached.values())
    stated = {r.rule for r in relations if "declared" in r.facts}  # the analyst has said what holds there
    return relations, direct + [f for f in unexplained(table) if f.rule not in stated]


def relation(table: Table, **kw: object) -> Relation:
    return Relation(sheet=table.sheet.name, table=table.name, **kw)  # type: ignore[arg-type]


def _sum_interval(parts: list[Figure]) -> tuple[float, float]:
    return (sum(p.lo for p in parts), sum(p.hi for p in parts))


def _formula_gap(table: Table, ref: str, part_refs: list[str]) -> list[str]:
    """Parts a SUM-like formula in the total's cell leaves out."""
    formula = table.sheet.formula(ref)
    if not formula or "!" in formula:
        return []
    covered: set[str] = set()
    for m in _RANGE_RE.finditer(formula.upper()):
        c1, r1, c2, r2 = m.group(1), m.group(2), m.group(3) or m.group(1), m.group(4) or m.group(2)
        from .grid import parse_ref

        ra, ca = parse_ref(f"{c1}{r1}")
        rb, cb = parse_ref(f"{c2}{r2}")
        if (rb - ra + 1) * (cb - ca + 1) > 100_000:
            return []
        covered.update(cell_ref(r, c) for r in range(min(ra, rb), max(ra, rb) + 1) for c in range(min(ca, cb), max(ca, cb) + 1))
    if not covered or not covered.intersection(part_refs):
        return []  # a formula over other cells (a column's SUM in a row total) leaves nothing out
    return [p for p in part_refs if p not in covered]


def rounding_of(figures: list[Figure], rounded: bool = False) -> float:
    """How far a sum can drift when its operands were rounded to the decimals they show (counts: 0,
    unless the table's figures are rounded estimates, in thousands or millions)."""
    return sum(0.5 * 10.0**-f.decimals for f in figures if f.decimals > 0 or rounded)


def sum_relation(
    table: Table, rule: str, total: Figure, total_ref: str, parts: list[tuple[str, Figure]], *, tolerance_parts: bool = False, **facts: object
) -> Relation:
    """``tolerance_parts``: allow for the rounding of every operand shown with decimals (inferred sums)."""
    refs = [ref for ref, _ in parts]
    figures = [f for _, f in parts]
    return relation(
        table, kind="sum", rule=rule, cell=total_ref, cells=(*refs, total_ref),
        found=(total.lo, total.hi), expected=_sum_interval(figures), rounded=total.rounding(),
        tolerance=rounding_of([*figures, total], table.rounded_units) if tolerance_parts else 0.0,
        facts={"total": total, "parts": figures, "left_out": _formula_gap(table, total_ref, refs), "unit": total.unit, **facts},
    )


def summable(table: Table) -> list[Column]:
    return table.columns_with("count", "total", "change", "low", "best", "high", "measure")


def _natural_components(table: Table, total_col: Column) -> list[Column]:
    """The header's own reading: the counts between this total and the previous (or next) one."""
    counts = table.columns_with("count", "total")
    totals = table.columns_with("total")
    pos = counts.index(total_col) if total_col in counts else 0
    same = [c for c in counts if c.role == "count" and (not total_col.group or c.group == total_col.group)]
    left = [c for c in same if c.index < total_col.index and not any(c.index < t.index < total_col.index for t in totals)]
    right = [c for c in same if c.index > total_col.index and not any(total_col.index < t.index < c.index for t in totals)]
    del pos
    return left if len(left) >= 2 else right if len(right) >= 2 else []


def _numeric(table: Table, reader: Reader) -> list[Column]:
    """Columns that can take part in a sum: counts and totals, not running numbers or years."""
    rows = hypotheses.sample([r.index for r in table.rows if r.kind == "body"])  # a running number shows in any few hundred rows
    return [c for c in table.columns_with("count", "total") if not hypotheses.id_like(reader.columns.column(c.index, rows, "search"))]


def _remember(table: Table, reading: hypotheses.Reading) -> None:
    table.readings.append(reading)


def _header_cell(table: Table, col: Column) -> str:
    return cell_ref(table.header_rows[-1] if table.header_rows else table.top, col.index)


def _label_cell(table: Table, row: int) -> str:
    return cell_ref(row, table.label_col if table.label_col is not None else table.left)


def unexplained(table: Table) -> list[Finding]:
    """At most one note a table: the first relation its headers propose that no reading explains."""
    for reading in table.readings:
        if not reading.kept and reading.cell:
            return [Finding(
                rule=reading.family, severity="info", sheet=table.sheet.name, cell=reading.cell, cells=(reading.cell,),
                expected=None, found=None, tolerance=0, table=table.name,
                message=f"{hypotheses.describe_rejected(reading)} ({reading.why})",
            )]
    return []


def _column_sum_readings(table: Table, reader: Reader) -> list[hypotheses.Reading]:
    """For each column a header calls Total (or that arithmetic shows to be a sum), its components."""
    if table.not_additive:
        return []
    figs = reader.columns
    body = [r.index for r in table.rows if r.kind == "body"]
    search = hypotheses.sample(body)
    numeric = _numeric(table, reader)
    candidates = [c for c in table.columns_with("total") if c in numeric]
    if len(search) >= hypotheses.VOTING_ROWS:
        candidates += [c for c in numeric if c.role == "count"]
    kept: list[hypotheses.Reading] = []
    for total_col in candidates:
        proposed = total_col.role == "total"
        natural = _natural_components(table, total_col)
        pool = sorted((c for c in numeric if c is not total_col), key=lambda c: abs(c.index - total_col.index))[: hypotheses.MAX_POOL]
        pool.sort(key=lambda c: c.index)
        components, held, checked, chance = _choose_components(table, figs, total_col, natural, pool, search)
        formula = _formula_reading(table, total_col, natural)
        if formula is not None:
            components, source = natural, "formula"
        elif checked < hypotheses.VOTING_ROWS:
            if not (proposed and natural and hypotheses.unambiguous_sum(total_col, natural)):
                continue
            components, source = natural, "header"
        elif hypotheses.enough(held, checked, proposed, proposed and hypotheses.unambiguous_sum(total_col, components)) and hypotheses.beats_chance(held, chance):
            source = "header" if proposed else "arithmetic"
        else:
            if proposed:
                _remember(table, hypotheses.Reading(
                    "sum", total_col.name, f"{total_col.name} = any sum of the columns beside it", "header",
                    held=held, checked=checked, why="no reading holds in enough rows", cell=_header_cell(table, total_col),
                ))
            continue
        if any(total_col in r.parts[1] and {c.index for c in components} <= {c.index for c in (*r.parts[1], r.parts[0])} for r in kept):
            continue  # a subtotal the kept reading already covers, read backwards
        rows = [r.index for r in table.rows if r.kind != "ratio"]
        sparse = _sparse_parts(table, figs, total_col, components, pool, rows)
        components = sorted([*components, *sparse], key=lambda c: c.index)
        held_all, checked_all = hypotheses.sum_support(
            figs.column(total_col.index, rows, "sums"), [figs.column(c.index, rows, "sums") for c in components], table.rounded_units
        )
        if source == "arithmetic" and (
            not hypotheses.enough(held_all, checked_all, False)  # it held where the parts were large, not across the table
            or hypotheses.one_sided(figs.column(total_col.index, rows, "sums"), [figs.column(c.index, rows, "sums") for c in components])
        ):
            continue
        reading = hypotheses.Reading(
            "sum", total_col.name, f"{total_col.name} = {' + '.join(c.name for c in components)}", source,
            held=held_all, checked=checked_all, kept=True, parts=(total_col, tuple(components)),
            extra={"sparse": {c.index for c in sparse}},
        )
        _remember(table, reading)
        kept.append(reading)
    return kept


def _choose_components(
    table: Table, figs: hypotheses.TableFigures, total_col: Column, natural: list[Column], pool: list[Column], search: list[int]
) -> tuple[list[Column], int, int, int]:
    """The components the rows obey: the header's own (the counts under the Total's group, or
    between it and the previous total) when they hold in enough rows, else the best subset."""
    total_fig = figs.column(total_col.index, search, "search")
    natural_at = tuple(i for i, c in enumerate(pool) if c in natural)
    members, held, checked, chance = hypotheses.best_components(
        total_fig, [figs.column(c.index, search, "search") for c in pool], natural_at, table.rounded_units
    )
    best = [pool[i] for i in members]
    if natural and best != natural and total_col.role == "total":
        n_held, n_checked = hypotheses.sum_support(total_fig, [figs.column(c.index, search, "search") for c in natural], table.rounded_units)
        categories = hypotheses.unambiguous_sum(total_col, natural)
        if n_checked >= hypotheses.VOTING_ROWS and (n_held >= held or hypotheses.enough(n_held, n_checked, True, categories)):
            return natural, n_held, n_checked, 0
    return best, held, checked, chance


def _sparse_parts(
    table: Table, figs: hypotheses.TableFigures, total_col: Column, components: list[Column], pool: list[Column], rows: list[int]
) -> list[Column]:
    """Columns filled in only a few rows that are exactly what those rows' totals are short by (a
    "disaster" cause column, blank in 98 rows of 100): parts where filled, nothing where blank, as
    the table's own arithmetic shows. Left out, they would fail every row they fill."""
    total = figs.column(total_col.index, rows, "sums")
    parts = [figs.column(c.index, rows, "sums") for c in components]
    present = np.all([p.present for p in parts], axis=0) & total.present
    short = total.value - np.sum([p.value for p in parts], axis=0)
    failing = present & (np.abs(short) > 1e-9 * (1 + np.abs(total.value)))
    if not failing.any():
        return []
    out: list[Column] = []
    for col in pool:
        if col in components or col is total_col:
            continue
        extra = figs.column(col.index, rows, "sums")
        filled = failing & extra.present
        holding = present & ~failing
        if (
            filled.sum() >= 1
            and np.all(np.abs(short[filled] - extra.value[filled]) <= 1e-9 * (1 + np.abs(total.value[filled])))
            and not (holding & extra.present & (extra.value != 0)).any()  # blank or 0 wherever the sum holds
        ):
            out.append(col)
    return out


def _formula_reading(table: Table, total_col: Column, natural: list[Column]) -> bool | None:
    """True when the total's own cells are SUM formulas over the same row: the author's statement."""
    sheet = table.sheet
    if not (sheet.formulas or sheet.shared) or not natural:
        return None
    for row in table.rows[:20]:
        formula = sheet.formula(cell_ref(row.index, total_col.index))
        if formula and formula.upper().startswith(("SUM(", "+")) and str(row.index + 1) in formula and "!" not in formula:
            return True
    return None


def column_sums(table: Table, reader: Reader) -> Iterator[Relation]:
    """Killed + Wounded + Missing = Total, in every row, for the components the table's rows obey."""
    for reading in _column_sum_readings(table, reader):
        total_col, components = reading.parts
        for row in table.rows:
            if row.kind == "ratio":
                continue
            total = reader.figure(row.index, total_col.index)
            parts = [(c, cell_ref(row.index, c.index), reader.figure(row.index, c.index)) for c in components]
            parts = [p for p in parts if not (p[2] is None and p[0].index in reading.extra.get("sparse", ()))]
            if total is None or any(f is None for _, _, f in parts):
                continue
            yield sum_relation(
                table, "sum", total, cell_ref(row.index, total_col.index), [(ref, f) for _, ref, f in parts],  # type: ignore[misc]
                subject=total_col.name, names=[c.name for c, _, _ in parts], row_label=row.label,
                reading=reading.key(table), tolerance_parts=True,
            )


def _total_spans(table: Table) -> Iterator[tuple[Row, list[list[Row]]]]:
    """Each total row with the readings of the rows it may add up, the label's own reading first."""
    rows = table.rows
    totals = [i for i, r in enumerate(rows) if r.kind in ("total", "subtotal", "grand_total")]
    for n, i in enumerate(totals):
        row = rows[i]
        prev = totals[n - 1] if n > 0 else -1
        nxt = totals[n + 1] if n + 1 < len(totals) else len(rows)
        if i == 0:
            natural = rows[1:nxt]
        elif row.kind == "grand_total" or (n > 0 and all(rows[j].kind != "body" for j in range(prev + 1, i))):
            natural = rows[:i]
        else:
            start = prev + 1 if n > 0 and prev != 0 else (1 if totals and totals[0] == 0 else 0)
            natural = rows[start:i]
        below_all = rows[i + 1 :]
        spans = [
            natural, rows[prev + 1 : i], rows[:i], rows[i + 1 : nxt],
            # items and their unlabelled subtotals in one column: the labelled rows, or the subtotals
            [r for r in (below_all if i == 0 else rows[:i]) if r.label.strip()],
            [r for r in (below_all if i == 0 else rows[:i]) if not r.label.strip()],
        ]
        subtotals = [rows[j] for j in totals[:n] if rows[j].kind in ("total", "subtotal")]
        out: list[list[Row]] = []
        for span in spans:
            detail = [r for r in span if r.kind == "body"]
            if detail and detail not in out:
                out.append(detail)
        if len(subtotals) >= 2 and subtotals not in out:
            out.append(subtotals)
        if out:
            yield row, out


def _span_support(table: Table, reader: Reader, total_row: Row, detail: list[Row]) -> tuple[int, int]:
    """(columns that agree, columns checked) for one reading of a total row."""
    held = checked = 0
    for col in summable(table):
        total = reader.figure(total_row.index, col.index)
        parts = [reader.figure(r.index, col.index) for r in detail]
        if total is None or total.value == 0 or any(p is None for p in parts):
            continue
        checked += 1
        tol = rounding_of([*parts, total], table.rounded_units)  # type: ignore[list-item]
        lo, hi = _sum_interval(parts)  # type: ignore[arg-type]
        held += max(lo - total.hi, total.lo - hi, 0.0) <= tol + 1e-9 * (1 + abs(total.value))
    return held, checked


def _total_row_readings(table: Table, reader: Reader) -> Iterator[tuple[Row, list[Row], hypotheses.Reading]]:
    """A total row's reading: the span of rows its columns add up, voted on column by column."""
    if table.not_additive:
        return
    for total_row, spans in _total_spans(table):
        label = total_row.label.strip()
        stated = bool(TOTAL_ONLY_RE.match(label)) or _sums_its_column(table, total_row)
        candidates = []
        for n, detail in enumerate(spans):
            held, checked = _span_support(table, reader, total_row, detail)
            first, last = detail[0].index + 1, detail[-1].index + 1
            candidates.append(hypotheses.Reading(
                "total_row", label, f'row "{label}" = sum(rows {first}–{last})', "label", held=held, checked=checked,
                parts=(total_row, detail), extra={"natural": n == 0},
            ))
        best = hypotheses.pick(candidates)
        if best is None or best.checked == 0:
            continue
        if best.held == 0 or best.held < hypotheses.PROPOSED_MAJORITY * best.checked:
            if not stated:
                best.why = "no span of rows adds up to it in enough columns"
                best.cell = _label_cell(table, total_row.index)
                _remember(table, best)
                continue
            best = candidates[0]  # "Total" says what it is: the rows it closes, even when none agree
        best.kept = True
        _remember(table, best)
        yield total_row, best.parts[1], best


def _sums_its_column(table: Table, total_row: Row) -> bool:
    """The total row's cells are SUM formulas: the author said which rows."""
    sheet = table.sheet
    if not (sheet.formulas or sheet.shared):
        return False
    return any(
        (f := sheet.formula(cell_ref(total_row.index, c.index))) and "SUM(" in f.upper() for c in summable(table)
    )


def row_totals(table: Table, reader: Reader) -> Iterator[Relation]:
    """A "Total" row equals the sum of the rows it closes (or opens): the span its columns obey."""
    for total_row, detail, reading in _total_row_readings(table, reader):
        for col in summable(table):
            total = reader.figure(total_row.index, col.index)
            parts = [(cell_ref(r.index, col.index), reader.figure(r.index, col.index)) for r in detail]
            if total is None or any(f is None for _, f in parts) or len(parts) < 1:
                continue
            yield sum_relation(
                table, "total_row", total, cell_ref(total_row.index, col.index), parts,  # type: ignore[arg-type]
                subject=total_row.label, column=col.name, first=detail[0], last=detail[-1],
                reading=reading.key(table), tolerance_parts=True, support_unit="columns",
            )


def of_which(table: Table, reader: Reader) -> Iterator[Relation]:
    """'Of which' rows: two or more add up to their parent; a single one cannot exceed it.

    The parent is a hypothesis too: a row read as the parent (the row above an indented one) must be
    at least its part in most columns, or the indentation meant something else.
    """
    children: dict[int, list[Row]] = {}
    for row in table.rows:
        if row.kind == "child" and row.parent is not None:
            children.setdefault(row.parent, []).append(row)
    labels = {r.index: r.label for r in table.rows}
    for parent, kids in children.items():
        cells = []
        for col in summable(table):
            whole = reader.figure(parent, col.index)
            parts = [(cell_ref(k.index, col.index), reader.figure(k.index, col.index)) for k in kids]
            if whole is None or any(f is None for _, f in parts):
                continue
            cells.append((col, whole, parts))
        if len(kids) >= 2:
            votes = [max(_sum_interval([f for _, f in parts])[0] - whole.hi, whole.lo - _sum_interval([f for _, f in parts])[1], 0) <= 1e-9 * (1 + abs(whole.value)) for _, whole, parts in cells]
        else:
            votes = [parts[0][1].lo <= whole.hi + 1e-9 * (1 + abs(whole.value)) for _, whole, parts in cells]
        held, checked = sum(votes), len(votes)
        said = all(CHILD_WORDS_RE.match(k.label) for k in kids)  # "of which: ..." says so; an indent only suggests it
        # part <= whole holds by chance in half the columns: an indent alone is confirmed only by exact sums
        weak = not said and len(kids) < 2
        if checked == 0:
            continue
        if weak or (not said and held < hypotheses.PROPOSED_MAJORITY * checked) or (table.not_additive and len(kids) >= 2):
            _remember(table, hypotheses.Reading(
                "of_which", labels[parent].strip(), f'rows below "{labels[parent].strip()}" are its parts', "label",
                held=held, checked=checked, why="its columns do not agree", cell=_label_cell(table, parent),
            ))
            continue
        for col, whole, parts in cells:
            if len(kids) >= 2:
                yield sum_relation(
                    table, "of_which", whole, cell_ref(parent, col.index), parts,  # type: ignore[arg-type]
                    subject=labels[parent], names=[k.label.strip() for k in kids], column=col.name,
                    reading=f"{table.name}|of which {parent}", support_unit="columns",
                )
            else:
                ref, part = parts[0]
                yield relation(
                    table, kind="part", rule="part_of_whole", cell=ref, cells=(cell_ref(parent, col.index), ref),
                    found=(part.lo, part.hi), expected=(whole.lo, whole.hi),
                    facts={"part": part, "whole": whole, "part_label": kids[0].label.strip(), "whole_label": labels[parent]},
                )


def period_of(table: Table, row: Row) -> Period | None:
    starts, ends = table.columns_with("start"), table.columns_with("end")
    if starts and ends:
        return period_between(table.sheet.value(row.index, starts[0].index), table.sheet.value(row.index, ends[0].index))
    period = period_from_label(row.label, table.context)
    if period is None and row.kind in ("total", "grand_total") and table.context.series_start and table.context.as_of:
        period = Period(table.context.series_start, table.context.as_of, "whole series, from the title")
    return period


def _month_of_label(table: Table, row: Row) -> Period | None:
    """A month stored as a real date (1 Mar 2024 shown as "Mar 2024"): that month, not 1 Jan to that day."""
    if table.label_col is None:
        return None
    day = as_date(table.sheet.value(row.index, table.label_col))
    if day is None or isinstance(table.sheet.value(row.index, table.label_col), str):
        return None
    code = (table.sheet.number_format(row.index, table.label_col) or "").lower()
    if day.day != 1 and "d" in code:
        return None
    last = calendar.monthrange(day.year, day.month)[1]
    return Period(date(day.year, day.month, 1), date(day.year, day.month, last), "month of the date label")


def _period_sources(table: Table, reader: Reader) -> list[tuple[str, Callable[[Row], Period | Days | None]]]:
    """The ways a row can name its period, the most explicit first: a Days column, Start/End, the label."""
    sources: list[tuple[str, Callable[[Row], Period | Days | None]]] = []
    for col in table.columns:
        if DAYS_RE.search(col.name) and col.role in ("count", "measure", "total"):
            def days(row: Row, col: Column = col) -> Days | None:
                f = reader.figure(row.index, col.index)
                return Days(int(f.value), f"{col.name} column") if f is not None and f.exact and f.value >= 1 and float(f.value).is_integer() else None
            sources.append((f"{col.name} column", days))
    if table.columns_with("start") and table.columns_with("end"):
        sources.append(("Start/End columns", lambda row: period_of(table, row)))
    else:
        sources.append(("the row's label", lambda row: period_of(table, row)))
    sources.append(("the month of the date label", lambda row: _month_of_label(table, row)))
    return sources


def _per_day_readings(table: Table, reader: Reader) -> Iterator[tuple[Column, Column, Callable[[Row], Period | Days | None], hypotheses.Reading]]:
    """Which count over which period each "per day" column averages: the one its rows agree with."""
    if not table.columns_with("per_day"):
        return
    rows = [r for r in table.rows if r.kind != "ratio"]
    at = [r.index for r in rows]
    figs = reader.columns
    sources = _period_sources(table, reader)
    periods = {name: [fn(r) for r in rows] for name, fn in sources}
    days_of = {name: np.array([p.days if p is not None and p.days > 0 else np.nan for p in ps]) for name, ps in periods.items()}
    days_cols = {c.index for c in table.columns if DAYS_RE.search(c.name)}
    counts = [c for c in table.columns_with("count", "total", "change", "cumulative") if c.index not in days_cols]
    for avg_col in table.columns_with("per_day"):
        natural = _count_for(table, avg_col)
        avg = figs.column(avg_col.index, at, "per_day")
        candidates = []
        for count_col in sorted(counts, key=lambda c: c is not natural):
            count = figs.column(count_col.index, at, "per_day")
            for name, _ in sources:
                held, checked = hypotheses.ratio_support(avg, count, count, 1.0, divisor=days_of[name])
                candidates.append(hypotheses.Reading(
                    "per_day", avg_col.name, f"{avg_col.name} = {count_col.name} / days ({name})", "header",
                    held=held, checked=checked, parts=(avg_col, count_col, name),
                ))
        best = hypotheses.pick(candidates)
        if best is None or best.checked == 0:
            continue
        lone = len(counts) == 1 and sum(c.checked > 0 for c in candidates) == 1
        if best.checked < hypotheses.VOTING_ROWS and not lone and best.held < best.checked:
            best.why = "too few rows to tell which count and period it averages"
            best.cell = _header_cell(table, avg_col)
            _remember(table, best)
            continue
        if best.checked >= hypotheses.VOTING_ROWS and not hypotheses.enough(best.held, best.checked, True):
            best = hypotheses.Reading(
                "per_day", avg_col.name, f"{avg_col.name} = any count / the days of the row's period", "header",
                held=best.held, checked=best.checked, why="no count and period it agrees with", cell=_header_cell(table, avg_col),
            )
            _remember(table, best)
            continue
        best.kept = True
        _remember(table, best)
        yield best.parts[0], best.parts[1], dict(sources)[best.parts[2]], best


def per_day_averages(table: Table, reader: Reader) -> Iterator[Relation]:
    """'Averaging N per day' against the count and the days of the row's period that the table obeys."""
    for avg_col, count_col, period_fn, reading in _per_day_readings(table, reader):
        for row in table.rows:
            if row.kind == "ratio":
                continue
            avg = reader.figure(row.index, avg_col.index)
            count = reader.figure(row.index, count_col.index)
            period = period_fn(row)
            if avg is None or count is None or period is None or period.days <= 0:
                continue
            days = period.days
            avg_ref, count_ref = cell_ref(row.index, avg_col.index), cell_ref(row.index, count_col.index)
            yield relation(
                table, kind="per_day", rule="per_day", cell=avg_ref, cells=(count_ref, avg_ref),
                found=(avg.lo, avg.hi), expected=(count.lo / days, count.hi / days),
                tolerance=10.0 ** -avg.decimals, strict=True,
                facts={"average": avg, "count": count, "period": period, "label": row.label, "reading": reading.key(table)},
            )


def _count_for(table: Table, per_day: Column) -> Column | None:
    counts = table.columns_with("count", "total", "cumulative")
    words = per_day.words() - {"per", "day", "daily", "average", "avg", "a", "mean", "rate"}
    if words:
        for col in counts:
            if col.words() & words:
                return col
    left = [c for c in counts if c.index < per_day.index]
    totals = [c for c in left if c.role == "total"]
    return totals[-1] if totals else (left[-1] if left else None)


def _daily_runs(table: Table) -> list[list[Row]] | None:
    """The dated rows of a daily series, oldest first, as runs that never cross from one block of a
    stacked table to the next (a Local Authority column, or a date that jumps back to restart);
    None when the dates do not step by days."""
    dated = [r for r in table.rows if r.date is not None and r.kind == "body"]
    if len(dated) < 2:
        return None
    runs = _split_by_group(table, dated)
    out = []
    for run in runs:
        steps = [(b.date - a.date).days for a, b in itertools.pairwise(run)]  # type: ignore[operator]
        if steps and sum(s == -1 for s in steps) > 0.5 * len(steps):  # newest first: read it oldest first
            run = run[::-1]
        out.append(run)
    steps = [(b.date - a.date).days for run in out for a, b in itertools.pairwise(run)]  # type: ignore[operator]
    if not steps or sum(s == 1 for s in steps) < 0.5 * len(steps):
        return None
    return out


#: A date that jumps back more than this many days starts the next block of a stacked table; a
#: date a few days out of order inside one series is still reported as out of order.
RESTART_DAYS = 7


def _split_by_group(table: Table, dated: list[Row]) -> list[list[Row]]:
    """Dated rows cut where a text column's value changes (the block's name) or the dates restart."""
    texts = [c for c in table.columns if c.role in ("label", "text")]
    group = None
    for col in texts:
        values = [table.sheet.value(r.index, col.index) for r in dated]
        if as_date(values[0]) is not None:
            continue
        changes = sum(a != b for a, b in itertools.pairwise(values))
        if changes > 0 and len(set(map(str, values))) <= max(2, len(values) // 3):
            group = col
            break
    runs: list[list[Row]] = [[dated[0]]]
    for prev, cur in itertools.pairwise(dated):
        restart = group is not None and table.sheet.value(prev.index, group.index) != table.sheet.value(cur.index, group.index)
        if not restart and len(runs[-1]) >= 2:
            direction = (runs[-1][-1].date - runs[-1][0].date).days  # type: ignore[operator]
            step = (cur.date - prev.date).days  # type: ignore[operator]
            restart = (direction > 0 and step < -RESTART_DAYS) or (direction < 0 and step > RESTART_DAYS)
        if restart:
            runs.append([cur])
        else:
            runs[-1].append(cur)
    return runs


def _consecutive_pairs(runs: list[list[Row]]) -> Iterator[tuple[Row, Row]]:
    for run in runs:
        yield from itertools.pairwise(run)


def _pair_cumulative(table: Table, reader: Reader | None = None) -> list[tuple[Column, Column | None]]:
    """Each cumulative column with the change column its steps agree with (None: no change column does)."""
    runs = _daily_runs(table)
    cums = table.columns_with("cumulative")
    changes = table.columns_with("change", "per_day")
    if not cums and changes:  # no header says "cumulative": a rising count beside a change column may be one
        cums = [c for c in table.columns_with("count", "total") if _mostly_rising(table, c)]
    if runs is None or reader is None:
        return [(cum, None) for cum in cums]
    window = [r for run in runs for r in run][: 2 * hypotheses.SEARCH_ROWS]  # which change column: the first days tell
    at = [r.index for r in window]
    consecutive = np.array([(b.date - a.date).days == 1 for a, b in itertools.pairwise(window)])  # type: ignore[operator]
    boundaries = {id(run[0]) for run in runs}
    consecutive &= np.array([id(b) not in boundaries for b in window[1:]], dtype=bool)
    figs = reader.columns
    pairs: list[tuple[Column, Column | None]] = []
    pool = [c for c in table.columns_with("change", "per_day", "count", "total") if c not in cums]
    for cum in cums:
        c = figs.column(cum.index, at, "daily")
        step_lo, step_hi = c.lo[1:] - c.hi[:-1], c.hi[1:] - c.lo[:-1]
        both = c.present[1:] & c.present[:-1] & consecutive
        candidates = []
        for ch in sorted(pool, key=lambda x: (x.role != "change", -len(x.words() & cum.words()))):
            f = figs.column(ch.index, at, "daily")
            usable = both & f.present[1:] & ((f.value[1:] != 0) | (step_lo != 0))
            ok = hypotheses.agree(step_lo, step_hi, f.lo[1:], f.hi[1:], 0.0) & usable
            candidates.append(hypotheses.Reading(
                "cumulative", cum.name, f"{cum.name} rises by {ch.name}", "header" if ch.role == "change" else "arithmetic",
                held=int(ok.sum()), checked=int(usable.sum()), parts=(cum, ch),
            ))
        best = hypotheses.pick(candidates)
        if best is not None and hypotheses.enough(best.held, best.checked, best.source == "header"):
            best.kept = True
            _remember(table, best)
            pairs.append((cum, best.parts[1]))
        elif cum.role == "cumulative" or best is None:
            pairs.append((cum, None))
    return pairs


def _mostly_rising(table: Table, col: Column) -> bool:
    """A column with no "cumulative" header is taken for one only if it (nearly) never falls."""
    values = [f.value for row in table.rows if row.kind == "body" and (f := table.figure(row.index, col.index)) is not None]
    steps = [b - a for a, b in itertools.pairwise(values)]
    return len(steps) >= 2 and sum(s >= 0 for s in steps) >= 0.9 * len(steps)


def cumulative_series(table: Table, reader: Reader) -> Iterator[Relation]:
    """Daily tallies: dates consecutive and unique, cum[t] - cum[t-1] = change[t], never falling.

    Only a daily series is held to this: a table with a cumulative (or daily change) column whose
    dates mostly step by one day. A list of events that merely has a date column is not.
    """
    runs = _daily_runs(table)
    date_col = next((c for c in table.columns if c.role == "date"), None)
    if runs is None or date_col is None:
        return
    pairs = _pair_cumulative(table, reader)
    if not pairs:
        return
    for prev, cur in _consecutive_pairs(runs):
        gap = (cur.date - prev.date).days  # type: ignore[operator]
        if gap != 1:
            refs = (cell_ref(prev.index, date_col.index), cell_ref(cur.index, date_col.index))
            yield relation(
                table, kind="dates", rule="dates", cell=refs[1], cells=refs, found=(gap, gap), expected=(1, 1),
                facts={"prev": prev.date, "cur": cur.date, "rows": (prev.index + 1, cur.index + 1)},
            )
    for cum, change in pairs:
        for prev, cur in _consecutive_pairs(runs):
            before, after = reader.figure(prev.index, cum.index), reader.figure(cur.index, cum.index)
            if before is None or after is None:
                continue
            prev_ref, cur_ref = cell_ref(prev.index, cum.index), cell_ref(cur.index, cum.index)
            facts = {"column": cum.name, "prev": prev.date, "cur": cur.date, "before": before, "after": after}
            yield relation(
                table, kind="never_falls", rule="cumulative_falls", cell=cur_ref, cells=(prev_ref, cur_ref),
                found=(after.lo, after.hi), expected=(before.lo, before.hi), facts=facts,
            )
            if change is None or (cur.date - prev.date).days != 1:  # type: ignore[operator]
                continue
            step = reader.figure(cur.index, change.index)
            if step is None:
                continue
            change_ref = cell_ref(cur.index, change.index)
            yield relation(
                table, kind="cumulative", rule="cumulative", cell=cur_ref, cells=(prev_ref, change_ref, cur_ref),
                found=(after.lo - before.hi, after.hi - before.lo), expected=(step.lo, step.hi),
                facts={**facts, "change": step, "change_column": change.name, "reading": f"{table.name}|cumulative|{cum.index}|{change.index}"},
            )


def estimate_order(table: Table, reader: Reader) -> Iterator[Relation]:
    """Low <= Best <= High, within each header group."""
    groups: dict[str, dict[str, Column]] = {}
    for col in table.columns_with("low", "best", "high"):
        groups.setdefault(col.group, {})[col.role] = col
    for cols in groups.values():
        chain = [cols[k] for k in ("low", "best", "high") if k in cols]
        for row in table.rows:
            for a, b in itertools.pairwise(chain):
                fa, fb = reader.figure(row.index, a.index), reader.figure(row.index, b.index)
                if fa is None or fb is None:
                    continue
                ra, rb = cell_ref(row.index, a.index), cell_ref(row.index, b.index)
                yield relation(
                    table, kind="order", rule="estimate_order", cell=rb, cells=(ra, rb),
                    found=(fa.lo, fa.hi), expected=(fb.lo, fb.hi),
                    facts={"low": fa, "high": fb, "low_name": a.name, "high_name": b.name, "label": row.label},
                )


def _percent_part(table: Table, pct: Column) -> Column | None:
    words = pct.words() - {"share", "percent", "of", "total", "proportion", "pct", "in"}
    if not words:
        return None
    for col in table.columns_with("count"):
        if col.words() and col.words() <= words | col.words() and col.words() & words:
            return col
    return None


def _percent_readings(table: Table, reader: Reader) -> Iterator[hypotheses.Reading]:
    """Which part over which whole each percent column is: a row's figure over another column, or
    over the total row's figure of the same column, whichever its rows agree with."""
    rows = [r for r in table.rows if r.kind in ("body", "child")]
    at = [r.index for r in rows]
    figs = reader.columns
    total_rows = [r for r in table.rows if r.kind in ("total", "grand_total")]
    numeric = [c for c in table.columns_with("count", "total", "change", "measure", "low", "best", "high")]
    for pct in table.columns_with("percent"):
        value = figs.column(pct.index, at, "percent")
        natural_part = _percent_part(table, pct)
        totals = table.columns_with("total")
        natural_whole = totals[0] if totals else None
        candidates: list[hypotheses.Reading] = []
        natural: hypotheses.Reading | None = None  # what the header alone says, for tables too small to vote
        excluding = EXCLUDING_RE.search(pct.name)  # "% (excluding unknown)": the whole is no column as given
        if natural_part is not None and natural_whole is not None and natural_part is not natural_whole and not excluding:
            natural = _ratio_reading(pct, value, natural_part, natural_whole, figs, at)
            candidates.append(natural)
        left = [c for c in numeric if c.index < pct.index]
        share_of_total = natural_part is None and bool(total_rows) and bool(left)
        if share_of_total:  # "Share (%)": the column beside it over its total row
            numeric = [left[-1], *(c for c in numeric if c is not left[-1])]
        for part in numeric:
            if total_rows:
                whole = reader.figure(total_rows[0].index, part.index)
                if whole is not None and whole.value > 0:
                    held, checked = hypotheses.ratio_support(value, figs.column(part.index, at, "percent"), value, 100.0, divisor=np.full(len(at), whole.value))
                    candidates.append(hypotheses.Reading(
                        "percent", pct.name, f"{pct.name} = {part.name} / {part.name} of {total_rows[0].label.strip()} × 100", "arithmetic",
                        held=held, checked=checked, parts=(pct, part, total_rows[0]),
                    ))
            for whole_col in numeric:
                if whole_col is not part and not (part is natural_part and whole_col is natural_whole):
                    candidates.append(_ratio_reading(pct, value, part, whole_col, figs, at))
                    if excluding:  # "% of deaths (excluding unknown)": all deaths less the unknown
                        candidates.extend(
                            _ratio_reading(pct, value, part, (whole_col, less), figs, at)
                            for less in numeric if less not in (part, whole_col)
                        )
        best = hypotheses.pick(candidates)
        if best is None or best.checked == 0:
            continue
        if share_of_total and natural is None and not excluding:
            natural = candidates[0]
        if best.checked < hypotheses.VOTING_ROWS:
            # too few telling rows to vote: the header's reading, when it names the part and whole;
            # a bare "Share (%)" only when every telling row agrees with it
            if natural is None or natural.checked == 0 or (share_of_total and natural.held < natural.checked):
                continue
            best = natural
        elif not hypotheses.enough(best.held, best.checked, True):
            _remember(table, hypotheses.Reading(
                "percent", pct.name, f"{pct.name} = any part / whole × 100", "header",
                held=best.held, checked=best.checked, why="no pair of columns it agrees with", cell=_header_cell(table, pct),
            ))
            continue
        best.kept = True
        _remember(table, best)
        yield best


def _ratio_reading(
    pct: Column, value: hypotheses.Figures, part: Column, whole: Column | tuple[Column, Column], figs: hypotheses.TableFigures, at: list[int]
) -> hypotheses.Reading:
    """One reading of a percent column: part over a column, or over one column less another."""
    part_figs = figs.column(part.index, at, "percent")
    if isinstance(whole, tuple):
        a, b = (figs.column(c.index, at, "percent") for c in whole)
        divisor = np.where(a.present & b.present, a.value - b.value, np.nan)
        held, checked = hypotheses.ratio_support(value, part_figs, a, 100.0, divisor=divisor)
    else:
        held, checked = hypotheses.ratio_support(value, part_figs, figs.column(whole.index, at, "percent"), 100.0)
    return hypotheses.Reading(
        "percent", pct.name, f"{pct.name} = {part.name} / {_whole_name(whole)} × 100", "header",
        held=held, checked=checked, parts=(pct, part, whole),
    )


def _whole_name(whole: Column | tuple[Column, Column]) -> str:
    return f"({whole[0].name} − {whole[1].name})" if isinstance(whole, tuple) else whole.name


def _whole_figure(reader: Reader, row: int, whole: Column | tuple[Column, Column]) -> tuple[Figure | None, tuple[str, ...]]:
    """The whole of a percentage in one row, and its cells (two, for one column less another)."""
    if not isinstance(whole, tuple):
        return reader.figure(row, whole.index), (cell_ref(row, whole.index),)
    a, b = (reader.figure(row, c.index) for c in whole)
    if a is None or b is None or not (a.exact and b.exact):
        return None, ()
    return figure_from_number(a.value - b.value), tuple(cell_ref(row, c.index) for c in whole)


def percentages(table: Table, reader: Reader) -> Iterator[Relation]:
    """'% wounded' = Wounded / Total x 100 per row, as the rows agree; shares that state their 100."""
    total_rows = [r for r in table.rows if r.kind in ("total", "grand_total")]
    kept = {}
    for reading in _percent_readings(table, reader):
        pct, part_col, whole = reading.parts
        kept[pct.index] = reading
        if isinstance(whole, Row):
            yield from _shares_of_total(table, reader, pct, part_col, whole, [r for r in table.rows if r.kind == "body"], reading)
            continue
        for row in table.rows:
            if row.kind == "ratio":
                continue
            p, part = reader.figure(row.index, pct.index), reader.figure(row.index, part_col.index)
            total, whole_refs = _whole_figure(reader, row.index, whole)
            if p is None or part is None or total is None or total.lo <= 0:
                continue
            refs = (cell_ref(row.index, part_col.index), *whole_refs, cell_ref(row.index, pct.index))
            yield relation(
                table, kind="percent", rule="percent", cell=refs[-1], cells=refs,
                found=(p.lo, p.hi), expected=(100 * part.lo / total.hi, 100 * part.hi / total.lo),
                tolerance=10.0 ** -p.decimals, strict=True,
                facts={"percent": p, "part": part, "whole": total, "part_name": part_col.name, "whole_name": _whole_name(whole), "reading": reading.key(table)},
            )
    for pct in table.columns_with("percent"):
        if pct.index in kept:
            continue  # each share is checked against its part and whole; their sum says nothing more
        stated = reader.figure(total_rows[0].index, pct.index) if total_rows else None
        if stated is None or abs(stated.value - 100) > 0.5 * 10.0**-stated.decimals + 1e-9:
            continue  # only shares whose total row says 100 are shares of one whole
        spans = [r.parts[1] for r in table.readings if r.family == "total_row" and r.kept and r.parts[0] is total_rows[0]]
        if not spans:
            continue  # which rows the total closes is not known: their shares cannot be summed
        detail = spans[0]
        shares = [(cell_ref(r.index, pct.index), reader.figure(r.index, pct.index)) for r in detail]
        shares = [(ref, f) for ref, f in shares if f is not None]
        if len(shares) < 2:
            continue
        decimals = max(f.decimals for _, f in shares)
        lo, hi = _sum_interval([f for _, f in shares])
        yield relation(
            table, kind="shares", rule="shares_total", cell=cell_ref(total_rows[0].index, pct.index), cells=tuple(ref for ref, _ in shares),
            found=(lo, hi), expected=(100.0, 100.0), tolerance=len(shares) * 0.5 * 10.0**-decimals + 1e-9,
            facts={"column": pct.name, "n": len(shares), "sum": sum(f.value for _, f in shares)},
        )


def _shares_of_total(table: Table, reader: Reader, pct: Column, base: Column, total_row: Row, detail: list[Row], reading: hypotheses.Reading) -> Iterator[Relation]:
    """A plain "Share (%)" column: each row's figure over the total row's, x 100."""
    whole = reader.figure(total_row.index, base.index)
    if whole is None or whole.lo <= 0:
        return
    whole_ref = cell_ref(total_row.index, base.index)
    for row in detail:
        p, part = reader.figure(row.index, pct.index), reader.figure(row.index, base.index)
        if p is None or part is None:
            continue
        refs = (cell_ref(row.index, base.index), whole_ref, cell_ref(row.index, pct.index))
        yield relation(
            table, kind="percent", rule="percent", cell=refs[2], cells=refs,
            found=(p.lo, p.hi), expected=(100 * part.lo / whole.hi, 100 * part.hi / whole.lo),
            tolerance=10.0 ** -p.decimals, strict=True,
            facts={"percent": p, "part": part, "whole": whole, "part_name": f"{base.name} ({row.label.strip()})", "whole_name": f"{total_row.label.strip()}", "reading": reading.key(table)},
        )


def show(value: float) -> str:
    return format_number(value)


def series_of(table: Table) -> list[Series]:
    """Every cumulative column of a dated table, as a series a report can draw."""
    dated = [row for row in table.rows if row.date is not None and row.kind == "body"]
    if len(dated) < 2:
        return []
    out = []
    for cum, _ in _pair_cumulative(table):
        figures = [table.figure(row.index, cum.index) for row in dated]
        out.append(
            Series(
                sheet=table.sheet.name, table=table.name, column=cum.name,
                dates=tuple(row.date.isoformat() for row in dated),  # type: ignore[union-attr]
                values=tuple(f.value if f is not None else None for f in figures),
                cells=tuple(cell_ref(row.index, cum.index) for row in dated),
            )
        )
    return out
