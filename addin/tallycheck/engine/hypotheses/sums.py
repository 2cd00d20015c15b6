"""Readings of sums: which columns a Total adds up, which rows a total row closes, which rows are "of which".

A header proposes; the rows vote (exact sums of counts), and chance is measured against shifted rows.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import numpy as np

from ..figures import Figure
from ..grid import FORMULA_REF_RE, cell_ref, parse_ref
from ..tables import Column, Row, Table
from . import evidence as ev

#: A row label that is nothing but "Total" (or a year's total) says what the row is, even when none
#: of its columns agree; "Total deaths, all ages" or "All persons" must be confirmed by its columns.
TOTAL_ONLY_RE = re.compile(
    r"^\s*(?:grand\s+|sub-?\s?)?(?:totals?|sum|both\s+(?:sides|armies)|всього|усього|разом|итого|всего|загалом)\s*(?:(?:19|20)\d\d|18\d\d)?\s*:?\s*$", re.I
)


CHILD_WORDS_RE = re.compile(
    r"^\s*(?:of which|of whom|incl\.?|including|includes|inc\.|among them|thereof|з них|у тому числі|в т\.\s?ч\.|в том числе|из них)\b", re.I
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


def _numeric(table: Table, reader: ev.Cells) -> list[Column]:
    """Columns that can take part in a sum: counts and totals, not running numbers or years."""
    rows = ev.sample([r.index for r in table.rows if r.kind == "body"])  # a running number shows in any few hundred rows
    return [c for c in table.columns_with("count", "total") if not ev.id_like(reader.columns.column(c.index, rows, "search"), c.name)]


def column_sum_readings(table: Table, reader: ev.Cells) -> list[ev.Reading]:
    """For each column a header calls Total (or that arithmetic shows to be a sum), its components."""
    if table.not_additive:
        return []
    figs = reader.columns
    body = [r.index for r in table.rows if r.kind == "body"]
    search = ev.sample(body)
    numeric = _numeric(table, reader)
    candidates = [c for c in table.columns_with("total") if c in numeric]
    if len(search) >= ev.VOTING_ROWS:
        candidates += [c for c in numeric if c.role == "count"]
    kept: list[ev.Reading] = []
    for total_col in candidates:
        proposed = total_col.role == "total"
        natural = _natural_components(table, total_col)
        total_fig = figs.column(total_col.index, search, "search")
        pool = [
            c for c in numeric
            if c is not total_col and (c in natural or ev.could_be_part(figs.column(c.index, search, "search"), total_fig))
        ]
        pool = sorted(pool, key=lambda c: abs(c.index - total_col.index))[: ev.MAX_POOL if proposed else ev.MAX_POOL_DISCOVERED]
        pool.sort(key=lambda c: c.index)
        if len(pool) < 2:
            continue
        components, held, checked, searched = _choose_components(table, figs, total_col, natural, pool, search)
        formula = _formula_reading(table, total_col, natural)
        if formula is not None:
            components, source = formula, "formula"
        elif checked < ev.VOTING_ROWS:
            if not (proposed and natural and ev.unambiguous_sum(total_col, natural)):
                continue
            components, source = natural, "header"
        elif ev.enough(held, checked, proposed, proposed and ev.unambiguous_sum(total_col, components)) and (
            not searched or ev.beats_chance(held, ev.chance_agreement(total_fig, [figs.column(c.index, search, "search") for c in pool], table.rounded_units))
        ):
            source = "header" if proposed else "arithmetic"
        else:
            if proposed:
                ev.remember(table, ev.Reading(
                    "sum", total_col.name, f"{total_col.name} = any sum of the columns beside it", "header",
                    held=held, checked=checked, why="no reading holds in enough rows", cell=ev.header_cell(table, total_col),
                ))
            continue
        if any(total_col in r.parts[1] and {c.index for c in components} <= {c.index for c in (*r.parts[1], r.parts[0])} for r in kept):
            continue  # a subtotal the kept reading already covers, read backwards
        rows = [r.index for r in table.rows if r.kind != "ratio"]
        sparse = _sparse_parts(table, figs, total_col, components, pool, rows)
        components = sorted([*components, *sparse], key=lambda c: c.index)
        held_all, checked_all = ev.sum_support(
            figs.column(total_col.index, rows, "sums"), [figs.column(c.index, rows, "sums") for c in components], table.rounded_units
        )
        if source == "arithmetic" and (
            not ev.enough(held_all, checked_all, False)  # it held where the parts were large, not across the table
            or ev.one_sided(figs.column(total_col.index, rows, "sums"), [figs.column(c.index, rows, "sums") for c in components])
        ):
            continue
        reading = ev.Reading(
            "sum", total_col.name, f"{total_col.name} = {' + '.join(c.name for c in components)}", source,
            held=held_all, checked=checked_all, kept=True, parts=(total_col, tuple(components)),
            extra={"sparse": {c.index for c in sparse}},
        )
        ev.remember(table, reading)
        kept.append(reading)
    return kept


def _choose_components(
    table: Table, figs: ev.TableFigures, total_col: Column, natural: list[Column], pool: list[Column], search: list[int]
) -> tuple[list[Column], int, int, bool]:
    """The components the rows obey: the header's own (the counts under the Total's group, or
    between it and the previous total) when they hold in enough rows, else the best subset
    (``searched``: its support must then beat chance)."""
    total_fig = figs.column(total_col.index, search, "search")
    natural_at = tuple(i for i, c in enumerate(pool) if c in natural)
    members, held, checked = ev.best_components(
        total_fig, [figs.column(c.index, search, "search") for c in pool], natural_at, table.rounded_units
    )
    best = [pool[i] for i in members]
    if natural and best != natural and total_col.role == "total":
        n_held, n_checked = ev.sum_support(total_fig, [figs.column(c.index, search, "search") for c in natural], table.rounded_units)
        categories = ev.unambiguous_sum(total_col, natural)
        if n_checked >= ev.VOTING_ROWS and (n_held >= held or ev.enough(n_held, n_checked, True, categories)):
            return natural, n_held, n_checked, False
    return best, held, checked, True


def _sparse_parts(
    table: Table, figs: ev.TableFigures, total_col: Column, components: list[Column], pool: list[Column], rows: list[int]
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


def _formula_reading(table: Table, total_col: Column, natural: list[Column]) -> list[Column] | None:
    """The columns the total's own formula adds up in its row (=SUM(F2,I2:J2): F, I, J): the
    author's statement, checked in every row. Columns between the formula's last and the total that
    it skips are the neighbours it leaves out, and stay in the reading, so that the finding says so."""
    sheet = table.sheet
    if not (sheet.formulas or sheet.shared):
        return None
    by_index = {c.index: c for c in table.columns if c.role in ("count", "total", "change", "measure")}
    for row in table.rows[:20]:
        formula = sheet.formula(cell_ref(row.index, total_col.index))
        if not formula or "!" in formula or not re.match(r"^\s*(?:SUM\(|[A-Z$]+\d+\s*\+)", formula.upper()):
            continue
        cols: set[int] = set()
        for m in FORMULA_REF_RE.finditer(formula.upper()):
            r1, r2 = int(m.group(2)), int(m.group(4) or m.group(2))
            if r1 != row.index + 1 or r2 != row.index + 1:
                return None  # a formula over other rows: not this row's sum
            a, b = parse_ref(f"{m.group(1)}1")[1], parse_ref(f"{m.group(3) or m.group(1)}1")[1]
            cols.update(range(min(a, b), max(a, b) + 1))
        parts = [by_index[c] for c in sorted(cols) if c in by_index and c != total_col.index]
        if len(parts) < 2:
            return None
        edge = max(c.index for c in parts) if total_col.index > parts[-1].index else min(c.index for c in parts)
        between = range(edge + 1, total_col.index) if total_col.index > edge else range(total_col.index + 1, edge)
        left_out = [c for c in natural if c.index in between and c not in parts]
        return sorted([*parts, *left_out], key=lambda c: c.index)
    return None


def _total_spans(table: Table) -> Iterator[tuple[Row, list[list[Row]]]]:
    """Each total row with the readings of the rows it may add up, the label's own reading first."""
    rows = table.rows
    totals = [i for i, r in enumerate(rows) if r.kind in ("total", "subtotal", "grand_total")]
    if not totals:
        return
    columns = summable(table)
    # a row with no figure at all is a section heading ("Registered deaths: 2020"), not a part
    counted = {r.index for r in rows if any(table.figure(r.index, c.index) is not None for c in columns)}
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
            detail = [r for r in span if r.kind == "body" and r.index in counted]
            if detail and detail not in out:
                out.append(detail)
        if len(subtotals) >= 2 and subtotals not in out:
            out.append(subtotals)
        if out:
            yield row, out


