"""Readings of daily series: the runs a stacked table holds, and which change column each tally rises by.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np

from ..periods import as_date
from ..tables import Column, Row, Table
from . import evidence as ev


def daily_runs(table: Table) -> list[list[Row]] | None:
    """The dated rows of a daily series, oldest first, as runs that never cross from one block of a
    stacked table to the next (a Local Authority column, or a date that jumps back to restart);
    None when the dates do not step by days. Worked out once a table: three readers ask."""
    if "daily_runs" not in table.derived:
        table.derived["daily_runs"] = _daily_runs(table)
    return table.derived["daily_runs"]


def _daily_runs(table: Table) -> list[list[Row]] | None:
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


def consecutive_pairs(runs: list[list[Row]]) -> Iterator[tuple[Row, Row]]:
    for run in runs:
        yield from itertools.pairwise(run)


def cumulative_pairs(table: Table, reader: ev.Cells | None = None) -> list[tuple[Column, Column | None]]:
    """Each cumulative column with the change column its steps agree with (None: no change column does)."""
    runs = daily_runs(table)
    cums = table.columns_with("cumulative")
    changes = table.columns_with("change", "per_day")
    if not cums and changes:  # no header says "cumulative": a rising count beside a change column may be one
        cums = [c for c in table.columns_with("count", "total") if _mostly_rising(table, c)]
    if runs is None or reader is None:
        return [(cum, None) for cum in cums]
    window = [r for run in runs for r in run][: 2 * ev.SEARCH_ROWS]  # which change column: the first days tell
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
            ok = ev.agree(step_lo, step_hi, f.lo[1:], f.hi[1:], 0.0) & usable
            candidates.append(ev.Reading(
                "cumulative", cum.name, f"{cum.name} rises by {ch.name}", "header" if ch.role == "change" else "arithmetic",
                held=int(ok.sum()), checked=int(usable.sum()), parts=(cum, ch),
            ))
        best = ev.pick(candidates)
        if best is not None and ev.enough(best.held, best.checked, best.source == "header"):
            best.kept = True
            ev.remember(table, best)
            pairs.append((cum, best.parts[1]))
        elif cum.role == "cumulative" or best is None:
            pairs.append((cum, None))
    return pairs


def _mostly_rising(table: Table, col: Column) -> bool:
    """A column with no "cumulative" header is taken for one only if it (nearly) never falls."""
    values = [f.value for row in table.rows if row.kind == "body" and (f := table.figure(row.index, col.index)) is not None]
    steps = [b - a for a, b in itertools.pairwise(values)]
    return len(steps) >= 2 and sum(s >= 0 for s in steps) >= 0.9 * len(steps)
