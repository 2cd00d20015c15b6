"""The one error marking and clearing raise: a sentence a user can act on, never a traceback."""

from __future__ import annotations

from pathlib import Path


class MarkError(Exception):
    """Marking or clearing refused or failed; the workbook on disk is unchanged.

    The message names the file and the reason (read-only, locked, not a workbook, encrypted, a
    part that cannot be patched safely, ...), so the CLI can print it as is.
    """

    def __init__(self, path: Path | str | None, reason: str) -> None:
        self.path = Path(path) if path is not None else None
        self.reason = reason
        super().__init__(f"{self.path}: {reason}" if self.path is not None else reason)


class PatchRefused(Exception):
    """Raised inside the package code for a workbook part it will not touch; becomes a MarkError.

    The package modules do not know the file name; the API adds it when it converts this.
    """
