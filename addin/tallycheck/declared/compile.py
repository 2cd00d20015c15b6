"""A declared rule + a table -> Relation instances, the very ones the inferred families make.

``Total = Killed + Wounded + Missing`` becomes the same ``sum`` relations, built by the same helper,
as a header "Total" implies; ``Per day = Losses / days(Year)`` the same ``per_day`` ones; ``Low <=
Best <= High`` the same ``order`` ones. Only what no inferred family states (``Killed >= 0``,
``Rate = Killed / Population * 1000``) becomes an ``expression`` relation, evaluated with interval
arithmetic, so figures written as text ("about 5,000") keep their meaning.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..engine.figures import Figure, figure_of
from ..engine.grid import Sheet, cell_ref, parse_ref
from ..engine.hypotheses.averages import period_of
from ..engine.periods import Period, period_between, period_from_label
from ..engine.relations import Relation
from ..engine.rules import Reader, relation, sum_relation
from ..engine.tables import Column, Row, Table
from .parse import FUNCTIONS, BinOp, Call, Cell, Claim, Col, Expr, Neg, Num, RowRef, Rows, show

INF = math.inf
_TOTAL_KINDS = ("total", "subtotal", "grand_total")


class Unresolved(Exception):
    """A name in the rule that this table does not have (with the closest it has)."""

    def __init__(self, what: str, name: str, choices: list[str], hint: str = "") -> None:
        self.what, self.name, self.choices, self.hint = what, name, choices, hint
        close = difflib.get_close_matches(name.casefold(), [c.casefold() for c in choices], n=1, cutoff=0.6)
        self.suggestion = next((c for c in choices if close and c.casefold() == close[0]), None)
        super().__init__(self.message())

    def message(self, where: str = "") -> str:
        text = f"no {self.what} '{self.name}'{where}"
        if self.hint:
            return f"{text}; {self.hint}"
        if self.suggestion:
            return f"{text}; did you mean '{self.suggestion}'?"
        if self.choices:
            shown = ", ".join(f"'{c}'" for c in self.choices[:8])
            return f"{text} (the {self.what}s are {shown}{', ...' if len(self.choices) > 8 else ''})"
        return text


def _norm(text: str) -> str:
    return " ".join(str(text).casefold().split())


def mode_of(claim: Claim) -> str:
    """'columns' (checked in every row), 'rows' (in every column) or 'cells' (once)."""
    kinds = {type(node) for term in claim.terms for node in walk(term)}
    if Col in kinds:
        return "columns"
    if RowRef in kinds or Rows in kinds:
        return "rows"
    return "cells"


def walk(expr: Expr) -> Iterator[Expr]:
    yield expr
    if isinstance(expr, BinOp):
        yield from walk(expr.left)
        yield from walk(expr.right)
    elif isinstance(expr, Neg):
        yield from walk(expr.operand)
    elif isinstance(expr, Call):
        for arg in expr.args:
            yield from walk(arg)


def names_in(claim: Claim) -> list[str]:
    return [n.name for t in claim.terms for n in walk(t) if isinstance(n, Col)]


# ---------------------------------------------------------------- values


@dataclass
class Val:
    """An interval with the cells behind it and how to show it ("106,720 / 311")."""

    lo: float
    hi: float
    refs: tuple[str, ...] = ()
    fig: Figure | None = None
    shown: str = ""
    divides: bool = False
    period: Period | None = None

    @property
    def exact(self) -> bool:
        return self.lo == self.hi


def _mul(a: float, b: float) -> float:
    return 0.0 if a == 0 or b == 0 else a * b


def _combine(op: str, a: Val, b: Val) -> Val | None:
    refs = a.refs + tuple(r for r in b.refs if r not in a.refs)
    shown = f"{a.shown} {op} {b.shown}"
    if op == "+":
        return Val(a.lo + b.lo, a.hi + b.hi, refs, shown=shown, divides=a.divides or b.divides)
    if op == "-":
        return Val(a.lo - b.hi, a.hi - b.lo, refs, shown=shown, divides=a.divides or b.divides)
    if op == "*":
        ends = [_mul(x, y) for x in (a.lo, a.hi) for y in (b.lo, b.hi)]
        fractional = not (a.exact and b.exact and float(a.lo).is_integer() and float(b.lo).is_integer())
        return Val(min(ends), max(ends), refs, shown=shown, divides=a.divides or b.divides or fractional)
    if b.lo <= 0 <= b.hi:
        return None  # dividing by zero (or by an interval that may be zero): nothing to check
    ends = [x / y for x in (a.lo, a.hi) for y in (b.lo, b.hi) if not (math.isinf(x) and math.isinf(y))]
    return Val(min(ends), max(ends), refs, shown=shown, divides=True)


@dataclass
class Context:
    """What a rule is evaluated against: a table (and a row or a column of it), and the workbook."""

    table: Table | None
    reader: Reader | None
    sheets: dict[str, Sheet]
    default_sheet: str | None = None
    row: Row | None = None
    column: Column | None = None
    columns: dict[str, Column] = field(default_factory=dict)

    @property
    def home(self) -> str | None:
        return self.table.sheet.name if self.table is not None else self.default_sheet

    def qualified(self, sheet: str, ref: str) -> str:
        return ref if sheet == self.home else f"{sheet}!{ref}"


def resolve_column(table: Table, name: str) -> Column:
    wanted = _norm(name)
    for col in table.columns:
        if _norm(col.name) == wanted or (col.group and _norm(f"{col.group} {col.name}") == wanted):
            return col
    names = [c.name for c in table.columns if c.name]
    hint = ""
    if "-" in name and all(any(_norm(c) == _norm(p) for c in names) for p in name.split("-")):
        hint = f"for a subtraction put spaces around the minus: {' - '.join(p.strip() for p in name.split('-'))}"
    words = name.split()
    for i in range(1, len(words)):
        a, b = " ".join(words[:i]), " ".join(words[i:])
        if any(_norm(c) == _norm(a) for c in names) and any(_norm(c) == _norm(b) for c in names):
            hint = f"an operator is missing between '{a}' and '{b}'?"
    if "(" in name and name.endswith(")"):
        fn = name.split("(", 1)[0].strip()
        close = difflib.get_close_matches(fn.lower(), FUNCTIONS, n=1, cutoff=0.6)
        if close:
            hint = f"unknown function '{fn}'; did you mean {close[0]}({name.split('(', 1)[1]}?"
    raise Unresolved("column", name, names, hint)


def rows_labelled(table: Table, label: str) -> list[Row]:
    wanted = _norm(label)
    found = [r for r in table.rows if _norm(r.label) == wanted]
    if not found:
        raise Unresolved("row labelled", label, [r.label.strip() for r in table.rows if r.label.strip()])
    return found


def _sheet(ctx: Context, cell: Cell) -> Sheet:
    name = cell.sheet or ctx.home
    if name is None:
        raise Unresolved("sheet", "(none given)", list(ctx.sheets), f"say which sheet {cell.ref} is on: Sheet!{cell.ref}")
    for sheet_name, sheet in ctx.sheets.items():
        if _norm(sheet_name) == _norm(name):
            return sheet
    raise Unresolved("sheet", name, list(ctx.sheets))


def _cell_figure(ctx: Context, sheet: Sheet, ref: str) -> Figure | None:
    if ref in sheet.uncached:
        return None
    if ctx.table is not None and ctx.reader is not None and ctx.table.sheet is sheet:
        r, c = parse_ref(ref)
        return ctx.reader.figure(r, c)
    r, c = parse_ref(ref)
    return figure_of(sheet.value(r, c), sheet.number_format(r, c))


def _fig_val(fig: Figure | None, ref: str) -> Val | None:
    if fig is None:
        return None
    return Val(fig.lo, fig.hi, (ref,), fig, fig.show())


def _range_refs(ref: str) -> list[str]:
    first, _, last = ref.partition(":")
    (r1, c1), (r2, c2) = parse_ref(first), parse_ref(last or first)
    if (abs(r2 - r1) + 1) * (abs(c2 - c1) + 1) > 100_000:
        raise Unresolved("range that small", ref, [], "ranges are limited to 100,000 cells")
    return [cell_ref(r, c) for r in range(min(r1, r2), max(r1, r2) + 1) for c in range(min(c1, c2), max(c1, c2) + 1)]


def _row_span(table: Table, rows: Rows, target: Row | None) -> list[Row]:
    if rows.how in ("above", "below"):
        if target is None:
            raise Unresolved("row", f"rows {rows.how}", [], f'rows {rows.how} needs a row to stand beside: row "Total" = sum(rows {rows.how})')
        pos = table.rows.index(target)
        seq = table.rows[:pos][::-1] if rows.how == "above" else table.rows[pos + 1 :]
        out = []
        for r in seq:
            if r.kind in _TOTAL_KINDS:
                break
            if r.kind == "body":
                out.append(r)
        return out[::-1] if rows.how == "above" else out
    if rows.how == "label":
        return rows_labelled(table, rows.first)
    a, b = rows_labelled(table, rows.first)[0], rows_labelled(table, rows.last)[-1]
    i, j = sorted((table.rows.index(a), table.rows.index(b)))
    return table.rows[i : j + 1]


def evaluate(expr: Expr, ctx: Context) -> Val | None:
    """The interval an expression stands for in this row (or column); None when a figure is missing."""
    if isinstance(expr, Num):
        return Val(expr.value, expr.value, shown=expr.text)
    if isinstance(expr, Col):
        assert ctx.row is not None and ctx.reader is not None
        col = ctx.columns[expr.name]
        return _fig_val(ctx.reader.figure(ctx.row.index, col.index), cell_ref(ctx.row.index, col.index))
    if isinstance(expr, RowRef):
        assert ctx.table is not None and ctx.column is not None and ctx.reader is not None
        target = ctx.row if ctx.row is not None and _norm(ctx.row.label) == _norm(expr.label) else None
        row = target or rows_labelled(ctx.table, expr.label)[0]
        return _fig_val(ctx.reader.figure(row.index, ctx.column.index), cell_ref(row.index, ctx.column.index))
    if isinstance(expr, Rows):
        assert ctx.table is not None and ctx.column is not None and ctx.reader is not None
        vals = [
            _fig_val(ctx.reader.figure(r.index, ctx.column.index), cell_ref(r.index, ctx.column.index))
            for r in _row_span(ctx.table, expr, ctx.row)
        ]
        return _sum_vals(vals)
    if isinstance(expr, Cell):
        sheet = _sheet(ctx, expr)
        if expr.is_range:
            vals = []
            for ref in _range_refs(expr.ref):
                r, c = parse_ref(ref)
                if sheet.value(r, c) is None:
                    continue  # blank cells in a range count for nothing, as in =SUM()
                vals.append(_fig_val(_cell_figure(ctx, sheet, ref), ctx.qualified(sheet.name, ref)))
            return _sum_vals(vals)
        return _fig_val(_cell_figure(ctx, sheet, expr.ref), ctx.qualified(sheet.name, expr.ref))
    if isinstance(expr, Neg):
        inner = evaluate(expr.operand, ctx)
        return None if inner is None else Val(-inner.hi, -inner.lo, inner.refs, shown=f"-{inner.shown}", divides=inner.divides)
    if isinstance(expr, BinOp):
        left, right = evaluate(expr.left, ctx), evaluate(expr.right, ctx)
        if left is None or right is None:
            return None
        return _combine(expr.op, left, right)
    return _call(expr, ctx)


def _sum_vals(vals: list[Val | None]) -> Val | None:
    if not vals or any(v is None for v in vals):
        return None
    out = vals[0]
    for v in vals[1:]:
        out = _combine("+", out, v)  # type: ignore[arg-type]
    return out


def _call(call: Call, ctx: Context) -> Val | None:
    if call.fn == "days":
        period = _period(call, ctx)
        if period is None or period.days <= 0:
            return None
        return Val(period.days, period.days, shown=str(period.days), period=period)
    if call.fn == "previous":
        col_node = call.args[0]
        assert isinstance(col_node, Col) and ctx.table is not None and ctx.row is not None and ctx.reader is not None
        prev = _previous_row(ctx.table, ctx.row)
        if prev is None:
            return None
        col = ctx.columns[col_node.name]
        return _fig_val(ctx.reader.figure(prev.index, col.index), cell_ref(prev.index, col.index))
    vals = [evaluate(a, ctx) for a in call.args]
    if any(v is None for v in vals):
        return None
    if call.fn == "sum":
        return _sum_vals(vals)  # type: ignore[arg-type]
    refs = tuple(r for v in vals for r in v.refs)  # type: ignore[union-attr]
    shown = f"{call.fn}({', '.join(v.shown for v in vals)})"  # type: ignore[union-attr]
    if call.fn == "abs":
        (v,) = vals
        lo, hi = (v.lo, v.hi) if v.lo >= 0 else (-v.hi, -v.lo) if v.hi <= 0 else (0.0, max(-v.lo, v.hi))  # type: ignore[union-attr]
        return Val(lo, hi, refs, shown=shown)
    pick = min if call.fn == "min" else max
    return Val(pick(v.lo for v in vals), pick(v.hi for v in vals), refs, shown=shown)  # type: ignore[union-attr]


def _previous_row(table: Table, row: Row) -> Row | None:
    if row.kind != "body":
        return None
    body = [r for r in table.rows if r.kind == "body"]
    pos = body.index(row)
    return body[pos - 1] if pos > 0 else None


def _text_of(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def _period(call: Call, ctx: Context) -> Period | None:
    args = call.args
    if ctx.table is None or ctx.row is None:
        if len(args) == 1 and isinstance(args[0], Cell):
            sheet = _sheet(ctx, args[0])
            r, c = parse_ref(args[0].ref)
            return period_from_label(_text_of(sheet.value(r, c)))
        return None
    table, row = ctx.table, ctx.row
    values = []
    for arg in args:
        if isinstance(arg, Col):
            col = ctx.columns[arg.name]
            if len(args) == 1 and col.index == table.label_col:
                return period_of(table, row)
            values.append(table.sheet.value(row.index, col.index))
        else:
            assert isinstance(arg, Cell)
            sheet = _sheet(ctx, arg)
            r, c = parse_ref(arg.ref)
            values.append(sheet.value(r, c))
    if len(values) == 2:
        return period_between(*values)
    return period_from_label(_text_of(values[0]), table.context)


# ---------------------------------------------------------------- shapes -> relations


@dataclass
class Compiled:
    """Relations a rule gave in one table, and how they should be shown in ``explain``."""

    relations: list[Relation]
    kind: str


def _single(expr: Expr) -> bool:
    return isinstance(expr, Col | RowRef) or (isinstance(expr, Cell) and not expr.is_range)


def _terms_of_sum(expr: Expr) -> list[Expr] | None:
    """A + B + C (or sum(A, B, C), rows above, a range) as its parts; None for anything else."""
    if isinstance(expr, BinOp) and expr.op == "+":
        left, right = _terms_of_sum(expr.left), _terms_of_sum(expr.right)
        return None if left is None or right is None else left + right
    if isinstance(expr, Call) and expr.fn == "sum":
        parts: list[Expr] = []
        for arg in expr.args:
            sub = _terms_of_sum(arg)
            if sub is None:
                return None
            parts.extend(sub)
        return parts
    if isinstance(expr, Col | RowRef | Rows | Cell):
        return [expr]
    return None


def _percent_shape(expr: Expr) -> tuple[Expr, Expr] | None:
    """A / B * 100, 100 * A / B, A * 100 / B -> (A, B)."""
    if not isinstance(expr, BinOp):
        return None
    if expr.op == "*":
        for a, b in ((expr.left, expr.right), (expr.right, expr.left)):
            if isinstance(b, Num) and b.value == 100 and isinstance(a, BinOp) and a.op == "/" and _single(a.left) and _single(a.right):
                return a.left, a.right
    if expr.op == "/" and _single(expr.right) and isinstance(expr.left, BinOp) and expr.left.op == "*":
        a, b = expr.left.left, expr.left.right
        if isinstance(b, Num) and b.value == 100 and _single(a):
            return a, expr.right
        if isinstance(a, Num) and a.value == 100 and _single(b):
            return b, expr.right
    return None


def _cumulative_shape(lhs: Expr, rhs: Expr) -> Expr | None:
    """C = previous(C) + D (either order) -> D."""
    if not (isinstance(rhs, BinOp) and rhs.op == "+" and isinstance(lhs, Col)):
        return None
    for a, b in ((rhs.left, rhs.right), (rhs.right, rhs.left)):
        if isinstance(a, Call) and a.fn == "previous" and _norm(a.args[0].name) == _norm(lhs.name) and isinstance(b, Col):  # type: ignore[union-attr]
            return b
    return None


_MIRROR = {"<=": ">=", ">=": "<=", "<": ">", ">": "<", "=": "="}


def _pairs(claim: Claim) -> list[tuple[Expr, str, Expr]]:
    """A chain as pairs; the single reference goes left (it is the cell that gets marked)."""
    out = []
    for i, op in enumerate(claim.ops):
        left, right = claim.terms[i], claim.terms[i + 1]
        if not _single(left) and _single(right):
            left, right, op = right, left, _MIRROR[op]
        out.append((left, op, right))
    return out


def compile_claim(claim: Claim, ctx: Context, each: Callable[[], Iterator[Context]]) -> Compiled:
    """Every relation ``claim`` states, one per row (or column, or once for cells) that ``each`` yields."""
    relations: list[Relation] = []
    kind = "expression"
    for left, op, right in _pairs(claim):
        for here in each():
            rel, kind = _one(left, op, right, here)
            if rel is not None:
                relations.append(rel)
    return Compiled(relations, kind)


def _one(left: Expr, op: str, right: Expr, ctx: Context) -> tuple[Relation | None, str]:
    table = ctx.table
    if op in ("<=", ">=") and isinstance(left, Col) and isinstance(right, Col) and table is not None:
        low, high = (left, right) if op == "<=" else (right, left)
        return _order(low, high, ctx), "order"
    if op == "=":
        parts = _terms_of_sum(right)
        if parts is not None and _single(left):
            return _sum(left, right, ctx), "sum"
        if isinstance(left, Col) and isinstance(right, BinOp) and right.op == "/" and isinstance(right.right, Call) and right.right.fn == "days" and isinstance(right.left, Col):
            return _per_day(left, right.left, right.right, ctx), "per_day"
        change = _cumulative_shape(left, right)
        if change is not None and ctx.row is not None and ctx.table is not None:
            prev = _previous_row(ctx.table, ctx.row)
            if prev is not None and prev.date is not None and ctx.row.date is not None:
                if (ctx.row.date - prev.date).days != 1:
                    return None, "cumulative"
                return _cumulative(left, change, prev, ctx), "cumulative"  # type: ignore[arg-type]
        shape = _percent_shape(right)
        if shape is not None and _single(left) and table is not None:
            return _percent(left, *shape, ctx), "percent"
    return _expression(left, op, right, ctx), "expression"


def _rel(ctx: Context, sheet: str | None, **kw: Any) -> Relation:
    """A relation marked on ``sheet``: the table's own when the marked cell is in it."""
    if ctx.table is not None and (sheet is None or sheet == ctx.table.sheet.name):
        return relation(ctx.table, **kw)
    return Relation(sheet=sheet or ctx.home or "", table="", **kw)


