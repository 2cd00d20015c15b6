"""Build the example workbooks from the seed articles' figures and the General Staff data.

Run from the repository root: ``python examples/build_examples.py``. The workbooks are committed;
this script says exactly where every figure came from, and rebuilds them byte-for-byte the same
(xlsxwriter with a fixed creation date). The articles' figures are typed in below; the General
Staff days the examples use are in ``data/ua-general-staff-excerpt.json`` (its source and MIT
licence are in the file), so the repository alone rebuilds every example.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import xlsxwriter

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "ua-general-staff-excerpt.json"
FIXED = datetime(2026, 11, 22)


def _book(name: str) -> tuple[xlsxwriter.Workbook, dict[str, object]]:
    wb = xlsxwriter.Workbook(HERE / name)
    wb.set_properties({"created": FIXED, "author": "tallycheck examples"})
    fmt = {
        "title": wb.add_format({"bold": True, "font_size": 13}),
        "head": wb.add_format({"bold": True, "bottom": 1, "text_wrap": True, "valign": "top"}),
        "group": wb.add_format({"bold": True, "align": "center", "bottom": 1}),
        "int": wb.add_format({"num_format": "#,##0"}),
        "dec": wb.add_format({"num_format": "#,##0.0"}),
        "pct": wb.add_format({"num_format": "0.0"}),
        "date": wb.add_format({"num_format": "yyyy-mm-dd"}),
        "total": wb.add_format({"bold": True, "num_format": "#,##0", "top": 1}),
        "totallabel": wb.add_format({"bold": True, "top": 1}),
        "note": wb.add_format({"italic": True, "font_color": "#555555"}),
        "text": wb.add_format({"align": "right"}),
    }
    return wb, fmt


def soviet_ww2() -> None:
    """Seed 000 (Krivosheev 1993): the missing breakdown, force strength in June 1945, war dead."""
    wb, f = _book("soviet-ww2-losses.xlsx")
    ws = wb.add_worksheet("Missing")
    ws.set_column("A:A", 52)
    ws.set_column("B:B", 14)
    ws.write("A1", "Soviet military missing in action, 1941–1945 (Krivosheev 1993)", f["title"])
    ws.write_row("A3", ["Fate of the missing", "Persons"], f["head"])
    rows = [
        ("Total missing", 4_559_000, "total"),
        ("Missing and presumed dead", 500_000, "int"),
        ("Re-conscripted as territories were liberated", 939_700, "int"),
        ("Returned to the USSR after the war", 1_836_000, "int"),
        ("Died in captivity or did not return", 1_283_300, "int"),
        ("  of which: died in captivity (German sources)", 673_000, "int"),
        ("  of which: the remaining", 1_110_300, "int"),
    ]
    for i, (label, value, style) in enumerate(rows, start=3):
        ws.write(i, 0, label, f["totallabel"] if style == "total" else None)
        ws.write_number(i, 1, value, f[style])
    ws.write("A11", "Source: G. F. Krivosheev, Soviet Casualties and Combat Losses (1993), as quoted in the seed article.", f["note"])
    ws.write_row("A13", ["Reported missing, by source", "Persons"], f["head"])
    ws.write("A14", "Field reports")
    ws.write_number("B14", 3_396_400, f["int"])
    ws.write("A15", "Estimated from German documents")
    ws.write_number("B15", 1_162_600, f["int"])
    ws.write("A16", "Total", f["totallabel"])
    ws.write_formula("B16", "=SUM(B14:B15)", f["total"], 4_559_000)

    ws = wb.add_worksheet("Strength")
    ws.set_column("A:A", 34)
    ws.set_column("B:B", 14)
    ws.write("A1", "Soviet armed forces strength, June 1945", f["title"])
    ws.write_row("A3", ["Category", "Persons"], f["head"])
    for i, (label, value) in enumerate(
        [("On active service", 11_390_600), ("In hospital", 1_046_000), ("In civilian departments", 403_200)], start=3
    ):
        ws.write(i, 0, label)
        ws.write_number(i, 1, value, f["int"])
    ws.write("A7", "Total", f["totallabel"])
    ws.write_number("B7", 12_840_000, f["total"])

    ws = wb.add_worksheet("War dead")
    ws.set_column("A:A", 40)
    ws.set_column("B:D", 20)
    ws.write("A1", "Soviet war dead, military and civilian (figures as written in the sources)", f["title"])
    ws.write_row("A3", ["Estimate", "Military", "Civilian", "Total"], f["head"])
    ws.write("A4", "Russian Academy of Sciences (1993)")
    ws.write_number("B4", 8_668_400, f["int"])
    ws.write_string("C4", "about 17.9 million", f["text"])
    ws.write_string("D4", "26.6 million", f["text"])
    ws.write_row("A6", ["Military dead, estimates", "Low", "Best", "High"], f["head"])
    ws.write("A7", "Krivosheev / Ministry of Defence (1993, 2016)")
    ws.write_number("B7", 8_668_400, f["int"])
    ws.write_string("C7", "8.7 million", f["text"])
    ws.write_string("D7", "8.8 million", f["text"])
    wb.close()


def losses_by_year() -> None:
    """Seed 002: 'Breakdown of Russian casualties by year', exactly as the article printed it."""
    wb, f = _book("russia-losses-by-year.xlsx")
    ws = wb.add_worksheet("By year")
    ws.set_column("A:A", 22)
    ws.set_column("B:C", 16)
    ws.write("A1", "Russian troop losses since 24 February 2022, by year (Ukraine's General Staff, as of 4 June 2025)", f["title"])
    ws.write_row("A3", ["Year", "Troops lost", "Averaging per day"], f["head"])
    rows = [("2022", 106_720, 340), ("2023", 253_290, 693), ("2024", 430_790, 1_177)]
    for i, (year, lost, per_day) in enumerate(rows, start=3):
        ws.write_string(i, 0, year)
        ws.write_number(i, 1, lost, f["int"])
        ws.write_number(i, 2, per_day, f["int"])
    ws.write_string("A7", "2025 (as of June 4)")
    ws.write_string("B7", "Over 200,000", f["text"])
    ws.write_number("C7", 1_286, f["int"])
    ws.write("A9", "Source: Kyiv Post, 12 June 2025, quoting the General Staff of the Armed Forces of Ukraine.", f["note"])
    wb.close()


def missing_in_action() -> None:
    """Seed 001: total losses 'around 1,050,250' on 28 July 2025, and the court-case figures."""
    wb, f = _book("missing-in-action.xlsx")
    ws = wb.add_worksheet("Losses")
    ws.set_column("A:A", 30)
    ws.set_column("B:E", 13)
    ws.write("A1", "Russian personnel losses as reported (illustrative split of the General Staff total)", f["title"])
    ws.merge_range("B3:D3", "Losses", f["group"])
    ws.write_row("A4", ["Report", "Killed", "Wounded", "Missing", "Total"], f["head"])
    ws.write("A3", "")
    rows = [
        ("Report of 26 July 2025", 420_000, 590_600, 37_950, 1_048_550),
        ("Report of 27 July 2025", 420_300, 591_100, 38_000, 1_049_400),
        ("Report of 28 July 2025", 420_600, 591_600, 38_050, 1_049_250),
    ]
    for i, row in enumerate(rows, start=4):
        ws.write_string(i, 0, row[0])
        for j, value in enumerate(row[1:], start=1):
            ws.write_number(i, j, value, f["int"])
    ws.write("A9", "Only the 28 July total, 1,050,250, is the General Staff's; the split is invented to show the check.", f["note"])

    ws = wb.add_worksheet("Courts")
    ws.set_column("A:A", 58)
    ws.set_column("B:C", 16)
    ws.write("A1", "Missing soldiers and desertion cases (IStories, Mediazona)", f["title"])
    ws.write_row("A3", ["Figure", "Count", "Per day"], f["head"])
    ws.write("A4", "Court cases to declare missing or dead, 1 Jan – 30 Jun 2025")
    ws.write_string("B4", "over 26,000", f["text"])
    ws.write_number("C4", 143, f["int"])
    ws.write("A5", "Deserters recorded, 2024")
    ws.write_string("B5", "around 50,500", f["text"])
    ws.write_number("C5", 138, f["int"])
    ws.write("A6", "Killed, identified by name by 28 Jul 2025 (Mediazona/BBC)")
    ws.write_string("B6", "nearly 120,000", f["text"])
    wb.close()


def _series(name: str) -> list[dict]:
    """One series of the General Staff excerpt: personnel_daily, apc_daily or personnel_year_ends."""
    return json.loads(DATA.read_text(encoding="utf-8"))[name]


def general_staff_daily() -> None:
    """The General Staff excerpt: two windows of the daily cumulative tally with a daily change."""
    wb, f = _book("ua-general-staff-daily.xlsx")
    personnel = {r["date"]: r for r in _series("personnel_daily")}
    equipment = {r["date"]: r for r in _series("apc_daily")}

    ws = wb.add_worksheet("Personnel")
    ws.set_column("A:C", 16)
    ws.write("A1", "Russian personnel losses, cumulative, as published daily (General Staff of Ukraine)", f["title"])
    ws.write_row("A3", ["Date", "Personnel (cumulative)", "Daily change"], f["head"])
    day, end = date(2022, 2, 25), date(2022, 3, 12)
    prev = None
    r = 3
    while day <= end:
        rec = personnel[day.isoformat()]
        ws.write_datetime(r, 0, datetime.combine(day, datetime.min.time()), f["date"])
        cum = rec["personnel"]
        if rec.get("qualifier") == "about":
            ws.write_string(r, 1, f"about {cum:,}", f["text"])
        else:
            ws.write_number(r, 1, cum, f["int"])
        if prev is not None:
            ws.write_number(r, 2, cum - prev, f["int"])
        prev = cum
        day += timedelta(days=1)
        r += 1
    ws.write(r + 1, 0, "Early figures were published as 'about N'. 3 March 2022: the count was revised upward to 9,000 after verification.", f["note"])

    ws = wb.add_worksheet("APC")
    ws.set_column("A:C", 16)
    ws.write("A1", "Armoured personnel carriers destroyed, cumulative (General Staff of Ukraine)", f["title"])
    ws.write_row("A3", ["Date", "APC (cumulative)", "Daily change"], f["head"])
    day, end = date(2022, 10, 5), date(2022, 10, 20)
    prev = None
    r = 3
    while day <= end:
        cum = equipment[day.isoformat()]["APC"]
        ws.write_datetime(r, 0, datetime.combine(day, datetime.min.time()), f["date"])
        ws.write_number(r, 1, cum, f["int"])
        if prev is not None:
            change = cum - prev
            if day == date(2022, 10, 16):
                change = int(str(change)[::-1]) if change >= 10 else change + 10  # retyped: digits transposed
            ws.write_number(r, 2, change, f["int"])
        prev = cum
        day += timedelta(days=1)
        r += 1
    ws.write(r + 1, 0, "13 Oct 2022: the publisher restated APC losses (a correction of -25). 16 Oct: the daily change was retyped with its digits transposed.", f["note"])
    wb.close()


def general_staff_yearly() -> None:
    """Yearly totals derived from the cumulative series, with formulas (and two classic mistakes)."""
    wb, f = _book("ua-general-staff-yearly.xlsx")
    cum = {r["date"]: r["personnel"] for r in _series("personnel_year_ends")}
    ends = ["2022-12-31", "2023-12-31", "2024-12-31", "2025-12-31", "2026-08-08"]
    yearly, before = [], 0
    for end in ends:
        yearly.append(cum[end] - before)
        before = cum[end]
    ws = wb.add_worksheet("Yearly")
    ws.set_column("A:A", 24)
    ws.set_column("B:C", 16)
    ws.write("A1", "Russian personnel losses since 24 February 2022, by year, as of 8 August 2026", f["title"])
    ws.write_row("A3", ["Year", "Personnel losses", "Per day"], f["head"])
    labels = ["2022", "2023", "2024", "2025", "2026 (as of 8 August)"]
    days = [311, 365, 366, 365, 220]
    days[2] = 365  # the classic mistake: 2024 averaged over 365 days
    for i, (label, lost, d) in enumerate(zip(labels, yearly, days, strict=True), start=3):
        ws.write_string(i, 0, label)
        ws.write_number(i, 1, lost, f["int"])
        ws.write_formula(i, 2, f"=B{i + 1}/{d}", f["dec"], lost / d)
    ws.write("A9", "Total", f["totallabel"])
    wrong_total = sum(yearly[:4])  # =SUM(B4:B7) was not extended when the 2026 row was added
    ws.write_formula("B9", "=SUM(B4:B7)", f["total"], wrong_total)
    ws.write_formula("C9", "=B9/1627", f["dec"], wrong_total / 1627)
    ws.write("A11", "Derived from the daily cumulative tally (data: PetroIvaniuk/2022-Ukraine-Russia-War-Dataset).", f["note"])
    wb.close()


def estimates_and_shares() -> None:
    """Low/best/high estimates and shares in percent, from seed 000's figures."""
    wb, f = _book("estimates-and-shares.xlsx")
    ws = wb.add_worksheet("Shares")
    ws.set_column("A:A", 46)
    ws.set_column("B:C", 14)
    ws.write("A1", "Soviet missing in action by fate, with shares (Krivosheev 1993)", f["title"])
    ws.write_row("A3", ["Fate", "Persons", "Share (%)"], f["head"])
    parts = [
        ("Missing and presumed dead", 500_000),
        ("Re-conscripted", 939_700),
        ("Returned to the USSR", 1_836_000),
        ("Died in captivity or did not return", 1_283_300),
    ]
    shares = [11.0, 40.3, 20.6, 28.1]  # retyped: the two middle shares swapped
    for i, ((label, value), share) in enumerate(zip(parts, shares, strict=True), start=3):
        ws.write(i, 0, label)
        ws.write_number(i, 1, value, f["int"])
        ws.write_number(i, 2, share, f["pct"])
    ws.write("A8", "Total", f["totallabel"])
    ws.write_number("B8", 4_559_000, f["total"])
    ws.write_number("C8", 100.0, f["pct"])

    ws = wb.add_worksheet("Components")
    ws.set_column("A:A", 24)
    ws.set_column("B:F", 13)
    ws.write("A1", "June 1945 strength, parts as % of the total", f["title"])
    ws.write_row("A3", ["Category", "Active", "Hospital", "Civilian", "Total", "% in hospital"], f["head"])
    ws.write("A4", "June 1945")
    for j, value in enumerate([11_390_600, 1_046_000, 403_200, 12_839_800], start=1):
        ws.write_number(3, j, value, f["int"])
    ws.write_number("F4", 8.1, f["pct"])

    ws = wb.add_worksheet("Estimates")
    ws.set_column("A:A", 40)
    ws.set_column("B:D", 14)
    ws.write("A1", "Estimates of Soviet military dead", f["title"])
    ws.write_row("A3", ["Source", "Low", "Best", "High"], f["head"])
    ws.write("A4", "Krivosheev (1993) / MoD (2016)")
    for j, value in enumerate([8_668_400, 8_700_000, 8_800_000], start=1):
        ws.write_number(3, j, value, f["int"])
    ws.write("A5", "Retyped: low and best swapped")
    for j, value in enumerate([8_700_000, 8_668_400, 8_800_000], start=1):
        ws.write_number(4, j, value, f["int"])
    wb.close()


if __name__ == "__main__":
    for build in (soviet_ww2, losses_by_year, missing_in_action, general_staff_daily, general_staff_yearly, estimates_and_shares):
        build()
    print("examples written to", HERE)
