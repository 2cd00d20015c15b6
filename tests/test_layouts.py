"""Tables laid out the way analysts lay them out, written to real .xlsx files and checked."""

from __future__ import annotations

from datetime import date

import pytest
from conftest import flagged
from openpyxl import Workbook
from tallycheck import check_workbook


def test_several_tables_on_a_sheet_with_titles_notes_and_blank_rows(write_book):
    path = write_book({"Losses": [
        ["Losses by region, 2024"],
        [],
        ["Region", "Military", "Civilian", "Total"],
        ["North", 100, 50, 150],
        ["South", 200, "No data", 200],
        ["East", 300, 25, 330],
        ["Total", 600, 75, 680],
        ["Note: civilian figures for the South were not published."],
        [],
        [],
        ["Second table: prisoners"],
        ["Side", "Captured", "Released", "Total"],
        ["A", 10, 5, 15],
        ["B", 20, 5, 25],
        ["Всього", 30, 10, 40],
    ]})
    report = check_workbook(path)
    assert len(report.tables) == 2
    # D7 = 150 + 200 + 330 holds as a total row; column C's total is not checked ("No data" in C5)
    assert flagged(report) == {
        ("Losses", "D6", "sum", "error"),  # 300 + 25 = 325, not 330
        ("Losses", "D7", "sum", "error"),  # 600 + 75 = 675, not 680
    }


