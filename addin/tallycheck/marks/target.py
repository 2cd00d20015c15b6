"""The few operations marking needs from a workbook, whatever holds it.

The package patcher (tallycheck.marks.package) implements this for .xlsx/.xlsm files; a live
Excel book (xlwings) can implement it too, and then gets the same marks, notes, summary, restore
record and clear from tallycheck.marks.logic.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from .plan import Summary
from .record import MarkRecord, Token


class MarkTarget(Protocol):
    """A workbook the marks can be written to and taken away from again."""

    def sheet_key(self, sheet: str) -> str:
        """A stable id for a worksheet by name; raise if it is missing or not a worksheet."""
        ...

    def paint(self, key: str, cell: str, rgb: str) -> Token:
        """Give a cell a solid fill, keeping its other formatting; return how to undo it."""
        ...

    def unpaint(self, key: str, cell: str, token: Token) -> bool:
        """Restore the cell's own fill; False if the cell or sheet changed since or is gone."""
        ...

    def add_note(self, key: str, cell: str, blocks: Sequence[tuple[str, bool]]) -> Token:
        """Add our note (rich-text runs: text, bold) beside any note the cell has."""
        ...

    def remove_note(self, key: str, cell: str, token: Token) -> bool:
        """Take our note away, leaving the cell's own note exactly as it was."""
        ...

    def add_summary(self, summary: Summary, previous: Token | None) -> Token:
        """Add the summary sheet last, under a name no sheet has; or refill the previous one."""
        ...

    def remove_summary(self, token: Token) -> bool:
        """Remove the summary sheet a previous run added."""
        ...

    def read_record(self) -> MarkRecord | None:
        """The restore record a previous run left in the workbook, if any."""
        ...

    def release(self, record: MarkRecord) -> None:
        """Free what a record's marks held workbook-wide (formats, empty note parts)."""
        ...

    def write_record(self, record: MarkRecord | None) -> None:
        """Store the record in the workbook (None: remove it)."""
        ...
