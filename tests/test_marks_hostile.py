"""Marking packages it cannot patch safely: refused untouched, said so in the JSON, no temp files left behind."""

from __future__ import annotations

import io
import os
import time
import zipfile
from pathlib import Path

import pytest
import tallycheck
from hostile import cli, losses_book, no_traceback, openpyxl_values, rewrite, sub, values
from tallycheck.marks import MarkError, clear_workbook, mark_workbook
from tallycheck.marks import api as marks_api
from tallycheck.marks.errors import PatchRefused
from tallycheck.marks.package.validate import check_written

RELS = "xl/_rels/workbook.xml.rels"


@pytest.fixture
def book(tmp_path: Path) -> Path:
    return losses_book(tmp_path / "losses.xlsx")


def _findings(path: Path) -> list:
    report = tallycheck.check_workbook(path)
    assert report.readable and report.findings
    return report.findings


def _refused_untouched(path: Path, match: str) -> None:
    before = path.read_bytes()
    findings = _findings(path)
    with pytest.raises(MarkError, match=match):
        mark_workbook(path, findings)
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no temporary file either


def test_an_external_styles_relationship_is_refused_and_the_file_still_opens(book: Path, tmp_path: Path) -> None:
    bad = rewrite(book, tmp_path / "external.xlsx",
                  {RELS: sub(rb'(Type="[^"]*/styles")', rb'\g<1> TargetMode="External"')})
    book.unlink()
    _refused_untouched(bad, "styles relationship is external")
    openpyxl_values(bad)  # what marking it used to break: openpyxl raised IndexError


def test_a_styles_part_in_another_namespace_is_refused(book: Path, tmp_path: Path) -> None:
    bad = rewrite(book, tmp_path / "bogus-ns.xlsx",
                  {"xl/styles.xml": sub(rb'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"',
                                        b'xmlns="urn:bogus"')})
    book.unlink()
    _refused_untouched(bad, "not a SpreadsheetML style sheet")


def _marked_copy(book: Path, tmp_path: Path) -> tuple[bytes, bytes]:
    out = tmp_path / "marked.xlsx"
    mark_workbook(book, _findings(book), out=out)
    return book.read_bytes(), out.read_bytes()


def _edit(package: bytes, part: str, edit) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package)) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(info.filename, edit(data) if info.filename == part else data)
    return buf.getvalue()


def test_the_written_package_check_passes_a_sound_mark(book: Path, tmp_path: Path) -> None:
    original, marked = _marked_copy(book, tmp_path)
    check_written(marked, original, ["xl/styles.xml", "xl/worksheets/sheet1.xml", RELS], "xl/workbook.xml")


def test_the_written_package_check_catches_a_second_styles_part(book: Path, tmp_path: Path) -> None:
    original, marked = _marked_copy(book, tmp_path)
    second = b'<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>'
    doubled = _edit(marked, RELS, lambda d: d.replace(b"</Relationships>", second))
    with pytest.raises(PatchRefused, match="two styles parts"):
        check_written(doubled, original, [RELS], "xl/workbook.xml")


def test_the_written_package_check_catches_a_dangling_relationship_and_bad_xml(book: Path, tmp_path: Path) -> None:
    original, marked = _marked_copy(book, tmp_path)
    dangling = b'<Relationship Id="rId98" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/gone.xml"/></Relationships>'
    with pytest.raises(PatchRefused, match="point at missing parts"):
        check_written(_edit(marked, RELS, lambda d: d.replace(b"</Relationships>", dangling)), original, [RELS],
                      "xl/workbook.xml")
    broken = _edit(marked, "xl/worksheets/sheet1.xml", lambda d: d[:-20])
    with pytest.raises(PatchRefused, match="damaged part"):
        check_written(broken, original, ["xl/worksheets/sheet1.xml"], "xl/workbook.xml")


def test_a_fault_caught_by_the_check_leaves_the_workbook_untouched(book: Path, monkeypatch) -> None:
    def faulty(*args, **kwargs):
        raise PatchRefused("the marked package would have two styles parts; nothing was written")

    monkeypatch.setattr(marks_api, "check_written", faulty)
    _refused_untouched(book, "two styles parts")


def _duplicate_member_package(book: Path, tmp_path: Path) -> Path:
    with pytest.warns(UserWarning, match="Duplicate name"):
        return rewrite(book, tmp_path / "dup.xlsx", extra={"xl/worksheets/sheet1.xml": (
            zipfile.ZipFile(book).read("xl/worksheets/sheet1.xml"))})


def test_json_says_per_workbook_whether_it_was_marked_and_why_not(book: Path, tmp_path: Path) -> None:
    dup = _duplicate_member_package(book, tmp_path)
    out = tmp_path / "out"
    run = cli("check", "--format", "json", "--no-cache", "--mark", "--out", str(out), str(book), str(dup),
              cwd=tmp_path)
    assert run.code == 2 and no_traceback(run)
    good, refused = run.json()["workbooks"]
    assert good["marked"] is True and good["mark_error"] is None
    assert refused["ok"] is True and refused["marked"] is False and "twice" in refused["mark_error"]
    assert (out / "losses.xlsx").exists() and not (out / "dup.xlsx").exists()


