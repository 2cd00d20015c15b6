"""Mutation fuzzing, bounded: package, XML and value mutants of small workbooks, checked and marked.

Whatever a mutant holds, checking it returns one report (its findings, or its error in words, never
a tallycheck bug), and marking it either refuses with a MarkError or writes a copy that opens in
python-calamine and openpyxl with the mutant's own values, before and after clearing it again.
Run in-process: a reader that aborts the process fails the whole run, loudly. About 30 s in all
(FUZZ_EXAMPLES per test; TALLYCHECK_FUZZ_EXAMPLES=3000 for a longer hunt); CI runs a fixed
sequence (derandomized), a developer's run a new one each time.
"""

from __future__ import annotations

import atexit
import datetime
import functools
import io
import os
import re
import shutil
import tempfile
import warnings
import zipfile
from pathlib import Path

import tallycheck
import xlsxwriter
from hostile import losses_book, members, openpyxl_values, values
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tallycheck.marks import MarkError, clear_workbook, mark_workbook

FUZZ_EXAMPLES = int(os.environ.get("TALLYCHECK_FUZZ_EXAMPLES", "400"))
FUZZ = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    derandomize=bool(os.environ.get("CI")),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)

_WORK = Path(tempfile.mkdtemp(prefix="tallycheck-fuzz-"))
atexit.register(shutil.rmtree, _WORK, True)


@functools.cache
def seeds() -> tuple[bytes, ...]:
    """Three small workbooks: openpyxl's (inline strings), with a date cell, and XlsxWriter's (shared strings, a note)."""
    plain = losses_book(_WORK / "plain.xlsx").read_bytes()
    dated = losses_book(_WORK / "dated.xlsx", dated=True).read_bytes()
    path = _WORK / "daily.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Daily")
    date = wb.add_format({"num_format": "dd mmm yyyy"})
    ws.write_row(0, 0, ["Date", "Daily change", "Cumulative"])
    cumulative = 1000
    for day in range(1, 8):
        cumulative += 10 * day + (5 if day == 4 else 0)
        ws.write_datetime(day, 0, datetime.datetime(2024, 3, day), date)
        ws.write_row(day, 1, [10 * day, cumulative])
    ws.write_comment("C2", "Analyst: from the bulletin")
    wb.close()
    return plain, dated, path.read_bytes()


NASTY_REFS = ["XFD1048576", "ZZZZ99999999999", "A0", "", "1A", "a1", "XFE1", "A1048577", "AAAA1", "$A$1", "B2:C3"]
NASTY_VALUES = [
    "-Infinity", "Infinity", "NaN", "inf", "1E+308", "-1E+308", "1e-320", "-999999999999999999999999999999",
    "99999999999", "2958466", "-1", "", " ", "abc", "0x10", "1,5", "--1", "1.2.3", "9" * 400, "&#0;", "&amp;",
]
NASTY_ATTRS = {
    "r": NASTY_REFS,
    "s": ["-1", "999999", "", "x", "1e3"],
    "t": ["e", "s", "str", "b", "d", "n", "inlineStr", "bogus", ""],
    "Target": ["", "../../../../evil.xml", "/xl/missing.xml", "worksheets/sheet1.xml", "http://example.invalid/x"],
    "numFmtId": ["14", "22", "-5", "99999", "x"],
    "ref": ["A1:XFD1048576", "B3:", "ZZZZ1:A1", ""],
}


