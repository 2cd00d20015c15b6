"""One report for a whole run, in the format its file name asks for (``--report PATH``).

``.json`` is the contract in docs/json-report.md; ``.csv`` and ``.xlsx`` are one row a finding for a
spreadsheet; ``.html`` is a page a person reads, with charts of the cumulative series.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from ..engine import Report

__all__ = ["FORMATS", "write_report"]

FORMATS = (".json", ".csv", ".xlsx", ".html")


def write_report(path: Path, reports: Sequence[Report], *, started: datetime | None = None, elapsed: float | None = None) -> None:
    """Write the run's report to ``path``, picking the format by its extension.

    The file is replaced only once it is complete. ``started`` and ``elapsed`` (seconds) are shown
    where a format has room for them (HTML, XLSX); JSON stays exactly the contract.
    Raises ValueError for an extension other than .json, .csv, .xlsx or .html (before writing anything).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".json":
        from ..report import json_text
        from ._shared import write_text_atomically

        write_text_atomically(path, json_text(reports) + "\n")
    elif suffix == ".csv":
        from .csv_report import write_csv

        write_csv(path, reports)
    elif suffix == ".xlsx":
        from .xlsx_report import write_xlsx

        write_xlsx(path, reports, started=started, elapsed=elapsed)
    elif suffix == ".html":
        from .html_report import write_html

        write_html(path, reports, started=started, elapsed=elapsed)
    else:
        found = f"its extension is {path.suffix!r}" if path.suffix else "it has no extension"
        raise ValueError(
            f"cannot write a report to {str(path)!r}: {found}; use one of {', '.join(FORMATS)} "
            "(the extension picks the format)"
        )
