"""The reliability review's reproducing inputs, every one through the command line as a user runs it.

Each file of ../shared/data/fuzz-repro (damaged zips, stray far cells, impossible dates, a zip
bomb, 2,000 sheets, crafted styles relationships...) must give exit 0, 1 or 2, valid JSON naming
it, no traceback, and stay under 2 GB of memory, both checked and marked into a copy; every copy
that was written opens in openpyxl and python-calamine with the input's values.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import SHARED
from hostile import cli, no_traceback, openpyxl_values, values

CORPUS = SHARED / "data" / "fuzz-repro"
# where ../shared is absent, one placeholder that conftest skips as a corpus test, with its reason
FILES = sorted(CORPUS.glob("*.xlsx")) if CORPUS.is_dir() else [CORPUS / "absent.xlsx"]
MEMORY_MB = 2048  # the review's bound: the zip bomb reached 10 GB before
HANG = 60  # seconds after which a run counts as hung (a guard, not a speed check)

pytestmark = [pytest.mark.corpus]


def _reported(run, path: Path) -> dict:
    assert run.code in (0, 1, 2), run.stderr[-2000:]
    assert no_traceback(run), run.stderr[-2000:]
    assert run.peak_mb < MEMORY_MB
    (workbook,) = run.json()["workbooks"]
    assert Path(workbook["path"]).name == path.name
    assert workbook["ok"] or workbook["error"]
    return workbook


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_check_reports_it(path: Path, tmp_path: Path) -> None:
    workbook = _reported(cli("check", "--format", "json", "--no-cache", str(path), cwd=tmp_path, timeout=HANG), path)
    assert "tallycheck bug" not in (workbook["error"] or "")


def _readable(read, path: Path) -> object | None:
    try:
        return read(path)
    except Exception:  # the input itself does not open in this reader: nothing to compare
        return None


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_mark_into_a_copy_writes_a_sound_copy_or_says_why_not(path: Path, tmp_path: Path) -> None:
    source = tmp_path / "in" / path.name
    source.parent.mkdir()
    shutil.copyfile(path, source)
    out = tmp_path / "out"
    run = cli("check", "--format", "json", "--no-cache", "--mark", "--out", str(out), str(source), cwd=tmp_path,
              timeout=HANG)
    workbook = _reported(run, path)
    copy = out / path.name
    assert source.read_bytes() == path.read_bytes()  # --out never touches the original
    if not workbook["marked"]:
        assert workbook["mark_error"] and not copy.exists()
        return
    assert workbook["mark_error"] is None and copy.exists()
    for read in (values, openpyxl_values):
        before = _readable(read, path)
        if before is not None:
            after = read(copy)
            assert {name: after.get(name) for name in before} == before, read.__name__
