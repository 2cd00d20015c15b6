"""Reports -> text a person reads (quiet when all is well) and the JSON contract (version 1)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import __version__
from .engine import Report


def _display(path: Path, base: Path | None = None) -> str:
    try:
        return str(path.resolve().relative_to((base or Path.cwd()).resolve()))
    except ValueError:
        return str(path)


def to_json(reports: Sequence[Report]) -> dict[str, Any]:
    """The JSON report document, exactly as DESIGN.md's contract spells it.

    A run that marked (``--mark``) adds two keys to each workbook: ``marked`` (whether its marks
    were written) and ``mark_error`` (why not, or null); other runs' documents are unchanged.
    """
    return {"tallycheck": __version__, "workbooks": [_workbook_json(r) for r in reports]}


def _workbook_json(r: Report) -> dict[str, Any]:
    out: dict[str, Any] = {
        "path": _display(r.path),
        "ok": r.ok,
        "error": r.error,
        "findings": [f.to_json() for f in r.findings],
    }
    if r.marked is not None:
        out["marked"] = r.marked
        out["mark_error"] = r.mark_error if r.ok else "not checked, so not marked (see error)"
    return out


def json_text(reports: Sequence[Report]) -> str:
    return json.dumps(to_json(reports), indent=1, ensure_ascii=False, allow_nan=False, default=str)


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def summary_line(reports: Sequence[Report]) -> str:
    errors = sum(r.errors for r in reports)
    warnings = sum(r.warnings for r in reports)
    unreadable = sum(not r.ok for r in reports)
    tables = sum(len(r.tables) for r in reports)
    flagged = sum(bool(r.findings) for r in reports)
    scope = f"{_plural(len(reports), 'workbook')}, {_plural(tables, 'table')}"
    if not errors and not warnings and not unreadable:
        return f"All checks passed ({scope})."
    parts = []
    if errors or warnings:
        parts.append(f"Found {_plural(errors, 'error')} and {_plural(warnings, 'warning')} in {flagged} of {scope}")
    if unreadable:
        parts.append(f"{_plural(unreadable, 'workbook')} could not be read")
    return "; ".join(parts) + "."


def text(reports: Sequence[Report]) -> str:
    """Grouped by workbook and sheet, one line a finding, like a linter."""
    lines: list[str] = []
    for report in reports:
        name = _display(report.path)
        if report.error:
            lines.append(f"{name}: cannot check: {report.error}")
            continue
        if not report.findings:
            continue
        lines.append(name)
        sheet = None
        for f in report.findings:
            if f.sheet != sheet:
                sheet = f.sheet
                lines.append(f"  {sheet}")
            lines.append(f"    {f.cell:<7} {f.severity:<7} {f.rule:<16} {f.message}")
    if lines:
        lines.append("")
    lines.append(summary_line(reports))
    return "\n".join(lines)


def exit_code(reports: Sequence[Report]) -> int:
    """0 all well (warnings allowed); 1 an error-severity finding; 2 a workbook could not be read."""
    if any(not r.ok for r in reports):
        return 2
    return 1 if any(r.errors for r in reports) else 0
