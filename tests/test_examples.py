"""Every example workbook gives exactly the findings its README line promises, and no others."""

from __future__ import annotations

import pytest
from conftest import EXAMPLES, flagged
from tallycheck import check_workbook

EXPECTED = {
    "soviet-ww2-losses.xlsx": {
        ("Missing", "B8", "of_which", "error"),  # 1,283,300 vs 673,000 + 1,110,300 = 1,783,300
        ("Strength", "B7", "total_row", "warning"),  # 12,840,000 vs 12,839,800: a rounded total
    },
    "russia-losses-by-year.xlsx": {
        ("By year", "C4", "per_day", "error"),  # 340/day vs 106,720 / 311 days = 343.2
        ("By year", "C7", "per_day", "error"),  # 1,286/day x 155 days = 199,330, not over 200,000
    },
    "missing-in-action.xlsx": {
        ("Losses", "E7", "sum", "error"),  # DESIGN.md's example: 1,049,250 vs 1,050,250
    },
    "ua-general-staff-daily.xlsx": {
        ("APC", "B12", "cumulative_falls", "error"),  # the publisher's 13 Oct 2022 correction
        ("APC", "B15", "cumulative", "error"),  # change retyped 41 for 14
    },
    "ua-general-staff-yearly.xlsx": {
        ("Yearly", "C6", "per_day", "error"),  # 2024 averaged over 365 days
        ("Yearly", "B9", "total_row", "error"),  # =SUM(B4:B7) misses the 2026 row
    },
    "estimates-and-shares.xlsx": {
        ("Shares", "C5", "percent", "error"),
        ("Shares", "C6", "percent", "error"),
        ("Estimates", "C5", "estimate_order", "error"),
    },
}


def test_every_example_is_covered():
    assert {p.name for p in EXAMPLES.glob("*.xlsx")} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_findings_are_exactly_the_known_discrepancies(name):
    report = check_workbook(EXAMPLES / name)
    assert report.readable, report.error
    assert flagged(report) == EXPECTED[name]


def test_clean_tables_in_the_examples_produce_no_finding():
    """Tables whose figures hold: checked (relations were inferred) and silent."""
    report = check_workbook(EXAMPLES / "soviet-ww2-losses.xlsx")
    by_table = {t.name.split(" (")[0]: t for t in report.tables}
    for name in ("Missing!A13:B16", "War dead!A3:D4", "War dead!A6:D7"):
        assert sum(by_table[name].relations.values()) > 0, name
        assert not [f for f in report.findings if f.table.startswith(name)]
    daily = check_workbook(EXAMPLES / "ua-general-staff-daily.xlsx")
    personnel = next(t for t in daily.tables if t.sheet == "Personnel")
    assert personnel.relations["cumulative"] == 15
    assert not [f for f in daily.findings if f.sheet == "Personnel"]


def test_messages_name_the_arithmetic():
    report = check_workbook(EXAMPLES / "missing-in-action.xlsx")
    (finding,) = report.findings
    assert finding.message == "Total 1,049,250 should equal Killed + Wounded + Missing = 1,050,250 (off by 1,000); the other 2 of 3 rows checked hold"
    assert finding.cells == ("B7", "C7", "D7", "E7")
    assert (finding.expected, finding.found, finding.tolerance) == (1050250, 1049250, 0)

    yearly = check_workbook(EXAMPLES / "ua-general-staff-yearly.xlsx")
    leap = next(f for f in yearly.findings if f.cell == "C6")
    assert "366 days (2024 is a leap year)" in leap.message and "it matches 365 days" in leap.message
    total = next(f for f in yearly.findings if f.cell == "B9")
    assert "its formula leaves out B8" in total.message

    by_year = check_workbook(EXAMPLES / "russia-losses-by-year.xlsx")
    first = next(f for f in by_year.findings if f.cell == "C4")
    assert "311 days, 24 Feb 2022 – 31 Dec 2022" in first.message
