"""Marks in the workbook: a fill and a note on each finding's cell, a summary sheet, and clear.

Files are patched part by part (tallycheck.marks.package), never re-saved through a library that
drops what it does not understand; the mark and clear logic (tallycheck.marks.logic) is written
against a small interface (tallycheck.marks.target.MarkTarget) a live Excel book can implement.
"""

from __future__ import annotations

from .api import MarkSummary, clear_workbook, mark_workbook
from .errors import MarkError

__all__ = ["MarkError", "MarkSummary", "clear_workbook", "mark_workbook"]
