"""The run's report (`--report PATH`) in every format, from the real examples plus an unreadable file.

Each format is read back the way its reader would: csv and json by Python, xlsx by openpyxl,
python-calamine and LibreOffice (which resolves the hyperlinks), HTML by a real headless Chromium.

Set TALLYCHECK_UPDATE_EXAMPLES=1 to rewrite examples/report.html and examples/report-screenshot.png.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import time
import zipfile
from datetime import datetime
from html import escape
from pathlib import Path

import pytest
from conftest import EXAMPLES, write_rows
from openpyxl import load_workbook
from python_calamine import CalamineWorkbook
from tallycheck.engine import Report, check_workbooks
from tallycheck.report import summary_line, to_json
from tallycheck.run_report import write_report
from tallycheck.run_report.csv_report import COLUMNS
from tallycheck.run_report.html_report import render_html

ROOT = EXAMPLES.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
UNREADABLE_NAME = "zvit #2 (копія).xlsx"  # a space, a '#' and Cyrillic: all must survive every link


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The examples, a workbook whose labels are markup, one with a warning only, and one not a workbook."""
    folder = tmp_path_factory.mktemp("inputs")
    hostile = write_rows(folder / "hostile.xlsx", {
        "O'Brien <&>": [["Year", "Killed <i>&amp;", "Wounded</td><script>alert(1)</script>", "Total"], ["2023", 1, 2, 4]],
        "@Losses": [["Year", "Killed", "Wounded", "Total"], ["2023", 10, 20, 31]],
    })
    rounded = write_rows(folder / "rounded.xlsx", {
        "Strength": [["Soviet armed forces strength, June 1945"], [], ["Category", "Persons"], ["On active service", 11390600],
                     ["In hospital", 1046000], ["In civilian departments", 403200], ["Total", 12840000]],
    })
    unreadable = folder / UNREADABLE_NAME
    unreadable.write_bytes(b"this is not a zip package")
    return [*sorted(EXAMPLES.glob("*.xlsx")), rounded, hostile, unreadable]


@pytest.fixture(scope="module")
def reports(inputs: list[Path]) -> list[Report]:
    reports = check_workbooks(inputs)
    assert [r.readable for r in reports].count(False) == 1, "the fixture expects exactly one unreadable workbook"
    assert reports[-3].warnings and not reports[-3].errors, "rounded.xlsx should give a warning only"
    assert len(reports[-2].findings) == 2, "hostile.xlsx should give a finding on each sheet"
    return reports


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    """Paths are shown relative to the working folder (as in the text and JSON reports)."""
    monkeypatch.chdir(ROOT)


def _by_name(reports: list[Report], name: str) -> Report:
    return next(r for r in reports if r.path.name == name)


# -- choosing the format --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["run.txt", "run", "run.xlsm", "run.htm", "run.json.gz"])
def test_an_unknown_extension_is_refused_before_anything_is_written(tmp_path: Path, reports: list[Report], name: str) -> None:
    with pytest.raises(ValueError, match=r"use one of \.json, \.csv, \.xlsx, \.html") as caught:
        write_report(tmp_path / name, reports)
    assert str(tmp_path / name) in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_the_extension_is_read_case_insensitively(tmp_path: Path, reports: list[Report]) -> None:
    write_report(tmp_path / "RUN.CSV", reports)
    assert (tmp_path / "RUN.CSV").read_bytes().startswith(b"\xef\xbb\xbfpath,")


def test_a_writer_that_fails_leaves_the_previous_report_and_no_temporary_file(tmp_path: Path, reports: list[Report]) -> None:
    target = tmp_path / "run.csv"
    target.write_text("the last good report")
    broken = Report(Path("broken.xlsx"), findings=[None])  # type: ignore[list-item]
    with pytest.raises(AttributeError):
        write_report(target, [*reports, broken])
    assert target.read_text() == "the last good report"
    assert [p.name for p in tmp_path.iterdir()] == ["run.csv"]


# -- JSON -----------------------------------------------------------------------------------------


