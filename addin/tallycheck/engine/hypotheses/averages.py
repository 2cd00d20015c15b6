"""Readings of per-day averages: which count over which period (a Days column, Start/End, the label).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterator
from datetime import date

import numpy as np

from ..periods import Days, Period, as_date, period_between, period_from_label
from ..tables import Column, Row, Table
from . import evidence as ev

DAYS_RE = re.compile(r"^\s*(?:no\.?\s+of\s+|number\s+of\s+)?days?\b|^\s*duration|^\s*(?:днів|дней|дні|дни|кількість днів|количество дней)\b", re.I)


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


def _period_sources(table: Table, reader: ev.Cells) -> list[tuple[str, Callable[[Row], Period | Days | None]]]:
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


def per_day_readings(table: Table, reader: ev.Cells) -> Iterator[tuple[Column, Column, Callable[[Row], Period | Days | None], ev.Reading]]:
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
                held, checked = ev.ratio_support(avg, count, count, 1.0, divisor=days_of[name])
                candidates.append(ev.Reading(
                    "per_day", avg_col.name, f"{avg_col.name} = {count_col.name} / days ({name})", "header",
                    held=held, checked=checked, parts=(avg_col, count_col, name),
                ))
        best = ev.pick(candidates)
        if best is None or best.checked == 0:
            continue
        lone = len(counts) == 1 and sum(c.checked > 0 for c in candidates) == 1
        if best.checked < ev.VOTING_ROWS and not lone and best.held < best.checked:
            best.why = "too few rows to tell which count and period it averages"
            best.cell = ev.header_cell(table, avg_col)
            ev.remember(table, best)
            continue
        if best.checked >= ev.VOTING_ROWS and not ev.enough(best.held, best.checked, True):
            best = ev.Reading(
                "per_day", avg_col.name, f"{avg_col.name} = any count / the days of the row's period", "header",
                held=best.held, checked=best.checked, why="no count and period it agrees with", cell=ev.header_cell(table, avg_col),
            )
            ev.remember(table, best)
            continue
        best.kept = True
        ev.remember(table, best)
        yield best.parts[0], best.parts[1], dict(sources)[best.parts[2]], best


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
