"""`tallycheck explain` and `tallycheck schema`: what will be checked, where each check came from, and
the pandera schemas that check it, without validating anything.

Both walk the same path as the engine (workbook -> grid -> tables -> inferred + declared relations)
and stop before pandera runs.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .engine.findings import Finding
from .engine.grid import WorkbookError, parse_ref, read_workbook
from .engine.relations import Relation
from .engine.tables import Table


@dataclass
class TablePlan:
    table: Table
    relations: list[Relation]
    direct: list[Finding]
    notes: list = field(default_factory=list)
    models: list[str] = field(default_factory=list)


@dataclass
class BookPlan:
    path: Path
    error: str | None = None
    tables: list[TablePlan] = field(default_factory=list)
    cells: list[Relation] = field(default_factory=list)
    rule_errors: list[Finding] = field(default_factory=list)
    homes: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def plan_workbook(path: Path, rules: Path | None = None) -> BookPlan:
    """Every table of a workbook with the relations that will be checked (inferred and declared)."""
    from .declared import declared_rules, registered
    from .engine import data_sheets, table_relations
    from .engine.tables import find_tables

    plan = BookPlan(Path(path))
    try:
        book = read_workbook(path)
    except WorkbookError as exc:
        plan.error = exc.reason
        return plan
    declared = declared_rules(book, rules)
    homes = Counter(e.origin.sheet if e.origin.in_workbook else Path(e.origin.file).name for e in declared.entries)
    plan.homes = [f"{n} rule{'s' if n != 1 else ''} from {home}" for home, n in homes.items()]
    if declared.config is not None and not any(Path(declared.config).name in h for h in plan.homes):
        plan.homes.append(f"no rule for this workbook in {declared.config}")
    checked = data_sheets(book, declared)
    plan.skipped = [s.name for s in book.sheets if all(s is not c for c in checked)]
    for sheet in checked:
        for table in find_tables(sheet):
            found, direct = table_relations(table, declared)
            models = [b.name for b in registered() if b.matches(table)]
            plan.tables.append(TablePlan(table, found, direct, declared.declared_for(table), models))
    plan.cells, findings = declared.finish()
    plan.rule_errors = [f for f in findings if f.rule == "rule_error"]
    return plan


# ---------------------------------------------------------------- describing relations


def _column_name(table: Table, ref: str) -> str:
    col = parse_ref(ref.split("!")[-1])[1]
    return next((c.name for c in table.columns if c.index == col), ref)


def describe(rel: Relation, table: Table | None) -> tuple[str, str]:
    """(the claim as a rule would state it, where it came from)."""
    f = rel.facts
    if "declared" in f:
        return f["claim"], f["declared"]
    assert table is not None
    rule = rel.rule
    if rule == "sum":
        subject = f["subject"]
        col = next((c for c in table.columns if c.name == subject), None)
        how = "arithmetic: the column adds up the others in most rows" if col is not None and col.source == "arithmetic" else f'the header "{subject}"'
        return f"{subject} = {' + '.join(f['names'])}", f"inferred from {how}"
    if rule == "total_row":
        first, last = f["first"], f["last"]
        rows = f"row {first.index + 1}" if first is last else f"rows {first.index + 1}–{last.index + 1}"
        return f'row "{f["subject"].strip()}" = sum of {rows}', f'inferred from the label "{f["subject"].strip()}"'
    if rule == "of_which":
        names = " + ".join(f'row "{n}"' for n in f["names"])
        return f'row "{f["subject"].strip()}" = {names}', "inferred from the \"of which\" / indented rows"
    if rule == "part_of_whole":
        return f'row "{f["part_label"]}" <= row "{f["whole_label"].strip()}"', "inferred from an \"of which\" row"
    if rule == "per_day":
        avg, count = _column_name(table, rel.cell), _column_name(table, rel.cells[0])
        period = f["period"]
        basis = "Start, End" if "Start/End" in period.source else (
            next((c.name for c in table.columns if c.index == table.label_col), "label") or "label"
        )
        return f"{avg} = {count} / days({basis})", f'inferred from the header "{avg}"; days from the {period.source.split(",")[0]}'
    if rule == "cumulative":
        col, change = f["column"], f["change_column"]
        return f"{col} = previous({col}) + {change}", f'inferred from the headers "{col}" and "{change}" on consecutive dates'
    if rule == "cumulative_falls":
        return f"{f['column']} never falls", f'inferred from the cumulative column "{f["column"]}"'
    if rule == "dates":
        return "dates one day apart, none repeated", "inferred from the dated rows"
    if rule in ("estimate_order", "order"):
        return f"{f['low_name']} <= {f['high_name']}", f'inferred from the headers "{f["low_name"]}" and "{f["high_name"]}"'
    if rule == "percent":
        pct, part = _column_name(table, rel.cell), _column_name(table, rel.cells[0])
        whole_col = _column_name(table, rel.cells[1])
        whole = whole_col if parse_ref(rel.cells[1])[1] != parse_ref(rel.cells[0])[1] else f'{whole_col} of row "{f["whole_name"]}"'
        return f"{pct} = {part} / {whole} * 100", f'inferred from the header "{pct}"'
    if rule == "shares_total":
        return f"the shares in {f['column']} add up to 100", f'inferred from the header "{f["column"]}"'
    return rule, "inferred"


def _groups(relations: Sequence[Relation], table: Table | None) -> list[tuple[str, str, str, int]]:
    counts: Counter[tuple[str, str, str]] = Counter()
    for rel in relations:
        claim, origin = describe(rel, table)
        counts[(rel.rule, claim, origin)] += 1
    return [(rule, claim, origin, n) for (rule, claim, origin), n in counts.items()]


def explain_text(paths: Sequence[Path], rules: Path | None = None) -> tuple[str, int]:
    """The explanation for every workbook, and the exit status (2 unreadable, 1 a rule error, else 0)."""
    from .report import _display

    lines: list[str] = []
    code = 0
    for path in paths:
        plan = plan_workbook(path, rules)
        lines.append(_display(plan.path))
        if plan.error:
            lines.append(f"  cannot read: {plan.error}")
            code = 2
            continue
        lines.append("  declared rules: " + ("; ".join(plan.homes) if plan.homes else "none (no Rules sheet, no tallycheck.toml)"))
        if plan.skipped:
            lines.append("  not checked as data: " + ", ".join(plan.skipped))
        if not plan.tables:
            lines.append("  no tables found")
        for tp in plan.tables:
            table = tp.table
            lines.append(f"  {table.name}")
            lines.append("    columns: " + " | ".join(f"{c.name or c.letter} ({c.role})" for c in table.columns))
            groups = _groups(tp.relations, table)
            if not groups:
                lines.append("    nothing to check")
            for rule, claim, origin, n in groups:
                lines.append(f"    {rule:<16} {claim:<44} ×{n:<4} {origin}")
            for note in tp.notes:
                if note.kind in ("ignore", "tolerance", "severity", "missing"):
                    effect = {"ignore": f"-{note.count}", "tolerance": f"~{note.count}", "severity": f"~{note.count}", "missing": ""}[note.kind]
                    lines.append(f"    {note.kind:<16} {note.text:<44} {effect:<5} {note.origin}")
                elif note.count == 0:
                    why = "the same relations are declared above" if note.kind == "duplicate" else "no row has all its figures"
                    lines.append(f"    {'(declared)':<16} {note.text:<44} ×0    {note.origin}: {why}")
            lines.extend(_reading_lines(table))
            uncached = [f for f in tp.direct if f.rule == "no_cached_value"]
            if uncached:
                lines.append(f"    no_cached_value  {len(uncached)} formula(s) without a cached value: reported, not read as 0")
            for model in tp.models:
                lines.append(f"    model            {model:<44}       registered in Python")
        if plan.cells:
            lines.append("  between cells")
            for rule, claim, origin, n in _groups(plan.cells, None):
                lines.append(f"    {rule:<16} {claim:<44} ×{n:<4} {origin}")
        if plan.rule_errors:
            code = max(code, 1)
            lines.append("  rule errors")
            for f in sorted(plan.rule_errors, key=lambda f: (f.sheet, int("".join(ch for ch in f.cell if ch.isdigit()) or 0))):
                lines.append(f"    {f.sheet}!{f.cell}: {f.message}" if f.sheet else f"    {f.message}")
    return "\n".join(lines), code


def _reading_lines(table: Table) -> list[str]:
    """The readings weighed for the table: kept (checked in every row) and rejected, with their support."""
    out = []
    for r in table.readings:
        verdict = "kept" if r.kept else "not checked"
        why = f": {r.why}" if r.why else ""
        out.append(f"    {'reading':<16} {r.text:<44} {r.support} {r.unit}, {verdict} ({r.source}){why}")
    return out


# ---------------------------------------------------------------- schemas


def schema_yaml(paths: Sequence[Path] = (), rules: Path | None = None) -> str:
    """The pandera schemas (YAML documents separated by ---) that check the relations of ``paths``.

    With no paths, every kind's schema. Registered models that match a table follow the kinds.
    """
    from .declared import registered
    from .engine.checks import CHECKS, schema_for

    kinds: Counter[str] = Counter()
    models: dict[str, int] = {}
    for path in paths:
        plan = plan_workbook(path, rules)
        for tp in plan.tables:
            kinds.update(r.kind for r in tp.relations)
            for name in tp.models:
                models[name] = models.get(name, 0) + 1
        kinds.update(r.kind for r in plan.cells)
    chosen = [k for k in CHECKS if k in kinds] if paths else list(CHECKS)
    docs: list[str] = []
    skipped: list[str] = []
    for kind in chosen:
        header = f"# kind {kind}: " + (f"{kinds[kind]:,} relation(s) in the workbooks given" if paths else "every relation of this kind")
        header += "; one row a relation (found and expected as intervals, tolerance, strict, rounding interval)"
        docs.append(f"{header}\n{schema_for(kind).to_yaml()}")
    for binding in registered():
        if paths and binding.name not in models:
            continue
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                text = binding.schema.to_yaml()
            for w in caught:  # a model's own (unregistered) checks are left out of the YAML: say so
                text = f"# note: {' '.join(str(w.message).split())}\n{text}"
        except Exception as exc:  # custom checks pandera cannot write as YAML
            skipped.append(f"# model {binding.name} cannot be written as YAML: {' '.join(str(exc).split())[:200]}\n")
            continue
        docs.append(f"# model {binding.name} (registered in Python)\n{text}")
    return "".join(skipped) + "---\n".join(docs)