def test_json_is_the_contract(tmp_path: Path, reports: list[Report]) -> None:
    write_report(tmp_path / "run.json", reports, started=datetime.now(), elapsed=1.0)
    doc = json.loads((tmp_path / "run.json").read_text(encoding="utf-8"))
    assert doc == to_json(reports)
    unreadable = doc["workbooks"][-1]
    assert unreadable["ok"] is False and unreadable["error"] and unreadable["findings"] == []


# -- CSV ------------------------------------------------------------------------------------------


def test_csv_has_a_row_a_finding_and_a_row_per_unreadablewrite_rows(tmp_path: Path, reports: list[Report]) -> None:
    path = tmp_path / "run.csv"
    write_report(path, reports)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf"), "a BOM, or Excel reads UTF-8 as ANSI"
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == COLUMNS
    assert len(rows) == sum(len(r.findings) for r in reports) + 1

    (e7,) = [row for row in rows if row["path"] == "examples/missing-in-action.xlsx"]
    assert e7 == {
        "path": "examples/missing-in-action.xlsx", "sheet": "Losses", "cell": "E7", "rule": "sum", "severity": "error",
        "expected": "1050250", "found": "1049250", "tolerance": "0", "cells": "B7, C7, D7, E7",
        "message": "Total 1,049,250 should equal Killed + Wounded + Missing = 1,050,250 (off by 1,000); the other 2 of 3 rows checked hold",
    }
    per_day = next(row for row in rows if row["cell"] == "C4" and row["rule"] == "per_day")
    assert "24 Feb 2022 – 31 Dec 2022" in per_day["message"] and float(per_day["expected"]) == pytest.approx(343.15, abs=0.01)

    (bad,) = [row for row in rows if row["rule"] == "unreadable"]
    assert bad["path"].endswith(UNREADABLE_NAME) and bad["severity"] == "error"
    assert bad["message"] == reports[-1].error and bad["sheet"] == bad["cell"] == ""

    hostile = [row for row in rows if row["path"].endswith("hostile.xlsx")]
    assert {row["sheet"] for row in hostile} == {"O'Brien <&>", "'@Losses"}, "a leading @ would run as a formula in Excel"
    assert any("<script>alert(1)</script>" in row["message"] for row in hostile), "CSV holds text as it is"


# -- XLSX -----------------------------------------------------------------------------------------


def _file_target(path: Path) -> str:
    """The link target Excel writes for a file: file:/// + the absolute path, only URL-unsafe ASCII escaped."""
    return "file:///" + path.resolve().as_posix().lstrip("/").replace("%", "%25").replace(" ", "%20").replace("#", "%23")


def test_xlsx_has_a_row_a_finding_with_hyperlinks_to_the_file_and_the_cell(tmp_path: Path, reports: list[Report]) -> None:
    path = tmp_path / "run.xlsx"
    write_report(path, reports, started=datetime(2025, 6, 4, 12, 0, 3), elapsed=2.5)
    wb = load_workbook(path)
    assert wb.sheetnames == ["Findings", "Workbooks"]
    assert wb.properties.title == "tallycheck report" and wb.properties.subject == summary_line(reports)
    ws = wb["Findings"]
    header = [c.value for c in ws[1]]
    assert header == ["Workbook", "Sheet", "Cell", "Rule", "Severity", "Message", "Expected", "Found", "Tolerance", "Cells"]
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:J{ws.max_row}"
    assert ws.column_dimensions["F"].width > 60, "messages get room"
    rows = list(ws.iter_rows(min_row=2))
    assert len(rows) == sum(len(r.findings) for r in reports) + 1

    e7 = next(row for row in rows if row[2].value == "E7")
    assert [c.value for c in e7] == [
        "examples/missing-in-action.xlsx", "Losses", "E7", "sum", "error",
        "Total 1,049,250 should equal Killed + Wounded + Missing = 1,050,250 (off by 1,000); the other 2 of 3 rows checked hold", 1050250, 1049250, 0, "B7, C7, D7, E7",
    ]
    book = EXAMPLES / "missing-in-action.xlsx"
    assert e7[0].hyperlink.target == _file_target(book) and e7[0].hyperlink.location is None
    assert e7[2].hyperlink.target == _file_target(book) and e7[2].hyperlink.location == "'Losses'!E7"
    assert e7[4].fill.fgColor.rgb == "FFFFC7CE"
    warning = next(row for row in rows if row[4].value == "warning")
    assert warning[4].fill.fgColor.rgb == "FFFFEB9C"

    obrien = next(row for row in rows if row[1].value == "O'Brien <&>")
    assert obrien[2].hyperlink.location == "'O''Brien <&>'!D2", "quotes in a sheet name are doubled, as Excel writes them"
    assert obrien[1].value == "O'Brien <&>" and "<script>" in obrien[5].value

    bad = rows[-1]
    assert bad[0].value.endswith(UNREADABLE_NAME) and bad[3].value == "unreadable" and bad[5].value == reports[-1].error
    assert bad[0].hyperlink.target == _file_target(reports[-1].path)
    assert "%23" in bad[0].hyperlink.target and "копія" in bad[0].hyperlink.target

    books = wb["Workbooks"]
    status = {row[0].value: row[1].value for row in books.iter_rows(min_row=2)}
    assert len(status) == len(reports)
    assert status["examples/missing-in-action.xlsx"] == "errors" and list(status.values()).count("unreadable") == 1
    assert any(v == "warnings" for v in status.values())


