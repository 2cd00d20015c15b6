"""Build the analyst-facing templates: a table laid out right, its Rules sheet filled in, instructions.

Run from the repository root: ``python templates/build_templates.py``. The workbooks are committed;
this script rebuilds them byte-for-byte the same (xlsxwriter, fixed creation date). Derived figures
are formulas with their values cached, as Excel would save them, so tallycheck can read them.

``build(name, folder, plant=True)`` writes a copy with one planted error (the tests use it to show
each template's rules catch what they are for).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

import xlsxwriter

HERE = Path(__file__).resolve().parent
FIXED = datetime(2026, 11, 22)

RULES_HEADER = ["Where", "Rule", "Tolerance", "Severity", "Comment"]
LANGUAGE = [
    "The rule language (one rule a row on the Rules sheet):",
    "  Where: a sheet name, Sheet!A3:F9 for one table, words of a table's title, or blank for every table.",
    "  Rule: columns by their header, rows by their label, cells by address:",
    "    Total = Killed + Wounded + Missing             every row: the total is the sum of its parts",
    "    Per day = Losses / days(Year)                  days of the period in the Year label (2024: 366 days)",
    "    Cumulative = previous(Cumulative) + Daily change   on consecutive dates",
    "    Low <= Best <= High                            estimates in order",
    "    % wounded = Wounded / Total * 100              a percentage of the row's total",
    '    row "Total" = sum(rows above)                  a total row adds up the rows above it',
    "    Summary!C4 = Breakdown!E12                     the same figure on two sheets",
    "  Switches: ignore per_day / ignore sum at E7 / tolerance 1% / missing -999, \"n/a\" / severity warning for percent",
    "  Tolerance: an allowed difference, 5 or 1% (blank: exact, or the precision the figure is shown with).",
    "  Severity: error (default) or warning.   Comment: anything; it is for people.",
    "  A header with an operator in it goes in brackets: [Killed/Wounded]. Do not start a rule with = (Excel makes it a formula).",
]


def _book(path: Path) -> tuple[xlsxwriter.Workbook, dict[str, object]]:
    wb = xlsxwriter.Workbook(path)
    wb.set_properties({"created": FIXED, "author": "tallycheck templates", "title": path.stem})
    fmt = {
        "title": wb.add_format({"bold": True, "font_size": 13}),
        "head": wb.add_format({"bold": True, "bottom": 1, "text_wrap": True, "valign": "top"}),
        "int": wb.add_format({"num_format": "#,##0"}),
        "dec": wb.add_format({"num_format": "#,##0.0"}),
        "pct": wb.add_format({"num_format": "0.0"}),
        "date": wb.add_format({"num_format": "yyyy-mm-dd"}),
        "total": wb.add_format({"bold": True, "num_format": "#,##0", "top": 1}),
        "totaldec": wb.add_format({"bold": True, "num_format": "#,##0.0", "top": 1}),
        "totallabel": wb.add_format({"bold": True, "top": 1}),
        "note": wb.add_format({"italic": True, "font_color": "#555555"}),
        "example": wb.add_format({"font_color": "#1F4E79"}),
        "wrap": wb.add_format({"text_wrap": True, "valign": "top"}),
    }
    return wb, fmt


def _rules(wb: xlsxwriter.Workbook, fmt: dict[str, object], rows: list[list[object]]) -> None:
    ws = wb.add_worksheet("Rules")
    ws.set_column("A:A", 16)
    ws.set_column("B:B", 52)
    ws.set_column("C:D", 11)
    ws.set_column("E:E", 70)
    ws.write_row(0, 0, RULES_HEADER, fmt["head"])
    for i, row in enumerate(rows, start=1):
        for j, value in enumerate(row):
            if value is not None:
                ws.write_string(i, j, str(value)) if isinstance(value, str) else ws.write(i, j, value)
    ws.freeze_panes(1, 0)


def _instructions(wb: xlsxwriter.Workbook, fmt: dict[str, object], lines: list[str]) -> None:
    ws = wb.add_worksheet("Instructions")
    ws.set_column("A:A", 120)
    ws.write(0, 0, "Instructions", fmt["title"])
    for i, line in enumerate([*lines, "", *LANGUAGE], start=2):
        if line:
            ws.write_string(i, 0, line)


_COMMON = [
    "1. Save a copy of this workbook under your own name; keep the table's layout (title, header row, label column).",
    "2. Replace the example rows (in blue) with your figures; add or delete rows inside the table.",
    "3. Keep the formulas in the derived columns, or type figures as published: tallycheck checks both.",
    "4. If you rename a header, rename it in the Rules sheet too (tallycheck says which rule names a missing column).",
    "5. Check: tallycheck check this-file.xlsx   (or the Excel button). `tallycheck explain this-file.xlsx` lists every check and where it came from.",
]


def components_and_total(path: Path, plant: bool = False) -> None:
    """Killed + Wounded + Missing = Total in every row; a Total row; % wounded of the row's total."""
    wb, f = _book(path)
    ws = wb.add_worksheet("Losses")
    ws.set_column("A:A", 22)
    ws.set_column("B:F", 12)
    ws.write("A1", "Losses by category (replace with your table's title, date and source)", f["title"])
    ws.write_row("A3", ["Category", "Killed", "Wounded", "Missing", "Total", "% wounded"], f["head"])
    data = [("Infantry", 12_450, 31_200, 2_310), ("Armour", 3_120, 6_880, 410), ("Artillery", 1_980, 5_040, 150), ("Support", 860, 2_300, 95)]
    totals = [0, 0, 0, 0]
    for i, (label, *parts) in enumerate(data):
        r = 3 + i
        ws.write(r, 0, label, f["example"])
        for j, v in enumerate(parts):
            ws.write_number(r, 1 + j, v, f["int"])
        total = sum(parts)
        if plant and i == 1:
            total += 1_000  # typed over the formula: a total that no longer adds up
            ws.write_number(r, 4, total, f["int"])
        else:
            ws.write_formula(r, 4, f"=SUM(B{r + 1}:D{r + 1})", f["int"], total)
        ws.write_formula(r, 5, f"=C{r + 1}/E{r + 1}*100", f["pct"], parts[1] / total * 100)
        for j, v in enumerate([*parts, total]):
            totals[j] += v
    r = 3 + len(data)
    ws.write(r, 0, "Total", f["totallabel"])
    for j in range(4):
        col = "BCDE"[j]
        ws.write_formula(r, 1 + j, f"=SUM({col}4:{col}{r})", f["total"], totals[j])
    ws.write_formula(r, 5, f"=C{r + 1}/E{r + 1}*100", f["totaldec"], totals[1] / totals[3] * 100)
    ws.write(r + 2, 0, "Source: example figures; replace with your source and its date.", f["note"])
    _rules(wb, f, [
        ["Losses", "Total = Killed + Wounded + Missing", None, None, "The components add up to the total in every row."],
        ["Losses", 'row "Total" = sum(rows above)', None, None, "The Total row adds up the rows above it."],
        ["Losses", "% wounded = Wounded / Total * 100", None, None, "Shown with one decimal: 71.2 passes for 71.23."],
        ["Losses", "Total >= Killed", None, None, "A guard for rows where a component is missing."],
        ["Losses", 'missing -999, "n/a"', None, None, "Codes that mean 'no figure' in this table: relations that need them are skipped."],
    ])
    _instructions(wb, f, [
        "A components-and-total table: each row's parts (Killed, Wounded, Missing) add up to its Total, a Total row",
        "adds up the rows, and % wounded is Wounded as a percentage of the row's Total.",
        "",
        *_COMMON,
        "Add a component column: put it before Total and add it to the first rule on the Rules sheet.",
    ])
    wb.close()