def _order(low: Col, high: Col, ctx: Context) -> Relation | None:
    a, b = evaluate(low, ctx), evaluate(high, ctx)
    if a is None or b is None:
        return None
    ca, cb = ctx.columns[low.name], ctx.columns[high.name]
    estimates = {ca.role, cb.role} <= {"low", "best", "high"}
    return relation(
        ctx.table, kind="order", rule="estimate_order" if estimates else "order", cell=b.refs[0], cells=(a.refs[0], b.refs[0]),  # type: ignore[arg-type]
        found=(a.lo, a.hi), expected=(b.lo, b.hi),
        facts={"low": a.fig, "high": b.fig, "low_name": ca.name, "high_name": cb.name, "label": ctx.row.label if ctx.row else ""},
    )


def _display(expr: Expr, ctx: Context) -> str:
    if isinstance(expr, Col):
        return ctx.columns[expr.name].name
    if isinstance(expr, RowRef):
        return expr.label
    return show(expr)


def _sum(left: Expr, right: Expr, ctx: Context) -> Relation | None:
    total = evaluate(left, ctx)
    parts_expr = _terms_of_sum(right) or []
    parts_vals = [evaluate(p, ctx) for p in parts_expr]
    if total is None or total.fig is None or any(v is None for v in parts_vals):
        return None
    parts: list[tuple[str, Figure]] = []
    for v in parts_vals:
        if v.fig is not None:  # type: ignore[union-attr]
            parts.append((v.refs[0], v.fig))  # type: ignore[union-attr]
        else:  # a range or rows: every cell behind it, figure by figure
            parts.extend(_leaf_figures(v, ctx))  # type: ignore[arg-type]
    total_ref = total.refs[0]
    table = ctx.table
    if isinstance(left, RowRef) and table is not None and ctx.column is not None:
        rows = [r for r in table.rows if cell_ref(r.index, ctx.column.index) in {ref for ref, _ in parts}]
        facts: dict[str, Any] = {"subject": left.label, "column": ctx.column.name}
        if rows:
            facts |= {"first": rows[0], "last": rows[-1]}
        contiguous = rows and all(r.kind == "body" for r in table.rows[table.rows.index(rows[0]) : table.rows.index(rows[-1]) + 1])
        if not contiguous or any(isinstance(p, RowRef) for p in parts_expr):
            facts["what"] = " + ".join(show(p) for p in parts_expr)
        return sum_relation(table, "total_row", total.fig, total_ref, parts, **facts)
    names = [_display(p, ctx) for p in parts_expr]
    facts = {"subject": _display(left, ctx), "names": names, "row_label": ctx.row.label if ctx.row else ""}
    if table is not None and "!" not in total_ref:
        return sum_relation(table, "sum", total.fig, total_ref, parts, **facts)
    figures = [f for _, f in parts]
    return _rel(
        ctx, kind="sum", rule="sum", cell=total_ref.split("!")[-1], cells=(*(r for r, _ in parts), total_ref.split("!")[-1]),
        sheet=total_ref.split("!")[0] if "!" in total_ref else ctx.home,
        found=(total.fig.lo, total.fig.hi), expected=(sum(f.lo for f in figures), sum(f.hi for f in figures)),
        rounded=total.fig.rounding(),
        facts={"total": total.fig, "parts": figures, "left_out": [], "unit": total.fig.unit, **facts},
    )


