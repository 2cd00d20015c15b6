"""What every report format shares: the run's counts, paths as a person reads them, atomic writes."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..engine import Report
from ..report import _display

__all__ = ["Totals", "atomic_path", "display_path", "run_stamp", "totals", "write_text_atomically"]


def display_path(path: Path) -> str:
    """The workbook path exactly as the text and JSON reports show it (relative to the working folder)."""
    return _display(path)


@dataclass(frozen=True)
class Totals:
    """The run in five numbers, the same in every format."""

    workbooks: int
    tables: int
    errors: int
    warnings: int
    unreadable: int


def totals(reports: Sequence[Report]) -> Totals:
    return Totals(
        workbooks=len(reports),
        tables=sum(len(r.tables) for r in reports),
        errors=sum(r.errors for r in reports),
        warnings=sum(r.warnings for r in reports),
        unreadable=sum(not r.readable for r in reports),
    )


def run_stamp(started: datetime | None, elapsed: float | None) -> str:
    """'Started 2025-06-04 12:00:03, took 1.2 s' (each part only when known)."""
    parts = []
    if started is not None:
        parts.append(f"Started {started.isoformat(sep=' ', timespec='seconds')}")
    if elapsed is not None:
        parts.append(f"took {elapsed:,.1f} s" if elapsed >= 0.1 else f"took {elapsed * 1000:,.0f} ms")
    text = ", ".join(parts)
    return text[:1].upper() + text[1:]


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary sibling to write; it replaces ``path`` only when the writer finished.

    A crash or a full disk never leaves a half-written report where the last good one was.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    # os.open with 0o666, not mkstemp (0o600): the report gets the user's usual permissions.
    os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text_atomically(path: Path, text: str, encoding: str = "utf-8") -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding=encoding, newline="")

