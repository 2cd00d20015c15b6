"""Tables -> relations: what the headers, labels and arithmetic of a table say must hold.

One function per family of relation. Each returns Relation instances (checked later, together with
every other table's) and never decides pass or fail itself.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator

import numpy as np

from .figures import Figure, format_number
from .findings import Finding, Series
from .grid import FORMULA_REF_RE, cell_ref
from .hypotheses import evidence as ev
from .hypotheses.averages import per_day_readings
from .hypotheses.evidence import rounding_of, sum_interval
from .hypotheses.percents import percent_readings, whole_figure, whole_name
from .hypotheses.series import consecutive_pairs, cumulative_pairs, daily_runs
from .hypotheses.sums import column_sum_readings, parent_readings, summable, total_row_readings
from .relations import Claim, Relation, Rows, frame_rows
from .tables import Column, Row, Table


class Reader:
    """Figures of one table, noting formulas whose cached value is missing instead of reading 0."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.uncached: dict[str, Finding] = {}
        plain = not table.sheet.uncached  # the common case: every formula has its value, read straight through
        if plain:
            self.figure = table.figure  # type: ignore[method-assign]
        self.columns = ev.TableFigures(self.figure, table if plain else None)

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


def inferred_relations(table: Table, reader: ev.Cells) -> list[Claim]:
    """Every relation the table's headers, labels and arithmetic imply, as the kept readings state them."""
    relations: list[Claim] = []
    for family in (column_sums, row_totals, of_which, per_day_averages, cumulative_series, estimate_order, percentages):
        relations.extend(family(table, reader))
    return [r for r in relations if not isinstance(r, Rows) or len(r)]


def share_bounds(part: Figure, whole: Figure) -> tuple[float, float]:
    """100 x part / whole as an interval; open bounds on both sides ("under 5" of "over 100") give
    an open end, never NaN (which no check could pass)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        lo, hi = 100 * np.float64(part.lo) / whole.hi, 100 * np.float64(part.hi) / whole.lo
    return (-math.inf if math.isnan(lo) else float(lo), math.inf if math.isnan(hi) else float(hi))


def relation(table: Table, **kw: object) -> Relation:
    return Relation(sheet=table.sheet.name, table=table.name, **kw)  # type: ignore[arg-type]


def _formula_gap(table: Table, ref: str, part_refs: list[str]) -> list[str]:
    """Parts a SUM-like formula in the total's cell leaves out."""
    formula = table.sheet.formula(ref)
    if not formula or "!" in formula:
        return []
    covered: set[str] = set()
    for m in FORMULA_REF_RE.finditer(formula.upper()):
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


def sum_relation(
    table: Table, rule: str, total: Figure, total_ref: str, parts: list[tuple[str, Figure]], *, tolerance_parts: bool = False, **facts: object
) -> Relation:
    """``tolerance_parts``: allow for the rounding of every operand shown with decimals (inferred sums)."""
    refs = [ref for ref, _ in parts]
    figures = [f for _, f in parts]
    return relation(
        table, kind="sum", rule=rule, cell=total_ref, cells=(*refs, total_ref),
        found=(total.lo, total.hi), expected=sum_interval(figures), rounded=total.rounding(),
        tolerance=rounding_of([*figures, total], table.rounded_units) if tolerance_parts else 0.0,
        facts={"total": total, "parts": figures, "left_out": _formula_gap(table, total_ref, refs), "unit": total.unit, **facts},
    )


def unexplained(table: Table) -> list[Finding]:
    """At most one note a table: the first relation its headers propose that no reading explains."""
    for reading in table.readings:
        if not reading.kept and reading.cell:
            return [Finding(
                rule=reading.family, severity="info", sheet=table.sheet.name, cell=reading.cell, cells=(reading.cell,),
                expected=None, found=None, tolerance=0, table=table.name,
                message=f"{ev.describe_rejected(reading)} ({reading.why})",
            )]
    return []


def column_sums(table: Table, reader: ev.Cells) -> Iterator[Relation]:
    """Killed + Wounded + Missing = Total, in every row, for the components the table's rows obey."""
    for reading in column_sum_readings(table, reader):
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