def _leaf_figures(v: Val, ctx: Context) -> list[tuple[str, Figure]]:
    """The figures of the cells a summed range or row span covers (each is one part)."""
    out = []
    for ref in v.refs:
        sheet_name, _, cell = ref.rpartition("!")
        sheet = ctx.sheets.get(sheet_name) if sheet_name else (ctx.table.sheet if ctx.table is not None else ctx.sheets.get(ctx.home or ""))
        if sheet is None:
            continue
        fig = _cell_figure(ctx, sheet, cell)
        if fig is not None:
            out.append((ref, fig))
    return out


def _per_day(avg_col: Col, count_col: Col, days: Call, ctx: Context) -> Relation | None:
    avg, count, d = evaluate(avg_col, ctx), evaluate(count_col, ctx), evaluate(days, ctx)
    if avg is None or count is None or d is None or avg.fig is None or count.fig is None or d.period is None:
        return None
    period = d.period
    return relation(
        ctx.table, kind="per_day", rule="per_day", cell=avg.refs[0], cells=(count.refs[0], avg.refs[0]),  # type: ignore[arg-type]
        found=(avg.lo, avg.hi), expected=(count.lo / period.days, count.hi / period.days),
        tolerance=10.0 ** -avg.fig.decimals, strict=True,
        facts={"average": avg.fig, "count": count.fig, "period": period, "label": ctx.row.label if ctx.row else ""},
    )


