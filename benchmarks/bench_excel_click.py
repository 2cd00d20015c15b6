"""What one click on a Tally Check button costs on the Python side.

    python benchmarks/bench_excel_click.py [WORKBOOK] [--runs N]

Each run is a fresh Python process, as RunPython starts one per click: interpreter start-up and
`import xlwings` (what RunPython's command line does first), importing tallycheck.excel.entry,
then validate_workbook on the workbook opened in the tests' fake Excel (the same xlwings calls the
real add-in makes): read, check (pandas/pandera imported here, on first use), mark. The fake
answers at once, so the number of xlwings/object-model calls is reported too (counted on a separate
click, as the counting slows Python down): with real Excel each is a cross-process COM round trip
(typically 0.1-1 ms), to add to the figure. The Python-side targets: cold click <= 0.8 s, warm
click (a second click in the same process, as under xlwings' UDF server) <= 0.1 s.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
import importlib.util as u
import xlwings as xw
t_xlwings = time.perf_counter()
m = u.find_spec('tallycheck') and __import__('tallycheck.excel.entry', fromlist=['run'])
t_entry = time.perf_counter()
sys.path.insert(0, sys.argv[2])
from excel_fake import FakeBook
book = FakeBook.from_xlsx(sys.argv[1])
import tallycheck.excel.book as b, tallycheck.engine as e, tallycheck.marks.logic as lg
phases = {}
def timed(name, fn):
    def wrap(*a, **k):
        s = time.perf_counter(); r = fn(*a, **k); phases[name] = phases.get(name, 0) + time.perf_counter() - s; return r
    return wrap
b.read_book = timed('read', b.read_book)
e.check_books = timed('check', e.check_books)
lg.apply_marks = timed('mark', lg.apply_marks)
t_open = time.perf_counter()
result = m.validate_workbook(book)
t_end = time.perf_counter()
assert result['ok'], result
cold_phases = dict(phases)
again = FakeBook.from_xlsx(sys.argv[1])
t_warm = time.perf_counter()
m.validate_workbook(again)
warm = time.perf_counter() - t_warm
# The object-model calls, counted on a third click (a profiler would slow the timed ones).
calls = 0
fake = sys.modules['excel_fake'].__file__
def count(frame, event, arg):
    global calls
    if (event == 'call' and frame.f_code.co_filename == fake and not frame.f_code.co_name.startswith('_')
            and frame.f_back.f_code.co_filename != fake):
        calls += 1
third = FakeBook.from_xlsx(sys.argv[1])
sys.setprofile(count)
m.validate_workbook(third)
sys.setprofile(None)
print(json.dumps({'startup_xlwings': t_xlwings - t0, 'import_entry': t_entry - t_xlwings,
                  'click': t_end - t_open, 'warm_click': warm, **cold_phases, 'calls': calls, 'findings': len(result['findings']),
                  'tables': result['tables']}))
"""
#: Targets on the Python side (issue 12): a click in a fresh process, and one in a warm process
#: (what xlwings' UDF server gives on Windows, `tallycheck addin install --server`).
TARGET_COLD = 0.8
TARGET_WARM = 0.1


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("workbook", nargs="?", default=str(ROOT / "examples" / "soviet-ww2-losses.xlsx"))
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    runs = []
    for _ in range(args.runs):
        start = time.perf_counter()
        out = subprocess.run([sys.executable, "-B", "-c", CHILD, args.workbook, str(ROOT / "tests")],
                             capture_output=True, text=True, check=True)
        data = json.loads(out.stdout)
        data["process"] = time.perf_counter() - start
        runs.append(data)
    bare = []
    for _ in range(args.runs):  # the interpreter's own start-up and exit, which RunPython pays too
        start = time.perf_counter()
        subprocess.run([sys.executable, "-B", "-c", "pass"], check=True)
        bare.append(time.perf_counter() - start)
    for r in runs:
        r["interpreter"] = statistics.median(bare)
        r["cold_total"] = r["interpreter"] + r["startup_xlwings"] + r["import_entry"] + r["click"]
    keys = ("cold_total", "interpreter", "startup_xlwings", "import_entry", "click", "read", "check", "mark", "warm_click")
    print(f"{Path(args.workbook).name}: {runs[0]['tables']} tables, {runs[0]['findings']} findings, "
          f"{runs[0]['calls']} xlwings/object-model calls per click; median of {args.runs} fresh processes:")
    for k in keys:
        print(f"  {k:16s} {statistics.median(r[k] for r in runs) * 1000:8.1f} ms")
    print("  cold_total = interpreter + xlwings + tallycheck imports + the click, as RunPython runs it")
    print("  read/check/mark = phases of the cold click (check includes importing pandera on first use)")
    print("  warm_click = the same click again in the same (already warm) process")
    cold = statistics.median(r["cold_total"] for r in runs)
    warm = statistics.median(r["warm_click"] for r in runs)
    for name, value, target in (("cold", cold, TARGET_COLD), ("warm", warm, TARGET_WARM)):
        verdict = "meets" if value <= target else "MISSES"
        print(f"  {name} click {value * 1000:.0f} ms {verdict} the target of {target * 1000:.0f} ms")


if __name__ == "__main__":
    main()
