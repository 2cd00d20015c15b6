"""Failing relations -> findings with a message an analyst understands, naming real cells."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

from .figures import Figure, format_number
from .findings import Finding, Severity
from .relations import Relation


def _n(value: float, decimals: int | None = None) -> str:
    return format_number(value, decimals)


_QUALIFIER = re.compile(r"^(About|Approx\.?|Approximately|Around|Some|Nearly|Roughly|Over|More than|At least|Under|Less than|Up to|Almost)\b")


def _mid(figure: Figure) -> str:
    """A figure as written, for the middle of a sentence: "Over 200,000" reads "over 200,000"."""
    text = figure.show()
    return _QUALIFIER.sub(lambda m: m.group(0).lower(), text)


def _plain(value: float) -> float | int | None:
    """JSON-friendly: whole numbers as int, others rounded to what a person would compare."""
    if value != value or value in (float("inf"), float("-inf")):
        return None
    return round(value) if abs(value - round(value)) < 1e-9 else round(value, 4)


def _point(lo: float, hi: float) -> float | int | None:
    """One number for an interval: itself when exact, its finite bound when open ("over N": N)."""
    if hi == float("inf"):
        return _plain(lo)
    if lo == float("-inf"):
        return _plain(hi)
    return _plain(lo) if hi - lo < 1e-9 else _plain((lo + hi) / 2)


def _span(lo: float, hi: float, decimals: int | None = None) -> str:
    if hi - lo < 1e-9:
        return _n(lo, decimals)
    if hi == float("inf"):
        return f"over {_n(lo, decimals)}"
    if lo == float("-inf"):
        return f"under {_n(hi, decimals)}"
    return f"{_n(lo, decimals)}–{_n(hi, decimals)}"


def _off(rel: Relation) -> float:
    lo, hi = rel.found
    elo, ehi = rel.expected
    return max(elo - hi, lo - ehi, 0.0)


def _day(d: date) -> str:
    return f"{d.day} {d.strftime('%b')} {d.year}"


def _row_and_column(row: str, column: str) -> str:
    """"Total Persons" for the Total row's Persons column; "Total", not "Total Total", where both say it."""
    row, column = row.strip(), str(column).strip()
    return row if row.casefold() == column.casefold() or not column else f"{row} {column}".strip()


def _sum(rel: Relation, severity: str) -> str:
    f: dict[str, Any] = rel.facts
    total: Figure = f["total"]
    parts: list[Figure] = f["parts"]
    if rel.rule == "sum":
        subject, what = f["subject"], " + ".join(f["names"])
    elif rel.rule == "of_which":
        subject, what = f["subject"].strip(), "its parts " + " + ".join(_mid(p) for p in parts)
    elif "what" in f:  # a declared sum of rows that are not one block: row "A" + row "B"
        subject, what = _row_and_column(f["subject"], f["column"]), f["what"]
    else:
        first, last = f["first"], f["last"]
        rows = f"row {first.index + 1}" if first is last else f"rows {first.index + 1}–{last.index + 1}"
        labels = f" ({first.label} … {last.label})" if first is not last and first.label and last.label else ""
        subject = _row_and_column(f["subject"], f["column"])
        what = f"the sum of {rows}{labels}"
    expected = _span(*rel.expected)
    off = _n(_off(rel))
    if severity == "warning":
        text = (
            f"{subject} {_mid(total)} differs from {what} = {expected} by {off}; "
            f"within the rounding of a total rounded to the nearest {_n(f['unit'])}"
        )
    else:
        text = f"{subject} {_mid(total)} should equal {what} = {expected} (off by {off})"
    if f.get("left_out"):
        text += f"; its formula leaves out {', '.join(f['left_out'])}"
    if f.get("stale"):
        first, last = f["stale"]
        text += f"; it is the sum of rows {first}–{last}: typed before the other rows were added?"
    return text


def _part(rel: Relation, severity: str) -> str:
    f = rel.facts
    return (
        f"{f['part_label']} {_mid(f['part'])} is larger than {f['whole_label'].strip()} {_mid(f['whole'])}, "
        "which it is part of"
    )


def _per_day(rel: Relation, severity: str) -> str:
    f = rel.facts
    avg: Figure = f["average"]
    count: Figure = f["count"]
    period = f["period"]
    days = period.days
    decimals = max(1, avg.decimals + 1)
    shown = _span(*rel.expected, decimals) if count.lo != count.hi else _n(count.value / days, decimals)
    text = (
        f"{avg.show()} per day does not match {_mid(count)} over {period.describe()} = {shown} per day "
        f"(tolerance {_n(rel.tolerance, avg.decimals)})"
    )
    for other in (days - 1, days + 1):
        if other > 0 and count.lo == count.hi and abs(avg.value - count.value / other) < rel.tolerance:
            text += f"; it matches {other} days"
            break
    return text


def _percent(rel: Relation, severity: str) -> str:
    f = rel.facts
    p: Figure = f["percent"]
    value = f["part"].value / f["whole"].value * 100 if f["whole"].value else float("nan")
    return (
        f"{p.show().rstrip('% ')}% does not match {f['part_name']} / {f['whole_name']} × 100 = "
        f"{_n(value, p.decimals + 1)}% (tolerance {_n(rel.tolerance, p.decimals)})"
    )


def _shares(rel: Relation, severity: str) -> str:
    f = rel.facts
    return (
        f"The {f['n']} shares in {f['column']} add up to {_n(f['sum'], 2)}%, not 100% "
        f"(tolerance {_n(rel.tolerance, 2)} for rounding)"
    )