def test_tables_side_by_side_and_merged_group_headers(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.title = "Sheet"
    ws["B1"] = "Losses"
    ws.merge_cells("B1:D1")
    for col, name in zip("ABCDE", ["Unit", "Killed", "Wounded", "Missing", "Total"], strict=True):
        ws[f"{col}2"] = name
    ws.append(["1st", 10, 20, 5, 35])
    ws.append(["2nd", 1, 2, 3, 7])
    ws["G2"], ws["H2"], ws["I2"] = "Source", "Low", "High"
    ws["G3"], ws["H3"], ws["I3"] = "X", 5, 4
    ws["G4"], ws["H4"], ws["I4"] = "Y", 1, 2
    path = tmp_path / "side.xlsx"
    wb.save(path)
    report = check_workbook(path)
    assert len(report.tables) == 2
    assert flagged(report) == {("Sheet", "E4", "sum", "error"), ("Sheet", "I3", "estimate_order", "error")}


def test_three_rows_of_small_counts_cannot_make_a_total_no_header_names(write_book):
    # 1 + 2 + 3 = 6 and 2 + 2 + 2 = 6 could be chance: with no header saying Total, three rows cannot vote
    path = write_book({"S": [
        ["Month", "Killed", "Wounded", "Missing", "Losses"],
        ["Jan", 1, 2, 3, 6],
        ["Feb", 2, 2, 2, 6],
        ["Mar", 5, 5, 5, 16],
    ]})
    assert flagged(check_workbook(path)) == set()


def test_formulas_without_cached_values_are_reported_not_read_as_zero(write_book):
    path = write_book({"S": [
        ["Year", "Killed", "Wounded", "Total"],
        ["2023", 10, 20, "=B2+C2"],
        ["2024", 5, 5, 10],
    ]})
    report = check_workbook(path)
    assert flagged(report) == {("S", "D2", "no_cached_value", "info")}
    assert "B2+C2" in report.findings[0].message


def test_per_day_from_start_and_end_columns(write_book):
    path = write_book({"S": [
        ["Phase", "Start", "End", "Losses", "Per day"],
        ["Phase 1", date(2024, 2, 1), date(2024, 2, 29), 290, 10],
        ["Phase 2", date(2023, 2, 1), date(2023, 2, 28), 310, 10],
    ]})
    report = check_workbook(path)
    # 290 / 29 days (leap February) = 10 holds; 310 / 28 = 11.07 is not "10 per day"
    assert flagged(report) == {("S", "E3", "per_day", "error")}
    assert "28 days" in report.findings[0].message


def test_daily_series_gaps_and_duplicates(write_book):
    path = write_book({"S": [
        ["Date", "Cumulative", "Daily change"],
        [date(2024, 1, 1), 100, 10],
        [date(2024, 1, 2), 110, 10],
        [date(2024, 1, 2), 110, 0],
        [date(2024, 1, 5), 140, 30],
        [date(2024, 1, 6), 150, 10],
    ]})
    assert flagged(check_workbook(path)) == {
        ("S", "A4", "duplicate_date", "error"),
        ("S", "A5", "date_gap", "warning"),
    }


def test_percent_formatted_cells_against_part_and_whole(write_book):
    path = write_book(
        {"S": [["Unit", "Killed", "Wounded", "Total", "% wounded"], ["A", 25, 75, 100, 0.75], ["B", 50, 50, 100, 0.6]]},
        formats={"S!E2": "0%", "S!E3": "0%"},
    )
    report = check_workbook(path)
    assert flagged(report) == {("S", "E3", "percent", "error")}
    assert "60%" in report.findings[0].message


def test_text_figures_are_intervals_not_false_alarms(write_book):
    path = write_book({"S": [
        ["Estimate", "Military", "Civilian", "Total"],
        ["A", 8_668_400, "about 17.9 million", "26.6 million"],
        ["B", 8_668_400, "about 17.9 million", "36.6 million"],
        ["C", 8_668_400, "about 17.9 million", "27 million"],  # a total rounded to millions
    ]})
    assert flagged(check_workbook(path)) == {("S", "D3", "sum", "error"), ("S", "D4", "sum", "warning")}


def test_a_list_of_dated_events_is_not_held_to_daily_series_rules(write_book):
    path = write_book({"S": [
        ["Date", "Place", "Killed"],
        [date(2024, 3, 1), "A", 10],
        [date(2024, 3, 1), "B", 4],
        [date(2024, 1, 9), "C", 7],
        [date(2024, 5, 2), "D", 1],
    ]})
    assert flagged(check_workbook(path)) == set()


@pytest.mark.corpus
def test_pivot_tables_are_left_to_excel():
    from conftest import CALAMINE

    report = check_workbook(CALAMINE / "pivots.xlsx")
    assert report.findings == [] and not any(t.sheet.startswith("PivotSheet") for t in report.tables)


def test_years_across_the_header_and_figures_written_as_text(write_book):
    path = write_book({
        "Wide": [
            ["Losses by category and year"],
            [],
            ["Category", 2022, 2023, 2024, "Total"],
            ["Killed", 10, 20, 30, 60],
            ["Wounded", 30, 40, 50, 125],
            ["Total", 40, 60, 80, 180],
        ],
        "Text": [
            ["Country", "Killed", "Wounded", "Total"],
            ["X", "1,234", "2,000", "3,234"],
            ["Y", "about 1,000", "about 2,000", "3,000"],
            ["Z", "n/a", 5, 5],
        ],
    })
    report = check_workbook(path)
    wide = next(t for t in report.tables if t.sheet == "Wide")
    assert [name for name, _ in wide.columns] == ["Category", "2022", "2023", "2024", "Total"]
    # 30 + 40 + 50 = 120, not 125; the Total row's E6 = 60 + 125 holds but 40 + 60 + 80 = 180 does not
    assert flagged(report) == {("Wide", "E5", "sum", "error"), ("Wide", "E6", "total_row", "error")}


def test_ordinary_yearly_and_quarterly_tables_raise_no_false_alarm(write_book):
    path = write_book({
        "Years": [[None, "Killed", "Wounded", "Total"], ["2022", 100, 200, 300], ["2023", 150, 250, 400], ["Total", 250, 450, 700]],
        "Quarters": [["Losses by quarter"], ["Period", "Losses", "Per day"], ["Jan–Mar 2024", 9100, 100], ["Apr–Jun 2024", 9100, 100]],
        "Partial": [["Year", "Losses", "Per day"], ["2024", 36600, 100], ["2025 (Jan–May)", 15100, 100]],
        "Range": [
            ["Russian losses, 24 Feb 2022 – 4 Jun 2025"],
            ["Year", "Losses", "Per day"], ["2022", 106720, 343], ["2023", 253290, 693], ["2025", 199330, 1286],
        ],
        "Population": [
            ["Region", "Population", "Killed", "Wounded", "Total casualties"],
            ["North", 1_200_000, 100, 200, 300], ["South", 800_000, 50, 70, 125],
        ],
    })
    report = check_workbook(path)
    assert flagged(report) == {("Population", "E3", "sum", "error")}  # 50 + 70 = 120; Population is no component


def test_round_totals_are_warnings_only_within_two_significant_digits(write_book):
    path = write_book({"S": [
        ["Unit", "Killed", "Wounded", "Total"],
        ["A", 60, 80, 100],  # 140: not a total "rounded" to 100
        ["B", 1_240, 1_358, 2_600],  # 2,598: rounded to the hundred
    ]})
    assert flagged(check_workbook(path)) == {("S", "D2", "sum", "error"), ("S", "D3", "sum", "warning")}


def test_daily_tallies_newest_first_and_with_dates_written_as_text(write_book):
    rows = [[date(2024, 3, d), 100 + 10 * d, 10] for d in range(1, 7)]
    rows[4][2] = 90  # 5 Mar: the tally rose 10
    newest_first = [["Date", "Personnel, cumulative", "Daily change"], *reversed(rows)]
    text_dates = [["Date", "Tanks", "Tanks +/-"], ["01.03.2024", 100, None], ["02.03.2024", 105, 5], ["02.03.2024", 105, 0], ["05.03.2024", 110, 5], ["06.03.2024", 112, 2]]
    report = check_workbook(write_book({"Newest": newest_first, "Text": text_dates}))
    assert flagged(report) == {
        ("Newest", "B3", "cumulative", "error"),
        ("Text", "A4", "duplicate_date", "error"),
        ("Text", "A5", "date_gap", "warning"),
    }


def test_stacked_tables_without_a_blank_row_between(write_book):
    path = write_book({"S": [
        ["Table 1: Losses 2023"], ["Unit", "Killed", "Wounded", "Total"], ["A", 10, 20, 30], ["B", 5, 5, 10], ["Total", 15, 25, 40],
        ["Table 2: Losses 2024"], ["Unit", "Killed", "Wounded", "Total"], ["A", 11, 21, 32], ["B", 6, 6, 12], ["Total", 18, 26, 44],
    ]})
    report = check_workbook(path)
    assert len(report.tables) == 2
    assert flagged(report) == {("S", "B10", "total_row", "error"), ("S", "C10", "total_row", "error")}


def test_json_report_survives_open_interval_figures(write_book):
    import json

    from tallycheck.report import json_text

    path = write_book({"S": [["Region", "Killed", "Share (%)"], ["North", 50, "<1"], ["South", 300, 30], ["East", 650, 65], ["Total", 1000, 100]]})
    doc = json.loads(json_text([check_workbook(path)]))
    (finding,) = [f for f in doc["workbooks"][0]["findings"] if f["cell"] == "C2"]
    assert finding["found"] == 1 and finding["rule"] == "percent"


def test_rows_indented_with_excels_indent_button_are_of_which_rows(tmp_path):
    from openpyxl.styles import Alignment

    wb = Workbook()
    ws = wb.active
    ws.title = "S"
    for row in [["Category", "2023", "2024"], ["Killed", 100, 120], ["Civilians", 60, 70], ["Military", 40, 40],
                ["Wounded", 200, 220], ["Total", 300, 340]]:
        ws.append(row)
    for ref in ("A3", "A4"):
        ws[ref].alignment = Alignment(indent=1)
    path = tmp_path / "indent.xlsx"
    wb.save(path)
    # the indented rows are parts of Killed (C2: 70 + 40 = 110, not 120), not rows of the Total
    assert flagged(check_workbook(path)) == {("S", "C2", "of_which", "error")}