def _span_support(table: Table, reader: ev.Cells, total_row: Row, detail: list[Row]) -> tuple[int, int]:
    """(columns that agree, columns checked) for one reading of a total row."""
    held = checked = 0
    for col in summable(table):
        total = reader.figure(total_row.index, col.index)
        parts = [reader.figure(r.index, col.index) for r in detail]
        if total is None or total.value == 0 or any(p is None for p in parts):
            continue
        checked += 1
        tol = ev.rounding_of([*parts, total], table.rounded_units)  # type: ignore[list-item]
        lo, hi = ev.sum_interval(parts)  # type: ignore[arg-type]
        held += max(lo - total.hi, total.lo - hi, 0.0) <= tol + 1e-9 * (1 + abs(total.value))
    return held, checked


def total_row_readings(table: Table, reader: ev.Cells) -> Iterator[tuple[Row, list[Row], ev.Reading]]:
    """A total row's reading: the span of rows its columns add up, voted on column by column."""
    if table.not_additive:
        return
    for total_row, spans in _total_spans(table):
        label = total_row.label.strip()
        formula = _sums_its_column(table, total_row)
        stated = bool(TOTAL_ONLY_RE.match(label)) or formula
        candidates = []
        for n, detail in enumerate(spans):
            held, checked = _span_support(table, reader, total_row, detail)
            first, last = detail[0].index + 1, detail[-1].index + 1
            candidates.append(ev.Reading(
                "total_row", label, f'row "{label}" = sum(rows {first}–{last})', "label", held=held, checked=checked,
                parts=(total_row, detail), extra={"natural": n == 0},
            ))
        best = ev.pick(candidates)
        if best is None or best.checked == 0:
            continue
        if best.held == 0 or best.held < ev.PROPOSED_MAJORITY * best.checked:
            # the label's own reading stands when the cells' SUM formulas say so, when one column
            # cannot vote ("Total" under two rows, "c. 450") or when a column agrees exactly; when
            # no column of many agrees, only the evidence of a stale total keeps it
            natural = candidates[0]
            alone = stated and (formula or best.checked < 2 or natural.held >= 1)
            stale = _stale_span(table, reader, total_row, candidates[0].parts[1]) if stated and not alone else None
            if stale is None and not alone:
                best.why = "no span of rows adds up to it in enough columns"
                best.cell = ev.label_cell(table, total_row.index)
                ev.remember(table, best)
                continue
            # "Total" says it closes the rows above, and it is their sum but for the last (or first)
            # few: typed before those rows were added. Its own reading stands, and breaks.
            best = candidates[0]
            if stale is not None:
                best.extra["stale"] = (stale[0].index + 1, stale[-1].index + 1)
        best.kept = True
        ev.remember(table, best)
        yield total_row, best.parts[1], best


