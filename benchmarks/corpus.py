"""Realistic workbooks for benchmarks: a folder of small ones, and one large daily series."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from pathlib import Path

import xlsxwriter


def small_workbook(path: Path, seed: int) -> None:
    """3 sheets of ~50 rows: components + total, a yearly per-day table, a daily tally; a few planted errors."""
    rnd = random.Random(seed)
    wb = xlsxwriter.Workbook(path)
    wb.set_properties({"created": datetime(2026, 1, 1)})
    num = wb.add_format({"num_format": "#,##0"})
    ws = wb.add_worksheet("Components")
    ws.write_row(0, 0, ["Unit", "Killed", "Wounded", "Missing", "Total"])
    totals = [0, 0, 0, 0]
    for r in range(1, 48):
        k, w, m = rnd.randint(0, 900), rnd.randint(0, 3000), rnd.randint(0, 300)
        total = k + w + m + (rnd.choice([0] * 30 + [10, -100]))
        ws.write(r, 0, f"Unit {r}")
        for c, v in enumerate((k, w, m, total), start=1):
            ws.write_number(r, c, v, num)
            totals[c - 1] += v
    ws.write(48, 0, "Total")
    for c, v in enumerate(totals, start=1):
        ws.write_number(48, c, v, num)
    ws = wb.add_worksheet("By year")
    ws.write(0, 0, "Losses since 24 February 2022 (as of 4 June 2025)")
    ws.write_row(2, 0, ["Year", "Losses", "Per day"])
    for r, (label, days) in enumerate([("2022", 311), ("2023", 365), ("2024", 366), ("2025 (as of 4 June)", 155)], start=3):
        lost = rnd.randint(50_000, 500_000)
        ws.write(r, 0, label)
        ws.write_number(r, 1, lost, num)
        ws.write_number(r, 2, round(lost / (days if rnd.random() > 0.2 else 365)), num)
    ws = wb.add_worksheet("Daily")
    ws.write_row(0, 0, ["Date", "Cumulative", "Daily change"])
    fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    cum = rnd.randint(1000, 100000)
    day = date(2024, 1, 1)
    for r in range(1, 51):
        change = rnd.randint(100, 1500)
        cum += change
        ws.write_datetime(r, 0, datetime.combine(day + timedelta(days=r), datetime.min.time()), fmt)
        ws.write_number(r, 1, cum, num)
        ws.write_number(r, 2, change if rnd.random() > 0.03 else change + 10, num)
    wb.close()


def small_folder(folder: Path, n: int = 1000) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        path = folder / f"book-{i:04d}.xlsx"
        if not path.exists():
            small_workbook(path, i)
    return folder


def large_series(path: Path, rows: int = 100_000) -> Path:
    """A daily tally of 100,000 rows x 10 columns: date, cumulative, change and 7 other counts.

    The days start on 1 Mar 1900, Excel's first date after its 1900 leap-year quirk, so every row
    is a real date (an earlier version started in 1800: its first 36,500 days were no dates).
    """
    if path.exists():
        return path
    rnd = random.Random(7)
    wb = xlsxwriter.Workbook(path, {"constant_memory": True})
    ws = wb.add_worksheet("Daily")
    fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    ws.write_row(0, 0, ["Date", "Cumulative", "Daily change", *[f"Class {i}" for i in range(1, 8)]])
    cum = 0
    start = datetime(1900, 2, 28)
    for r in range(1, rows + 1):
        change = rnd.randint(0, 2000)
        cum += change
        ws.write_datetime(r, 0, start + timedelta(days=r), fmt)
        ws.write_number(r, 1, cum)
        ws.write_number(r, 2, change if r % 10_000 else change + 1)
        for c in range(3, 10):
            ws.write_number(r, c, rnd.randint(0, 100))
    wb.close()
    return path
