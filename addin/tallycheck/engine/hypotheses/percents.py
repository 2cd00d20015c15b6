"""Readings of percentages: which part over which whole (another column, the total row, a column less another).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import numpy as np

from ..figures import Figure, figure_from_number
from ..grid import cell_ref
from ..tables import Column, Table
from . import evidence as ev

EXCLUDING_RE = re.compile(r"\bexcl\w*|\bexcept\b|\bwithout\b|\bother than\b|\bbar\b", re.I)


def _percent_part(table: Table, pct: Column) -> Column | None:
    words = pct.words() - {"share", "percent", "of", "total", "proportion", "pct", "in"}
    if not words:
        return None
    for col in table.columns_with("count"):
        if col.words() and col.words() <= words | col.words() and col.words() & words:
            return col
    return None


def percent_readings(table: Table, reader: ev.Cells) -> Iterator[ev.Reading]:
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
        candidates: list[ev.Reading] = []
        natural: ev.Reading | None = None  # what the header alone says, for tables too small to vote
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
                    held, checked = ev.ratio_support(value, figs.column(part.index, at, "percent"), value, 100.0, divisor=np.full(len(at), whole.value))
                    candidates.append(ev.Reading(
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
        best = ev.pick(candidates)
        if best is None or best.checked == 0:
            continue
        if share_of_total and natural is None and not excluding:
            natural = candidates[0]
        if best.checked < ev.VOTING_ROWS:
            # too few telling rows to vote: the header's reading, when it names the part and whole;
            # a bare "Share (%)" only when every telling row agrees with it
            if natural is None or natural.checked == 0 or (share_of_total and natural.held < natural.checked):
                continue
            best = natural
        elif not ev.enough(best.held, best.checked, True):
            ev.remember(table, ev.Reading(
                "percent", pct.name, f"{pct.name} = any part / whole × 100", "header",
                held=best.held, checked=best.checked, why="no pair of columns it agrees with", cell=ev.header_cell(table, pct),
            ))
            continue
        best.kept = True
        ev.remember(table, best)
        yield best


def _ratio_reading(
    pct: Column, value: ev.Figures, part: Column, whole: Column | tuple[Column, Column], figs: ev.TableFigures, at: list[int]
) -> ev.Reading:
    """One reading of a percent column: part over a column, or over one column less another."""
    part_figs = figs.column(part.index, at, "percent")
    if isinstance(whole, tuple):
        a, b = (figs.column(c.index, at, "percent") for c in whole)
        divisor = np.where(a.present & b.present, a.value - b.value, np.nan)
        held, checked = ev.ratio_support(value, part_figs, a, 100.0, divisor=divisor)
    else:
        held, checked = ev.ratio_support(value, part_figs, figs.column(whole.index, at, "percent"), 100.0)
    return ev.Reading(
        "percent", pct.name, f"{pct.name} = {part.name} / {whole_name(whole)} × 100", "header",
        held=held, checked=checked, parts=(pct, part, whole),
    )


def whole_name(whole: Column | tuple[Column, Column]) -> str:
    return f"({whole[0].name} − {whole[1].name})" if isinstance(whole, tuple) else whole.name


def whole_figure(reader: ev.Cells, row: int, whole: Column | tuple[Column, Column]) -> tuple[Figure | None, tuple[str, ...]]:
    """The whole of a percentage in one row, and its cells (two, for one column less another)."""
    if not isinstance(whole, tuple):
        return reader.figure(row, whole.index), (cell_ref(row, whole.index),)
    a, b = (reader.figure(row, c.index) for c in whole)
    if a is None or b is None or not (a.exact and b.exact):
        return None, ()
    return figure_from_number(a.value - b.value), tuple(cell_ref(row, c.index) for c in whole)