def yearly_per_day(path: Path, plant: bool = False) -> None:
    """A yearly breakdown with "averaging N per day", partial first and last years, a total row."""
    wb, f = _book(path)
    ws = wb.add_worksheet("By year")
    ws.set_column("A:A", 24)
    ws.set_column("B:C", 14)
    ws.write("A1", "Losses by year since 24 February 2022 (as of 4 June 2025)", f["title"])
    ws.write_row("A3", ["Year", "Losses", "Per day"], f["head"])
    years = [
        ("2022 (from 24 Feb)", 106_720, date(2022, 2, 24), date(2022, 12, 31)),
        ("2023", 253_290, date(2023, 1, 1), date(2023, 12, 31)),
        ("2024", 430_790, date(2024, 1, 1), date(2024, 12, 31)),
        ("2025 (as of 4 June)", 199_330, date(2025, 1, 1), date(2025, 6, 4)),
    ]
    for i, (label, count, start, end) in enumerate(years):
        r = 3 + i
        days = (end - start).days + 1
        if plant and label == "2024":
            days = 365  # the leap day forgotten
        ws.write_string(r, 0, label, f["example"])
        ws.write_number(r, 1, count, f["int"])
        span = f"(DATE({end.year},{end.month},{end.day})-DATE({start.year},{start.month},{start.day})+1)"
        ws.write_formula(r, 2, f"=B{r + 1}/{span if days == (end - start).days + 1 else days}", f["dec"], count / days)
    r = 3 + len(years)
    total = sum(y[1] for y in years)
    days = (years[-1][3] - years[0][2]).days + 1
    ws.write(r, 0, "Total", f["totallabel"])
    ws.write_formula(r, 1, f"=SUM(B4:B{r})", f["total"], total)
    ws.write_formula(r, 2, f"=B{r + 1}/(DATE(2025,6,4)-DATE(2022,2,24)+1)", f["totaldec"], total / days)
    ws.write(r + 2, 0, "Per day: the year's losses over its calendar days (2024 has 366); partial years count from/to the dates in the label.", f["note"])
    _rules(wb, f, [
        ["By year", "Per day = Losses / days(Year)", None, None, "Days of the period the Year label names: 2023, 2022 (from 24 Feb), 2025 (as of 4 June). Shown with d decimals: passes within 10^-d."],
        ["By year", 'row "Total" = sum(rows above)', None, None, "The Total row adds up the years."],
        ["By year", "Losses >= 0", None, None, None],
    ])
    _instructions(wb, f, [
        "A yearly breakdown with per-day averages: each year's losses and the average per calendar day.",
        "The Year label says which days count: a year (2024 = 366 days), a partial year '2022 (from 24 Feb)'",
        "or '2025 (as of 4 June)'. The title's 'since ... (as of ...)' gives the Total row its whole period.",
        "",
        *_COMMON,
        "Published averages are often rounded or truncated ('averaging 693 per day' for 693.9): both pass.",
    ])
    wb.close()


