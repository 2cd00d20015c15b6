"""`check --mark`, `--mark --out` and `clear` from the command line, on copies of the examples."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from conftest import EXAMPLES
from openpyxl import load_workbook
from python_calamine import CalamineWorkbook
from test_cli import run


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _values(path: Path) -> dict[str, list[list[object]]]:
    book = CalamineWorkbook.from_path(str(path))
    return {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}


@pytest.fixture
def books(tmp_path: Path) -> Path:
    folder = tmp_path / "books" / "nested"
    folder.mkdir(parents=True)
    for name in ("missing-in-action.xlsx", "ua-general-staff-yearly.xlsx"):
        shutil.copy(EXAMPLES / name, folder / name)
    return tmp_path / "books"


def test_mark_in_place_then_clear_restores_the_workbooks(books, tmp_path):
    files = sorted(books.rglob("*.xlsx"))
    before = {f: _values(f) for f in files}
    first = json.loads(run("check", "--format", "json", "--no-cache", str(books), cwd=tmp_path).stdout)

    marked = run("check", "--mark", "--format", "json", "--no-cache", str(books), cwd=tmp_path)
    assert marked.returncode == 1, marked.stderr
    for f in files:
        wb = load_workbook(f)
        assert wb.sheetnames[-1].startswith("tallycheck")
        report = next(b for b in first["workbooks"] if b["path"].endswith(f.name))
        for finding in report["findings"]:
            cell = wb[finding["sheet"]][finding["cell"]]
            assert cell.fill.fill_type == "solid"
            assert finding["message"] in cell.comment.text
        assert {k: v for k, v in _values(f).items() if not k.startswith("tallycheck")} == before[f]

    again = json.loads(run("check", "--format", "json", "--no-cache", str(books), cwd=tmp_path).stdout)
    assert again == first  # marks change no value, and the summary sheet is not checked as data

    cleared = run("clear", str(books), cwd=tmp_path)
    assert cleared.returncode == 0, cleared.stderr
    assert cleared.stdout.startswith("Cleared marks from 3 cells")
    for f in files:
        wb = load_workbook(f)
        assert not any(name.startswith("tallycheck") for name in wb.sheetnames)
        assert _values(f) == before[f]
        for ws in wb.worksheets:
            assert not any(c.comment for row in ws.iter_rows() for c in row)


def test_mark_out_writes_copies_in_the_same_layout_and_leaves_originals(books, tmp_path):
    originals = {f: _digest(f) for f in books.rglob("*.xlsx")}
    out = tmp_path / "marked"
    result = run("check", "--mark", "--out", str(out), "--no-cache", str(books), cwd=tmp_path)
    assert result.returncode == 1
    assert {f: _digest(f) for f in books.rglob("*.xlsx")} == originals
    copies = sorted(p.relative_to(out) for p in out.rglob("*.xlsx"))
    assert copies == sorted(p.relative_to(books) for p in originals)
    assert load_workbook(out / "nested" / "missing-in-action.xlsx")["Losses"]["E7"].comment is not None


def test_a_read_only_workbook_gets_a_clear_error(books, tmp_path):
    target = next(books.rglob("missing-in-action.xlsx"))
    target.chmod(0o444)
    result = run("check", "--mark", "--no-cache", str(target), cwd=tmp_path)
    assert result.returncode == 2
    assert "missing-in-action.xlsx" in result.stderr and "Traceback" not in result.stderr


def test_changed_rechecks_only_what_changed(books, tmp_path):
    cache = tmp_path / "cache"
    first = run("check", "--format", "json", "--cache-dir", str(cache), str(books), cwd=tmp_path)
    entries = sorted(cache.rglob("*.json"))
    assert len(entries) == 2
    again = run("check", "--format", "json", "--changed", "--cache-dir", str(cache), str(books), cwd=tmp_path)
    assert json.loads(again.stdout) == json.loads(first.stdout)
    # a changed workbook is checked again: a new cache entry appears for its new content
    changed = next(books.rglob("missing-in-action.xlsx"))
    shutil.copy(EXAMPLES / "soviet-ww2-losses.xlsx", changed)
    third = json.loads(run("check", "--format", "json", "--changed", "--cache-dir", str(cache), str(books), cwd=tmp_path).stdout)
    assert len(sorted(cache.rglob("*.json"))) == 3
    mia = next(b for b in third["workbooks"] if b["path"].endswith("missing-in-action.xlsx"))
    assert {f["cell"] for f in mia["findings"]} == {"B8", "B7"}  # now the Soviet workbook's findings


def test_include_and_exclude_globs(books, tmp_path):
    (books / "drafts").mkdir()
    shutil.copy(EXAMPLES / "estimates-and-shares.xlsx", books / "drafts" / "draft.xlsx")
    listed = lambda *args: {Path(b["path"]).name for b in json.loads(run("check", "--format", "json", "--no-cache", *args, str(books), cwd=tmp_path).stdout)["workbooks"]}  # noqa: E731
    assert listed() == {"missing-in-action.xlsx", "ua-general-staff-yearly.xlsx", "draft.xlsx"}
    assert listed("--exclude", "drafts") == {"missing-in-action.xlsx", "ua-general-staff-yearly.xlsx"}
    assert listed("--include", "missing-*") == {"missing-in-action.xlsx"}


def test_changed_rechecks_when_the_rules_file_changes(books, tmp_path):
    cache = tmp_path / "cache"
    config = books / "tallycheck.toml"
    config.write_text('[[rules]]\nrule = "ignore sum"\n')
    args = ("check", "--format", "json", "--changed", "--cache-dir", str(cache), str(books))
    quiet = json.loads(run(*args, cwd=tmp_path).stdout)
    assert not any(f["rule"] == "sum" for b in quiet["workbooks"] for f in b["findings"])
    config.write_text("")
    loud = json.loads(run(*args, cwd=tmp_path).stdout)
    assert any(f["rule"] == "sum" for b in loud["workbooks"] for f in b["findings"])
