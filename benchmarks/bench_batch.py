"""Batch speed, in one run on this machine: tallycheck against the fastest way to just read the values.

    python benchmarks/bench_batch.py [--files 1000] [--rows 100000] [--jobs 2] [--work /tmp/tallycheck-bench]

Prints files per second for `tallycheck check` and `tallycheck check --mark --out DIR` on a folder of
small realistic workbooks, the floor (every sheet's values read with python-calamine and with
fastexcel, in the same number of processes), what people do today (pandas.read_excel with the
calamine engine and one pandera schema per sheet), time and peak memory on one large daily series, and
the cold start of checking one small workbook. Figures are medians of --repeat runs.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import large_series, small_folder

_MEASURE = (
    "import resource, subprocess, sys, time\n"
    "t = time.perf_counter()\n"
    "run = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)\n"
    "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, run.returncode)\n"
    "sys.stderr.write(run.stderr.decode(errors='replace')[-2000:])\n"
)

_FLOOR = """
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

def calamine(path):
    from python_calamine import CalamineWorkbook
    book = CalamineWorkbook.from_path(path)
    return sum(len(book.get_sheet_by_name(n).to_python()) for n in book.sheet_names)

def fastexcel(path):
    import fastexcel
    reader = fastexcel.read_excel(path)
    total = 0
    for n in reader.sheet_names:
        sheet = reader.load_sheet(n, header_row=None)
        sheet.__arrow_c_array__()  # the values as Arrow arrays (what to_arrow hands pyarrow, without needing it)
        total += sheet.height
    return total

def pandas_pandera(path):
    # What an analyst writes today: every sheet through pandas (calamine engine), one pandera
    # schema per sheet (its numeric columns non-negative, a Total column the sum of the others).
    import pandas as pd
    import pandera.pandas as pa

    rows = 0
    for name, frame in pd.read_excel(path, sheet_name=None, engine="calamine").items():
        numeric = frame.select_dtypes("number")
        checks = []
        if "Total" in numeric and numeric.shape[1] > 1:
            parts = [c for c in numeric if c != "Total"]
            checks.append(pa.Check(lambda df, parts=parts: (df[parts].sum(axis=1) - df["Total"]).abs() < 0.5))
        schema = pa.DataFrameSchema({c: pa.Column(float, pa.Check.ge(0), nullable=True, coerce=True) for c in numeric}, checks=checks)
        try:
            schema.validate(numeric, lazy=True)
        except pa.errors.SchemaErrors:
            pass
        rows += len(frame)
    return rows

reader, jobs, target = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
files = sorted(target.glob("*.xlsx")) if target.is_dir() else [target]
fn = {"calamine": calamine, "fastexcel": fastexcel, "pandas+pandera": pandas_pandera}[reader]
if jobs == 1:
    rows = sum(map(fn, files))
else:
    with ProcessPoolExecutor(jobs) as pool:
        rows = sum(pool.map(fn, files, chunksize=32))
"""


def measure(cmd: list[str], repeat: int, ok: tuple[int, ...] = (0,)) -> tuple[float, float]:
    """Median seconds and peak resident memory (MB) of a fresh process.

    A run that fails is an error, not a figure: a floor that crashes on its first file is fast.
    """
    times, peaks = [], []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-c", _MEASURE, *cmd], capture_output=True, text=True, check=True)
        seconds, kb, rc = out.stdout.split()
        if int(rc) not in ok:
            raise SystemExit(f"benchmark command failed (exit {rc}): {' '.join(cmd)}\n{out.stderr}")
        times.append(float(seconds))
        peaks.append(int(kb) / 1024)
    return statistics.median(times), max(peaks)


def _package_folder() -> Path:
    found = subprocess.run([sys.executable, "-c", "import tallycheck; print(tallycheck.__file__)"], capture_output=True, text=True, check=True)
    return Path(found.stdout.strip()).parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "tallycheck-bench")
    args = ap.parse_args()
    beside = Path(sys.executable).with_name("tallycheck")  # the tallycheck of the Python running this
    tally = str(beside) if beside.exists() else shutil.which("tallycheck") or "tallycheck"
    # compiled as pip compiles a regular install (an editable one, under PYTHONDONTWRITEBYTECODE, never is)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(_package_folder())], check=True, stdout=subprocess.DEVNULL)
    folder = small_folder(args.work / f"small-{args.files}", args.files)
    large = large_series(args.work / f"large-{args.rows}.xlsx", args.rows)
    out_dir = args.work / "marked"
    results: dict[str, dict[str, float]] = {}

    def row(name: str, cmd: list[str], n: int) -> None:
        seconds, peak = measure(cmd, args.repeat, ok=(0, 1) if cmd[0] == tally else (0,))  # 1: findings
        results[name] = {"seconds": round(seconds, 3), "files_per_s": round(n / seconds, 1), "peak_mb": round(peak)}

    j = str(args.jobs)
    row("floor: python-calamine, all sheets", [sys.executable, "-c", _FLOOR, "calamine", j, str(folder)], args.files)
    row("floor: fastexcel, all sheets", [sys.executable, "-c", _FLOOR, "fastexcel", j, str(folder)], args.files)
    row("what people do: pandas.read_excel + pandera", [sys.executable, "-c", _FLOOR, "pandas+pandera", j, str(folder)], args.files)
    row("tallycheck check", [tally, "check", "-q", "--no-cache", "-j", j, str(folder)], args.files)
    shutil.rmtree(out_dir, ignore_errors=True)
    row("tallycheck check --mark --out", [tally, "check", "-q", "--no-cache", "-j", j, "--mark", "--out", str(out_dir), str(folder)], args.files)
    row("tallycheck check --changed (all cached)", [tally, "check", "-q", "--changed", "--cache-dir", str(args.work / "cache"), "-j", j, str(folder)], args.files)

    row(f"large {args.rows:,} rows: python-calamine", [sys.executable, "-c", _FLOOR, "calamine", "1", str(large)], 1)
    row(f"large {args.rows:,} rows: fastexcel", [sys.executable, "-c", _FLOOR, "fastexcel", "1", str(large)], 1)
    row(f"large {args.rows:,} rows: pandas.read_excel + pandera", [sys.executable, "-c", _FLOOR, "pandas+pandera", "1", str(large)], 1)
    row(f"large {args.rows:,} rows: tallycheck check", [tally, "check", "-q", "--no-cache", str(large)], 1)

    one = sorted(folder.glob("*.xlsx"))[0]
    row("cold start: tallycheck check one small workbook", [tally, "check", "-q", "--no-cache", str(one)], 1)
    row("cold start: python -c 'import tallycheck'", [sys.executable, "-c", "import tallycheck"], 1)

    width = max(map(len, results))
    print(f"{'':{width}}  {'seconds':>8}  {'files/s':>8}  {'peak MB':>8}")
    for name, r in results.items():
        print(f"{name:{width}}  {r['seconds']:8.3f}  {r['files_per_s']:8.1f}  {r['peak_mb']:8.0f}")
    floor = min(results["floor: python-calamine, all sheets"]["seconds"], results["floor: fastexcel, all sheets"]["seconds"])
    print(f"\ncheck / floor = {results['tallycheck check']['seconds'] / floor:.1f}x (target 4x)")
    big_floor = min(v["seconds"] for k, v in results.items() if k.startswith("large") and ("calamine" in k or "fastexcel" in k))
    print(f"large check / floor = {results[f'large {args.rows:,} rows: tallycheck check']['seconds'] / big_floor:.1f}x")
    (args.work / "results.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
