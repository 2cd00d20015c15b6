"""Reports -> text a person reads (quiet when all is well) and the JSON contract (version 1)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
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
    """The JSON report document, exactly as docs/json-report.md spells it.

    A run that marked (``--mark``) adds two keys to each workbook: ``marked`` (whether its marks
    were written) and ``mark_error`` (why not, or null); other runs' documents are unchanged.
    """
    return {"tallycheck": __version__, "workbooks": [_workbook_json(r) for r in reports]}


def _workbook_json(r: Report) -> dict[str, Any]:
    out: dict[str, Any] = {
        "path": _display(r.path),
        "ok": r.readable,
        "error": r.error,
        "findings": [f.to_json() for f in r.findings],
    }
    if r.marked is not None:
        out["marked"] = r.marked
        out["mark_error"] = r.mark_error if r.readable else "not checked, so not marked (see error)"
    return out


def json_text(reports: Sequence[Report]) -> str:
    return json.dumps(to_json(reports), indent=1, ensure_ascii=False, allow_nan=False, default=str)


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def summary_line(reports: Sequence[Report], from_cache: int = 0) -> str:
    """The verdict: errors and warnings found, in how many workbooks and tables."""
    errors = sum(r.errors for r in reports)
    warnings = sum(r.warnings for r in reports)
    unreadable = sum(not r.readable for r in reports)
    tables = sum(len(r.tables) for r in reports)
    flagged = sum(bool(r.findings) for r in reports)
    cached = f" ({from_cache:,} from cache)" if from_cache else ""
    scope = f"{_plural(len(reports), 'workbook')}{cached}, {_plural(tables, 'table')}"
    if not errors and not warnings and not unreadable:
        return f"All checks passed ({scope})."
    parts = []
    if errors or warnings:
        parts.append(f"Found {_plural(errors, 'error')} and {_plural(warnings, 'warning')} in {flagged:,} of {scope}")
    if unreadable:
        parts.append(f"{_plural(unreadable, 'workbook')} could not be read")
    return "; ".join(parts) + "."


@dataclass(frozen=True)
class RunFacts:
    """What a run did besides finding: for the last line of `check`."""

    from_cache: int = 0
    marked_in: Path | None = None  # the --out folder, or None when marked in place
    marking: bool = False
    report: Path | None = None
    skipped: int = 0
    missing: int = 0
    elapsed: float | None = None
    interrupted_of: int | None = None  # the workbooks there were to check, when Ctrl-C stopped the run


def run_summary(reports: Sequence[Report], facts: RunFacts) -> str:
    """The last line: what was checked (N from cache), found, marked and where, the report's path, the time."""
    verdict = summary_line(reports, facts.from_cache).rstrip(".")
    if facts.interrupted_of is not None:
        verdict = f"Interrupted after {len(reports):,} of {facts.interrupted_of:,} workbooks: {verdict[0].lower()}{verdict[1:]}"
    parts = [verdict]
    if facts.marking:
        cells = sum(r.marked_cells for r in reports)
        books = sum(bool(r.marked_cells) for r in reports)
        where = f", copies in {facts.marked_in}" if facts.marked_in is not None else " (in place)"
        parts.append(f"marked {_plural(cells, 'cell')} in {_plural(books, 'workbook')}{where}")
    if facts.report is not None:
        parts.append(f"report written to {facts.report}")
    if facts.skipped:
        parts.append(f"{_plural(facts.skipped, 'file')} skipped")
    if facts.missing:
        parts.append(f"{_plural(facts.missing, 'path')} not found")
    if facts.elapsed is not None:
        parts.append(f"took {facts.elapsed:,.1f} s" if facts.elapsed >= 0.1 else f"took {facts.elapsed * 1000:,.0f} ms")
    return "; ".join(parts) + "."


Paint = Callable[[str, str | None], str]


def _plain(text: str, kind: str | None) -> str:
    return text


