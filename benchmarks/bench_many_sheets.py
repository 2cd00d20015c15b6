"""Marking and clearing a workbook of many small sheets: does the cost grow with the sheets marked?

Builds workbooks of N sheets (N = 250, 500, 1,000, 2,000 by default), each a four-row table whose
last Total is off by one, so every sheet gets one finding, and times through the command line:
  - ``tallycheck check``;
  - ``tallycheck check --mark --out DIR`` (check + mark every sheet);
  - ``tallycheck clear`` on the marked copy;
  - ``tallycheck check --mark --out DIR`` on a workbook of N sheets where only one sheet has a
    finding (what marking costs when the workbook is big but the marks are few).
Medians of --repeat runs (default 1), seconds and peak RSS. Linear scaling shows as a constant
time per sheet down the table. Run: python benchmarks/bench_many_sheets.py [--sheets 500 2000]

Measured on a 2-core machine (seconds; "before" is the patcher that scanned relationships, content
types and sheets on every lookup):

| sheets | check | mark all, before / after | clear, before / after | mark one, before / after |
|---|---|---|---|---|
| 250 | 0.9 | 1.38 / 1.15 | 0.59 / 0.31 | 1.11 / 0.94 |
| 500 | 1.0 | 2.37 / 1.41 | 1.64 / 0.42 | 1.59 / 1.00 |
| 1,000 | 1.1 | 6.26 / 2.08 | 5.46 / 0.66 | 3.55 / 1.21 |
| 2,000 | 1.4 | 20.78 / 3.64 | 20.09 / 1.17 | 10.71 / 1.51 |
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import xlsxwriter

TALLYCHECK = [sys.executable, "-m", "tallycheck.cli"]


def build(path: Path, sheets: int, *, wrong: int | None = None) -> Path:
    """``sheets`` sheets of Year | Killed | Wounded | Total; ``wrong`` of them (all when None) off by one."""
    wb = xlsxwriter.Workbook(str(path))
    for n in range(sheets):
        ws = wb.add_worksheet(f"S{n + 1}")
        ws.write_row(0, 0, ["Year", "Killed", "Wounded", "Total"])
        for r in range(1, 5):
            killed, wounded = 10 + r, 20 + 2 * r
            off = 1 if r == 3 and (wrong is None or n < wrong) else 0
            ws.write_row(r, 0, [2000 + r, killed, wounded, killed + wounded + off])
    wb.close()
    return path


def timed(args: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (MB) of one command (GNU time when present)."""
    time_bin = shutil.which("time") or "/usr/bin/time"
    cmd = [time_bin, "-f", "%M", *args] if Path(time_bin).exists() else args
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(args)} failed ({proc.returncode}): {proc.stderr[-500:]}")
    last = proc.stderr.strip().splitlines()[-1:] if cmd is not args else []
    rss = int(last[0]) // 1024 if last and last[0].isdigit() else 0
    return elapsed, rss


def measure(folder: Path, sheets: int, repeat: int) -> dict[str, tuple[float, int]]:
    every = build(folder / f"every-{sheets}.xlsx", sheets)
    one = build(folder / f"one-{sheets}.xlsx", sheets, wrong=1)
    out: dict[str, list[tuple[float, int]]] = {"check": [], "mark all": [], "clear": [], "mark one": []}
    for _ in range(repeat):
        marked = folder / "out"
        shutil.rmtree(marked, ignore_errors=True)
        out["check"].append(timed([*TALLYCHECK, "check", "-q", "--no-cache", str(every)]))
        out["mark all"].append(timed([*TALLYCHECK, "check", "-q", "--no-cache", "--mark", "--out", str(marked), str(every)]))
        out["clear"].append(timed([*TALLYCHECK, "clear", str(marked / every.name)]))
        out["mark one"].append(timed([*TALLYCHECK, "check", "-q", "--no-cache", "--mark", "--out", str(marked), str(one)]))
    return {k: (statistics.median(t for t, _ in v), max(m for _, m in v)) for k, v in out.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sheets", type=int, nargs="+", default=[250, 500, 1000, 2000])
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    print(f"{'sheets':>7} | {'check s':>8} | {'mark all s':>10} | {'clear s':>8} | {'mark one s':>10} | "
          f"{'mark all ms/sheet':>17} | peak MB")
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sheets:
            r = measure(Path(tmp), n, args.repeat)
            per_sheet = 1000 * (r["mark all"][0] - r["check"][0]) / n
            peak = max(m for _, m in r.values())
            print(f"{n:>7,} | {r['check'][0]:>8.2f} | {r['mark all'][0]:>10.2f} | {r['clear'][0]:>8.2f} | "
                  f"{r['mark one'][0]:>10.2f} | {per_sheet:>17.2f} | {peak}", flush=True)


if __name__ == "__main__":
    main()