def row_totals(table: Table, reader: ev.Cells) -> Iterator[Relation]:
    """A "Total" row equals the sum of the rows it closes (or opens): the span its columns obey."""
    for total_row, detail, reading in total_row_readings(table, reader):
        for col in summable(table):
            total = reader.figure(total_row.index, col.index)
            parts = [(cell_ref(r.index, col.index), reader.figure(r.index, col.index)) for r in detail]
            if total is None or any(f is None for _, f in parts) or len(parts) < 1:
                continue
            yield sum_relation(
                table, "total_row", total, cell_ref(total_row.index, col.index), parts,  # type: ignore[arg-type]
                subject=total_row.label, column=col.name, first=detail[0], last=detail[-1], stale=reading.extra.get("stale"),
                reading=reading.key(table), tolerance_parts=True, support_unit="columns",
            )


def of_which(table: Table, reader: ev.Cells) -> Iterator[Relation]:
    """'Of which' rows: two or more add up to their parent; a single one cannot exceed it."""
    labels = {r.index: r.label for r in table.rows}
    for parent, kids, cells in parent_readings(table, reader):
        for col, whole, parts in cells:
            if len(kids) >= 2:
                yield sum_relation(
                    table, "of_which", whole, cell_ref(parent, col.index), parts,
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


def per_day_averages(table: Table, reader: ev.Cells) -> Iterator[Relation]:
    """'Averaging N per day' against the count and the days of the row's period that the table obeys."""
    for avg_col, count_col, period_fn, reading in per_day_readings(table, reader):
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


def cumulative_series(table: Table, reader: ev.Cells) -> Iterator[Claim]:
    """Daily tallies: dates consecutive and unique, cum[t] - cum[t-1] = change[t], never falling.

    Only a daily series is held to this: a table with a cumulative (or daily change) column whose
    dates mostly step by one day. A list of events that merely has a date column is not. A series
    states two claims a day for each tally; they are built as columns (``Rows``), from the
    table's column arrays, and a Relation is made only for a day that fails.
    """
    runs = daily_runs(table)
    date_col = next((c for c in table.columns if c.role == "date"), None)
    if runs is None or date_col is None:
        return
    pairs = cumulative_pairs(table, reader)
    if not pairs:
        return
    days = list(consecutive_pairs(runs))
    for prev, cur in days:
        gap = (cur.date - prev.date).days  # type: ignore[operator]
        if gap != 1:
            refs = (cell_ref(prev.index, date_col.index), cell_ref(cur.index, date_col.index))
            yield relation(
                table, kind="dates", rule="dates", cell=refs[1], cells=refs, found=(gap, gap), expected=(1, 1),
                facts={"prev": prev.date, "cur": cur.date, "rows": (prev.index + 1, cur.index + 1)},
            )
    if not days:
        return
    prev_rows, cur_rows = [p.index for p, _ in days], [c.index for _, c in days]
    one_day = np.fromiter(((c.date - p.date).days == 1 for p, c in days), dtype=bool, count=len(days))  # type: ignore[operator]
    for cum, change in pairs:
        before = reader.columns.column(cum.index, prev_rows, "series: day before")
        after = reader.columns.column(cum.index, cur_rows, "series: day")
        both = np.flatnonzero(before.present & after.present)
        # a tally that falls is flagged even when its change column states the fall: a correction
        # to a cumulative count is what an analyst wants to see
        yield Rows(
            "never_falls", "cumulative_falls", frame_rows(after.lo[both], after.hi[both], before.lo[both], before.hi[both]),
            lambda k, at=both, cum=cum: _falls(table, reader, cum, *days[at[k]]),
        )
        if change is None:
            continue
        # a change cell is read only on a day it is compared (so only those can be noted as uncalculated)
        asked = np.flatnonzero(before.present & after.present & one_day)
        step = reader.columns.column(change.index, [cur_rows[i] for i in asked], f"series: days {cum.index} rose")
        kept, step_at = asked[step.present], np.flatnonzero(step.present)
        yield Rows(
            "cumulative", "cumulative",
            frame_rows(
                after.lo[kept] - before.hi[kept], after.hi[kept] - before.lo[kept], step.lo[step_at], step.hi[step_at]
            ),
            lambda k, at=kept, cum=cum, change=change: _rises(table, reader, cum, change, *days[at[k]]),
            reading=_series_reading(table, cum, change),
        )


def _series_reading(table: Table, cum: Column, change: Column) -> str:
    return f"{table.name}|cumulative|{cum.index}|{change.index}"


def _series_facts(reader: ev.Cells, cum: Column, prev: Row, cur: Row) -> dict[str, object]:
    return {"column": cum.name, "prev": prev.date, "cur": cur.date,
            "before": reader.figure(prev.index, cum.index), "after": reader.figure(cur.index, cum.index)}


def _falls(table: Table, reader: ev.Cells, cum: Column, prev: Row, cur: Row) -> Relation:
    """The day's tally against the day before's: it may not fall."""
    facts = _series_facts(reader, cum, prev, cur)
    before, after = facts["before"], facts["after"]
    return relation(
        table, kind="never_falls", rule="cumulative_falls", cell=cell_ref(cur.index, cum.index),
        cells=(cell_ref(prev.index, cum.index), cell_ref(cur.index, cum.index)),
        found=(after.lo, after.hi), expected=(before.lo, before.hi), facts=facts,  # type: ignore[union-attr]
    )


def _rises(table: Table, reader: ev.Cells, cum: Column, change: Column, prev: Row, cur: Row) -> Relation:
    """The tally's rise from the day before against the day's stated change."""
    facts = _series_facts(reader, cum, prev, cur)
    before, after = facts["before"], facts["after"]
    step = reader.figure(cur.index, change.index)
    prev_ref, cur_ref = cell_ref(prev.index, cum.index), cell_ref(cur.index, cum.index)
    return relation(
        table, kind="cumulative", rule="cumulative", cell=cur_ref, cells=(prev_ref, cell_ref(cur.index, change.index), cur_ref),
        found=(after.lo - before.hi, after.hi - before.lo), expected=(step.lo, step.hi),  # type: ignore[union-attr]
        facts={**facts, "change": step, "change_column": change.name, "reading": _series_reading(table, cum, change)},
    )


def estimate_order(table: Table, reader: ev.Cells) -> Iterator[Relation]:
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


def percentages(table: Table, reader: ev.Cells) -> Iterator[Relation]:
    """'% wounded' = Wounded / Total x 100 per row, as the rows agree; shares that state their 100."""
    total_rows = [r for r in table.rows if r.kind in ("total", "grand_total")]
    kept = {}
    for reading in percent_readings(table, reader):
        pct, part_col, whole = reading.parts
        kept[pct.index] = reading
        if isinstance(whole, Row):
            yield from _shares_of_total(table, reader, pct, part_col, whole, [r for r in table.rows if r.kind == "body"], reading)
            continue
        for row in table.rows:
            if row.kind == "ratio":
                continue
            p, part = reader.figure(row.index, pct.index), reader.figure(row.index, part_col.index)
            total, whole_refs = whole_figure(reader, row.index, whole)
            if p is None or part is None or total is None or total.lo <= 0:
                continue
            refs = (cell_ref(row.index, part_col.index), *whole_refs, cell_ref(row.index, pct.index))
            yield relation(
                table, kind="percent", rule="percent", cell=refs[-1], cells=refs,
                found=(p.lo, p.hi), expected=share_bounds(part, total),
                tolerance=10.0 ** -p.decimals, strict=True,
                facts={"percent": p, "part": part, "whole": total, "part_name": part_col.name, "whole_name": whole_name(whole), "reading": reading.key(table)},
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
        lo, hi = sum_interval([f for _, f in shares])
        yield relation(
            table, kind="shares", rule="shares_total", cell=cell_ref(total_rows[0].index, pct.index), cells=tuple(ref for ref, _ in shares),
            found=(lo, hi), expected=(100.0, 100.0), tolerance=len(shares) * 0.5 * 10.0**-decimals + 1e-9,
            facts={"column": pct.name, "n": len(shares), "sum": sum(f.value for _, f in shares)},
        )


def _shares_of_total(table: Table, reader: ev.Cells, pct: Column, base: Column, total_row: Row, detail: list[Row], reading: ev.Reading) -> Iterator[Relation]:
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
            found=(p.lo, p.hi), expected=share_bounds(part, whole),
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
    rows = [row.index for row in dated]
    for cum, _ in cumulative_pairs(table):
        figures = ev.figures_of(table.figure, rows, cum.index, table)
        out.append(
            Series(
                sheet=table.sheet.name, table=table.name, column=cum.name,
                dates=tuple(row.date.isoformat() for row in dated),  # type: ignore[union-attr]
                values=tuple(v if p else None for v, p in zip(figures.value.tolist(), figures.present.tolist(), strict=True)),
                cells=tuple(cell_ref(row.index, cum.index) for row in dated),
            )
        )
    return out