def _cumulative(cum_col: Col, change_col: Col, prev: Row, ctx: Context) -> Relation | None:
    assert ctx.row is not None and ctx.reader is not None
    cum, change = ctx.columns[cum_col.name], ctx.columns[change_col.name]
    before, after = ctx.reader.figure(prev.index, cum.index), ctx.reader.figure(ctx.row.index, cum.index)
    step = ctx.reader.figure(ctx.row.index, change.index)
    if before is None or after is None or step is None:
        return None
    prev_ref, cur_ref = cell_ref(prev.index, cum.index), cell_ref(ctx.row.index, cum.index)
    return relation(
        ctx.table, kind="cumulative", rule="cumulative", cell=cur_ref, cells=(prev_ref, cell_ref(ctx.row.index, change.index), cur_ref),  # type: ignore[arg-type]
        found=(after.lo - before.hi, after.hi - before.lo), expected=(step.lo, step.hi),
        facts={"column": cum.name, "prev": prev.date, "cur": ctx.row.date, "before": before, "after": after,
               "change": step, "change_column": change.name},
    )


def _percent(left: Expr, part_expr: Expr, whole_expr: Expr, ctx: Context) -> Relation | None:
    p, part, whole = evaluate(left, ctx), evaluate(part_expr, ctx), evaluate(whole_expr, ctx)
    if p is None or part is None or whole is None or p.fig is None or part.fig is None or whole.fig is None or whole.lo <= 0:
        return None
    return relation(
        ctx.table, kind="percent", rule="percent", cell=p.refs[0], cells=(part.refs[0], whole.refs[0], p.refs[0]),  # type: ignore[arg-type]
        found=(p.lo, p.hi), expected=(100 * part.lo / whole.hi, 100 * part.hi / whole.lo),
        tolerance=10.0 ** -p.fig.decimals, strict=True,
        facts={"percent": p.fig, "part": part.fig, "whole": whole.fig,
               "part_name": _display(part_expr, ctx), "whole_name": _display(whole_expr, ctx)},
    )


