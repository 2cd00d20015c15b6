"""Mark and clear, written once against MarkTarget: replace previous marks, restore exactly."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..engine.findings import Finding
from .plan import note_blocks, plan, summary
from .record import CellRecord, MarkRecord
from .target import MarkTarget


@dataclass(frozen=True)
class MarkResult:
    """What a run did to the workbook."""

    cells: int  # cells marked now
    cleared: int  # cells of a previous run restored first
    summary_sheet: str | None
    notes_skipped: tuple[str, ...]  # 'Sheet!A1' of cells whose note could not take ours


def apply_marks(
    target: MarkTarget, findings: Sequence[Finding], *, version: str, when: str, workbook: str, notes: bool = True
) -> MarkResult:
    """Replace any previous marks by marks for these findings (none: just clear).

    ``notes=False`` (the add-in's Settings): fills and the summary sheet only, for auditors who
    keep notes for their own remarks; the record says so, and clearing leaves notes alone.

    Findings on the previous run's summary sheet (a checker reading every sheet may see its
    figures as a table) are ignored: that sheet is about to be replaced. So are findings about
    another file (a rules file's errors carry ``extra["file"]``): they are reported, not marked.
    """
    findings = [f for f in findings if "file" not in f.extra]
    previous = target.read_record()
    if previous is not None and previous.summary.get("name"):
        findings = [f for f in findings if f.sheet != previous.summary["name"]]
    marks = plan(findings)  # bad cell references fail here, before anything changes
    keys = {m.sheet: target.sheet_key(m.sheet) for m in marks}  # so do missing sheets
    cleared = _undo(target, previous, keep_summary=bool(marks)) if previous is not None else 0
    if not marks:
        if previous is not None:
            target.write_record(None)
        return MarkResult(0, cleared, None, ())
    record = MarkRecord(version=version, when=when)
    skipped = []
    for m in marks:
        fill = target.paint(keys[m.sheet], m.cell, m.fill)
        note = target.add_note(keys[m.sheet], m.cell, note_blocks(m, version)) if notes else {"mode": "off"}
        if note.get("mode") == "skipped":
            skipped.append(f"{m.sheet}!{m.cell}")
        record.cells.append(CellRecord(m.sheet, keys[m.sheet], m.cell, m.severity, fill, note))
    record.summary = target.add_summary(
        summary(findings, version, when, workbook), previous.summary if previous else None
    )
    target.write_record(record)
    return MarkResult(len(marks), cleared, record.summary.get("name"), tuple(skipped))


def clear_marks(target: MarkTarget) -> int:
    """Remove every mark the last run made; return the number of cells restored."""
    previous = target.read_record()
    if previous is None:
        return 0
    restored = _undo(target, previous)
    target.write_record(None)
    return restored


def _undo(target: MarkTarget, record: MarkRecord, *, keep_summary: bool = False) -> int:
    """Restore a record's cells; its summary sheet stays if a new one is about to replace it."""
    restored = 0
    for c in reversed(record.cells):
        restored += target.unpaint(c.key, c.cell, c.fill)
        target.remove_note(c.key, c.cell, c.note)
    if record.summary and not keep_summary:
        target.remove_summary(record.summary)
    target.release(record)
    return restored
