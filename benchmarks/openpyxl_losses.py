"""What an openpyxl load + save loses, next to what tallycheck's marks keep, in one run.

Builds the feature-rich workbook of tests/feature_workbook.py (.xlsx, and .xlsm with a VBA
project), then for each feature compares its fingerprint in the original with the fingerprint
after (a) openpyxl load + save (for the .xlsm also with keep_vba=True), (b) tallycheck mark,
(c) tallycheck mark then clear. Run: python benchmarks/openpyxl_losses.py
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import feature_workbook as fw
import openpyxl
from tallycheck.engine.findings import Finding
from tallycheck.marks import clear_workbook, mark_workbook

# Features the marks add to on purpose (our note joins the analyst's notes); compared after clear.
MARK_ADDS = {"note box size, colour, visibility", "legacy notes (text)"}


def findings() -> list[Finding]:
    """Two marks on the Losses sheet, one of them on the cell with the analyst's note."""
    return [
        Finding("sum", "error", fw.MARKED_SHEET, "E6", ("B6", "C6", "D6", "E6"), 673_290, 674_290, 0,
                "Total 674,290 should equal Killed + Wounded + Missing = 673,290 (off by 1,000)"),
        Finding("sum", "warning", fw.MARKED_SHEET, fw.ANALYST_NOTE_CELL, ("B7", "C7", "D7", "E7"),
                1_060_790, 1_060_790, 0, "Total matches only when rounded"),
    ]


def main() -> None:
    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for suffix, keep_vba in ((".xlsx", False), (".xlsm", False), (".xlsm", True)):
            original = fw.build(folder / f"features{suffix}", vba=suffix == ".xlsm")
            resaved = folder / f"openpyxl{suffix}"
            openpyxl.load_workbook(original, keep_vba=keep_vba).save(resaved)
            marked = folder / f"marked{suffix}"
            shutil.copy(original, marked)
            mark_workbook(marked, findings())
            cleared = folder / f"cleared{suffix}"
            shutil.copy(marked, cleared)
            clear_workbook(cleared)
            before = fw.probe(original)
            after = {name: fw.probe(p) for name, p in
                     (("openpyxl", resaved), ("mark", marked), ("mark+clear", cleared))}
            print(f"\n{suffix}  (openpyxl load_workbook(keep_vba={keep_vba}) + save)")
            print(f"{'feature':40} {'openpyxl save':>14} {'tallycheck mark':>16} {'mark+clear':>11}")
            lost = 0
            present = 0
            for feature, value in before.items():
                if not value or value in ("-", (0, "-")):
                    print(f"{feature:40} {'n/a (not in this file)':>43}")
                    continue
                present += 1
                cols = []
                for name in ("openpyxl", "mark", "mark+clear"):
                    same = after[name][feature] == value
                    if name == "mark" and feature in MARK_ADDS and not same:
                        cols.append("+our note")
                    else:
                        cols.append("kept" if same else "LOST/CHANGED")
                lost += cols[0] != "kept"
                print(f"{feature:40} {cols[0]:>14} {cols[1]:>16} {cols[2]:>11}")
            print(f"openpyxl lost or changed {lost} of {present} features; tallycheck: none")


if __name__ == "__main__":
    main()