def daily_cumulative(path: Path, plant: bool = False) -> None:
    """A daily cumulative tally with a daily change: cum[t] = cum[t-1] + change[t]."""
    wb, f = _book(path)
    ws = wb.add_worksheet("Daily")
    ws.set_column("A:A", 14)
    ws.set_column("B:C", 14)
    ws.write("A1", "Daily tally (cumulative since the start of the series)", f["title"])
    ws.write_row("A3", ["Date", "Cumulative", "Daily change"], f["head"])
    changes = [None, 1_210, 1_080, 1_340, 1_150, 990, 1_420, 1_270, 1_060, 1_330]
    start = date(2025, 1, 1)
    cum = 790_060
    for i, change in enumerate(changes):
        r = 3 + i
        ws.write_datetime(r, 0, datetime.combine(start + timedelta(days=i), datetime.min.time()), f["date"])
        if change is None:
            ws.write_number(r, 1, cum, f["int"])
            continue
        cum += change
        ws.write_number(r, 2, change, f["int"])
        if plant and i == 5:
            ws.write_number(r, 1, cum + 100, f["int"])  # the tally typed by hand, 100 too high
            cum += 100
        else:
            ws.write_formula(r, 1, f"=B{r}+C{r + 1}", f["int"], cum)
    ws.write(3 + len(changes) + 1, 0, "Each day: Cumulative = the day before + Daily change. One row a day, no gaps.", f["note"])
    _rules(wb, f, [
        ["Daily", "Cumulative = previous(Cumulative) + Daily change", None, None, "On consecutive dates; a gap or a repeated date is reported too."],
        ["Daily", "Daily change >= 0", None, None, "A tally of losses does not go down (a correction is reported)."],
    ])
    _instructions(wb, f, [
        "A daily cumulative tally: one row a day, the running total and the day's change.",
        "tallycheck checks that the total rises by exactly the change, never falls, and that no day is missing or repeated.",
        "",
        *_COMMON,
        "Corrections by the publisher: keep them as published and add a switch on the Rules sheet, e.g. ignore cumulative_falls at B12.",
    ])
    wb.close()


def estimates(path: Path, plant: bool = False) -> None:
    """Estimates with low / best / high from several sources."""
    wb, f = _book(path)
    ws = wb.add_worksheet("Estimates")
    ws.set_column("A:A", 30)
    ws.set_column("B:D", 14)
    ws.set_column("E:E", 40)
    ws.write("A1", "Estimates of deaths by source (replace with your estimates)", f["title"])
    ws.write_row("A3", ["Source", "Low", "Best", "High", "Method"], f["head"])
    rows = [
        ("Survey A (2024)", 41_000, 48_500, 57_000, "household survey"),
        ("Records B (2025)", 45_200, 46_900, 49_800, "named records"),
        ("Model C (2025)", 38_000, 52_000, 71_000, "statistical model"),
    ]
    for i, (source, low, best, high, method) in enumerate(rows):
        r = 3 + i
        if plant and i == 1:
            low = 47_200  # low above best: a transposed digit
        ws.write(r, 0, source, f["example"])
        ws.write_number(r, 1, low, f["int"])
        ws.write_number(r, 2, best, f["int"])
        ws.write_number(r, 3, high, f["int"])
        ws.write(r, 4, method)
    ws.write(3 + len(rows) + 1, 0, "Figures as published; text such as 'about 48,000' or 'over 40,000' is read as a range.", f["note"])
    _rules(wb, f, [
        ["Estimates", "Low <= Best <= High", None, None, "Each source's range holds its best estimate."],
        ["Estimates", "Low >= 0", None, None, None],
    ])
    _instructions(wb, f, [
        "An estimates table: one row a source, with its low, best and high estimate.",
        "tallycheck checks low <= best <= high; figures written as text keep their meaning ('about 5,000').",
        "",
        *_COMMON,
    ])
    wb.close()


TEMPLATES: dict[str, Callable[[Path, bool], None]] = {
    "components-and-total.xlsx": components_and_total,
    "yearly-per-day.xlsx": yearly_per_day,
    "daily-cumulative.xlsx": daily_cumulative,
    "estimates-low-best-high.xlsx": estimates,
}


def build(name: str, folder: Path = HERE, plant: bool = False) -> Path:
    """Write one template into ``folder`` (with one planted error when ``plant``); its path."""
    path = Path(folder) / name
    TEMPLATES[name](path, plant)
    return path


def main() -> None:
    for name in TEMPLATES:
        print(build(name))


if __name__ == "__main__":
    main()
    sys.exit(0)
