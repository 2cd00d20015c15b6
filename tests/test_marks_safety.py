"""Marking never costs the user a file: refusals are clear, writes are atomic, crashes leave no trace."""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Callable
from pathlib import Path

import feature_workbook as fw
import pytest
from conftest import damaged_zip, encrypted_workbook
from tallycheck.engine.findings import Finding
from tallycheck.marks import MarkError, clear_workbook, mark_workbook
from tallycheck.marks import api as marks_api
from tallycheck.marks.package import zipio
from tallycheck.marks.package.styles import Styles

ONE = [Finding("sum", "error", "Losses", "E6", ("B6", "C6", "D6", "E6"), 673_290, 674_290, 0, "off by 1,000")]


@pytest.fixture(scope="module")
def original(tmp_path_factory) -> Path:
    return fw.build(tmp_path_factory.mktemp("safety") / "book.xlsx")


@pytest.fixture
def book(original: Path, tmp_path: Path) -> Path:
    path = tmp_path / "book.xlsx"
    shutil.copyfile(original, path)
    return path


def _folder(path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in path.parent.iterdir() if p.is_file()}


def test_a_crash_halfway_through_writing_leaves_the_original_and_no_temp_file(
    book: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _folder(book)
    calls = {"n": 0}
    real_copy = zipio.ZipBuilder.copy

    def copy_then_crash(self, source, member):
        calls["n"] += 1
        if calls["n"] == 10:  # some members are already in the temporary file
            raise RuntimeError("simulated crash while writing")
        return real_copy(self, source, member)

    monkeypatch.setattr(zipio.ZipBuilder, "copy", copy_then_crash)
    with pytest.raises(RuntimeError, match="simulated crash"):
        mark_workbook(book, ONE)
    assert calls["n"] == 10
    assert _folder(book) == before  # same files, same bytes: no half-written workbook, no temp file


def test_an_interrupt_while_writing_leaves_the_original(book: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = _folder(book)

    def interrupted(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(zipio.ZipBuilder, "add", interrupted)
    with pytest.raises(KeyboardInterrupt):
        mark_workbook(book, ONE)
    assert _folder(book) == before


def test_a_failing_rename_is_a_mark_error_and_leaves_the_original(
    book: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _folder(book)

    def refuse(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(marks_api.os, "replace", refuse)
    with pytest.raises(MarkError, match="could not be written") as err:
        mark_workbook(book, ONE)
    assert book.name in str(err.value)
    assert _folder(book) == before


def test_a_bug_while_patching_writes_nothing(book: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = _folder(book)

    def broken(self, base_xf, rgb):
        raise KeyError("simulated bug")

    monkeypatch.setattr(Styles, "marked", broken)
    with pytest.raises(MarkError, match=r"internal error .* not changed"):
        mark_workbook(book, ONE)
    assert _folder(book) == before


def test_a_file_changed_while_marking_is_not_overwritten(book: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = marks_api.apply_marks

    def meanwhile(target, findings, **kw):
        book.write_bytes(book.read_bytes() + b"saved by someone else")
        return real(target, findings, **kw)

    monkeypatch.setattr(marks_api, "apply_marks", meanwhile)
    with pytest.raises(MarkError, match="changed on disk"):
        mark_workbook(book, ONE)
    assert book.read_bytes().endswith(b"saved by someone else")
    assert not [p for p in book.parent.iterdir() if p.name.endswith(marks_api.TEMP_SUFFIX)]


def test_a_read_only_workbook_is_refused_by_name(book: Path, tmp_path: Path) -> None:
    before = book.read_bytes()
    book.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    try:
        with pytest.raises(MarkError, match="read-only") as err:
            mark_workbook(book, ONE)
        assert str(book) in str(err.value) and err.value.path == book
        with pytest.raises(MarkError, match="read-only"):
            clear_workbook(book)
        assert book.read_bytes() == before
        # A read-only original can still be marked into a copy.
        out = tmp_path / "out" / "marked.xlsx"
        mark_workbook(book, ONE, out=out)
        assert book.read_bytes() == before and out.exists()
    finally:
        book.chmod(stat.S_IRUSR | stat.S_IWUSR)


def test_the_marked_copy_keeps_the_file_mode(book: Path) -> None:
    book.chmod(0o640)
    mark_workbook(book, ONE)
    assert stat.S_IMODE(book.stat().st_mode) == 0o640


def test_a_workbook_open_in_excel_is_refused(book: Path) -> None:
    (book.parent / f"~${book.name}").write_bytes(b"lock")
    with pytest.raises(MarkError, match="open in Excel"):
        mark_workbook(book, ONE)


def _written(content: bytes) -> Callable[[Path], Path]:
    def write(path: Path) -> Path:
        path.write_bytes(content)
        return path

    return write


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (encrypted_workbook, "password-protected"),
        (_written(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)), "legacy .xls"),
        (_written(b"Year,Killed\n2024,430790\n"), "not an Excel workbook"),
        (_written(b"PK\x03\x04 truncated"), "not a zip package"),
        (damaged_zip, "damaged zip member"),
    ],
    ids=["encrypted", "xls", "csv", "truncated", "bad-crc"],
)
def test_files_that_are_not_patchable_workbooks_get_a_reason(
    tmp_path: Path, make: Callable[[Path], Path], reason: str
) -> None:
    path = make(tmp_path / "input.xlsx")
    content = path.read_bytes()
    with pytest.raises(MarkError, match=reason) as err:
        mark_workbook(path, [Finding("sum", "error", "Sheet1", "A1", ("A1",), 1, 2, 0, "x")])
    assert "input.xlsx" in str(err.value)
    with pytest.raises(MarkError, match=reason):
        clear_workbook(path)
    assert path.read_bytes() == content
    assert os.listdir(tmp_path) == ["input.xlsx"]


def test_a_truncated_real_workbook_is_refused(book: Path) -> None:
    data = book.read_bytes()
    book.write_bytes(data[: len(data) // 2])
    with pytest.raises(MarkError, match="not a zip package"):
        mark_workbook(book, ONE)


def test_missing_file_and_folders(book: Path, tmp_path: Path) -> None:
    with pytest.raises(MarkError, match="no such file"):
        mark_workbook(tmp_path / "absent.xlsx", ONE)
    with pytest.raises(MarkError, match="is a folder"):
        mark_workbook(tmp_path, ONE)
    with pytest.raises(MarkError, match="is a folder"):
        mark_workbook(book, ONE, out=tmp_path)


@pytest.mark.parametrize(
    ("finding", "reason"),
    [
        (Finding("sum", "error", "ChartSheet", "A1", ("A1",), 1, 2, 0, "x"), "chartsheet"),
        (Finding("sum", "error", "No such sheet", "A1", ("A1",), 1, 2, 0, "x"), "no sheet named"),
        (Finding("sum", "error", "Losses", "A0", ("A0",), 1, 2, 0, "x"), "outside the sheet"),
        (Finding("sum", "error", "Losses", "B2:C3", ("B2",), 1, 2, 0, "x"), "not a cell reference"),
    ],
    ids=["chartsheet", "missing-sheet", "row-0", "range"],
)
def test_findings_that_cannot_be_marked_refuse_the_whole_workbook(book: Path, finding: Finding, reason: str) -> None:
    before = book.read_bytes()
    with pytest.raises(MarkError, match=reason):
        mark_workbook(book, [*ONE, finding])  # the good finding is not marked either: never half-mark
    assert book.read_bytes() == before


def test_a_refusal_does_not_touch_previous_marks(book: Path) -> None:
    mark_workbook(book, ONE)
    marked = book.read_bytes()
    with pytest.raises(MarkError):
        mark_workbook(book, [Finding("sum", "error", "ChartSheet", "A1", ("A1",), 1, 2, 0, "x")])
    assert book.read_bytes() == marked
