"""The Python API's contract (missing files, readable / passed) and the wording of findings, on real files."""

from __future__ import annotations

import json
import warnings
from datetime import date
from pathlib import Path

import pytest
from conftest import EXAMPLES, run_cli
from tallycheck import check_workbook


def test_check_workbook_of_a_missing_file_raises_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as err:
        check_workbook(tmp_path / "typo.xlsx")
    assert err.value.filename == str(tmp_path / "typo.xlsx")


def test_report_says_readable_and_passed(tmp_path: Path, write_book) -> None:
    failing = check_workbook(EXAMPLES / "missing-in-action.xlsx")
    assert failing.readable and not failing.passed
    clean = check_workbook(write_book({"S": [["Year", "Killed", "Wounded", "Total"], ["2023", 1, 2, 3]]}))
    assert clean.readable and clean.passed
    broken = tmp_path / "broken.xlsx"
    broken.write_text("not a workbook")
    unreadable = check_workbook(broken)
    assert not unreadable.readable and not unreadable.passed
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert failing.ok is True  # the old name: readable, kept for callers written against it
    assert [w.category for w in caught] == [DeprecationWarning]


def test_the_json_contract_keeps_ok_meaning_readable() -> None:
    doc = json.loads(run_cli("check", "--format", "json", str(EXAMPLES / "missing-in-action.xlsx")).stdout)
    (book,) = doc["workbooks"]
    assert set(book) == {"path", "ok", "error", "findings"} and book["ok"] is True and book["findings"]


def test_a_falling_tally_fell_by_and_never_rose_by_a_negative(write_book) -> None:
    # a week of a tally that rises by its change, but for 2 March, where it fell
    rows = [[date(2024, 3, 1), 100, None], [date(2024, 3, 2), 98, 2], [date(2024, 3, 3), 103, 5], [date(2024, 3, 4), 110, 7],
            [date(2024, 3, 5), 114, 4], [date(2024, 3, 6), 123, 9], [date(2024, 3, 7), 126, 3]]
    path = write_book({"Daily": [["Date", "Cumulative", "Daily change"], *rows]},
                      formats={f"Daily!A{r}": "yyyy-mm-dd" for r in range(2, 9)})
    messages = [f.message for f in check_workbook(path).findings if f.rule == "cumulative"]
    assert messages == ["Cumulative fell by 2 from 1 Mar 2024 to 2 Mar 2024, but Daily change says 2 (off by 4); "
                        "the other 5 of 6 rows checked hold"]


def test_a_total_row_in_a_total_column_is_not_total_total(write_book) -> None:
    path = write_book({"Regions": [
        ["Region", "Killed", "Wounded", "Total"], ["North", 1, 2, 3], ["South", 4, 5, 9], ["Total", 5, 7, 13],
    ]})
    messages = [f.message for f in check_workbook(path).findings if f.rule == "total_row"]
    assert messages and all("Total Total" not in m for m in messages)
    assert messages[0].startswith("Total 13 should equal the sum of rows 2–3")


def test_a_qualifier_mid_sentence_is_lower_case_and_bounds_keep_the_decimals_shown() -> None:
    (message,) = [f.message for f in check_workbook(EXAMPLES / "russia-losses-by-year.xlsx").findings if f.cell == "C7"]
    assert "does not match over 200,000 over 155 days" in message and "Over" not in message
    assert "= over 1,290.3 per day" in message  # one decimal more than the 1,286 shown, as for a point figure


def test_counts_are_singular_for_one() -> None:
    one = run_cli("check", str(EXAMPLES / "missing-in-action.xlsx"))
    assert "Found 1 error and 0 warnings in 1 of 1 workbook" in one.stdout