def test_json_of_a_run_without_mark_keeps_the_contracts_keys(book: Path, tmp_path: Path) -> None:
    run = cli("check", "--format", "json", "--no-cache", str(book), cwd=tmp_path)
    assert set(run.json()["workbooks"][0]) == {"path", "ok", "error", "findings"}


def test_json_of_an_unreadable_workbook_says_it_was_not_marked(tmp_path: Path) -> None:
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"PK\x03\x04 not really a zip")
    (workbook,) = cli("check", "--format", "json", "--no-cache", "--mark", str(junk), cwd=tmp_path).json()["workbooks"]
    assert workbook["ok"] is False and workbook["marked"] is False and "not checked" in workbook["mark_error"]


def test_max_size_must_be_a_size(book: Path, tmp_path: Path) -> None:
    run = cli("check", "--max-size", "lots", str(book), cwd=tmp_path)
    assert run.code == 2 and "--max-size lots: give a size such as 256M" in run.stderr


def _temp(folder: Path, name: str, age: float) -> Path:
    path = folder / name
    path.write_bytes(b"PK half a workbook")
    then = time.time() - age
    os.utime(path, (then, then))
    return path


def test_a_killed_writes_temporary_file_is_removed_by_the_next_mark_and_nothing_else(book: Path) -> None:
    folder = book.parent
    stale = _temp(folder, ".losses.xlsx.k2j_9x1a.tallycheck-tmp", age=3600)
    other_stale = _temp(folder, ".2024.xlsx.abcdefgh.tallycheck-tmp", age=3600)
    fresh = _temp(folder, ".losses.xlsx.q8w7e6r5.tallycheck-tmp", age=0)  # perhaps another run's, under way
    not_ours = [_temp(folder, n, age=3600) for n in ("notes.tallycheck-tmp", ".losses.xlsx.tmp", "report.txt")]
    mark_workbook(book, _findings(book))
    assert not stale.exists() and not other_stale.exists()
    assert fresh.exists() and all(p.exists() for p in not_ours)


@pytest.mark.skipif(os.name == "nt", reason="the writer's lock is flock, POSIX only")
def test_a_temporary_file_still_locked_by_its_writer_is_left_alone(book: Path) -> None:
    import fcntl

    busy = _temp(book.parent, ".losses.xlsx.zz11yy22.tallycheck-tmp", age=3600)
    with open(busy, "rb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        clear_workbook(mark_workbook(book, _findings(book)).path)
        assert busy.exists()


def test_a_marked_copy_reads_the_same_values_in_both_readers(book: Path, tmp_path: Path) -> None:
    out = tmp_path / "copy.xlsx"
    mark_workbook(book, _findings(book), out=out)
    before, after = values(book), values(out)
    assert {k: after[k] for k in before} == before and set(after) - set(before) == {"tallycheck"}
    assert {k: v for k, v in openpyxl_values(out).items() if k in before} == openpyxl_values(book)


@pytest.mark.parametrize(
    ("part", "pattern", "replacement", "reason"),
    [
        # readers would take different style sheets: the unrelated one by name, ours by relationship
        (RELS, rb'<Relationship [^>]*/styles"[^>]*/>', b"", "styles part the workbook does not relate to"),
        # marked fine, but could not have been cleared
        ("xl/worksheets/_rels/sheet1.xml.rels", None, None, "not an OPC relationships part"),
        ("xl/styles.xml", rb'(<cellXfs[^>]*><xf [^>]*?)fontId="0"', rb'\1fontId="XFD1048576"', "is damaged"),
        # unstyled cells: dates to Excel and openpyxl, numbers to python-calamine
        ("xl/styles.xml", rb'(<cellXfs[^>]*><xf [^>]*?)numFmtId="0"', rb'\1numFmtId="14"', "default cell format shows dates"),
    ],
)
def test_packages_the_marks_could_not_undo_or_would_read_otherwise_are_refused(
    book: Path, tmp_path: Path, part: str, pattern: bytes | None, replacement: bytes | None, reason: str
) -> None:
    if pattern is None:  # a relationships part whose root is in another namespace
        rels = (b'<?xml version="1.0"?><Relationships xmlns="urn:bogus"><Relationship Id="rId1" '
                b'Type="urn:x" Target="../printerSettings.bin"/></Relationships>')
        bad = rewrite(book, tmp_path / "odd.xlsx", extra={part: rels})
    else:
        bad = rewrite(book, tmp_path / "odd.xlsx", {part: sub(pattern, replacement)})
    book.unlink()
    _refused_untouched(bad, reason)
