"""Marking 100 findings (fill + note) and adding the summary sheet, against openpyxl, in one run.

For a sheet of 10,000 and one of 100,000 rows × 10 numeric columns (written by XlsxWriter), times:
  - unzip -p of the sheet to /dev/null: the inflate floor of reading the sheet at all;
  - openpyxl load + save, doing nothing (what any openpyxl-based marker pays at least);
  - openpyxl load + 100 fills and comments + a summary sheet + save (what that marker does);
  - tallycheck mark_workbook (patching the package) and clear_workbook.
Each is the median of several runs in this process. Run: python benchmarks/bench_marks.py [--quick]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import openpyxl
import xlsxwriter
from openpyxl.comments import Comment
from openpyxl.styles import PatternFill
from tallycheck.engine.findings import Finding
from tallycheck.marks import clear_workbook, mark_workbook

COLUMNS = 10
MARKS = 100


def write_sheet(path: Path, rows: int) -> None:
    """A header row and rows × 10 numeric columns."""
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = wb.add_worksheet("Data")
    ws.write_row(0, 0, [f"Col {c + 1}" for c in range(COLUMNS)])
    for r in range(1, rows + 1):
        ws.write_row(r, 0, [r * 10 + c + 0.5 for c in range(COLUMNS)])
    wb.close()


def findings(rows: int) -> list[Finding]:
    """100 findings spread over the sheet, every third a warning."""
    out = []
    for i in range(MARKS):
        row = 2 + i * (rows - 1) // MARKS
        ref = f"E{row}"
        out.append(Finding("sum", "warning" if i % 3 == 0 else "error", "Data", ref,
                           (f"B{row}", f"C{row}", f"D{row}", ref), 100.0, 101.5, 0,
                           f"Total in {ref} should equal the parts (off by 1.5)"))
    return out


def openpyxl_mark(source: Path, out: Path, fs: list[Finding]) -> None:
    """What a straightforward openpyxl marker does."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wb = openpyxl.load_workbook(source)
    red = PatternFill("solid", fgColor="FFFFC7CE")
    amber = PatternFill("solid", fgColor="FFFFEB9C")
    for f in fs:
        cell = wb[f.sheet][f.cell]
        cell.fill = red if f.severity == "error" else amber
        cell.comment = Comment(f"tallycheck: {f.severity}\n{f.message}", "tallycheck")
    summary = wb.create_sheet("tallycheck")
    summary.append(["Sheet", "Cell", "Rule", "Severity", "Expected", "Found", "Message"])
    for f in fs:
        summary.append([f.sheet, f.cell, f.rule, f.severity, f.expected, f.found, f.message])
        summary.cell(summary.max_row, 2).hyperlink = f"#'{f.sheet}'!{f.cell}"
    wb.save(out)


def openpyxl_resave(source: Path, out: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        openpyxl.load_workbook(source).save(out)


def contenders(
    source: Path, marked: Path, out: Path, fs: list[Finding], unzip: str | None
) -> dict[str, Callable[[], object]]:
    """The methods timed, each writing to out (the source is never changed)."""
    methods: dict[str, Callable[[], object]] = {}
    if unzip:
        methods["unzip -p sheet > /dev/null (floor)"] = lambda: subprocess.run(
            [unzip, "-p", str(source), "xl/worksheets/sheet1.xml"], stdout=subprocess.DEVNULL, check=True)
    methods["openpyxl load + save (no marks)"] = lambda: openpyxl_resave(source, out)
    methods["openpyxl load + 100 marks + summary + save"] = lambda: openpyxl_mark(source, out, fs)
    methods["tallycheck mark (100 marks + summary)"] = lambda: mark_workbook(source, fs, out=out)
    methods["tallycheck clear"] = lambda: clear_workbook(marked, out=out)
    return methods


def median_time(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 rows only, fewer runs")
    args = parser.parse_args()
    sizes = [(10_000, 5)] if args.quick else [(10_000, 5), (100_000, 3)]
    unzip = shutil.which("unzip")
    results: dict[str, dict[int, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for rows, runs in sizes:
            source = folder / f"rows{rows}.xlsx"
            write_sheet(source, rows)
            fs = findings(rows)
            out = folder / f"out{rows}.xlsx"
            marked = folder / f"marked{rows}.xlsx"
            mark_workbook(source, fs, out=marked)
            methods = contenders(source, marked, out, fs, unzip)
            for name, fn in methods.items():
                fn()  # warm up (imports, file cache)
                results.setdefault(name, {})[rows] = median_time(fn, runs)
            size = source.stat().st_size
            print(f"{rows:>7,} rows: workbook {size / 1e6:.1f} MB, marked copy {marked.stat().st_size / 1e6:.1f} MB")
    base = "openpyxl load + save (no marks)"
    header = "".join(f"{f'{rows:,} rows':>14}{'vs openpyxl':>13}" for rows, _ in sizes)
    print(f"\n{'method':45}{header}")
    for name, by_rows in results.items():
        cells = "".join(f"{by_rows[rows]:>12.3f} s{by_rows[rows] / results[base][rows]:>12.2f}x" for rows, _ in sizes)
        print(f"{name:45}{cells}")
    mark = "tallycheck mark (100 marks + summary)"
    for rows, _ in sizes:
        print(f"{rows:,} rows: tallycheck mark is {results[base][rows] / results[mark][rows]:.1f}x faster than "
              f"an openpyxl load + save, "
              f"{results['openpyxl load + 100 marks + summary + save'][rows] / results[mark][rows]:.1f}x faster "
              "than marking with openpyxl")


if __name__ == "__main__":
    main()