def _cumulative(rel: Relation, severity: str) -> str:
    f = rel.facts
    rise = f["after"].value - f["before"].value
    moved = f"rose by {_n(rise)}" if rise >= 0 else f"fell by {_n(-rise)}"
    return (
        f"{f['column']} {moved} from {_day(f['prev'])} to {_day(f['cur'])}, "
        f"but {f['change_column']} says {_mid(f['change'])} (off by {_n(_off(rel))})"
    )


def _falls(rel: Relation, severity: str) -> str:
    f = rel.facts
    return (
        f"{f['column']} falls from {_mid(f['before'])} on {_day(f['prev'])} to {_mid(f['after'])} on "
        f"{_day(f['cur'])}: a cumulative tally should never fall (a correction?)"
    )


def _order(rel: Relation, severity: str) -> str:
    f = rel.facts
    if rel.rule != "estimate_order":
        return f"{f['low_name']} {_mid(f['low'])} is above {f['high_name']} {_mid(f['high'])}: it should be at most {f['high_name']}"
    return f"{f['low_name']} {_mid(f['low'])} is above {f['high_name']} {_mid(f['high'])}: estimates should run low ≤ best ≤ high"


_SHOULD = {"=": "should equal", "<=": "should be at most", "<": "should be below", ">=": "should be at least", ">": "should be above"}


def _expression(rel: Relation, severity: str) -> str:
    """A declared relation no inferred family states: Rate = Killed / Population * 1000, Killed >= 0."""
    f = rel.facts
    op = f["op"]
    lo, hi = rel.expected
    shown = _span(lo, hi) if op == "=" else _n(hi if op in ("<=", "<") else lo)
    text = f"{f['lhs']} {f['found_shown']} {_SHOULD[op]} {f['rhs']}"
    if f["values"] and f["values"] not in (f["rhs"], shown):
        text += f" = {f['values']}"
    if shown != f["rhs"]:
        text += f" = {shown}"
    if op == "=":
        text += f" (off by {_n(_off(rel))}" + (f"; tolerance {_n(rel.tolerance)})" if rel.tolerance else ")")
    return text


def _dates(rel: Relation, severity: str) -> str:
    f = rel.facts
    gap = int(rel.found[0])
    if gap == 0:
        return f"{_day(f['cur'])} appears twice (rows {f['rows'][0]} and {f['rows'][1]})"
    if gap < 0:
        return f"{_day(f['cur'])} (row {f['rows'][1]}) comes after {_day(f['prev'])}: dates out of order"
    missing = gap - 1
    return f"{missing} day{'s' if missing > 1 else ''} missing between {_day(f['prev'])} and {_day(f['cur'])}"


_MESSAGES: dict[str, Callable[[Relation, str], str]] = {
    "sum": _sum, "part": _part, "per_day": _per_day, "percent": _percent, "shares": _shares,
    "cumulative": _cumulative, "never_falls": _falls, "order": _order, "dates": _dates, "expression": _expression,
}
_RULES = {"dates": {0: "duplicate_date", -1: "date_order"}}


def _evidence(rel: Relation) -> str:
    """How much of the table obeys the reading this row breaks: why it was checked at all.

    ``support`` (held, checked) is counted by the engine over the reading's relations, as validated.
    """
    if "support" not in rel.facts:
        return ""
    held, checked = rel.facts["support"]
    unit = rel.facts.get("support_unit", "rows")
    if checked <= 1:
        return ""
    if held == checked - 1:
        return f"; the other {held} of {checked} {unit} checked hold"
    return f"; {held} of the {checked} {unit} checked hold"


def rule_of(rel: Relation) -> str:
    """The rule a finding names: a relation's own, dates split by what went wrong."""
    if rel.kind == "dates":
        gap = int(rel.found[0])
        return "duplicate_date" if gap == 0 else "date_order" if gap < 0 else "date_gap"
    return rel.rule


def finding_of(rel: Relation, severity: Severity) -> Finding:
    """The finding a person reads for one failing relation (a declared rule may set its severity)."""
    rule = rule_of(rel)
    found: Any = _plain(rel.facts["total"].value) if "total" in rel.facts else _point(*rel.found)
    expected: Any = _point(*rel.expected)
    if rel.kind == "sum":
        expected = _plain(sum(p.value for p in rel.facts["parts"]))
    if rel.kind == "per_day":
        count = rel.facts["count"]
        expected = _plain(round(count.value / rel.facts["period"].days, 4))
        found = _plain(rel.facts["average"].value)
    if rel.kind == "cumulative":
        found = _plain(rel.facts["after"].value - rel.facts["before"].value)
        expected = _plain(rel.facts["change"].value)
    tolerance: Any = _plain(rel.facts["unit"] / 2) if severity == "warning" and rel.kind == "sum" else _plain(rel.tolerance)
    message = _MESSAGES[rel.kind](rel, severity) + _evidence(rel)
    if "declared" in rel.facts:
        message += f" ({rel.facts['declared']})"
    if severity == "error" and rel.facts.get("severity"):
        severity = rel.facts["severity"]
    return Finding(
        rule=rule, severity=severity, sheet=rel.sheet, cell=rel.cell, cells=rel.cells,
        expected=expected, found=found, tolerance=tolerance, message=message,
        table=rel.table,
        extra={"series": rel.facts["column"], "date": rel.facts["cur"].isoformat()} if rel.kind in ("cumulative", "never_falls") else {},
    )
