"""Tables -> relations: what the headers, labels and arithmetic of a table say must hold.

One function per family of relation. Each returns Relation instances (checked later, together with
every other table's) and never decides pass or fail itself.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from .figures import Figure, format_number
from .findings import Finding, Series
from .grid import cell_ref
from .periods import Period, period_between, period_from_label
from .relations import Relation
from .tables import Column, Row, Table

if TYPE_CHECKING:
    from .declared.ruleset import RuleSet

_RANGE_RE = re.compile(r"(?<![A-Za-z!'])\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?(?![\w(])")


class Reader:
    """Figures of one table, noting formulas whose cached value is missing instead of reading 0."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.uncached: dict[str, Finding] = {}
        if not table.sheet.uncached:  # the common case: every formula has its value, read straight through
            self.figure = table.figure  # type: ignore[method-assign]

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
                    table=self.table.name,
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
        return declared.apply(table, reader, relations)
    return relations, list(reader.uncached.values())


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


def sum_relation(table: Table, rule: str, total: Figure, total_ref: str, parts: list[tuple[str, Figure]], **facts: object) -> Relation:
    refs = [ref for ref, _ in parts]
    figures = [f for _, f in parts]
    return relation(
        table, kind="sum", rule=rule, cell=total_ref, cells=(*refs, total_ref),
        found=(total.lo, total.hi), expected=_sum_interval(figures), rounded=total.rounding(),
        facts={"total": total, "parts": figures, "left_out": _formula_gap(table, total_ref, refs), "unit": total.unit, **facts},
    )


def summable(table: Table) -> list[Column]:
    return table.columns_with("count", "total", "change", "low", "best", "high", "measure")


def column_sums(table: Table, reader: Reader) -> Iterator[Relation]:
    """Killed + Wounded + Missing = Total, in every row."""
    counts = table.columns_with("count", "total")
    for total_col in table.columns_with("total"):
        pos = counts.index(total_col)
        left = [c for c in counts[:pos] if c.role == "count" and (not total_col.group or c.group == total_col.group)]
        right = [c for c in counts[pos + 1 :] if c.role == "count" and (not total_col.group or c.group == total_col.group)]
        # components sit between this total and the previous (or next) one
        left = [c for c in left if not any(t.index > c.index for t in table.columns_with("total") if t.index < total_col.index)]
        components = left if len(left) >= 2 else right if len(right) >= 2 else []
        if not components:
            continue
        for row in table.rows:
            total = reader.figure(row.index, total_col.index)
            parts = [(cell_ref(row.index, c.index), reader.figure(row.index, c.index)) for c in components]
            if total is None or any(f is None for _, f in parts):
                continue
            yield sum_relation(
                table, "sum", total, cell_ref(row.index, total_col.index), parts,  # type: ignore[arg-type]
                subject=total_col.name, names=[c.name for c in components], row_label=row.label,
            )


def _total_spans(table: Table) -> Iterator[tuple[Row, list[Row]]]:
    """Each total row with the detail rows it adds up (above it, or below a total that leads)."""
    rows = table.rows
    totals = [i for i, r in enumerate(rows) if r.kind in ("total", "subtotal", "grand_total")]
    for n, i in enumerate(totals):
        row = rows[i]
        if i == 0:
            end = totals[n + 1] if n + 1 < len(totals) else len(rows)
            span = rows[1:end]
        elif row.kind == "grand_total" or (n > 0 and all(rows[j].kind != "body" for j in range(totals[n - 1] + 1, i))):
            span = rows[:i]
        else:
            start = totals[n - 1] + 1 if n > 0 and totals[n - 1] != 0 else (1 if totals and totals[0] == 0 else 0)
            span = rows[start:i]
        detail = [r for r in span if r.kind == "body"]
        if detail:
            yield row, detail


def row_totals(table: Table, reader: Reader) -> Iterator[Relation]:
    """A "Total" row equals the sum of the rows it closes (or opens)."""
    for total_row, detail in _total_spans(table):
        for col in summable(table):
            total = reader.figure(total_row.index, col.index)
            parts = [(cell_ref(r.index, col.index), reader.figure(r.index, col.index)) for r in detail]
            if total is None or any(f is None for _, f in parts) or len(parts) < 1:
                continue
            yield sum_relation(
                table, "total_row", total, cell_ref(total_row.index, col.index), parts,  # type: ignore[arg-type]
                subject=total_row.label, column=col.name, first=detail[0], last=detail[-1],
            )