def test_xlsx_reads_the_same_in_calamine(tmp_path: Path, reports: list[Report]) -> None:
    path = tmp_path / "run.xlsx"
    write_report(path, reports)
    calamine = CalamineWorkbook.from_path(str(path))
    assert calamine.sheet_names == ["Findings", "Workbooks"]
    fast = calamine.get_sheet_by_name("Findings").to_python()
    slow = [[("" if c.value is None else c.value) for c in row] for row in load_workbook(path)["Findings"].iter_rows()]
    assert fast == slow
    assert len(calamine.get_sheet_by_name("Workbooks").to_python()) == len(reports) + 1
    # the hyperlinks are in the package as external relationships with their cell as location
    with zipfile.ZipFile(path) as z:
        rels = z.read("xl/worksheets/_rels/sheet1.xml.rels").decode()
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
    assert f'Target="{_file_target(EXAMPLES / "missing-in-action.xlsx")}" TargetMode="External"' in rels
    assert "location=\"'Losses'!E7\"" in sheet


def test_libreoffice_follows_the_links_to_the_absolute_file_and_cell(tmp_path: Path, reports: list[Report]) -> None:
    """xlsxwriter's own file:// handling makes POSIX paths relative; LibreOffice shows where links really go."""
    soffice = shutil.which("soffice")
    if soffice is None:
        _missing("LibreOffice (soffice)")
    report = tmp_path / "out" / "run.xlsx"
    report.parent.mkdir()
    write_report(report, reports)
    subprocess.run(
        [soffice, f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless", "--convert-to", "html",
         "--outdir", str(tmp_path), str(report)],
        check=True, capture_output=True, timeout=180,
    )
    hrefs = set(re.findall(r'<a href="([^"]+)"', (tmp_path / "run.html").read_text(encoding="utf-8", errors="replace")))
    daily = EXAMPLES / "ua-general-staff-daily.xlsx"
    assert f"{_file_target(daily)}#'APC'!B12" in hrefs
    assert f"{_file_target(daily)}#'APC'!B15" in hrefs
    assert _file_target(daily) in hrefs
    assert not any(h.startswith(report.parent.as_uri()) for h in hrefs), "no link resolved against the report's folder"


# -- HTML -----------------------------------------------------------------------------------------


def _missing(what: str) -> None:
    message = f"{what} is not installed (see .ci/run)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory):
    """A real headless Chromium (Debian's chromium + chromium-driver), driven by selenium."""
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        _missing("chromium and chromium-driver")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _missing("selenium")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--hide-scrollbars", "--window-size=1200,900",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _open(browser, path: Path) -> None:
    browser.get_log("browser")  # drop what earlier pages logged
    browser.get(path.resolve().as_uri())


def _console_errors(browser) -> list[str]:
    return [e["message"] for e in browser.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]


def _screenshot(browser, path: Path) -> None:
    """The whole page, not just the window."""
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1200, height + 140)  # the window's frame takes some height of its own
    browser.save_screenshot(str(path))
    browser.set_window_size(1200, 900)


