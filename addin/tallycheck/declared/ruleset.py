"""One workbook's declared rules: parsed once, applied to each table as it is found, finished once.

The engine calls, in data-flow order: ``declared_rules(book)`` -> for each table ``prepare`` (missing-
value codes) and ``apply`` (declared relations added, switches applied to the inferred ones) ->
``finish`` (cell relations between sheets, registered models, and the rules that found nothing to
apply to). A rule that cannot be used becomes a ``rule_error`` finding saying where it is; the others
still run.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..engine.findings import Finding
from ..engine.grid import Sheet, Workbook, parse_ref
from ..engine.hypotheses.sums import summable
from ..engine.relations import Relation
from ..engine.rules import Reader
from ..engine.tables import Table
from .sources import (
    Loaded,
    Origin,
    RuleRow,
    applies_to_workbook,
    config_rules,
    find_config,
    is_rules_sheet,
    rules_from_sheet,
)

if TYPE_CHECKING:  # the rule language itself is imported once there is a rule to read (most workbooks have none)
    from .compile import Compiled, Context, Unresolved
    from .parse import Claim, Switch, Tolerance

#: What ``ignore``, ``tolerance ... for`` and ``severity ... for`` can name: the rules findings carry.
KNOWN_RULES = (
    "sum", "total_row", "of_which", "part_of_whole", "per_day", "cumulative", "cumulative_falls",
    "duplicate_date", "date_gap", "date_order", "estimate_order", "order", "percent", "shares_total",
    "no_cached_value", "expression", "model",
)
_ALIASES = {"dates": ("duplicate_date", "date_gap", "date_order"), "all": KNOWN_RULES}


def rule_name(rel: Relation) -> str:
    """The rule a finding for this relation would carry (dates split by what went wrong)."""
    from ..engine.messages import rule_of

    return rule_of(rel)


@dataclass
class Entry:
    """A declared rule, parsed, with what became of it in this workbook."""

    row: RuleRow
    rule: Claim | Switch | None
    tolerance: Tolerance | None = None
    severity: str = ""
    strict: bool = True  # from the workbook's own Rules sheet: say when it applies to nothing
    mode: str = ""
    tables: list[str] = field(default_factory=list)
    relations: int = 0
    misses: list[tuple[Table, Unresolved]] = field(default_factory=list)

    @property
    def origin(self) -> Origin:
        return self.row.origin


@dataclass
class TableNote:
    """For ``explain``: what a declared rule or switch did to one table."""

    origin: str
    text: str
    kind: str
    count: int


class RuleSet:
    """The declared rules that apply to one workbook."""

    def __init__(self, book: Workbook, homes: list[tuple[Loaded, bool]], config: Path | None = None) -> None:
        self.book = book
        self.config = config
        self.sheets: dict[str, Sheet] = {s.name: s for s in book.sheets}
        self.entries: list[Entry] = []
        self.errors: list[Finding] = []
        self.tables: list[Table] = []
        self.notes: dict[str, list[TableNote]] = {}
        self.rules_sheets = {s.name for s in book.sheets if is_rules_sheet(s.name)}
        for loaded, strict in homes:
            for origin, message in loaded.problems:
                self._error(origin, "", message)
            for row in loaded.rows:
                if not strict and not applies_to_workbook(row, book.path, config):
                    continue
                self._add(row, strict)

    # ------------------------------------------------------------ reading

    def _add(self, row: RuleRow, strict: bool) -> None:
        from .compile import mode_of
        from .parse import Claim, RuleSyntaxError, Switch, parse_rule, parse_tolerance

        try:
            rule = parse_rule(row.text)
            tolerance = parse_tolerance(row.tolerance)
            severity = row.severity.strip().lower()
            if severity and severity not in ("error", "warning"):
                raise RuleSyntaxError(f"severity must be error or warning, not '{row.severity}'")
            if isinstance(rule, Switch):
                for name in rule.rules:
                    self._known(name)
        except RuleSyntaxError as exc:
            self._error(row.origin, row.text, exc.message)
            return
        mode = mode_of(rule) if isinstance(rule, Claim) else "switch"
        self.entries.append(Entry(row, rule, tolerance, severity, strict, mode))

    @staticmethod
    def _known(name: str) -> None:
        if name in KNOWN_RULES or name in _ALIASES:
            return
        import difflib

        from .parse import RuleSyntaxError

        close = difflib.get_close_matches(name, [*KNOWN_RULES, *_ALIASES], n=1, cutoff=0.6)
        hint = f"; did you mean '{close[0]}'?" if close else f" (the checks are {', '.join(KNOWN_RULES)})"
        raise RuleSyntaxError(f"no check called '{name}'{hint}")

    def _error(self, origin: Origin, text: str, message: str) -> None:
        where = f"Rule on {origin.describe()}" + (f" ({text})" if text else "")
        sheet = origin.sheet if origin.in_workbook else Path(origin.file).name
        cells = (origin.cell,) if origin.in_workbook else ()
        self.errors.append(
            Finding(
                rule="rule_error", severity="error", sheet=sheet, cell=origin.cell, cells=cells,
                expected=None, found=None, tolerance=0, message=f"{where}: {message}",
                extra={"file": origin.file, "line": origin.line} if origin.file else {},
            )
        )

    # ------------------------------------------------------------ scope

    def skips(self, sheet: Sheet) -> bool:
        """The Rules sheet holds rules, not data."""
        return sheet.name in self.rules_sheets

    def _in_scope(self, entry: Entry, table: Table) -> bool:
        return scope_matches(entry.row.where, table)

    # ------------------------------------------------------------ per table

    def prepare(self, table: Table) -> None:
        """Missing-value codes in scope make those cells empty for every check of the table."""
        if not self.entries:
            return
        from .parse import Switch

        codes: set[float | str] = set()
        for entry in self.entries:
            if isinstance(entry.rule, Switch) and entry.rule.kind == "missing" and self._in_scope(entry, table):
                for value in entry.rule.values:
                    if isinstance(value, str):
                        codes.add(value.casefold())
                        with contextlib.suppress(ValueError):
                            codes.add(float(value.replace(",", "")))
                    else:
                        codes.add(float(value))
                entry.tables.append(table.name)
                self._note(table, entry, "missing", 0)
        if codes:
            table.missing = frozenset(codes)

    def apply(self, table: Table, reader: Reader, inferred: list[Relation]) -> tuple[list[Relation], list[Finding]]:
        """The table's relations: inferred (less what is ignored) plus declared, switches applied."""
        self.tables.append(table)
        if not self.entries:  # the common case: nothing declared, nothing to sift
            return inferred, list(reader.uncached.values())
        from .parse import Switch

        declared: list[Relation] = []
        for entry in self.entries:
            if entry.mode not in ("columns", "rows") or not self._in_scope(entry, table):
                continue
            compiled = self._compile(entry, table, reader)
            if compiled is None:
                continue
            seen = {_key(r) for r in declared}
            stated = len(compiled.relations)
            compiled.relations = [r for r in compiled.relations if _key(r) not in seen]  # stated twice: once
            if stated and not compiled.relations:
                compiled.kind = "duplicate"
            for rel in compiled.relations:
                self._tag(rel, entry)
            declared.extend(compiled.relations)
            entry.tables.append(table.name)
            entry.relations += len(compiled.relations)
            self._note(table, entry, compiled.kind, len(compiled.relations))
        direct = list(reader.uncached.values())  # formulas without cached values, the declared rules' too
        taken = {(rule_name(r), r.sheet, r.cell) for r in declared}  # the analyst's statement wins
        inferred = [r for r in inferred if (rule_name(r), r.sheet, r.cell) not in taken]
        for entry in self.entries:
            rule = entry.rule
            if not isinstance(rule, Switch) or rule.kind == "missing" or not self._in_scope(entry, table):
                continue
            entry.tables.append(table.name)
            if rule.kind == "ignore":
                names = _expand(rule.rules)
                cells = _cells(rule.cells)
                before = len(inferred) + len(direct)
                inferred = [r for r in inferred if not _covers(names, cells, rule_name(r), r.cell)]
                direct = [f for f in direct if not _covers(names, cells, f.rule, f.cell)]
                self._note(table, entry, "ignore", before - len(inferred) - len(direct))
            else:
                names = _expand(rule.rules) if rule.rules else set(KNOWN_RULES)
                count = 0
                for rel in (*inferred, *declared):
                    if rule_name(rel) not in names:
                        continue
                    if rule.kind == "tolerance" and rule.amount is not None and "declared_tolerance" not in rel.facts:
                        rule.amount.widen(rel)
                        count += 1
                    elif rule.kind == "severity" and "severity" not in rel.facts:
                        rel.facts["severity"] = rule.severity
                        count += 1
                self._note(table, entry, rule.kind, count)
        return inferred + declared, direct

    def _compile(self, entry: Entry, table: Table, reader: Reader) -> Compiled | None:
        from .compile import Context, Unresolved, compile_claim, names_in, resolve_column, rows_labelled, walk
        from .parse import Claim, RowRef, Rows

        claim = entry.rule
        assert isinstance(claim, Claim)
        ctx = Context(table, reader, self.sheets)
        try:
            for name in names_in(claim):
                ctx.columns[name] = resolve_column(table, name)
            for node in (n for t in claim.terms for n in walk(t)):
                if isinstance(node, RowRef):
                    rows_labelled(table, node.label)
                elif isinstance(node, Rows) and node.how in ("label", "range"):
                    rows_labelled(table, node.first)
                    if node.how == "range":
                        rows_labelled(table, node.last)
            return compile_claim(claim, ctx, lambda: self._each(entry, ctx))
        except Unresolved as exc:
            entry.misses.append((table, exc))
            return None
        except Exception as exc:  # a rule must never stop the run: say it could not be applied
            self._error(entry.origin, entry.row.text, f"could not be applied to {table.name} ({type(exc).__name__}: {exc})")
            entry.tables.append(table.name)
            return None

    def _each(self, entry: Entry, ctx: Context) -> Iterator[Context]:
        from .compile import rows_labelled, walk
        from .parse import Claim, RowRef

        table = ctx.table
        assert table is not None and isinstance(entry.rule, Claim)
        if entry.mode == "columns":
            for row in table.rows:
                yield replace(ctx, row=row)
            return
        first = next((n for t in entry.rule.terms for n in walk(t) if isinstance(n, RowRef)), None)
        targets = rows_labelled(table, first.label) if first is not None else [None]
        for target in targets:
            for col in summable(table):
                yield replace(ctx, row=target, column=col)

    def _tag(self, rel: Relation, entry: Entry) -> None:
        rel.facts["declared"] = entry.origin.phrase()
        rel.facts["claim"] = entry.row.text
        if entry.row.comment:
            rel.facts["comment"] = entry.row.comment
        if entry.severity:
            rel.facts["severity"] = entry.severity
        if entry.tolerance is not None:
            entry.tolerance.widen(rel)
            rel.facts["declared_tolerance"] = str(entry.tolerance)

    def _note(self, table: Table, entry: Entry, kind: str, count: int) -> None:
        text = entry.row.text
        self.notes.setdefault(table.name, []).append(TableNote(entry.origin.phrase(), text, kind, count))

    # ------------------------------------------------------------ once per workbook

    def finish(self) -> tuple[list[Relation], list[Finding]]:
        """Relations between cells, registered models, and errors for rules that applied nowhere."""
        from . import models

        relations: list[Relation] = []
        for entry in self.entries:
            if entry.mode == "cells":
                relations.extend(self._cells_rule(entry))
        findings = list(self.errors)
        findings.extend(models.validate(self.tables))
        for entry in self.entries:
            if entry.mode in ("columns", "rows", "switch") and not entry.tables:
                message = self._why_unused(entry)
                if message:
                    self._error(entry.origin, entry.row.text, message)
                    findings.append(self.errors[-1])
        return relations, findings

    def _cells_rule(self, entry: Entry) -> list[Relation]:
        from .compile import Context, Unresolved, _sheet, compile_claim, walk
        from .parse import Cell, Claim

        claim = entry.rule
        assert isinstance(claim, Claim)
        home = _sheet_of(entry.row.where, self.sheets)
        ctx = Context(None, None, self.sheets, default_sheet=home)
        try:
            for node in (n for t in claim.terms for n in walk(t)):
                if isinstance(node, Cell):
                    _sheet(ctx, node)
            compiled = compile_claim(claim, ctx, lambda: iter([ctx]))
        except Unresolved as exc:
            if entry.strict or exc.suggestion:
                self._error(entry.origin, entry.row.text, exc.message())
            return []
        except Exception as exc:  # a rule must never stop the run
            self._error(entry.origin, entry.row.text, f"could not be applied ({type(exc).__name__}: {exc})")
            return []
        for rel in compiled.relations:
            self._tag(rel, entry)
        entry.tables.append("cells")
        entry.relations += len(compiled.relations)
        return compiled.relations

    def _why_unused(self, entry: Entry) -> str:
        """Why a rule found nothing to apply to; "" when a config rule simply is not for this workbook."""
        where = entry.row.where.strip()
        if entry.misses:
            table, exc = min(entry.misses, key=lambda m: (m[1].suggestion is None, -_shared(entry, m[0])))
            named = where.lower() not in ("", "*", "all")  # a config rule aimed at this sheet or table
            if entry.strict or named or exc.suggestion or exc.hint or _shared(entry, table):
                return exc.message(f" in {table.name}")
            return ""
        if not entry.strict:
            return ""
        if where and where not in ("*", "all"):
            choices = [*self.sheets, *(t.title for t in self.tables if t.title)]
            import difflib

            close = difflib.get_close_matches(where.split("!")[0].strip("'"), choices, n=1, cutoff=0.6)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            return f"no sheet or table '{where}' to apply it to{hint}"
        return "there is no table to apply it to"

    # ------------------------------------------------------------ for explain

    def declared_for(self, table: Table) -> list[TableNote]:
        return self.notes.get(table.name, [])


