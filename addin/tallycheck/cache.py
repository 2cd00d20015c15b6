"""Results keyed by content hash, so `--changed` re-checks only workbooks whose bytes changed.

Like ruff's cache: a folder of small files, one per workbook content, named by its SHA-256 and
scoped by tallycheck's version (a new version re-checks everything). Written as results arrive, so
an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from . import __version__
from .engine import Report, TableSummary
from .engine.findings import Finding, Series

DEFAULT_DIR = Path(".tallycheck_cache")


def content_hash(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _to_dict(report: Report) -> dict[str, Any]:
    return {
        "error": report.error,
        "findings": [{**f.to_json(), "table": f.table, "extra": f.extra} for f in report.findings],
        "tables": [{**t.__dict__, "columns": [list(c) for c in t.columns]} for t in report.tables],
        "series": [s.__dict__ for s in report.series],
    }


def _from_dict(path: Path, sha: str, data: dict[str, Any]) -> Report:
    findings = [Finding(**{**f, "cells": tuple(f["cells"])}) for f in data["findings"]]
    tables = [TableSummary(**{**t, "columns": tuple(tuple(c) for c in t["columns"])}) for t in data["tables"]]
    series = [Series(**{k: tuple(v) if isinstance(v, list) else v for k, v in s.items()}) for s in data["series"]]
    return Report(path, findings, tables, data["error"], series, sha)


class Cache:
    """Per-content results on disk; a damaged or foreign entry is simply a miss."""

    def __init__(self, folder: Path = DEFAULT_DIR) -> None:
        self.folder = Path(folder) / __version__

    def _entry(self, sha: str, rules: str) -> Path:
        key = hashlib.sha256(f"{sha}:{rules}".encode()).hexdigest() if rules else sha
        return self.folder / key[:2] / f"{key}.json"

    def get(self, path: Path, sha: str, rules: str = "") -> Report | None:
        """The cached result for this content under these rules (``rules``: their fingerprint)."""
        try:
            return _from_dict(path, sha, json.loads(self._entry(sha, rules).read_text()))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def put(self, report: Report, rules: str = "") -> None:
        if not report.sha256:
            return
        entry = self._entry(report.sha256, rules)
        try:
            entry.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=entry.parent, suffix=".tmp")
            with os.fdopen(fd, "w") as fh:
                json.dump(_to_dict(report), fh, default=str)
            os.replace(tmp, entry)
        except OSError:
            pass  # a cache that cannot be written only costs time next run
