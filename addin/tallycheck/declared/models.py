"""Rules in Python: a pandera DataFrameModel (or DataFrameSchema) registered for a type of table.

    import pandera.pandas as pa
    from tallycheck.declared import register_model

    @register_model(sheet="Losses")
    class Losses(pa.DataFrameModel):
        Killed: float = pa.Field(ge=0, nullable=True)
        Wounded: float = pa.Field(ge=0, nullable=True)
        Total: float = pa.Field(nullable=True)

        @pa.dataframe_check
        def total_is_sum(cls, df):
            return df["Total"] == df["Killed"] + df["Wounded"]

A table matches when it has every column the model names (headers, case and spacing aside) and,
when given, is on ``sheet`` / has ``title`` in its title. Its rows become one frame, figures as
numbers (empty and text cells as NaN), indexed so that every failure case maps back to a cell; all
matching tables of a workbook are validated in one frame, once per model. Installed packages can
register models through the ``tallycheck.models`` entry-point group (``name = "pkg.mod:Model"``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..engine.findings import Finding
from ..engine.grid import cell_ref

if TYPE_CHECKING:
    from ..engine.tables import Table


@dataclass
class Binding:
    """A schema and the tables it is for."""

    name: str
    schema: Any
    sheet: str | None = None
    title: str | None = None
    severity: str = "error"
    match: Callable[[Table], bool] | None = None

    @property
    def columns(self) -> list[str]:
        return list(self.schema.columns)

    def matches(self, table: Table) -> bool:
        if self.sheet is not None and _norm(self.sheet) != _norm(table.sheet.name):
            return False
        if self.title is not None and _norm(self.title) not in _norm(table.title):
            return False
        if self.match is not None:
            return bool(self.match(table))
        headers = {_norm(c.name) for c in table.columns}
        return bool(self.columns) and all(_norm(c) in headers for c in self.columns)


_REGISTRY: list[Binding] = []
_ENTRY_POINTS_LOADED = False


def _norm(text: str) -> str:
    return " ".join(str(text).casefold().split())


def register_model(
    model: Any = None, *, sheet: str | None = None, title: str | None = None, severity: str = "error",
    name: str | None = None, match: Callable[[Table], bool] | None = None,
) -> Any:
    """Register a DataFrameModel class or a DataFrameSchema; usable as a decorator, with or without arguments."""

    def register(obj: Any) -> Any:
        schema = obj.to_schema() if hasattr(obj, "to_schema") else obj
        if not hasattr(schema, "validate") or not hasattr(schema, "columns"):
            raise TypeError(f"{obj!r} is neither a pandera DataFrameModel nor a DataFrameSchema")
        if severity not in ("error", "warning"):
            raise ValueError("severity must be 'error' or 'warning'")
        label = name or getattr(obj, "__name__", None) or schema.name or "model"
        unregister(label)
        _REGISTRY.append(Binding(label, schema, sheet, title, severity, match))
        return obj

    return register(model) if model is not None else register


def unregister(name: str | None = None) -> None:
    """Forget one registered model by name, or all of them."""
    _REGISTRY[:] = [b for b in _REGISTRY if name is not None and b.name != name]


def registered() -> list[Binding]:
    _load_entry_points()
    return list(_REGISTRY)


def _load_entry_points() -> None:
    global _ENTRY_POINTS_LOADED
    if _ENTRY_POINTS_LOADED:
        return
    _ENTRY_POINTS_LOADED = True
    from importlib.metadata import entry_points

    for ep in entry_points(group="tallycheck.models"):
        try:
            obj = ep.load()
        except Exception:  # a broken plug-in must not stop a run; it is simply absent
            continue
        if not any(b.name == ep.name for b in _REGISTRY):
            register_model(obj, name=ep.name)


def _frame(binding: Binding, tables: list[Table]) -> tuple[Any, list[tuple[Table, int]]]:
    """All matching tables' rows as one frame; position -> (table, sheet row)."""
    import pandas as pd

    where: list[tuple[Table, int]] = []
    columns: dict[str, list[float]] = {c: [] for c in binding.columns}
    for table in tables:
        by_name = {_norm(c.name): c for c in table.columns}
        for row in table.rows:
            where.append((table, row.index))
            for name in binding.columns:
                fig = table.figure(row.index, by_name[_norm(name)].index)
                columns[name].append(fig.value if fig is not None else float("nan"))
    frame = pd.DataFrame(columns, index=range(len(where)), dtype=float)
    for name, column in binding.schema.columns.items():
        dtype = str(getattr(column, "dtype", "") or "")
        values = frame[name]
        if dtype.startswith("int") and values.notna().all() and (values % 1 == 0).all():
            frame[name] = values.astype(dtype)
    return frame, where