_SHOWN = """
return Array.from(document.querySelectorAll('section.workbook')).filter(s => s.offsetParent !== null).map(s => ({
  path: s.querySelector('h2 a.file').textContent,
  severity: s.classList.contains('sev-error') ? 'error' : 'warning',
  rows: Array.from(s.querySelectorAll('tbody tr')).filter(tr => tr.offsetParent !== null)
            .map(tr => Array.from(tr.cells).map(td => td.innerText.trim())),
}));
"""


def test_html_page_shows_every_finding_and_charts_the_flagged_series(tmp_path: Path, reports: list[Report], browser) -> None:
    page = tmp_path / "run.html"
    write_report(page, reports, started=datetime.now(), elapsed=1.25)
    _open(browser, page)
    assert _console_errors(browser) == []
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0, "nothing fetched"
    assert browser.title.startswith("tallycheck report")

    cards = {
        kind: int(text.replace(",", ""))
        for kind, text in browser.execute_script(
            "return Array.from(document.querySelectorAll('.card')).map(c => [c.querySelector('.label').textContent, c.querySelector('.n').textContent])"
        )
    }
    assert cards == {
        "workbooks": len(reports), "tables": sum(len(r.tables) for r in reports),
        "errors": sum(r.errors for r in reports), "warnings": sum(r.warnings for r in reports), "unreadable": 1,
    }
    body = browser.find_element("tag name", "body").text
    assert summary_line(reports) in body

    # every finding, with its sheet, cell, rule, severity and message, errors' workbooks first
    shown = browser.execute_script(_SHOWN)
    flagged = [r for r in reports if r.findings]
    assert sorted(s["path"] for s in shown) == sorted(to_json([r])["workbooks"][0]["path"] for r in flagged)
    severities = [s["severity"] for s in shown]
    assert severities == sorted(severities, key=["error", "warning"].index) and severities[-1] == "warning"
    for section in shown:
        report = next(r for r in flagged if to_json([r])["workbooks"][0]["path"] == section["path"])
        assert section["rows"] == [[f.severity, f.sheet, f.cell, f.rule, f.message] for f in report.findings]

    # the unreadable workbook, with its reason
    unreadable = browser.find_element("css selector", "section.unreadable").text
    assert UNREADABLE_NAME in unreadable and reports[-1].error in unreadable

    # markup in a workbook is text on the page, never markup
    assert browser.execute_script("return document.scripts.length") == 1
    assert "Wounded</td><script>alert(1)</script>" in body and "O'Brien <&>" in body

    # the APC series of the daily tally: a chart with its two discrepant days marked
    daily = _by_name(reports, "ua-general-staff-daily.xlsx")
    (series,) = daily.series
    chart = browser.execute_script(
        """
        const s = Array.from(document.querySelectorAll('section.workbook')).find(s => s.dataset.path.endsWith('ua-general-staff-daily.xlsx'));
        const svg = s.querySelector('svg.series-chart[data-sheet="APC"][data-series="APC (cumulative)"]');
        const box = svg.getBoundingClientRect();
        const dot = c => ({date: c.dataset.date, cy: +c.getAttribute('cy'), r: c.getBoundingClientRect().width / 2, fill: getComputedStyle(c).fill});
        return {width: box.width, height: box.height, line: svg.querySelectorAll('polyline.line').length,
                flags: Array.from(svg.querySelectorAll('circle.flag')).map(dot),
                points: Array.from(svg.querySelectorAll('circle.pt')).map(dot),
                labels: Array.from(svg.querySelectorAll('text.flag-label')).map(t => t.textContent)};
        """
    )
    assert chart["width"] > 600 and chart["height"] > 200 and chart["line"] == 1
    assert [f["date"] for f in chart["flags"]] == list(series.flagged) == ["2022-10-13", "2022-10-16"]
    assert all(f["r"] >= 5 and f["fill"] == "rgb(217, 45, 32)" for f in chart["flags"]), "big red dots"
    assert chart["labels"] == ["13 Oct 2022 · B12", "16 Oct 2022 · B15"]
    assert len(chart["points"]) == len(series.dates) - 2
    before_fall = chart["points"][series.dates.index("2022-10-12")]
    assert chart["flags"][0]["cy"] > before_fall["cy"], "the fall on 13 Oct shows as a dip (SVG y grows downwards)"

    _screenshot(browser, tmp_path / "run.png")
    assert (tmp_path / "run.png").stat().st_size > 50_000