def _expression(left: Expr, op: str, right: Expr, ctx: Context) -> Relation | None:
    a, b = evaluate(left, ctx), evaluate(right, ctx)
    if a is None or b is None or not a.refs:
        return None
    tolerance, strict = 0.0, False
    if op == "=" and a.fig is not None and b.divides:
        tolerance, strict = 10.0 ** -a.fig.decimals, True  # shown with d decimals: |A - x| < 10^-d
    expected = {
        "=": (b.lo, b.hi),
        "<=": (-INF, b.hi),
        "<": (-INF, math.nextafter(b.hi, -INF)),
        ">=": (b.lo, INF),
        ">": (math.nextafter(b.lo, INF), INF),
    }[op]
    marked = a.refs[0]
    sheet = ctx.home
    if "!" in marked:
        sheet, _, marked = marked.rpartition("!")
    cells = tuple(dict.fromkeys((*b.refs, *a.refs[1:], a.refs[0])))
    cells = tuple(c.split("!")[-1] if c.split("!")[0] == sheet and "!" in c else c for c in cells)
    return _rel(
        ctx, kind="expression", rule="expression", cell=marked, cells=tuple(c if c != a.refs[0] else marked for c in cells),
        sheet=sheet, found=(a.lo, a.hi), expected=expected, tolerance=tolerance, strict=strict,
        facts={"lhs": _display(left, ctx), "rhs": show(right), "op": op, "found_shown": a.shown, "values": b.shown,
               "value": b, "label": ctx.row.label if ctx.row else ""},
    )
