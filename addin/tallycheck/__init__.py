"""tallycheck: find and mark the arithmetic discrepancies in casualty tables kept in Excel."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Finding", "Report", "__version__", "check_workbook", "check_workbooks"]

if TYPE_CHECKING:
    from .engine import Report, check_workbook, check_workbooks
    from .engine.findings import Finding


def __getattr__(name: str) -> Any:
    # Lazy: the Excel button starts Python on every click, so importing the package must stay cheap.
    if name in ("Report", "check_workbook", "check_workbooks"):
        from . import engine

        return getattr(engine, name)
    if name == "Finding":
        from .engine.findings import Finding

        return Finding
    raise AttributeError(name)
