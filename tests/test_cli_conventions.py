"""`tallycheck check` behaves like the tools people know (ruff, pytest): real processes on files the
tests write, asserting what a user sees — the output, the files left behind and the exit status."""

from __future__ import annotations

import json
import os
import pty
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import EXAMPLES, run_cli, write_rows

ANSI = re.compile(r"\x1b\[[0-9;]*m")
LOSSES = [["Region", "Killed", "Wounded", "Total"], ["North", 10, 20, 30], ["South", 5, 5, 11]]  # D3 is off by 1
CLEAN = [["Region", "Killed", "Wounded", "Total"], ["North", 10, 20, 30]]
ROUNDED = [  # a rounded total: a warning, not an error
    ["Category", "Persons"], ["On active service", 11_390_600], ["In hospital", 1_046_000],
    ["In civilian departments", 403_200], ["Total", 12_840_000],
]


def book(path: Path, rows: list[list[object]] = LOSSES, sheet: str = "Losses") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_rows(path, {sheet: rows})


def findings_of(path: Path, cwd: Path) -> list[str]:
    """The cells tallycheck reports for a workbook, in concise form (what its marks stand for)."""
    return [line.split(": ")[0] for line in run_cli("check", "-f", "concise", "--no-cache", str(path), cwd=cwd).stdout.splitlines() if "!" in line]


# -- say what happened ----------------------------------------------------------------------------------


def test_last_line_says_what_was_checked_marked_and_written_and_how_long_it_took(tmp_path: Path) -> None:
    book(tmp_path / "in" / "a.xlsx")
    book(tmp_path / "in" / "b.xlsx", CLEAN)
    first = run_cli("check", "in", "--mark", "--out", "marked", "--report", "reports/run.json", cwd=tmp_path)
    assert first.returncode == 1, first.stderr
    last = first.stdout.splitlines()[-1]
    assert re.fullmatch(
        r"Found 1 error and 0 warnings in 1 of 2 workbooks, 2 tables; marked 1 cell in 1 workbook, copies in marked; "
        r"report written to reports/run\.json; took [\d.,]+ m?s\.", last), last
    assert (tmp_path / "marked" / "a.xlsx").is_file() and (tmp_path / "reports" / "run.json").is_file()

    again = run_cli("check", "in", "--changed", cwd=tmp_path)
    assert re.fullmatch(r"Found 1 error and 0 warnings in 1 of 2 workbooks \(2 from cache\), 2 tables; took [\d.,]+ m?s\.",
                        again.stdout.splitlines()[-1]), again.stdout


def test_marking_in_place_says_so(tmp_path: Path) -> None:
    book(tmp_path / "a.xlsx")
    result = run_cli("check", "a.xlsx", "--mark", "--no-cache", cwd=tmp_path)
    assert "; marked 1 cell in 1 workbook (in place);" in result.stdout.splitlines()[-1]


def _on_a_terminal(args: list[str], cwd: Path, env: dict[str, str] | None = None, stream: str = "stderr") -> str:
    """Run tallycheck with stdout or stderr on a pseudo-terminal; return what the terminal showed."""
    leader, follower = pty.openpty()
    targets = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, stream: follower}
    proc = subprocess.Popen([sys.executable, "-m", "tallycheck", *args], cwd=cwd, stdout=targets["stdout"],
                            stderr=targets["stderr"], env={**os.environ, "COLUMNS": "200", **(env or {})})
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the process closed its end
            break
        if not chunk:
            break
        seen += chunk
    proc.wait(timeout=120)
    os.close(leader)
    return seen.decode(errors="replace")


def test_the_progress_bar_says_marking_while_it_marks(tmp_path: Path) -> None:
    for n in range(3):
        book(tmp_path / "in" / f"b{n}.xlsx")
    shown = _on_a_terminal(["check", "in", "--mark", "--out", "out", "--no-cache"], tmp_path)
    assert "marking" in shown and "checking" not in shown
    shown = _on_a_terminal(["check", "in", "--no-cache"], tmp_path)
    assert "checking" in shown and "marking" not in shown


# -- never lose a marked copy ------------------------------------------------------------------------------