def of_which(table: Table, reader: Reader) -> Iterator[Relation]:
    """'Of which' rows: two or more add up to their parent; a single one cannot exceed it."""
    children: dict[int, list[Row]] = {}
    for row in table.rows:
        if row.kind == "child" and row.parent is not None:
            children.setdefault(row.parent, []).append(row)
    labels = {r.index: r.label for r in table.rows}
    for parent, kids in children.items():
        for col in summable(table):
            whole = reader.figure(parent, col.index)
            parts = [(cell_ref(k.index, col.index), reader.figure(k.index, col.index)) for k in kids]
            if whole is None or any(f is None for _, f in parts):
                continue
            if len(kids) >= 2:
                yield sum_relation(
                    table, "of_which", whole, cell_ref(parent, col.index), parts,  # type: ignore[arg-type]
                    subject=labels[parent], names=[k.label.strip() for k in kids], column=col.name,
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


def per_day_averages(table: Table, reader: Reader) -> Iterator[Relation]:
    """'Averaging N per day' against the count and the days of the row's period."""
    for avg_col in table.columns_with("per_day"):
        count_col = _count_for(table, avg_col)
        if count_col is None:
            continue
        for row in table.rows:
            avg = reader.figure(row.index, avg_col.index)
            count = reader.figure(row.index, count_col.index)
            period = period_of(table, row)
            if avg is None or count is None or period is None or period.days <= 0:
                continue
            days = period.days
            avg_ref, count_ref = cell_ref(row.index, avg_col.index), cell_ref(row.index, count_col.index)
            yield relation(
                table, kind="per_day", rule="per_day", cell=avg_ref, cells=(count_ref, avg_ref),
                found=(avg.lo, avg.hi), expected=(count.lo / days, count.hi / days),
                tolerance=10.0 ** -avg.decimals, strict=True,
                facts={"average": avg, "count": count, "period": period, "label": row.label},
            )


def _pair_cumulative(table: Table) -> list[tuple[Column, Column | None]]:
    cums = table.columns_with("cumulative")
    changes = table.columns_with("change")
    if not cums and changes:
        candidates = [c for c in table.columns_with("count", "total") if c.index < changes[0].index] or table.columns_with("count", "total")
        cums = [c for c in candidates if _mostly_rising(table, c)]
    pairs: list[tuple[Column, Column | None]] = []
    for cum in cums:
        best = None
        for ch in changes:
            if best is None or len(ch.words() & cum.words()) > len(best.words() & cum.words()):
                best = ch
        if len(cums) > 1 and best is not None and not (best.words() & cum.words()):
            best = None
        pairs.append((cum, best))
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
    dated = [r for r in table.rows if r.date is not None and r.kind == "body"]
    if len(dated) < 2:
        return
    date_col = next((c for c in table.columns if c.role == "date"), None)
    pairs = _pair_cumulative(table)
    if date_col is None or not pairs:
        return
    steps = [(b.date - a.date).days for a, b in itertools.pairwise(dated)]  # type: ignore[operator]
    if sum(s == -1 for s in steps) > 0.5 * len(steps):  # newest first: read it oldest first
        dated.reverse()
        steps = [-s for s in reversed(steps)]
    if sum(s == 1 for s in steps) < 0.5 * len(steps):
        return
    for prev, cur in itertools.pairwise(dated):
        gap = (cur.date - prev.date).days  # type: ignore[operator]
        if gap != 1:
            refs = (cell_ref(prev.index, date_col.index), cell_ref(cur.index, date_col.index))
            yield relation(
                table, kind="dates", rule="dates", cell=refs[1], cells=refs, found=(gap, gap), expected=(1, 1),
                facts={"prev": prev.date, "cur": cur.date, "rows": (prev.index + 1, cur.index + 1)},
            )
    for cum, change in pairs:
        for prev, cur in itertools.pairwise(dated):
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
                facts={**facts, "change": step, "change_column": change.name},
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


def percentages(table: Table, reader: Reader) -> Iterator[Relation]:
    """'% wounded' = Wounded / Total x 100 per row; plain shares of a column sum to 100."""
    totals = table.columns_with("total")
    total_rows = [r for r in table.rows if r.kind in ("total", "grand_total")]
    for pct in table.columns_with("percent"):
        part_col = _percent_part(table, pct)
        if part_col is not None and totals:
            whole_col = totals[0]
            for row in table.rows:
                p, part, whole = (reader.figure(row.index, c) for c in (pct.index, part_col.index, whole_col.index))
                if p is None or part is None or whole is None or whole.lo <= 0:
                    continue
                refs = tuple(cell_ref(row.index, c) for c in (part_col.index, whole_col.index, pct.index))
                yield relation(
                    table, kind="percent", rule="percent", cell=refs[2], cells=refs,
                    found=(p.lo, p.hi), expected=(100 * part.lo / whole.hi, 100 * part.hi / whole.lo),
                    tolerance=10.0 ** -p.decimals, strict=True,
                    facts={"percent": p, "part": part, "whole": whole, "part_name": part_col.name, "whole_name": whole_col.name},
                )
            continue
        detail = [r for r in table.rows if r.kind == "body"]
        base = [c for c in table.columns_with("count", "total") if c.index < pct.index]
        if base and total_rows:
            yield from _shares_of_total(table, reader, pct, base[-1], total_rows[0], detail)
        shares = [(cell_ref(r.index, pct.index), reader.figure(r.index, pct.index)) for r in detail]
        shares = [(ref, f) for ref, f in shares if f is not None]
        if len(shares) < 2:
            continue
        marked = cell_ref(total_rows[0].index, pct.index) if total_rows else shares[-1][0]
        decimals = max(f.decimals for _, f in shares)
        lo, hi = _sum_interval([f for _, f in shares])
        yield relation(
            table, kind="shares", rule="shares_total", cell=marked, cells=tuple(ref for ref, _ in shares),
            found=(lo, hi), expected=(100.0, 100.0), tolerance=len(shares) * 0.5 * 10.0**-decimals + 1e-9,
            facts={"column": pct.name, "n": len(shares), "sum": sum(f.value for _, f in shares)},
        )


def _shares_of_total(table: Table, reader: Reader, pct: Column, base: Column, total_row: Row, detail: list[Row]) -> Iterator[Relation]:
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
            facts={"percent": p, "part": part, "whole": whole, "part_name": f"{base.name} ({row.label.strip()})", "whole_name": f"{total_row.label.strip()}"},
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