def _shared(entry: Entry, table: Table) -> int:
    """How many of the rule's columns the table has (a near miss is probably a typo)."""
    from .compile import names_in
    from .parse import Claim

    assert isinstance(entry.rule, Claim)
    headers = {" ".join(c.name.casefold().split()) for c in table.columns}
    return sum(" ".join(n.casefold().split()) in headers for n in names_in(entry.rule))


def _key(rel: Relation) -> tuple[object, ...]:
    """The same claim about the same cells (a rule stated twice, in the sheet and in a config)."""
    return (rel.kind, rel.sheet, rel.cell, frozenset(rel.cells), rel.found, rel.expected)


def _expand(names: tuple[str, ...]) -> set[str]:
    out: set[str] = set()
    for name in names:
        out.update(_ALIASES.get(name, (name,)))
    return out


def _cells(refs: tuple[str, ...]) -> set[str] | None:
    if not refs:
        return None
    from .compile import _range_refs

    out: set[str] = set()
    for ref in refs:
        out.update(_range_refs(ref))
    return out


def _covers(names: set[str], cells: set[str] | None, rule: str, cell: str) -> bool:
    return rule in names and (cells is None or cell in cells)


def _sheet_of(where: str, sheets: dict[str, Sheet]) -> str | None:
    name = where.split("!")[0].strip().strip("'") if where else ""
    for sheet in sheets:
        if " ".join(sheet.casefold().split()) == " ".join(name.casefold().split()):
            return sheet
    return None