def test_same_file_names_in_different_folders_keep_their_paths_under_out(tmp_path: Path) -> None:
    book(tmp_path / "2024" / "losses.xlsx", LOSSES)
    book(tmp_path / "2025" / "losses.xlsx", ROUNDED)
    for args in (["2024", "2025"], ["2024/losses.xlsx", "2025/losses.xlsx"]):
        out = tmp_path / "out"
        shutil.rmtree(out, ignore_errors=True)
        result = run_cli("check", "--mark", "--out", "out", "--no-cache", *args, cwd=tmp_path)
        assert result.returncode == 1, result.stderr
        assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.xlsx")) == ["2024/losses.xlsx", "2025/losses.xlsx"]
        assert findings_of(out / "2024" / "losses.xlsx", tmp_path) == ["out/2024/losses.xlsx:Losses!D3"]
        assert findings_of(out / "2025" / "losses.xlsx", tmp_path) == ["out/2025/losses.xlsx:Losses!B5"]


@pytest.mark.parametrize(("out", "source"), [("in", "in"), ("in/marked", "in"), ("in", "in/a.xlsx")])
def test_out_equal_to_or_inside_a_source_folder_is_refused_before_writing(tmp_path: Path, out: str, source: str) -> None:
    original = book(tmp_path / "in" / "a.xlsx")
    before = original.read_bytes()
    result = run_cli("check", "--mark", "--out", out, "--no-cache", source, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("tallycheck: --out ") and "Traceback" not in result.stderr
    assert original.read_bytes() == before
    assert not (tmp_path / "in" / "marked").exists()


def test_out_that_is_a_file_gets_a_sentence(tmp_path: Path) -> None:
    book(tmp_path / "a.xlsx")
    (tmp_path / "out").write_text("not a folder")
    result = run_cli("check", "--mark", "--out", "out", "a.xlsx", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == "tallycheck: --out out is a file; give a folder for the marked copies (it is created when missing)"


def test_report_into_a_missing_folder_creates_it_after_printing_the_findings(tmp_path: Path) -> None:
    book(tmp_path / "a.xlsx")
    result = run_cli("check", "a.xlsx", "--report", "deep/er/run.csv", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.splitlines()[0] == "a.xlsx" and "D3" in result.stdout.splitlines()[2]
    assert "Losses,D3" in (tmp_path / "deep" / "er" / "run.csv").read_text(encoding="utf-8-sig")


def test_a_report_that_cannot_be_written_is_one_sentence_and_exit_2(tmp_path: Path) -> None:
    book(tmp_path / "a.xlsx")
    (tmp_path / "taken").write_text("a file where the folder should be")
    result = run_cli("check", "a.xlsx", "--report", "taken/run.html", cwd=tmp_path)
    assert result.returncode == 2
    assert "D3" in result.stdout  # the findings still came first
    assert result.stderr.startswith("tallycheck: cannot write the report taken/run.html: ") and "Traceback" not in result.stderr


def test_a_report_named_like_a_workbook_being_checked_is_refused(tmp_path: Path) -> None:
    source = book(tmp_path / "a.xlsx")
    before = source.read_bytes()
    result = run_cli("check", "a.xlsx", "--report", "a.xlsx", cwd=tmp_path)
    assert result.returncode == 2 and source.read_bytes() == before
    assert result.stderr.strip() == "tallycheck: --report a.xlsx is a workbook being checked; give the report another name"


def test_a_missing_path_is_reported_and_the_rest_still_checked(tmp_path: Path) -> None:
    book(tmp_path / "a.xlsx")
    result = run_cli("check", "nope.xlsx", "a.xlsx", "gone/", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == ["tallycheck: nope.xlsx: no such file or folder", "tallycheck: gone/: no such file or folder"]
    assert "Losses!D3" in run_cli("check", "-f", "concise", "nope.xlsx", "a.xlsx", cwd=tmp_path).stdout
    assert "; 2 paths not found;" in result.stdout.splitlines()[-1]


def test_legacy_xls_and_lock_files_found_in_folders_are_named_as_skipped(tmp_path: Path) -> None:
    book(tmp_path / "in" / "a.xlsx", CLEAN)
    (tmp_path / "in" / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    (tmp_path / "in" / "~$a.xlsx").write_bytes(b"lock")
    result = run_cli("check", "in", cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    assert result.stdout.splitlines()[:2] == [
        "Skipped in/old.xls: legacy .xls: save it as .xlsx in Excel to check it",
        "Skipped in/~$a.xlsx: Excel's lock file for a workbook open in Excel (not a workbook)",
    ]
    assert re.fullmatch(r"All checks passed \(1 workbook, 1 table\); 2 files skipped; took .*", result.stdout.splitlines()[-1])


def _interrupted(tmp_path: Path, *args: str, watch: Path) -> subprocess.CompletedProcess[str]:
    """Start a long run, press Ctrl-C (SIGINT) once its first results are on disk."""
    proc = subprocess.Popen([sys.executable, "-m", "tallycheck", "check", "-j", "1", "many", *args], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not any(watch.rglob("*.*")) if watch.exists() else True:
        assert proc.poll() is None, "the run ended before it could be interrupted"
        assert time.monotonic() < deadline
        time.sleep(0.005)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def test_ctrl_c_exits_130_and_suggests_changed_only_when_a_cache_exists(tmp_path: Path) -> None:
    first = book(tmp_path / "many" / "b000.xlsx")
    for n in range(1, 400):
        shutil.copyfile(first, tmp_path / "many" / f"b{n:03}.xlsx")
    cached = _interrupted(tmp_path, watch=tmp_path / ".tallycheck_cache")
    assert cached.returncode == 130
    assert re.search(r"tallycheck: interrupted after [\d,]+ of 400 workbooks; run again with --changed to resume", cached.stderr)
    assert re.match(r"Interrupted after [\d,]+ of 400 workbooks: found [\d,]+ errors?\b", cached.stdout.splitlines()[-1])

    uncached = _interrupted(tmp_path, "--no-cache", "--mark", "--out", "out", watch=tmp_path / "out")
    assert uncached.returncode == 130
    assert "interrupted after" in uncached.stderr and "--changed" not in uncached.stderr


# -- conventions: formats, selection, exit status, verbosity, colour ----------------------------------------


def test_concise_is_one_line_a_finding_and_format_is_an_alias(tmp_path: Path) -> None:
    for option in ("--output-format", "--format", "-f"):
        result = run_cli("check", option, "concise", str(EXAMPLES / "missing-in-action.xlsx"), cwd=EXAMPLES.parent)
        assert result.returncode == 1
        assert result.stdout.splitlines()[0] == (
            "examples/missing-in-action.xlsx:Losses!E7: error sum Total 1,049,250 should equal "
            "Killed + Wounded + Missing = 1,050,250 (off by 1,000); the other 2 of 3 rows checked hold")


def test_github_format_writes_workflow_annotations(tmp_path: Path) -> None:
    book(tmp_path / "a, b.xlsx")
    result = run_cli("check", "-f", "github", "a, b.xlsx", cwd=tmp_path)
    assert result.stdout.splitlines()[0].startswith("::error file=a%2C b.xlsx,title=tallycheck sum Losses!D3::Total 11 should equal")
    assert result.stderr.startswith("Found 1 error")  # the summary stays off the annotations' stream


def test_sarif_format_locates_each_finding_by_workbook_sheet_and_cell(tmp_path: Path) -> None:
    book(tmp_path / "a.xlsx")
    doc = json.loads(run_cli("check", "-f", "sarif", "a.xlsx", cwd=tmp_path).stdout)
    assert doc["version"] == "2.1.0" and doc["runs"][0]["tool"]["driver"]["name"] == "tallycheck"
    (result,) = doc["runs"][0]["results"]
    assert result["ruleId"] == "sum" and result["level"] == "error" and result["message"]["text"].startswith("Total 11")
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "a.xlsx"
    assert result["locations"][0]["logicalLocations"][0]["name"] == "Losses!D3"


def test_select_and_ignore_choose_rules_and_a_typo_is_a_sentence(tmp_path: Path) -> None:
    book(tmp_path / "a.xlsx")
    book(tmp_path / "r.xlsx", ROUNDED)
    assert findings_of(tmp_path, tmp_path) == ["a.xlsx:Losses!D3", "r.xlsx:Losses!B5"]
    only = run_cli("check", ".", "-f", "concise", "--select", "total_row", cwd=tmp_path)
    assert [line.split(": ")[0] for line in only.stdout.splitlines()[:-1]] == ["r.xlsx:Losses!B5"] and only.returncode == 0
    rest = run_cli("check", ".", "-f", "concise", "--ignore", "sum,percent", cwd=tmp_path)
    assert [line.split(": ")[0] for line in rest.stdout.splitlines()[:-1]] == ["r.xlsx:Losses!B5"]
    typo = run_cli("check", ".", "--select", "perday", cwd=tmp_path)
    assert typo.returncode == 2 and typo.stderr.strip() == "tallycheck: --select perday: no rule of that name; did you mean 'per_day'?"


def test_ignored_findings_are_not_marked(tmp_path: Path) -> None:
    book(tmp_path / "in" / "a.xlsx")
    result = run_cli("check", "in", "--mark", "--out", "out", "--ignore", "sum", "--no-cache", cwd=tmp_path)
    assert result.returncode == 0 and "marked 0 cells in 0 workbooks" in result.stdout


def test_fail_on_sets_what_fails_the_run(tmp_path: Path) -> None:
    book(tmp_path / "r.xlsx", ROUNDED)
    book(tmp_path / "e.xlsx")
    assert run_cli("check", "r.xlsx", cwd=tmp_path).returncode == 0
    assert run_cli("check", "r.xlsx", "--fail-on", "warning", cwd=tmp_path).returncode == 1
    assert run_cli("check", "e.xlsx", "--fail-on", "never", cwd=tmp_path).returncode == 0
    assert run_cli("check", "e.xlsx", "--fail-on", "error", cwd=tmp_path).returncode == 1


def test_quiet_says_nothing_when_all_is_well_and_verbose_names_each_workbook(tmp_path: Path) -> None:
    book(tmp_path / "clean.xlsx", CLEAN)
    quiet = run_cli("check", "-q", "clean.xlsx", cwd=tmp_path)
    assert quiet.returncode == 0 and quiet.stdout == "" and quiet.stderr == ""
    verbose = run_cli("check", "-v", "clean.xlsx", cwd=tmp_path)
    assert "tallycheck: clean.xlsx: passed (1 table)" in verbose.stderr.splitlines()


def test_colour_by_severity_follows_color_and_no_color(tmp_path: Path) -> None:
    book(tmp_path / "a.xlsx")
    always = run_cli("check", "a.xlsx", "--color", "always", cwd=tmp_path).stdout
    assert "\x1b[1;31merror" in always and ANSI.sub("", always).splitlines()[2].split() [:2] == ["D3", "error"]
    assert not ANSI.search(run_cli("check", "a.xlsx", "--color", "never", cwd=tmp_path).stdout)
    assert not ANSI.search(run_cli("check", "a.xlsx", cwd=tmp_path).stdout)  # auto, not a terminal
    assert "\x1b[1;31merror" in _on_a_terminal(["check", "a.xlsx"], tmp_path, stream="stdout")
    assert not ANSI.search(_on_a_terminal(["check", "a.xlsx"], tmp_path, env={"NO_COLOR": "1"}, stream="stdout"))


# -- settings in tallycheck.toml / pyproject.toml -------------------------------------------------------


def test_settings_in_tallycheck_toml_apply_and_the_command_line_wins(tmp_path: Path) -> None:
    book(tmp_path / "in" / "a.xlsx")
    book(tmp_path / "in" / "r.xlsx", ROUNDED)
    book(tmp_path / "in" / "old" / "x.xlsx")
    (tmp_path / "tallycheck.toml").write_text(
        'exclude = ["old"]\nselect = ["total_row"]\nfail-on = "warning"\noutput-format = "concise"\njobs = 1\n')
    result = run_cli("check", "in", cwd=tmp_path)
    assert result.returncode == 1
    assert [line.split(": ")[0] for line in result.stdout.splitlines()[:-1]] == ["in/r.xlsx:Losses!B5"]
    wins = run_cli("check", "in", "--select", "sum", "--fail-on", "never", "-f", "json", cwd=tmp_path)
    assert wins.returncode == 0
    assert [(Path(b["path"]).name, [f["cell"] for f in b["findings"]]) for b in json.loads(wins.stdout)["workbooks"]] == [
        ("a.xlsx", ["D3"]), ("r.xlsx", [])]


def test_settings_in_pyproject_tool_tallycheck(tmp_path: Path) -> None:
    book(tmp_path / "a.xlsx")
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.tallycheck]\nignore = "sum"\n')
    result = run_cli("check", "a.xlsx", cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.startswith("All checks passed"), result.stdout + result.stderr


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('jobs = 2\njbos = 3\n', "tallycheck.toml:2: unknown setting 'jbos'; did you mean 'jobs'?"),
        ('\nfail-on = "sometimes"\n', 'tallycheck.toml:2: fail-on must be "error", "warning" or "never", not \'sometimes\''),
        ('jobs = 0\n', "tallycheck.toml:1: jobs must be a whole number of at least 1, not 0"),
    ],
    ids=["unknown", "wrong-choice", "wrong-number"],
)
def test_a_wrong_setting_is_one_error_naming_file_and_line_once_a_run(tmp_path: Path, toml: str, message: str) -> None:
    for n in range(3):
        book(tmp_path / f"b{n}.xlsx")
    (tmp_path / "tallycheck.toml").write_text(toml)
    result = run_cli("check", ".", cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [f"tallycheck: {tmp_path / message}"]


# -- paths: globs, standard input ----------------------------------------------------------------------------


def test_quoted_globs_are_expanded_by_the_tool(tmp_path: Path) -> None:
    book(tmp_path / "reports" / "2024.xlsx")
    book(tmp_path / "reports" / "2025.xlsx", CLEAN)
    book(tmp_path / "reports" / "other.xlsx")
    (tmp_path / "reports" / "~$2024.xlsx").write_bytes(b"lock")
    result = run_cli("check", "reports/*20*.xlsx", "-f", "concise", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.splitlines()[0].startswith("reports/2024.xlsx:Losses!D3: error sum")
    assert re.search(r"in 1 of 2 workbooks, 2 tables; 1 file skipped;", result.stdout.splitlines()[-1])
    none = run_cli("check", "reports/19*.xlsx", cwd=tmp_path)
    assert none.returncode == 2 and none.stderr.strip() == "tallycheck: reports/19*.xlsx: no file or folder matches this pattern"


def test_dash_reads_a_workbook_from_standard_input(tmp_path: Path) -> None:
    data = book(tmp_path / "a.xlsx").read_bytes()
    result = run_cli("check", "-", "-f", "concise", cwd=tmp_path, stdin=data)
    assert result.returncode == 1
    assert result.stdout.splitlines()[0].startswith("-:Losses!D3: error sum Total 11 should equal")
    refused = run_cli("check", "-", "--mark", cwd=tmp_path, stdin=data)
    assert refused.returncode == 2 and "standard input" in refused.stderr


# -- help and validation ---------------------------------------------------------------------------------


def test_help_shows_plain_metavars_and_examples() -> None:
    text = run_cli("check", "--help").stdout
    assert text.startswith("Usage: tallycheck check [OPTIONS] PATH...")
    for shown in ("--jobs N", "--report FILE", "--out DIR", "--rules FILE", "--include GLOB", "Examples:",
                  "tallycheck check reports/ --mark --out marked/"):
        assert shown in text, shown
    assert "<list" not in text and "<bool>" not in text and "{PATH}" not in text


def test_validation_errors_read_as_sentences(tmp_path: Path) -> None:
    book(tmp_path / "a.xlsx")
    jobs = run_cli("check", "a.xlsx", "-j", "0", cwd=tmp_path)
    assert jobs.returncode == 2
    assert jobs.stderr.strip() == "tallycheck: --jobs 0: give a whole number of workbooks to check at once, at least 1"
    for args, sentence in (
        (["-j", "two"], "--jobs two: give a whole number of workbooks to check at once, at least 1"),
        (["--fail-on", "sometimes"], "--fail-on sometimes: choose error, warning or never"),
        (["-f", "xml"], "--output-format xml: choose text, concise, json, github or sarif"),
        (["--color", "pink"], "--color pink: choose auto, always or never"),
    ):
        wrong = run_cli("check", "a.xlsx", *args, cwd=tmp_path)
        assert (wrong.returncode, wrong.stderr.strip()) == (2, f"tallycheck: {sentence}")
    out = run_cli("check", "a.xlsx", "--out", "x", cwd=tmp_path)
    assert out.returncode == 2 and out.stderr.strip() == "tallycheck: --out only makes sense with --mark (it is where the marked copies go)"
