"""Marks in the workbook: a fill and a note on each finding's cell, a summary sheet, and clear.

Files are patched part by part (tallycheck.marks.package), never re-saved through a library that
drops what it does not understand; the mark and clear logic (tallycheck.marks.logic) is written
against a small interface (tallycheck.marks.target.MarkTarget) a live Excel book can implement.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import MarkError

__all__ = ["MarkError", "MarkSummary", "clear_workbook", "mark_workbook"]

if TYPE_CHECKING:
    from .api import MarkSummary, clear_workbook, mark_workbook


def __getattr__(name: str) -> Any:
    # Lazy: checking a workbook asks marks.plan who the summary sheet is, and must not pay for the patcher.
    if name in ("MarkSummary", "clear_workbook", "mark_workbook"):
        from . import api

        return getattr(api, name)
    raise AttributeError(name)
