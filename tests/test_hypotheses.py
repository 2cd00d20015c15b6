"""Relations are hypotheses: headers propose them, the table's own arithmetic decides.

Each test writes a layout seen in real published workbooks (figures typed in, tables of our own)
and asserts exactly which cells a user would see flagged, and that the rest stays quiet.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import date

from conftest import flagged
from tallycheck import check_workbook


def errors(report) -> set[tuple[str, str, str]]:
    """(sheet, cell, rule) of every error or warning: what a user sees marked."""
    return {(f.sheet, f.cell, f.rule) for f in report.findings if f.severity in ("error", "warning")}


def infos(report) -> list[str]:
    return [f.message for f in report.findings if f.severity == "info"]


def test_a_running_number_and_days_are_never_components_of_a_total(write_book):
    # Dyer's layout: No. | From | To | Days | Killed | Wounded | Missing | Total, totals as printed
    rows = [["No.", "From", "To", "Days", "Killed", "Wounded", "Missing", "Total"]]
    body = [(470, 1071, 1792, 3334), (456, 1410, 373, 2239), (397, 2092, 725, 3214), (19, 120, 846, 965),
            (1068, 3484, 1558, 5300), (283, 1256, 52, 1591), (150, 601, 90, 841), (2100, 9800, 1500, 13400)]
    for n, (k, w, m, t) in enumerate(body, start=1):
        rows.append([n, "1 May 1864", "3 May 1864", 3, k, w, m, t])
    report = check_workbook(write_book({"Losses": rows}))
    # five rows hold; 3,334 (3,333), 965 (985) and 5,300 (6,110) are printed wrong
    assert errors(report) == {("Losses", "H2", "sum"), ("Losses", "H5", "sum"), ("Losses", "H6", "sum")}
    message = next(f.message for f in report.findings if f.cell == "H6")
    assert "Killed + Wounded + Missing = 6,110" in message and "No." not in message and "Days" not in message
    assert message.endswith("5 of the 8 rows checked hold")


def test_a_total_no_reading_explains_is_one_note_not_an_error_a_row(write_book):
    # "Total casualties" over strength and losses that add up in no way: a wrong reading, not 6 errors
    rows = [["Battle", "Strength", "Killed", "Wounded", "Total"]]
    rows += [[f"B{i}", s, k, w, t] for i, (s, k, w, t) in enumerate(
        [(31000, 481, 1011, 2900), (62000, 1754, 8408, 14000), (41000, 790, 3594, 6100),
         (28000, 1134, 4000, 7300), (70000, 3070, 14497, 23049), (44000, 1656, 9749, 16000)])]
    report = check_workbook(write_book({"S": rows}))
    assert errors(report) == set()
    (note,) = infos(report)
    assert "Total = any sum of the columns beside it: holds in 0 of 6 rows; not checked" in note


def test_a_number_and_a_percent_column_under_each_merged_header(tmp_path):
    # ABS layout: Yes | No | Total, each over "no." and "%"; the percentages are not components
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "T1"
    ws.append(["State", "Yes", None, "No", None, "Total", None])
    ws.append([None, "no.", "%", "no.", "%", "no.", "%"])
    for c in ("B1:C1", "D1:E1", "F1:G1"):
        ws.merge_cells(c)
    for name, yes, no in (("NSW", 2374362, 1736838), ("Vic.", 2145629, 1161098), ("Qld", 1487060, 961015),
                          ("WA", 801575, 455924), ("SA", 592528, 356247), ("Tas.", 191948, 109655)):
        total = yes + no
        ws.append([name, yes, round(100 * yes / total, 1), no, round(100 * no / total, 1), total, 100])
    ws["F5"] = 2448075 + 10  # Qld's total mistyped
    path = tmp_path / "abs.xlsx"
    wb.save(path)
    report = check_workbook(path)
    assert errors(report) == {("T1", "F5", "sum")}


def test_a_sum_no_header_names_is_found_by_arithmetic_and_its_broken_row_flagged(write_book):
    rows = [["District", "Girls", "Women", "Female", "Boys", "Men", "Male"]]
    data = [(120, 340, 460, 118, 301, 419), (88, 215, 303, 90, 199, 289), (301, 902, 1203, 287, 844, 1131),
            (55, 160, 215, 61, 150, 211), (210, 640, 850, 205, 601, 806), (73, 190, 263, 70, 185, 255),
            (140, 410, 550, 150, 398, 548), (99, 280, 379, 91, 266, 357)]
    rows += [[f"D{i}", *r] for i, r in enumerate(data)]
    rows[4][3] = 1213  # Female 1,213 but Girls + Women = 1,203
    report = check_workbook(write_book({"S": rows}))
    assert errors(report) == {("S", "D5", "sum")}


def test_small_counts_that_meet_by_chance_are_no_relation(write_book):
    # deaths a day by hospital: 0-3, sums of other columns agree in many rows by coincidence
    import random

    rnd = random.Random(7)
    rows = [["Trust", *(f"Day {d}" for d in range(1, 11))]]
    rows += [[f"T{i}", *(rnd.choice([0, 0, 1, 1, 2, 3]) for _ in range(10))] for i in range(40)]
    report = check_workbook(write_book({"S": rows}))
    assert errors(report) == set()


def test_a_total_that_counts_what_no_column_shows_is_not_its_parts_sum(write_book):
    # "England and Wales" includes non-residents, "England" and "Wales" do not: always a little more
    rows = [["Date", "England and Wales", "England", "Wales"]]
    for day in range(1, 21):
        eng, wal = 400 + 13 * day, 20 + day
        rows.append([date(2020, 4, day), eng + wal + (day % 4 == 0) * (day // 4), eng, wal])
    report = check_workbook(write_book({"S": rows}))
    assert errors(report) == set()


def test_a_note_that_says_figures_may_not_sum_stops_sum_checks(write_book):
    rows = [["Area", "Males", "Females", "Persons"], ["North", 500, 520, 1021], ["South", 610, 640, 1250],
            ["East", 300, 310, 610], ["West", 280, 300, 580], ["Centre", 410, 433, 843], ["Islands", 90, 97, 187], [],
            ["Note: figures are rounded independently and may not sum to the totals shown."]]
    report = check_workbook(write_book({"S": rows}))
    assert errors(report) == set()
    rows[-1] = ["Source: our survey."]
    assert errors(check_workbook(write_book({"S": rows}, name="b.xlsx"))) == {("S", "D2", "sum")}


def test_percent_part_and_whole_come_from_the_rows_not_the_header_words(write_book):
    # "% of strength" is Total / Effectives; "% killed" is Killed / Total (Fox and Livermore)
    rows = [["Battle", "Effectives", "Killed", "Wounded", "Total", "% killed", "% of strength"]]
    data = [("Bull Run", 28452, 481, 1011, 1492), ("Shiloh", 62682, 1754, 8408, 10162),
            ("Antietam", 75316, 2108, 9549, 11657), ("Fredericksburg", 100007, 1284, 9600, 10884),
            ("Gettysburg", 83289, 3155, 14529, 17684), ("Chickamauga", 58222, 1657, 9756, 11413)]
    for name, eff, k, w, t in data:
        rows.append([name, eff, k, w, t, round(100 * k / t, 1), round(100 * t / eff, 1)])
    rows[5][5] = round(100 * 3155 / 83289, 1)  # Gettysburg's % killed taken against effectives
    report = check_workbook(write_book({"S": rows}))
    assert errors(report) == {("S", "F6", "percent")}
    message = next(f.message for f in report.findings if f.cell == "F6")
    assert "Killed (Gettysburg) / Total" in message or "Killed / Total" in message


def test_percent_of_a_whole_that_excludes_the_unknown(write_book):
    rows = [["Condition", "Count", "Unknown", "All deaths", "% of deaths", "% (excluding unknown)"]]
    for name, n, unknown, total in (("Asthma", 1060, 7686, 25080), ("Dementia", 4305, 0, 23459),
                                    ("Diabetes", 6197, 1200, 23459), ("Kidney", 3405, 500, 23459),
                                    ("Heart", 2505, 3000, 24629)):
        rows.append([name, n, unknown, total, round(100 * n / total, 1), round(100 * n / (total - unknown), 1)])
    rows[3][5] = 30.0  # Diabetes: 6,197 / 22,259 is 27.8%
    report = check_workbook(write_book({"S": rows}))
    assert errors(report) == {("S", "F4", "percent")}


def test_shares_of_a_multi_response_question_are_not_summed_to_100(write_book):
    # a patient can receive several kinds of support: the percentages add up to more than 100
    rows = [["Support", "Patients", "Percentage of patients"], ["Ventilation", 4210, 67.3], ["Renal", 1510, 24.1],
            ["Cardiovascular", 3300, 52.8], ["Any advanced", 4950, 79.2]]
    assert errors(check_workbook(write_book({"S": rows}))) == set()


def test_per_day_over_a_days_column_not_the_label(write_book):
    rows = [["Period", "Days", "Tanks", "Tanks per day"], ["H1 2024", 182, 1710, 9.4], ["H2 2024", 184, 1546, 8.4],
            ["H1 2025", 181, 1159, 6.4], ["H2 2025", 184, 1380, 7.5], ["2026 (to 8 August)", 220, 1254, 3.4]]
    report = check_workbook(write_book({"S": rows}))
    assert errors(report) == {("S", "D6", "per_day")}  # 1,254 / 220 = 5.7: divided by 365
    assert "220 days (Days column)" in next(f.message for f in report.findings if f.cell == "D6")


def test_per_day_is_of_the_increase_and_months_may_be_dates(write_book):
    rows = [["Month", "Cumulative", "Increase", "Average per day"]]
    cumulative = 330000
    for month, increase in zip(range(1, 13), (7100, 7768, 8731, 9531, 10587, 10000, 12853, 14471, 16224, 18064, 19792, 21081), strict=True):
        cumulative += increase
        days = (date(2024 + (month == 12), month % 12 + 1, 1) - date(2024, month, 1)).days
        rows.append([date(2024, month, 1), cumulative, increase, round(increase / days, 1)])
    rows[10][3] = round(rows[10][1] / 31, 1)  # October averaged from the cumulative column
    formats = {f"S!A{r}": "mmm yyyy" for r in range(2, 14)}
    report = check_workbook(write_book({"S": rows}, formats=formats))
    assert errors(report) == {("S", "D11", "per_day")}


def test_cumulative_columns_pair_with_the_change_their_steps_agree_with(write_book):
    rows = [["Дата", "Танки", "Зміна за добу", "Літаки", "Зміна за добу"]]
    tanks, planes = 6000, 330
    for day in range(1, 16):
        dt, dp = 10 + day % 5, day % 2
        tanks, planes = tanks + dt, planes + dp
        rows.append([date(2024, 2, day), tanks, dt, planes, dp])
    rows[8][3] += 1  # 8 Feb: one aircraft too many, the next day's step falls short
    report = check_workbook(write_book({"S": rows}))
    # 7 -> 8 Feb rises by 1 too many, 8 -> 9 Feb by none where the change says 1; the tanks pair holds
    assert errors(report) == {("S", "D9", "cumulative"), ("S", "D10", "cumulative")}


def test_a_long_daily_series_reports_its_broken_days_as_a_short_one_would(write_book):
    # 400 days, two tallies: the engine checks them as column blocks, the public API lists every day
    from tallycheck.engine import table_relations
    from tallycheck.engine.grid import read_workbook
    from tallycheck.engine.tables import find_tables

    rows = [["Date", "Killed (cumulative)", "Killed per day", "Wounded (cumulative)", "Wounded per day"]]
    killed = wounded = 0
    for n in range(400):
        dk, dw = 20 + n % 7, 50 + n % 11
        killed, wounded = killed + dk, wounded + dw
        rows.append([date.fromordinal(date(2023, 1, 1).toordinal() + n), killed, dk, wounded, dw])
    rows[100][2] += 5  # the day's change overstated
    rows[300][3] -= 1000  # a wounded tally that falls (and rises by too little, then too much)
    path = write_book({"S": rows})
    report = check_workbook(path)
    assert errors(report) == {("S", "B101", "cumulative"), ("S", "D301", "cumulative"), ("S", "D302", "cumulative"),
                              ("S", "D301", "cumulative_falls")}
    rises = next(f for f in report.findings if f.cell == "B101")
    assert rises.message.endswith("the other 398 of 399 rows checked hold")
    (table,) = find_tables(read_workbook(path).sheets[0])
    relations, _ = table_relations(table)
    assert [r.rule for r in relations].count("cumulative") == 2 * 399 and all(hasattr(r, "cells") for r in relations)
    assert sum(r.rule == "cumulative_falls" for r in relations) == 2 * 399


def test_a_total_row_over_items_and_their_unlabelled_subtotals(write_book):
    # NHS layout: Total first, then groups of items each followed by an unlabelled subtotal row
    items = [("British", 11354), ("Irish", 161), ("Other White", 544), (None, 12059), ("Indian", 492),
             ("Pakistani", 332), (None, 824), ("Not stated", 1256), ("No match", 281), (None, 1537)]
    total = sum(n for label, n in items if label)
    rows = [["Ethnic group", "Count"], ["Total", total], *[[label, n] for label, n in items]]
    assert errors(check_workbook(write_book({"S": rows}))) == set()


def test_percent_change_rows_are_not_summed(write_book):
    rows = [["Area", "Year", "Violent crime", "Murder", "Robbery", "Assault"]]
    for area, base in (("Connecticut", 7000), ("Maine", 1500), ("Vermont", 900)):
        a, b = (base + 38, base // 2, base // 3), (base + 90, base // 2 + 9, base // 3 - 20)
        rows.append([area, 2015, sum(a), *a])
        rows.append([None, 2016, sum(b), *b])
        rows.append(["Percent change", None, round(100 * (sum(b) / sum(a) - 1), 1),
                     *(round(100 * (y / x - 1), 1) for x, y in zip(a, b, strict=True))])
    rows[4][2] += 5  # Maine 2015 mistyped
    report = check_workbook(write_book({"S": rows}))
    assert errors(report) == {("S", "C5", "sum")}


def test_a_row_total_the_label_alone_states_is_checked_even_when_every_column_is_off(write_book):
    # a Total typed before the last row was added: every column short by that row
    rows = [["Half-year", "Tanks", "APCs", "Artillery"], ["H1 2023", 1017, 1930, 2145], ["H2 2023", 1203, 2375, 3560],
            ["H1 2024", 1466, 3100, 5200], ["H2 2024", 1719, 3512, 6009]]
    rows.append(["Total", *(sum(r[c] for r in rows[1:4]) for c in (1, 2, 3))])
    report = check_workbook(write_book({"S": rows}))
    assert errors(report) == {("S", "B6", "total_row"), ("S", "C6", "total_row"), ("S", "D6", "total_row")}
    # a row called "All persons" must be confirmed by its columns: here none add up, so none is checked
    rows[-1][0] = "All persons, all ages"
    assert errors(check_workbook(write_book({"S": rows}, name="b.xlsx"))) == set()


def test_formulas_a_writer_left_for_excel_to_calculate_are_one_note(tmp_path):
    import xlsxwriter

    path = tmp_path / "generated.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Report")
    ws.write_row(0, 0, ["Half", "Days", "Tanks", "APCs", "Total", "Total per day"])
    for r, (days, tanks, apcs) in enumerate(((181, 1017, 1930), (184, 1203, 2375), (182, 1466, 3100)), start=1):
        ws.write_row(r, 0, [f"H{r}", days, tanks, apcs])
        ws.write_formula(r, 4, f"=SUM(C{r + 1}:D{r + 1})")  # cached 0: xlsxwriter cannot calculate
        ws.write_formula(r, 5, f"=E{r + 1}/B{r + 1}")
    ws.write_row(4, 0, ["Total"])
    for c in range(1, 5):
        col = "ABCDE"[c]
        ws.write_formula(4, c, f"=SUM({col}2:{col}4)")
    wb.close()
    report = check_workbook(path)
    assert errors(report) == set()
    (note,) = infos(report)
    assert note.startswith("10 formulas have no calculated value (the file asks Excel to recalculate when it opens)")


def test_a_header_set_apart_from_its_body_by_a_blank_row(write_book):
    # NHS daily layout: dates across the header, a Total row under it, a blank row, then the groups
    days = [date(2020, 3, d) for d in range(21, 27)]
    groups = [("0 - 19", [0, 0, 0, 1, 0, 0]), ("20 - 39", [2, 1, 1, 0, 3, 6]), ("40 - 59", [8, 10, 7, 10, 16, 26]),
              ("60 - 79", [40, 44, 53, 62, 93, 122]), ("80+", [46, 84, 68, 92, 114, 147])]
    totals = [sum(g[1][i] for g in groups) for i in range(6)]
    totals[3] += 10  # 24 March: the total is 10 more than its age groups
    rows = [["Age group", *days], ["Total", *totals], [], *[[name, *values] for name, values in groups]]
    report = check_workbook(write_book({"S": rows}))
    assert errors(report) == {("S", "E2", "total_row")}


def test_explain_lists_the_readings_weighed_with_their_support(write_book):
    rows = [["Unit", "No.", "Killed", "Wounded", "Total"], ["A", 1, 100, 200, 300], ["B", 2, 150, 250, 400],
            ["C", 3, 80, 20, 100], ["D", 4, 60, 40, 101]]
    path = write_book({"S": rows})
    out = subprocess.run([sys.executable, "-m", "tallycheck", "explain", str(path)], capture_output=True, text=True).stdout
    assert any("Total = Killed + Wounded" in line and line.endswith("holds in 3 of 4 rows, kept (header)") for line in out.splitlines())
    assert flagged(check_workbook(path)) == {("S", "E5", "sum", "error")}


def test_a_stacked_long_table_is_one_series_per_block(write_book):
    # Public Health Wales layout: Local Authority | date (newest first) | new | cumulative, block after block
    rows = [["Local Authority", "Specimen date", "Cases (new)", "Cumulative cases"]]
    for area, start in (("Cardiff", 3297), ("Swansea", 4867), ("Newport", 2101)):
        cumulative = start
        for day in range(20, 0, -1):
            new = 3 + day % 4
            rows.append([area, date(2020, 12, day), new, cumulative])
            cumulative -= new
    rows[25][3] += 7  # Swansea, 16 Dec: the tally mistyped
    report = check_workbook(write_book({"S": rows}))
    # only the mistyped day, inside Swansea's block: no "dates out of order" or "falls" at the blocks' seams
    assert {rule for _, _, rule in errors(report)} <= {"cumulative", "cumulative_falls"}
    assert {cell for _, cell, _ in errors(report)} == {"D25", "D26"}


def test_figures_in_thousands_allow_each_part_its_rounding(write_book):
    rows = [["Table 6 Employment by state"], ["State", "Mining", "Manufacturing", "Construction", "Total"],
            [None, "'000", "'000", "'000", "'000"]]
    data = [("NSW", 41.6, 282.4, 371.0), ("Vic.", 12.3, 271.9, 322.8), ("Qld", 68.9, 171.0, 240.4), ("WA", 112.7, 92.1, 130.6),
            ("SA", 11.5, 70.3, 71.9)]
    for state, *parts in data:
        rows.append([state, *(round(p) for p in parts), round(sum(parts))])  # each figure rounded on its own
    rows[-1][4] += 9  # SA total mistyped
    report = check_workbook(write_book({"S": rows}))
    assert errors(report) == {("S", "E8", "sum")}


def test_a_total_sums_the_columns_under_its_own_merged_header(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "T7"
    ws.append(["Industry", "Capital expenditure", None, None, None, None, None])
    ws.merge_cells("B1:E1")
    ws.append([None, "Plant", "Dwellings", "Other", "Total", "Disposal of assets", "Net capital expenditure"])
    for plant, dwell, other, disposal in ((4578, 1793, 9132, 3677), (4918, 1612, 6448, 3207), (5103, 1700, 7010, 3330),
                                          (4411, 1588, 6120, 2995), (4702, 1655, 6804, 3108), (4999, 1720, 7222, 3400)):
        total = plant + dwell + other
        ws.append(["Agriculture", plant, dwell, other, total, disposal, total - disposal])
    ws["E5"] = ws["E5"].value + 20  # one total mistyped: so is Net, computed from it
    path = tmp_path / "capex.xlsx"
    wb.save(path)
    report = check_workbook(path)
    assert ("T7", "E5", "sum") in errors(report)
    assert all("Disposal" not in f.message.split("should equal")[1] for f in report.findings if f.cell == "E5")


def test_a_cause_column_filled_in_few_rows_is_still_a_part(write_book):
    rows = [["Ward", "Total", "Insurgency", "Clashes", "Disaster"]]
    for i in range(30):
        insurgency, clashes = 100 + (37 * i) % 101, 20 + (13 * i) % 29
        disaster = 15 if i in (4, 17) else None
        rows.append([f"W{i}", insurgency + clashes + (disaster or 0), insurgency, clashes, disaster])
    rows[10][1] += 3  # one ward's total off
    report = check_workbook(write_book({"S": rows}))
    assert errors(report) == {("S", "B11", "sum")}


def test_a_formula_total_names_its_own_components(write_book):
    # The Economist's layout: Total =SUM(F,I:J) adds A + B + C; A1 and A2 are a breakdown of A
    rows = [["Country", "Year", "Week", "A", "A1", "A2", "B", "C", "Total"]]
    for week in range(1, 9):
        a1, a2, b, c = 100 + 3 * week, 40 + week, 500 + 7 * week, 25 + week % 3
        rows.append(["UK", 2020, week, a1 + a2, a1, a2, b, c, f"=SUM(D{week + 1},G{week + 1}:H{week + 1})"])
    path = write_book({"S": rows})
    from openpyxl import load_workbook  # give the formulas cached values, as Excel would have saved them

    wb = load_workbook(path)
    ws = wb["S"]
    report = check_workbook(path)  # no cached values: one note, no error
    assert errors(report) == set() and len(infos(report)) == 1
    for r in range(2, 10):
        ws[f"I{r}"] = ws[f"D{r}"].value + ws[f"G{r}"].value + ws[f"H{r}"].value
    ws["I5"] = ws["I5"].value + 4  # one total typed over its formula, and wrong
    wb.save(path)
    assert errors(check_workbook(path)) == {("S", "I5", "sum")}


def test_a_table_continued_after_a_page_break_is_one_table(write_book):
    header = ["Precinct", "Registered", "Ballots cast"]
    rows = [["STATISTICS"], header, ["North #1", 643, 447], ["North #2", 122, 91], ["East #7", 692, 541], [], [],
            ["STATISTICS"], header, ["South #5", 938, 666], ["West #9", 453, 331], ["Totals", 2848, 2076]]
    assert errors(check_workbook(write_book({"S": rows}))) == set()
    rows[-1][1] = 2858  # the total mistyped
    assert errors(check_workbook(write_book({"S": rows}, name="b.xlsx"))) == {("S", "B12", "total_row")}


def test_a_second_table_stacked_under_the_first_with_its_own_header(write_book):
    rows = [["Precinct", "Amendment A", None], [None, "For", "Against"], ["North", 120, 338], ["South", 60, 174],
            ["Totals", 180, 512],
            [None, "Amendment B", None], [None, "For", "Against"], ["North", 127, 303], ["South", 11, 75], ["Totals", 138, 378]]
    assert errors(check_workbook(write_book({"S": rows}))) == set()


def test_a_row_of_week_numbers_is_a_header_not_a_part(write_book):
    rows = [["Excess deaths by cause, weeks 14 to 19"], [], ["Week number", 1, 2, 3, 4, 5],
            ["Registered deaths: 2020"], ["Cancer", 308, 378, 331, 310, 326], ["Dementia", 147, 211, 155, 137, 155],
            ["Circulatory", 312, 382, 330, 298, 282], ["All", 767, 971, 816, 755, 763]]  # week 4: 745
    report = check_workbook(write_book({"S": rows}))
    assert errors(report) == {("S", "E8", "total_row")}
    assert "rows 5–7" in next(f.message for f in report.findings if f.cell == "E8")  # not the week-number row


def test_rounded_averages_allow_each_part_its_rounding(write_book):
    rows = [["Registered deaths: five year average"], ["Cause", "Week 1", "Week 2", "Week 3", "Week 4"],
            ["Cancer", 328, 359, 321, 326], ["Dementia", 148, 173, 161, 152], ["Respiratory", 205, 268, 228, 203],
            ["Total", 681, 801, 709, 682]]  # 681, 800, 710, 681 by the rounded parts: each within their rounding
    assert errors(check_workbook(write_book({"S": rows}))) == set()
    rows[0] = ["Registered deaths"]
    flagged_cells = {cell for _, cell, _ in errors(check_workbook(write_book({"S": rows}, name="b.xlsx")))}
    assert flagged_cells == {"C6", "D6", "E6"}


def test_counts_that_happen_to_run_one_two_three_are_still_parts(write_book):
    # only a column headed No., #, Year, Start ... is a running number; Killed 1, 2, 3, 4, 5 is a count
    rows = [["Region", "Killed", "Wounded", "Total"], *[[r, n, 10 * n, 11 * n] for r, n in zip("ABCDE", range(1, 6), strict=True)]]
    rows[5][3] = 99
    assert errors(check_workbook(write_book({"S": rows}))) == {("S", "D6", "sum")}


def test_a_percentage_of_open_figures_is_an_open_interval(write_book):
    rows = [["Region", "Killed", "Total", "% killed"], ["A", "under 5", "over 100", 2], ["B", 20, 40, 50],
            ["C", 30, 60, 50], ["D", 45, 90, 50], ["E", 10, 40, 25]]
    assert errors(check_workbook(write_book({"S": rows}))) == set()  # under 5 of over 100 is under 5%


def test_two_totals_that_read_alike_count_their_own_rows(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["Region", "2023", None, None, "2024", None, None])
    ws.append([None, "Killed", "Wounded", "Total", "Killed", "Wounded", "Total"])
    ws.merge_cells("B1:D1")
    ws.merge_cells("E1:G1")
    for n in range(6):
        ws.append([f"R{n}", 10 + n, 40 + 3 * n, 50 + 4 * n + (n == 1), 12 + n, 45 + 2 * n, 57 + 3 * n])
    path = tmp_path / "two.xlsx"
    wb.save(path)
    report = check_workbook(path)
    (finding,) = [f for f in report.findings if f.severity == "error"]
    assert finding.cell == "D4" and finding.message.endswith("the other 5 of 6 rows checked hold")