def scope_matches(where: str, table: Table) -> bool:
    """Where = blank / * (every table), a sheet, Sheet!A3:E9 (the table there), or words of a table's title."""
    w = where.strip()
    if not w or w.lower() in ("*", "all"):
        return True

    def norm(text: str) -> str:
        return " ".join(text.casefold().split())

    if "!" in w:
        sheet, _, rng = w.rpartition("!")
        if norm(sheet.strip().strip("'")) != norm(table.sheet.name):
            return False
        first, _, last = rng.strip().partition(":")
        try:
            (r1, c1), (r2, c2) = parse_ref(first), parse_ref(last or first)
        except ValueError:
            return False
        return not (max(r1, r2) < table.top or min(r1, r2) > table.bottom or max(c1, c2) < table.left or min(c1, c2) > table.right)
    if norm(w) == norm(table.sheet.name):
        return True
    return bool(table.title) and norm(w) in norm(table.title)


def declared_rules(book: Workbook, rules: Path | str | None = None, also: Sequence[Loaded] = ()) -> RuleSet:
    """The rules for one workbook: its Rules sheet(s), plus ``rules`` (a file) or the config found beside it,
    plus ``also`` (rules from elsewhere: the Excel add-in's Settings)."""
    homes: list[tuple[Loaded, bool]] = [(rules_from_sheet(s), True) for s in book.sheets if is_rules_sheet(s.name)]
    config = Path(rules) if rules is not None else find_config(book.path)
    if config is not None:
        homes.append((config_rules(config), False))
    homes.extend((loaded, False) for loaded in also)
    return RuleSet(book, homes, config)