def text(reports: Sequence[Report], paint: Paint = _plain) -> str:
    """Grouped by workbook and sheet, one line a finding, like a linter (no summary line).

    ``paint(piece, kind)`` decorates each piece (kind: "path", "sheet", "error", "warning" or
    None for plain text), e.g. with colour on a terminal.
    """
    lines: list[str] = []
    for report in reports:
        name = _display(report.path)
        if report.error:
            lines.append(paint(f"{name}: ", "path") + paint("cannot check: ", "error") + paint(report.error, None))
            continue
        if not report.findings:
            continue
        lines.append(paint(name, "path"))
        sheet = None
        for f in report.findings:
            if f.sheet != sheet:
                sheet = f.sheet
                lines.append(paint(f"  {sheet}", "sheet"))
            lines.append(
                paint(f"    {f.cell:<7} ", None) + paint(f"{f.severity:<7}", f.severity)
                + paint(f" {f.rule:<16} {f.message}", None)
            )
    return "\n".join(lines)


def concise(reports: Sequence[Report], paint: Paint = _plain) -> str:
    """One line a finding, ``path:Sheet!E7: error sum message``, for grep and editors."""
    lines = []
    for report in reports:
        name = _display(report.path)
        if report.error:
            lines.append(paint(f"{name}: ", "path") + paint("error", "error") + paint(f" unreadable {report.error}", None))
        for f in report.findings:
            lines.append(
                paint(f"{name}:{f.sheet}!{f.cell}: ", "path") + paint(f.severity, f.severity) + paint(f" {f.rule} {f.message}", None)
            )
    return "\n".join(lines)


def _github_escape(value: str, prop: bool = False) -> str:
    value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return value.replace(":", "%3A").replace(",", "%2C") if prop else value


def github(reports: Sequence[Report]) -> str:
    """GitHub Actions workflow commands: each finding an annotation on the run, titled by rule and cell."""
    lines = []
    for report in reports:
        name = _github_escape(_display(report.path), prop=True)
        if report.error:
            lines.append(f"::error file={name},title=tallycheck unreadable::{_github_escape(report.error)}")
        for f in report.findings:
            title = _github_escape(f"tallycheck {f.rule} {f.sheet}!{f.cell}", prop=True)
            level = "notice" if f.severity == "info" else f.severity  # GitHub's three levels
            lines.append(f"::{level} file={name},title={title}::{_github_escape(f.message)}")
    return "\n".join(lines)


def sarif(reports: Sequence[Report]) -> str:
    """SARIF 2.1.0: one run, a result per finding located by workbook, sheet and cell."""
    from .declared.ruleset import KNOWN_RULES

    results: list[dict[str, Any]] = []
    for report in reports:
        uri = _display(report.path).replace("\\", "/")
        location: dict[str, Any] = {"physicalLocation": {"artifactLocation": {"uri": uri}}}
        if report.error:
            results.append({"ruleId": "unreadable", "level": "error", "message": {"text": report.error}, "locations": [location]})
        for f in report.findings:
            place = {**location, "logicalLocations": [{"name": f"{f.sheet}!{f.cell}", "kind": "member"}]}
            results.append({
                "ruleId": f.rule, "level": "note" if f.severity == "info" else f.severity, "message": {"text": f.message}, "locations": [place],
                "properties": {"sheet": f.sheet, "cell": f.cell, "cells": list(f.cells), "expected": f.expected,
                               "found": f.found, "tolerance": f.tolerance},
            })
    rules = [{"id": name} for name in (*KNOWN_RULES, "rule_error", "unreadable")]
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "tallycheck", "version": __version__, "rules": rules}},
            "results": results,
        }],
    }
    return json.dumps(doc, indent=1, ensure_ascii=False, allow_nan=False, default=str)


def exit_code(reports: Sequence[Report], fail_on: str = "error") -> int:
    """0 all well; 1 a finding at or above ``fail_on`` (error, warning, never); 2 a workbook could not be read."""
    if any(not r.readable for r in reports):
        return 2
    if fail_on == "warning" and any(r.findings for r in reports):
        return 1
    return 1 if fail_on == "error" and any(r.errors for r in reports) else 0