#: A total typed before its last rows were added matches the rows above but these many at most.
STALE_ROWS = 3


def _stale_span(table: Table, reader: ev.Cells, total_row: Row, detail: list[Row]) -> list[Row] | None:
    """The rows a stale total does add up: the span less its last (or first) few rows, when that
    holds in most columns; None when no such part of the span explains it."""
    for k in range(1, min(STALE_ROWS, len(detail) - 1) + 1):
        for part in (detail[:-k], detail[k:]):
            held, checked = _span_support(table, reader, total_row, part)
            if checked and ev.enough(held, checked, True):
                return part
    return None


def _sums_its_column(table: Table, total_row: Row) -> bool:
    """The total row's cells are SUM formulas: the author said which rows."""
    sheet = table.sheet
    if not (sheet.formulas or sheet.shared):
        return False
    return any(
        (f := sheet.formula(cell_ref(total_row.index, c.index))) and "SUM(" in f.upper() for c in summable(table)
    )


def parent_readings(table: Table, reader: ev.Cells) -> Iterator[tuple[int, list[Row], list[tuple[Column, Figure, list[tuple[str, Figure]]]]]]:
    """Each parent row with its "of which" rows and the columns where all their figures are stated.

    The parent is a hypothesis too: "of which: ..." says so, an indent only suggests it. An indented
    pair must add up in most columns; a single indented row is not checked at all, since part <= whole
    holds by chance in half the columns.
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
        if not cells:
            continue
        tol = [1e-9 * (1 + abs(whole.value)) for _, whole, _ in cells]
        if len(kids) >= 2:
            spans = [ev.sum_interval([f for _, f in parts]) for _, _, parts in cells]  # type: ignore[misc]
            votes = [max(lo - whole.hi, whole.lo - hi, 0) <= t for (lo, hi), (_, whole, _), t in zip(spans, cells, tol, strict=True)]
        else:
            votes = [parts[0][1].lo <= whole.hi + t for (_, whole, parts), t in zip(cells, tol, strict=True)]  # type: ignore[union-attr]
        held, checked = sum(votes), len(votes)
        said = all(CHILD_WORDS_RE.match(k.label) for k in kids)
        if len(kids) >= 2:
            kept = (said or held >= ev.PROPOSED_MAJORITY * checked) and not table.not_additive
            why = "a note says the figures need not add up" if table.not_additive else "its columns do not agree"
        else:  # part <= whole holds by chance in half the columns: an indent alone needs nearly all
            kept = said or (checked >= ev.ONE_PART_COLUMNS and held >= ev.ONE_PART_SHARE * checked)
            why = "one indented row, in too few columns to tell it is a part" if held == checked else "its columns do not agree"
        if not kept:
            ev.remember(table, ev.Reading(
                "of_which", labels[parent].strip(), f'rows below "{labels[parent].strip()}" are its parts', "label",
                held=held, checked=checked, why=why, cell=ev.label_cell(table, parent),
            ))
            continue
        yield parent, kids, cells  # type: ignore[misc]
