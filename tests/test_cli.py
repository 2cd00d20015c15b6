"""The command line as a user drives it: real processes, real files, stable exit codes."""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from conftest import CALAMINE, EXAMPLES, encrypted_workbook, run_cli

run = run_cli


def test_json_report_follows_the_contract():
    result = run("check", "--format", "json", str(EXAMPLES / "missing-in-action.xlsx"))
    assert result.returncode == 1
    doc = json.loads(result.stdout)
    assert set(doc) == {"tallycheck", "workbooks"}
    (book,) = doc["workbooks"]
    assert set(book) == {"path", "ok", "error", "findings"} and book["ok"] is True and book["error"] is None
    (finding,) = book["findings"]
    assert finding == {
        "rule": "sum", "severity": "error", "sheet": "Losses", "cell": "E7", "cells": ["B7", "C7", "D7", "E7"],
        "expected": 1050250, "found": 1049250, "tolerance": 0,
        "message": "Total 1,049,250 should equal Killed + Wounded + Missing = 1,050,250 (off by 1,000); the other 2 of 3 rows checked hold",
    }


def test_text_report_is_grouped_and_quiet_when_all_is_well(tmp_path, write_book):
    clean = write_book({"S": [["Year", "Killed", "Wounded", "Total"], ["2023", 1, 2, 3]]}, name="clean.xlsx")
    result = run("check", str(clean))
    assert result.returncode == 0
    assert re.fullmatch(r"All checks passed \(1 workbook, 1 table\); took [\d.]+ m?s\.", result.stdout.strip())

    result = run("check", str(EXAMPLES))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert "examples/missing-in-action.xlsx" in lines[0] or any(line.endswith("missing-in-action.xlsx") for line in lines)
    assert any(line.strip().startswith("E7") and "error" in line for line in lines)
    assert lines[-1].startswith("Found 11 errors and 1 warning")


def test_warnings_alone_exit_zero(write_book):
    """A rounded total is a warning: reported, but the run passes (exit 0)."""
    path = write_book({"Strength": [
        ["Category", "Persons"], ["On active service", 11_390_600], ["In hospital", 1_046_000],
        ["In civilian departments", 403_200], ["Total", 12_840_000],
    ]})
    result = run("check", "--format", "json", "--no-cache", str(path))
    assert result.returncode == 0
    (finding,) = json.loads(result.stdout)["workbooks"][0]["findings"]
    assert (finding["cell"], finding["severity"], finding["found"], finding["expected"]) == ("B5", "warning", 12840000, 12839800)


def test_a_check_imports_only_what_the_run_uses(tmp_path):
    """Start-up (the Excel button and CI start a process per run): a workbook with no declared rule,
    checked without colour or a run report, loads neither the rule language nor rich nor the report
    writers; pandera is loaded, since it checks the relations. As measured: python -X importtime."""
    book = shutil.copy(EXAMPLES / "missing-in-action.xlsx", tmp_path)
    result = run("check", "-q", "--no-cache", "--color", "never", str(book), cwd=tmp_path,
                 env={"PYTHONPROFILEIMPORTTIME": "1"})
    assert result.returncode == 1 and "E7" in result.stdout
    imported = {line.rpartition("|")[2].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}
    assert {"tallycheck.engine.checks", "pandera"} <= imported
    unused = {"tallycheck.declared.parse", "tallycheck.declared.compile", "rich", "tallycheck.run_report"}
    assert not unused & imported, sorted(unused & imported)


def test_unreadable_workbooks_are_named_with_a_reason_and_the_rest_still_checked(tmp_path):
    folder = tmp_path / "books"
    folder.mkdir()
    shutil.copy(EXAMPLES / "missing-in-action.xlsx", folder / "good.xlsx")
    (folder / "notzip.xlsx").write_text("this is not a workbook")
    (folder / "empty.xlsx").write_bytes(b"")
    encrypted_workbook(folder / "protected.xlsx")
    with zipfile.ZipFile(EXAMPLES / "missing-in-action.xlsx") as src, zipfile.ZipFile(folder / "truncated.xlsx", "w") as dst:
        for item in src.infolist()[:2]:
            dst.writestr(item, src.read(item))
    (folder / "legacy.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512)
    (folder / "~$good.xlsx").write_bytes(b"lock")
    result = run("check", "--format", "json", str(folder), str(folder / "legacy.xls"))
    assert result.returncode == 2, result.stderr
    books = {Path(b["path"]).name: b for b in json.loads(result.stdout)["workbooks"]}
    assert "~$good.xlsx" not in books
    assert books["good.xlsx"]["ok"] and books["good.xlsx"]["findings"]
    assert "not a zip" in books["notzip.xlsx"]["error"]
    assert "empty" in books["empty.xlsx"]["error"]
    assert "password" in books["protected.xlsx"]["error"]
    assert books["truncated.xlsx"]["error"]
    assert ".xls" in books["legacy.xls"]["error"]
    assert "Traceback" not in result.stderr


def test_usage_errors_exit_2():
    assert run("check", "/no/such/path.xlsx").returncode == 2
    assert run("check").returncode == 2
    assert run("check", "--out", "x", str(EXAMPLES)).returncode == 2
    assert run("frobnicate").returncode == 2


@pytest.mark.corpus
def test_real_world_edge_case_workbooks_raise_no_false_alarms():
    """69 workbooks from a reader's test suite (pivots, dates, merged cells...): none is a casualty table."""
    from tallycheck import check_workbooks

    reports = check_workbooks(sorted(CALAMINE.glob("*.xls*")))
    assert [(r.path.name, f.cell, f.rule) for r in reports for f in r.findings] == []
    assert sorted(r.path.name for r in reports if not r.readable) == ["issue252.xlsx", "pass_protected.xlsx"]