def _mutant(data: bytes, kind: str, draw) -> bytes:
    """One mutant of a package: its zip bytes, one XML part's markup, or one cell value changed."""
    if kind == "zip":
        buf = bytearray(data)
        for _ in range(draw(st.integers(1, 4))):
            at = draw(st.integers(0, len(buf) - 1))
            buf[at] ^= draw(st.integers(1, 255))
        if draw(st.booleans()):
            del buf[draw(st.integers(len(buf) // 2, len(buf))) :]
        return bytes(buf)
    parts = members_of(data)
    xml = sorted(n for n in parts if n.endswith((".xml", ".rels", ".vml")))
    if kind == "xml":
        part = draw(st.sampled_from(xml))
        text = parts[part]
        attrs = [(m.start(1), m.end(1), m.group(0).split(b"=")[0].strip()) for m in re.finditer(rb'\s[\w:]+="([^"]*)"', text)]
        edit = draw(st.sampled_from(["attr", "cut", "dtd", "namespace", "external"]))
        if edit == "attr" and attrs:
            start, end, name = draw(st.sampled_from(attrs))
            choices = NASTY_ATTRS.get(name.decode().split(":")[-1], NASTY_REFS + NASTY_VALUES[:6])
            text = text[:start] + draw(st.sampled_from(choices)).encode() + text[end:]
        elif edit == "cut":
            start = draw(st.integers(0, len(text)))
            text = text[:start] + text[start + draw(st.integers(1, 200)) :]
        elif edit == "dtd":
            text = b'<!DOCTYPE x [<!ENTITY e "boom">]>' + re.sub(rb"^<\?xml[^>]*\?>", b"", text)
        elif edit == "namespace":
            text = re.sub(rb'xmlns="[^"]*"', b'xmlns="urn:bogus"', text, count=1)
        else:
            text = re.sub(rb'(<Relationship\b)', rb'\1 TargetMode="External"', text, count=1)
        parts[part] = text
    else:
        sheets = [n for n in xml if "worksheets/" in n and re.search(rb"<v>", parts[n])]
        part = draw(st.sampled_from(sheets))
        cells = list(re.finditer(rb"<v>([^<]*)</v>", parts[part]))
        m = draw(st.sampled_from(cells))
        value = draw(st.one_of(st.sampled_from(NASTY_VALUES), st.text(max_size=30).map(_xml_text)))
        parts[part] = parts[part][: m.start(1)] + value.encode() + parts[part][m.end(1) :]
    return _package(parts)


def _xml_text(text: str) -> str:
    return re.sub(r"[^\x20-\ud7ff]", "", text).replace("&", "&amp;").replace("<", "&lt;")


def members_of(data: bytes) -> dict[str, bytes]:
    path = _WORK / "seed.xlsx"
    path.write_bytes(data)
    return members(path)


def _package(parts: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return buf.getvalue()


def _try(read, path: Path):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return read(path)
    except Exception:  # the mutant itself does not open in this reader
        return None


def _holds(mutant: bytes, name: str) -> None:
    path = _WORK / f"{name}.xlsx"
    path.write_bytes(mutant)
    (report,) = tallycheck.check_workbooks([path])
    if not report.readable:
        assert report.error.strip() and "tallycheck bug" not in report.error, report.error
        return
    copy = _WORK / f"{name}-marked.xlsx"
    copy.unlink(missing_ok=True)
    try:
        mark_workbook(path, report.findings, out=copy)
    except MarkError as exc:
        assert str(exc).startswith(str(path)) and "internal error" not in str(exc), str(exc)
        assert not copy.exists()
        return
    assert path.read_bytes() == mutant
    readable = {read: _try(read, path) for read in (values, openpyxl_values)}
    _same_values(copy, readable)
    clear_workbook(copy)  # and cleared again: the marks go, the values stay
    _same_values(copy, readable)


def _same_values(copy: Path, before: dict) -> None:
    for read, expected in before.items():
        if expected is not None:
            after = read(copy)
            assert {k: after.get(k) for k in expected} == expected, read.__name__


@FUZZ
@given(seed=st.integers(0, 2), data=st.data())
def test_zip_level_mutants_are_reported_or_marked_soundly(seed: int, data) -> None:
    _holds(_mutant(seeds()[seed], "zip", data.draw), "zip")


@FUZZ
@given(seed=st.integers(0, 2), data=st.data())
def test_xml_mutants_are_reported_or_marked_soundly(seed: int, data) -> None:
    _holds(_mutant(seeds()[seed], "xml", data.draw), "xml")


@FUZZ
@given(seed=st.integers(0, 2), data=st.data())
def test_value_mutants_are_reported_or_marked_soundly(seed: int, data) -> None:
    _holds(_mutant(seeds()[seed], "value", data.draw), "value")
