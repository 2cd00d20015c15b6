"""Marking and clearing every workbook of the calamine test corpus: none may be damaged.

Real-world edge cases (strict ISO namespaces, minimal packages, absolute part paths, pivot
tables, pictures in cells, VBA, inline strings, ...). Each is marked at A1 and B2 of its first
worksheet (B2 may not exist: it is created, and removed again by clear), marked again, and
cleared; or refused with a MarkError that leaves the file byte for byte as it was.
"""

from __future__ import annotations

import shutil
import warnings
import zipfile
from pathlib import Path

import feature_workbook as fw
import openpyxl
import pytest
import python_calamine
from tallycheck.engine.findings import Finding
from tallycheck.marks import MarkError, clear_workbook, mark_workbook

pytestmark = pytest.mark.corpus
FILES = sorted(p for p in fw.CALAMINE.glob("*.xls*")) if fw.CALAMINE.is_dir() else []
# The corpus files tallycheck refuses to mark, and why.
REFUSED = {
    "pass_protected.xlsx": "password-protected",
    "issue252.xlsx": "damaged zip member",
    "issue_530.xlsx": "part names use",
}


def _first_worksheet(path: Path) -> str | None:
    try:
        wb = python_calamine.CalamineWorkbook.from_path(str(path))
    except Exception:
        return None
    return next((m.name for m in wb.sheets_metadata if m.typ == python_calamine.SheetTypeEnum.WorkSheet), None)


def _openpyxl(path: Path) -> openpyxl.Workbook | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return openpyxl.load_workbook(path)
        except Exception:
            return None


def test_the_corpus_is_there() -> None:
    assert len(FILES) >= 60, "the calamine corpus is missing from shared/data"


# without the corpus, one placeholder case that the corpus marker skips (not pytest's "empty parameter set")
@pytest.mark.parametrize("source", FILES or [fw.CALAMINE], ids=[p.name for p in FILES] or ["corpus"])
def test_mark_and_clear_never_damage_a_workbook(source: Path, tmp_path: Path) -> None:
    book = tmp_path / source.name
    shutil.copyfile(source, book)  # the corpus is read-only; its copy is not
    sheet = _first_worksheet(source) or "Sheet1"
    findings = [Finding("sum", "error", sheet, ref, (ref,), 1, 2, 0, f"checked {ref}") for ref in ("A1", "B2")]
    if source.name in REFUSED:
        with pytest.raises(MarkError, match=REFUSED[source.name]) as err:
            mark_workbook(book, findings)
        assert source.name in str(err.value)
        assert book.read_bytes() == source.read_bytes()
        assert list(tmp_path.iterdir()) == [book]
        return

    values = fw.calamine_values(source)
    readable = _openpyxl(source) is not None
    summary = mark_workbook(book, findings)
    assert summary.cells == 2
    assert zipfile.ZipFile(book).testzip() is None
    marked_values = fw.calamine_values(book)
    assert marked_values.pop("tallycheck")
    assert marked_values == values
    wb = _openpyxl(book)
    if readable:
        assert wb is not None, "openpyxl read the original but not the marked workbook"
        if sheet in wb.sheetnames:  # (openpyxl sees no sheets in a strict ISO workbook)
            assert wb[sheet]["A1"].fill.fgColor.rgb == "FFFFC7CE"
            assert "checked A1" in wb[sheet]["A1"].comment.text
            assert wb[sheet]["A1"].value == _openpyxl(source)[sheet]["A1"].value

    mark_workbook(book, findings)
    assert clear_workbook(book) == 2
    before, after = fw.parts(source), fw.parts(book)
    assert list(after) == list(before)
    raw_before, raw_after = fw.raw_records(source), fw.raw_records(book)
    for name in before:
        if raw_after[name] != raw_before[name]:
            assert fw.canonical(after[name]) == fw.canonical(before[name]), name
    assert fw.calamine_values(book) == values