def test_html_filter_and_print_view(tmp_path: Path, reports: list[Report], browser) -> None:
    page = tmp_path / "run.html"
    write_report(page, reports)
    _open(browser, page)
    browser.find_element("id", "filter").send_keys("per_day")
    shown = browser.execute_script(_SHOWN)
    assert {row[3] for s in shown for row in s["rows"]} == {"per_day"}
    assert {s["path"] for s in shown} == {"examples/russia-losses-by-year.xlsx", "examples/ua-general-staff-yearly.xlsx"}
    browser.find_element("id", "filter").clear()
    browser.execute_script("const i = document.getElementById('filter'); i.value = ''; i.dispatchEvent(new Event('input'))")
    browser.find_element("id", "show-warnings").click()
    shown = browser.execute_script(_SHOWN)
    assert all(s["severity"] == "error" for s in shown) and all(row[0] == "error" for s in shown for row in s["rows"])
    assert _console_errors(browser) == []

    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        assert browser.execute_script("return getComputedStyle(document.querySelector('.toolbar')).display") == "none"
        pdf = browser.execute_cdp_cmd("Page.printToPDF", {"printBackground": True})
        assert len(pdf["data"]) > 10_000
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})


def test_html_escapes_and_stays_self_contained(reports: list[Report], tmp_path: Path) -> None:
    text = render_html(reports, base=tmp_path)
    assert "<script>alert(1)" not in text and escape("<script>alert(1)</script>") in text
    assert text.count("<script>") == 1
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", text), "no address on the network"
    assert "Content-Security-Policy" in text and "default-src 'none'" in text
    # links to workbooks are relative to the page, so a copied folder keeps them
    assert 'href="' + escape(os.path.relpath(EXAMPLES / "missing-in-action.xlsx", tmp_path)) + '"' in text


def test_html_for_a_clean_run_and_an_empty_run(tmp_path: Path) -> None:
    clean = write_rows(tmp_path / "clean.xlsx", {"S": [["Year", "Killed", "Wounded", "Total"], ["2023", 1, 2, 3]]})
    text = render_html(check_workbooks([clean]))
    assert "1 workbook passed every check" in text and 'class="workbook' not in text and 'id="filter"' not in text
    assert "No workbooks were checked." in render_html([])


def test_html_for_a_thousand_workbooks_lists_every_one_with_findings(reports: list[Report]) -> None:
    """A run of over a thousand workbooks renders whole: each workbook with findings has its section."""
    big = reports * 120
    text = render_html(big)
    assert len(big) > 1000 and text.count('class="workbook') == sum(bool(r.findings) for r in big)


# -- the committed example ------------------------------------------------------------------------


def test_committed_example_report_is_current(request: pytest.FixtureRequest) -> None:
    """examples/report.html is the examples' run; TALLYCHECK_UPDATE_EXAMPLES=1 rewrites it and its screenshot."""
    example = EXAMPLES / "report.html"
    books = sorted(EXAMPLES.glob("*.xlsx"))
    started = datetime.now().replace(microsecond=0)
    t = time.perf_counter()
    reports = check_workbooks(books)
    elapsed = time.perf_counter() - t
    if os.environ.get("TALLYCHECK_UPDATE_EXAMPLES"):
        browser = request.getfixturevalue("browser")
        write_report(example, reports, started=started, elapsed=elapsed)
        _open(browser, example)
        assert _console_errors(browser) == []
        _screenshot(browser, EXAMPLES / "report-screenshot.png")
    text = example.read_text(encoding="utf-8")
    assert escape(summary_line(reports)) in text
    for r in reports:
        for f in r.findings:
            assert escape(f.message) in text, f"examples/report.html is stale: rerun with TALLYCHECK_UPDATE_EXAMPLES=1 ({f.message})"
    assert 'href="missing-in-action.xlsx"' in text
    assert (EXAMPLES / "report-screenshot.png").stat().st_size > 50_000