def validate(tables: list[Table]) -> list[Finding]:
    """Every registered model against the tables it matches; failures as findings on their cells."""
    findings: list[Finding] = []
    for binding in registered():
        matched = [t for t in tables if binding.matches(t)]
        if not matched:
            continue
        import pandera.pandas as pa  # only when a model applies: the Excel button's start-up counts

        frame, where = _frame(binding, matched)
        try:
            binding.schema.validate(frame, lazy=True)
        except pa.errors.SchemaErrors as errors:
            findings.extend(_findings(binding, errors.failure_cases, where, matched))
        except pa.errors.SchemaError as error:  # a model that is not lazy-capable
            findings.append(_table_finding(binding, matched[0], str(error)))
    return findings


def _findings(binding: Binding, cases: Any, where: list[tuple[Table, int]], tables: list[Table]) -> list[Finding]:
    out: dict[tuple[str, str, str], Finding] = {}
    for case in cases.to_dict("records"):
        check = str(case.get("check"))
        index = case.get("index")
        column = case.get("column")
        if index is None or index != index:  # a whole-table failure (a column missing, a wrong type)
            f = _table_finding(binding, tables[0], f"{check} ({column})" if column else check)
            out.setdefault((f.sheet, f.cell, check), f)
            continue
        table, row = where[int(index)]
        by_name = {_norm(c.name): c for c in table.columns}
        cols = [by_name[_norm(c)] for c in binding.columns]
        col = by_name.get(_norm(str(column))) if column else None
        marked = cell_ref(row, (col or cols[-1]).index)
        key = (table.sheet.name, marked, check)
        if key in out:
            continue
        label = next((r.label for r in table.rows if r.index == row), "")
        value = table.figure(row, col.index) if col is not None else None
        what = f"{col.name} {value.show()}" if value is not None and col is not None else (col.name if col else f"row {row + 1}")
        where_text = f" in row {label.strip()!r}" if label.strip() else f" in row {row + 1}"
        out[key] = Finding(
            rule="model", severity=binding.severity, sheet=table.sheet.name, cell=marked,  # type: ignore[arg-type]
            cells=tuple(cell_ref(row, c.index) for c in cols), expected=_readable(check),
            found=value.value if value is not None else None, tolerance=0,
            message=f"{what}{where_text} fails {_readable(check)} (model {binding.name})",
            table=table.name,
        )
    return list(out.values())


def _readable(check: str) -> str:
    """greater_than_or_equal_to(0) -> '>= 0'; a check's own name otherwise."""
    m = re.fullmatch(r"(\w+)\((.*)\)", check)
    words = {
        "greater_than_or_equal_to": ">=", "greater_than": ">", "less_than_or_equal_to": "<=",
        "less_than": "<", "equal_to": "=", "not_equal_to": "≠", "in_range": "in range",
    }
    if m and m.group(1) in words:
        return f"{words[m.group(1)]} {m.group(2)}"
    return check


def _table_finding(binding: Binding, table: Table, what: str) -> Finding:
    ref = cell_ref(table.top, table.left)
    return Finding(
        rule="model", severity=binding.severity, sheet=table.sheet.name, cell=ref, cells=(ref,),  # type: ignore[arg-type]
        expected=None, found=None, tolerance=0, message=f"Table {table.name} fails {what} (model {binding.name})",
        table=table.name,
    )
