"""The templates an analyst copies: each passes clean as committed, and its rules catch a planted error."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from conftest import ROOT, flagged
from tallycheck import check_workbook
from tallycheck.engine.grid import read_workbook

TEMPLATES = ROOT / "templates"
sys.path.insert(0, str(TEMPLATES))
import build_templates  # noqa: E402

PLANTED = {
    "components-and-total.xlsx": {
        ("Losses", "E5", "sum", "error"),  # a total typed over its formula, 1,000 too high
        ("Losses", "E8", "sum", "error"),  # ... so the Total row's total no longer adds up across either
    },
    "yearly-per-day.xlsx": {("By year", "C6", "per_day", "error")},  # 2024 averaged over 365 days
    "daily-cumulative.xlsx": {("Daily", "B9", "cumulative", "error")},  # the tally typed by hand, 100 too high
    "estimates-low-best-high.xlsx": {("Estimates", "C5", "estimate_order", "error")},  # low above best
}


def test_every_template_is_covered():
    assert {p.name for p in TEMPLATES.glob("*.xlsx")} == set(build_templates.TEMPLATES) == set(PLANTED)


@pytest.mark.parametrize("name", sorted(PLANTED))
def test_template_passes_clean_and_declares_its_rules(name):
    report = check_workbook(TEMPLATES / name)
    assert report.readable, report.error
    assert report.findings == []
    book = read_workbook(TEMPLATES / name)
    sheets = [s.name for s in book.sheets]
    assert "Rules" in sheets and "Instructions" in sheets
    assert len(report.tables) == 1  # the Rules and Instructions sheets are not data
    table = report.tables[0]
    assert sum(table.relations.values()) >= 3
    data = book.sheets[0]
    assert data.formulas or name.startswith("estimates"), "derived figures are formulas"
    assert not data.uncached, "formulas carry their cached values"


@pytest.mark.parametrize("name", sorted(PLANTED))
def test_a_planted_error_is_found_by_the_declared_rules(name, tmp_path):
    path = build_templates.build(name, tmp_path, plant=True)
    report = check_workbook(path)
    assert flagged(report) == PLANTED[name]
    assert all("declared on row" in f.message for f in report.findings)


@pytest.mark.parametrize("name", sorted(PLANTED))
def test_committed_templates_are_what_the_script_builds(name, tmp_path):
    built = build_templates.build(name, tmp_path)
    assert built.read_bytes() == (TEMPLATES / name).read_bytes(), "run python templates/build_templates.py"


def test_every_rule_on_a_template_applies(tmp_path):
    """No rule on a template's Rules sheet is unused or misspelt (explain reports none)."""
    from tallycheck.explain import explain_text

    text, code = explain_text(sorted(TEMPLATES.glob("*.xlsx")))
    assert code == 0, text
    assert "rule errors" not in text
    assert "×0" not in text
    assert Path(build_templates.__file__).parent == TEMPLATES
