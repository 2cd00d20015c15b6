"""Where declared rules live: a "Rules" sheet in the workbook, a tallycheck.toml (or pyproject.toml's
[tool.tallycheck]) beside a folder of workbooks, or a file given with ``--rules``.

Every home gives the same thing: rule rows (where, rule, tolerance, severity, comment), each knowing
where it was written, so an error can say "row 5 of Rules" or "tallycheck.toml:12".
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass, field
from fnmatch import fnmatch
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..engine.grid import Sheet, cell_ref, read_workbook

RULES_SHEET_RE = re.compile(r"^\s*(?:tallycheck\s+)?rules\s*$", re.I)
CONFIG_NAME = "tallycheck.toml"

#: Rules-sheet header -> field; the same words are the keys of a [[rules]] entry in TOML.
_HEADERS = {
    "where": re.compile(r"^(?:where|applies to|apply to|scope|sheet|table|sheet\s*/\s*table|on)$", re.I),
    "rule": re.compile(r"^(?:rule|rules|check|relation)$", re.I),
    "tolerance": re.compile(r"^(?:tolerance|tol\.?|allowed difference)$", re.I),
    "severity": re.compile(r"^(?:severity|level)$", re.I),
    "comment": re.compile(r"^(?:comment|comments|note|notes|why|source)$", re.I),
}
_TOML_KEYS = ("where", "rule", "tolerance", "severity", "comment", "workbooks")


@dataclass(frozen=True)
class Origin:
    """Where a rule was written: a row of a Rules sheet, or an entry of a config file."""

    sheet: str = ""
    row: int = 0  # 1-based, as Excel shows it
    column: int = 0  # 0-based column of the rule text
    file: str = ""
    line: int = 0
    index: int = 0

    @property
    def in_workbook(self) -> bool:
        return not self.file

    @property
    def cell(self) -> str:
        """The cell to point at (the rule's own cell), or "line N" for a file."""
        if self.in_workbook:
            return cell_ref(self.row - 1, self.column)
        return f"line {self.line}" if self.line else f"rule {self.index}"

    def phrase(self) -> str:
        """'declared on row 5 of Rules' / 'declared in tallycheck.toml:12'."""
        return f"declared {'on' if self.in_workbook else 'in'} {self.describe()}"

    def describe(self) -> str:
        if self.in_workbook:
            return f"row {self.row} of {self.sheet}"
        name = Path(self.file).name
        return f"{name}:{self.line}" if self.line else f"{name}, rule {self.index}"


@dataclass(frozen=True)
class RuleRow:
    """One declared rule as written, before parsing."""

    text: str
    where: str = ""
    tolerance: object = None
    severity: str = ""
    comment: str = ""
    origin: Origin = field(default_factory=Origin)
    workbooks: str = ""


@dataclass
class Loaded:
    """Rule rows from one home, and the problems found reading it (as (origin, message))."""

    rows: list[RuleRow] = field(default_factory=list)
    problems: list[tuple[Origin, str]] = field(default_factory=list)


def is_rules_sheet(name: str) -> bool:
    return bool(RULES_SHEET_RE.match(name))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def rules_from_sheet(sheet: Sheet) -> Loaded:
    """The rows of a Rules sheet under its header row (Where | Rule | Tolerance | Severity | Comment)."""
    out = Loaded()
    header_row, columns = None, {}
    for r in range(sheet.origin[0], min(sheet.n_rows, sheet.origin[0] + 30)):
        found = {}
        for c in range(sheet.origin[1], sheet.n_cols):
            text = _text(sheet.value(r, c))
            for key, pattern in _HEADERS.items():
                if key not in found and pattern.match(text):
                    found[key] = c
        if "rule" in found:
            header_row, columns = r, found
            break
    if header_row is None:
        out.problems.append(
            (Origin(sheet.name, 1, 0), f"the {sheet.name} sheet has no header 'Rule': put Where | Rule | Tolerance | "
             "Severity | Comment in a row and one rule a row below it")
        )
        return out
    for r in range(header_row + 1, sheet.n_rows):
        ref = cell_ref(r, columns["rule"])
        raw = sheet.value(r, columns["rule"])
        origin = Origin(sheet.name, r + 1, columns["rule"])
        if ref in sheet.formulas or ref in sheet.shared:
            out.problems.append(
                (origin, "the rule was typed as a formula (it starts with =): type it as text, e.g. start the cell "
                 "with an apostrophe: 'Total = Killed + Wounded")
            )
            continue
        text = _text(raw)
        if not text or text.startswith("#"):
            continue

        def field_(key: str, row: int = r) -> Any:
            return sheet.value(row, columns[key]) if key in columns else None

        tolerance = field_("tolerance")
        if isinstance(tolerance, int | float) and not isinstance(tolerance, bool):
            fmt = sheet.number_format(r, columns["tolerance"]) or ""
            if "%" in fmt:
                tolerance = f"{tolerance * 100:g}%"
        out.rows.append(
            RuleRow(
                text=text, where=_text(field_("where")), tolerance=tolerance,
                severity=_text(field_("severity")), comment=_text(field_("comment")), origin=origin,
            )
        )
    return out


# ---------------------------------------------------------------- config files


def _rule_lines(text: str, pyproject: bool) -> list[int]:
    """1-based line of each [[rules]] header, in order (TOML parsers do not give line numbers)."""
    head = r"tool\.tallycheck\.rules" if pyproject else r"(?:tool\.tallycheck\.)?rules"
    pattern = re.compile(rf"^\s*\[\[\s*{head}\s*\]\]")
    return [n for n, line in enumerate(text.splitlines(), start=1) if pattern.match(line)]


def rules_from_config(path: Path) -> Loaded:
    """[[rules]] entries of a tallycheck.toml, or [[tool.tallycheck.rules]] of a pyproject.toml."""
    out = Loaded()
    path = Path(path)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _rules_from_workbook(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except OSError as exc:
        out.problems.append((Origin(file=str(path), line=1), f"cannot read the rules file: {exc.strerror or exc}"))
        return out
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        line = re.search(r"line (\d+)", str(exc))
        out.problems.append((Origin(file=str(path), line=int(line.group(1)) if line else 1), f"not valid TOML: {exc}"))
        return out
    pyproject = path.name == "pyproject.toml" or ("tool" in data and "tallycheck" in data.get("tool", {}))
    table = data.get("tool", {}).get("tallycheck", {}) if pyproject else data
    entries = table.get("rules", [])
    lines = _rule_lines(text, pyproject)
    from ..settings import SETTING_KEYS  # command-line settings: read and checked once a run by the CLI

    unknown_top = [k for k in table if k not in ("rules", *SETTING_KEYS)]
    for key in unknown_top:
        close = difflib.get_close_matches(key, ["rules"], n=1, cutoff=0.6)
        hint = f"; did you mean '{close[0]}'?" if close else "; rules go in [[rules]] entries"
        out.problems.append((Origin(file=str(path), line=_key_line(text, key)), f"unknown setting '{key}'{hint}"))
    if not isinstance(entries, list):
        out.problems.append((Origin(file=str(path), line=_key_line(text, "rules")), "rules must be a list of [[rules]] entries"))
        return out
    for i, entry in enumerate(entries, start=1):
        origin = Origin(file=str(path), line=lines[i - 1] if i - 1 < len(lines) else 0, index=i)
        if isinstance(entry, str):
            entry = {"rule": entry}
        if not isinstance(entry, dict):
            out.problems.append((origin, "each rule is a table with where = ..., rule = ..."))
            continue
        for key in entry:
            if key not in _TOML_KEYS:
                close = difflib.get_close_matches(key, _TOML_KEYS, n=1, cutoff=0.6)
                hint = f"; did you mean '{close[0]}'?" if close else f" (known: {', '.join(_TOML_KEYS)})"
                out.problems.append((origin, f"unknown key '{key}'{hint}"))
        rule = entry.get("rule")
        if not isinstance(rule, str) or not rule.strip():
            out.problems.append((origin, "the entry has no rule = \"...\""))
            continue
        out.rows.append(
            RuleRow(
                text=rule.strip(), where=str(entry.get("where", "")).strip(), tolerance=entry.get("tolerance"),
                severity=str(entry.get("severity", "")).strip(), comment=str(entry.get("comment", "")).strip(),
                origin=origin, workbooks=str(entry.get("workbooks", "")).strip(),
            )
        )
    return out


def _key_line(text: str, key: str) -> int:
    for n, line in enumerate(text.splitlines(), start=1):
        if re.match(rf"^\s*{re.escape(key)}\s*=", line) or re.match(rf"^\s*\[+[^\]]*\b{re.escape(key)}\b", line):
            return n
    return 0


def _rules_from_workbook(path: Path) -> Loaded:
    """A rules file that is a workbook: its Rules sheet, applied to the workbooks checked."""
    from ..engine.grid import WorkbookError

    try:
        book = read_workbook(path)
    except WorkbookError as exc:
        return Loaded(problems=[(Origin(file=str(path), line=1), f"cannot read the rules workbook: {exc.reason}")])
    sheet = next((s for s in book.sheets if is_rules_sheet(s.name)), None)
    if sheet is None:
        return Loaded(problems=[(Origin(file=str(path), line=1), "the rules workbook has no sheet named Rules")])
    loaded = rules_from_sheet(sheet)
    # a rule from another workbook is located by file and row
    loaded.rows = [
        RuleRow(r.text, r.where, r.tolerance, r.severity, r.comment, Origin(file=str(path), line=r.origin.row, index=i), "")
        for i, r in enumerate(loaded.rows, start=1)
    ]
    loaded.problems = [(Origin(file=str(path), line=o.row), m) for o, m in loaded.problems]
    return loaded


def _has_tool_table(pyproject: Path) -> bool:
    try:
        text = pyproject.read_text(encoding="utf-8")
    except OSError:
        return False
    return re.search(r"^\s*\[+\s*tool\.tallycheck\b", text, re.M) is not None


def _config_in(folder: Path) -> Path | None:
    for d in (folder, *folder.parents):
        candidate = d / CONFIG_NAME
        if candidate.is_file():
            return candidate
        pyproject = d / "pyproject.toml"
        if pyproject.is_file() and _has_tool_table(pyproject):
            return pyproject
    return None


def find_config(workbook: Path) -> Path | None:
    """The nearest tallycheck.toml, or pyproject.toml with [tool.tallycheck], from the workbook's folder up."""
    return _config_in(Path(workbook).resolve().parent)


@lru_cache(maxsize=64)
def _cached_config(path: Path, mtime: int) -> Loaded:
    return rules_from_config(path)


def config_rules(path: Path) -> Loaded:
    """Config rules, read once per file (and again only when it changes)."""
    path = Path(path).resolve()
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        mtime = 0
    return _cached_config(path, mtime)


def rules_fingerprint(workbook: Path, rules: Path | None = None) -> str:
    """What a workbook's result depends on besides its own bytes: the rules file in force, by path and
    content ("" when none). A results cache keyed by content hash should add this to its key."""
    import hashlib

    config = Path(rules) if rules is not None else find_config(workbook)
    if config is None:
        return ""
    try:
        data = config.read_bytes()
    except OSError:
        data = b""
    return hashlib.sha256(str(config.resolve()).encode() + b"\0" + data).hexdigest()


def applies_to_workbook(row: RuleRow, workbook: Path, config: Path | None) -> bool:
    """A config entry's ``workbooks = "*.xlsx"`` glob, matched on the name or the path below the config."""
    if not row.workbooks:
        return True
    name = Path(workbook).name
    if fnmatch(name, row.workbooks):
        return True
    if config is not None:
        try:
            rel = Path(workbook).resolve().relative_to(config.resolve().parent).as_posix()
        except ValueError:
            return False
        return fnmatch(rel, row.workbooks)
    return False
