"""The ribbon's Findings list and Settings: what the auditor clicks, on the fake Excel.

The callbacks are VBA (TallyCheck.bas), which nothing here can run; they are run by the translator
of tests/test_excel_vba_config.py over a model of what they call: the fake Excel's active workbook
(worksheets, cells), the user's config file (a real file, read and written as VBA's Input # and
Write # do) and RunPython (the Python command the VBA builds, run here). So a test goes from the
click to the workbook: tick a box, the VBA writes the user's file, the next run reads it.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import re
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from excel_fake import FakeBook, parse_cell
from lxml import etree
from tallycheck.excel import entry, install
from tallycheck.excel.target import _HEADER_ROW
from tallycheck.marks.plan import SUMMARY_HEADERS, SUMMARY_SHEET, SUMMARY_TITLE_PREFIX
from test_excel_addin_files import _public_subs, _python_command
from test_excel_vba_config import _calls, _Exit, _function, translate

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "addin"))

import build_addin  # noqa: E402

UI = "{http://schemas.microsoft.com/office/2009/07/customui}"
EXAMPLES = ROOT / "examples"
SOURCE = build_addin.read_source("TallyCheck.bas")
RIBBON = etree.fromstring((build_addin.VBA / build_addin.RIBBON).read_bytes())
USER_FILE = r"C:\Users\me\.tallycheck\tallycheck.conf"
XL_DOWN = -4121

#: The parameters Office passes to each kind of callback (IRibbonControl declared As Object).
SIGNATURES = {
    ("customUI", "onLoad"): r"ribbon As Object",
    ("gallery", "getItemCount"): r"control As Object, ByRef \w+",
    ("gallery", "getItemLabel"): r"control As Object, index As Integer, ByRef \w+",
    ("gallery", "getItemScreentip"): r"control As Object, index As Integer, ByRef \w+",
    ("gallery", "onAction"): r"control As Object, id As String, index As Integer",
    ("checkBox", "getPressed"): r"control As Object, ByRef \w+",
    ("checkBox", "onAction"): r"control As Object, pressed As Boolean",
    ("editBox", "getText"): r"control As Object, ByRef \w+",
    ("editBox", "onChange"): r"control As Object, text As String",
    ("button", "onAction"): r"control As Object",
}


def module_constants() -> dict[str, Any]:
    """The module's Private Const values: numbers as int, strings as str."""
    found = re.findall(r'^Private Const (\w+) As (\w+) = ("[^"]*"|\d+)', SOURCE, re.M)
    return {name: value.strip('"') if kind == "String" else int(value) for name, kind, value in found}


class VBArray(dict):
    """A VBA array (or a Range's Value): read as a(i) or a(i, j), written as a[i] by the translator."""

    def __call__(self, *index: Any) -> Any:
        return self[index[0] if len(index) == 1 else index]


class VBList(list):
    """What Split returns: For Each goes through its items, s(0) is the first."""

    def __call__(self, index: int) -> Any:
        return self[index]


class CellRef:
    """Range / Cells of a worksheet, as far as the callbacks use them."""

    def __init__(self, sheet: Any, row: int, col: int) -> None:
        self.sheet, self.Row, self.col = sheet, row, col

    def _value(self, row: int, col: int) -> Any:
        cell = self.sheet.cells.get((row, col))
        return cell.value if cell is not None else None

    @property
    def Value(self) -> Any:
        return self._value(self.Row, self.col)

    def End(self, direction: int) -> CellRef:
        assert direction == XL_DOWN
        row = self.Row
        while self._value(row + 1, self.col) is not None:
            row += 1
        return CellRef(self.sheet, row, self.col)

    def Resize(self, rows: int, cols: int) -> Any:
        values = VBArray({(i + 1, j + 1): self._value(self.Row + i, self.col + j) for i in range(rows) for j in range(cols)})
        return SimpleNamespace(Value=values)


class Worksheet:
    def __init__(self, sheet: Any) -> None:
        self.sheet, self.Name = sheet, sheet.name

    def Range(self, ref: str) -> CellRef:
        return CellRef(self.sheet, *parse_cell(ref))

    def Cells(self, row: int, col: int) -> CellRef:
        return CellRef(self.sheet, row, col)


class Workbook:
    def __init__(self, book: FakeBook) -> None:
        self.book = book

    @property
    def Worksheets(self) -> list[Worksheet]:
        return [Worksheet(s) for s in self.book.sheets]


class Vba:
    """TallyCheck.bas's procedures, translated, over the fake book and a user config file at root."""

    def __init__(self, book: FakeBook, root: Path) -> None:
        self.root, self.ran, self.invalidated = root, [], []
        self.files: dict[int, Any] = {}
        self.ns: dict[str, Any] = {
            "_Exit": _Exit, "True": True, "False": False, "VBArray": VBArray, "Empty": None,
            "xlDown": XL_DOWN, "vbString": 8, "vbDirectory": 16, "vbExclamation": 48, "TITLE": "Tally Check",
            "ActiveWorkbook": Workbook(book),
            "Left_": lambda s, n: str(s)[:n], "Mid_": lambda s, start, n=None: str(s)[start - 1:][:n],
            "LCase_": lambda s: str(s).lower(), "Trim_": lambda s: str(s).strip(), "Len": len,
            "CStr": lambda v: "" if v is None else str(v), "IsEmpty": lambda v: v is None,
            "VarType": lambda v: 8 if isinstance(v, str) else 0, "IIf": lambda c, a, b: a if c else b,
            "InStr": lambda a, b: a.find(b) + 1, "InStrRev": lambda a, b: a.rfind(b) + 1,
            "Replace": lambda s, a, b: s.replace(a, b), "Split": lambda s, sep: VBList(s.split(sep)),
            "GetConfigFilePath": lambda: USER_FILE, "GetConfig": self.get_config,
            "FileExists": lambda p: self.real(p).is_file(), "Dir": lambda p, _: self.real(p).name if self.real(p).exists() else "",
            "MkDir": lambda p: self.real(p).mkdir(), "FreeFile": lambda: len(self.files) + 1,
            "vb_open": self.open, "vb_input": self.input, "vb_write": self.write, "vb_close": self.close,
            "EOF": lambda f: not self.files[f]["lines"], "MsgBox": self.msgbox,
            "TallyHex": lambda text: "".join(f"{ord(ch):04X}" for ch in text), "TallyRun": self.run_python,
        }
        self.ns.update(module_constants())
        for name in ("TallyListWith", "TallySetConfig", "TallySummarySheet"):
            self.ns[name] = lambda *args, name=name: self.call(name, *args)[name]

    def real(self, path: str) -> Path:
        """Where a path of the Windows model is on this machine."""
        return self.root / path.replace(":", "").replace("\\", "/")

    @property
    def config(self) -> Path:
        return self.real(USER_FILE)

    def call(self, name: str, *args: Any) -> dict[str, Any]:
        """Run a Sub or Function with these arguments; its ByRef parameters and result are in the dict."""
        params, body = _function(SOURCE, name)
        ns = self.ns
        ns.update({p: a for (p, _), a in zip(params, args, strict=True)})
        callable_, ns[name] = ns.get(name), None  # a Function's result, until it is assigned
        with contextlib.suppress(_Exit):  # Exit Sub / Exit Function
            exec(translate(body, {"Mac": False, "Not Mac": True}), ns)
        result = dict(ns)
        if callable_ is not None:
            ns[name] = callable_
        return result

    # -- what the callbacks call ----------------------------------------------------------------
    def get_config(self, key: str, default: str = "") -> str:
        """xlwings' GetConfig as the add-in ships it: the user's file only (test_excel_vba_config)."""
        values = {k.lower(): v for k, v in self._pairs()} if self.config.is_file() else {}
        return values.get(key.lower(), default)

    def _pairs(self) -> list[tuple[str, str]]:
        text = self.config.read_bytes().decode(install.ansi_encoding())
        return [(row[0], row[1]) for row in csv.reader(text.splitlines()) if row]  # as Input # reads them

    def open(self, f: int, path: str, mode: str) -> None:
        lines = self.real(path).read_bytes().decode(install.ansi_encoding()).splitlines() if mode == "Input" else []
        self.files[f] = {"path": path, "mode": mode, "lines": lines, "out": []}

    def input(self, f: int) -> tuple[str, str]:
        row = next(csv.reader([self.files[f]["lines"].pop(0)]))
        return row[0], row[1]

    def write(self, f: int, *values: str) -> None:
        self.files[f]["out"].append(",".join(f'"{v}"' for v in values))  # Write # quotes every string

    def close(self, f: int) -> None:
        handle = self.files.pop(f)
        if handle["mode"] == "Output":
            self.real(handle["path"]).write_bytes("".join(line + "\r\n" for line in handle["out"]).encode(
                install.ansi_encoding()))

    def msgbox(self, *args: Any) -> None:
        raise AssertionError(f"the VBA showed a message box: {args}")

    def run_python(self, action: str) -> None:
        """RunPython: the command TallyPythonCommand builds, run as python -c runs it."""
        self.ran.append(action)
        exec(compile(_python_command(action), "<RunPython>", "exec"), {})

    # -- the controls -----------------------------------------------------------------------------
    def listed(self) -> list[str]:
        """The Findings list as the ribbon shows it: the count, then each item's label."""
        count = self.call("TallyFindingsCount", None, None)["count"]
        return [self.call("TallyFindingsLabel", None, i, None)["label"] for i in range(count)]

    def pick(self, index: int) -> None:
        self.call("TallyFindingsPick", None, f"item{index}", index)

    def toggle(self, tag: str, pressed: bool) -> None:
        self.call("TallySettingToggle", SimpleNamespace(Tag=tag), pressed)

    def pressed(self, tag: str) -> bool:
        return self.call("TallySettingPressed", SimpleNamespace(Tag=tag), None)["pressed"]


@pytest.fixture
def user(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> install.Locations:
    """A Windows user whose config file the add-in was installed into (an interpreter line in it)."""
    loc = dataclasses.replace(install.locations("win32", home=tmp_path, env={}),
                              config=tmp_path / USER_FILE.replace(":", "").replace("\\", "/"))
    install.write_config(loc.config, {"INTERPRETER_WIN": r"C:\Python312\python.exe"}, loc.encoding)
    patched = install.user_settings  # conftest's: each test its own empty file
    monkeypatch.setattr(install, "user_settings", lambda where=None: patched(where or loc))
    return loc


def opened(name: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> tuple[FakeBook, Vba]:
    book = FakeBook.from_xlsx(EXAMPLES / name)
    monkeypatch.setattr(entry, "caller_book", lambda: book)
    return book, Vba(book, tmp_path)


def where(book: FakeBook) -> str:
    selection = book.app.selection
    return f"{book.sheets.active.name}!{selection.address.replace('$', '')}"


# -- the ribbon and the VBA agree ---------------------------------------------------------------
def test_every_callback_is_a_public_sub_with_the_signature_office_calls() -> None:
    subs = _public_subs(SOURCE)
    seen = set()
    for el in RIBBON.iter():
        kind = etree.QName(el).localname
        for attribute, value in el.attrib.items():
            if (kind, attribute) in SIGNATURES or attribute.startswith(("on", "get")):
                assert (kind, attribute) in SIGNATURES, f"{kind} {attribute}: no known signature"
                assert value in subs, f"{value} ({kind} {attribute}) is not a Public Sub of TallyCheck.bas"
                assert re.fullmatch(SIGNATURES[kind, attribute], subs[value][0]), (value, subs[value][0])
                seen.add(attribute)
    assert {"getItemCount", "getItemLabel", "getPressed", "getText", "onChange", "onLoad"} <= seen
    gallery = next(RIBBON.iter(f"{UI}gallery"))
    assert gallery.get("invalidateContentOnDrop") == "true"  # read again at every opening
    assert gallery.get("id") in _function(SOURCE, "TallyRefresh")[1][-2]


def test_the_vba_reads_the_summary_sheet_python_writes() -> None:
    """Row, columns, sheet name and title as tallycheck.excel.target writes them; keys as install reads them."""
    constants = module_constants()
    assert constants["SUMMARY_FIRST_ROW"] == _HEADER_ROW + 1
    assert constants["SUMMARY_MESSAGE_COLUMN"] == SUMMARY_HEADERS.index("Message") + 1
    assert SUMMARY_HEADERS[:4] == ("Sheet", "Cell", "Rule", "Severity")  # the label's columns 1, 2, 4, 3
    assert (constants["CHECKS_OFF_KEY"], constants["TOLERANCE_KEY"], constants["NOTES_KEY"]) == (
        install.CHECKS_OFF_KEY, install.TOLERANCE_KEY, install.NOTES_KEY)
    finder = "\n".join(_function(SOURCE, "TallySummarySheet")[1])
    assert f'= "{SUMMARY_SHEET}"' in finder and f'= "{SUMMARY_TITLE_PREFIX}"' in finder


def test_the_checks_menu_names_real_rules_and_settings_read_only_the_users_file() -> None:
    from tallycheck.declared.ruleset import _ALIASES, KNOWN_RULES

    tags = [box.get("tag") for box in next(RIBBON.iter(f"{UI}menu")).iter(f"{UI}checkBox")]
    names = [n for tag in tags for n in tag.split(",")]
    assert set(names) <= set(KNOWN_RULES) | set(_ALIASES) and len(names) == len(set(names))
    # every GetConfig call of ours takes the default source, the user's file (test_excel_vba_config)
    assert [c for c in _calls(SOURCE, "GetConfig") if len(c) > 2] == []
    assert "ActiveWorkbook" not in "".join(_function(SOURCE, "TallySetConfig")[1])


def test_the_findings_list_lists_the_marked_cells_and_a_pick_goes_to_its_cell(monkeypatch, tmp_path) -> None:
    book, vba = opened("estimates-and-shares.xlsx", monkeypatch, tmp_path)
    assert vba.listed() == []  # no run yet: an empty list, no error
    result = entry.validate_workbook(book)
    labels = vba.listed()
    marked = {f"{f.sheet}!{f.cell}" for f in result["findings"]}
    assert len(labels) == len(marked) == 3
    assert {label.split("  ")[0] for label in labels} == marked
    assert labels[0].startswith("Shares!C5  error  percent: 40.3% does not match")
    book.sheets["Shares"].activate()
    estimate = next(i for i, label in enumerate(labels) if label.startswith("Estimates!"))
    vba.pick(estimate)
    assert vba.ran == ["go_to_finding:" + "".join(f"{ord(ch):04X}" for ch in "Estimates!C5")]
    assert where(book) == "Estimates!C5"
    vba.pick(0)
    assert where(book) == "Shares!C5"
    assert not book.app.alerts[1:]  # a pick says where it went on the status bar, in no message box


def test_the_findings_list_follows_a_second_run_and_clear(monkeypatch, tmp_path) -> None:
    book, vba = opened("estimates-and-shares.xlsx", monkeypatch, tmp_path)
    entry.validate_workbook(book)
    assert len(vba.listed()) == 3
    low = book.sheets["Estimates"].cells[parse_cell("B5")]
    low.value = 8_600_000  # the low estimate fixed: low <= best again
    entry.validate_workbook(book)
    assert [label.split("  ")[0] for label in vba.listed()] == ["Shares!C5", "Shares!C6"]
    entry.clear_marks(book)
    assert vba.listed() == []
    ribbon = SimpleNamespace(InvalidateControl=vba.invalidated.append)
    vba.call("TallyRibbonLoaded", ribbon)
    vba.call("TallyRefresh")
    assert vba.invalidated == ["tallyFindings"]
    run = "\n".join(_function(SOURCE, "TallyRun")[1])
    assert run.index("RunPython TallyPythonCommand(action)") < run.index("TallyRefresh")


def test_a_pick_whose_sheet_is_gone_says_to_validate_again(monkeypatch, tmp_path) -> None:
    book, vba = opened("estimates-and-shares.xlsx", monkeypatch, tmp_path)
    entry.validate_workbook(book)
    vba.listed()
    book.sheets["Estimates"].name = "Estimates (old)"
    vba.pick(2)
    assert "Estimates!C5 is not in estimates-and-shares.xlsx any more" in book.app.alerts[-1][0]


# -- the Settings ----------------------------------------------------------------------------------
def test_a_check_turned_off_is_written_to_the_users_file_and_not_reported(monkeypatch, tmp_path, user) -> None:
    book, vba = opened("estimates-and-shares.xlsx", monkeypatch, tmp_path)
    assert vba.pressed("estimate_order,order") and vba.pressed("notes")
    vba.toggle("estimate_order,order", False)
    assert install.read_config(user.config, user.encoding) == {
        "INTERPRETER_WIN": r"C:\Python312\python.exe", install.CHECKS_OFF_KEY: "estimate_order,order"}
    assert not vba.pressed("estimate_order,order") and vba.pressed("percent,shares_total")
    vba.toggle("dates", False)
    assert install.user_settings().checks_off == ("estimate_order", "order", "dates")
    result = entry.validate_workbook(book)
    assert {f.rule for f in result["findings"]} == {"percent"} and result["errors"] == 2
    assert "Settings: checks off: estimate_order, order, dates (Tally Check > Settings)." in book.app.alerts[-1][0]
    assert [label.split("  ")[0] for label in vba.listed()] == ["Shares!C5", "Shares!C6"]
    vba.toggle("estimate_order,order", True)
    vba.toggle("dates", True)
    assert install.read_config(user.config, user.encoding)[install.CHECKS_OFF_KEY] == ""
    assert entry.validate_workbook(book)["errors"] == 3


def test_the_tolerance_set_on_the_ribbon_is_used_by_the_next_run(monkeypatch, tmp_path, user) -> None:
    book, vba = opened("missing-in-action.xlsx", monkeypatch, tmp_path)  # Losses!E7 is off by 1,000
    vba.call("TallyToleranceChange", None, " 999 ")
    assert vba.call("TallyToleranceText", None, None)["text"] == "999"
    assert entry.validate_workbook(book)["errors"] == 1
    vba.call("TallyToleranceChange", None, "1%")  # 1% of 1,050,250
    result = entry.validate_workbook(book)
    assert result["errors"] == 0 and "Settings: tolerance 1%" in book.app.alerts[-1][0]
    assert vba.listed() == []
    vba.call("TallyToleranceChange", None, "a little")
    result = entry.validate_workbook(book)
    assert not result["ok"] and "tolerance 'a little' is not a number such as 5 or 1%" in result["error"]
    assert "Settings > Tolerance" in book.app.alerts[-1][0]


def test_notes_off_marks_with_fills_only_and_clear_restores_the_book(monkeypatch, tmp_path, user) -> None:
    book, vba = opened("missing-in-action.xlsx", monkeypatch, tmp_path)
    before = book._snapshot()
    vba.toggle("notes", False)
    assert install.read_config(user.config, user.encoding)[install.NOTES_KEY] == "False" and not vba.pressed("notes")
    result = entry.validate_workbook(book)
    e7 = book.sheets["Losses"].cells[parse_cell("E7")]
    assert result["cells"] == 1 and e7.fill.color == 0xCEC7FF and e7.note is None
    assert "hover for the note" not in book.app.alerts[-1][0] and "no notes" in book.app.alerts[-1][0]
    entry.clear_marks(book)
    assert book._snapshot() == before
    vba.toggle("notes", True)
    entry.validate_workbook(book)
    assert e7.note is not None and e7.note.text.startswith("tallycheck: error (sum)")


def test_settings_in_the_workbook_being_checked_are_never_read(monkeypatch, tmp_path, user) -> None:
    """A third party's workbook with a tallycheck.conf sheet turning every check off changes nothing."""
    book, _ = opened("missing-in-action.xlsx", monkeypatch, tmp_path)
    conf = book._add_sheet("tallycheck.conf")
    for row, (key, value) in enumerate([(install.CHECKS_OFF_KEY, "sum"), (install.NOTES_KEY, "False")], start=1):
        conf.range((row, 1)).value = key
        conf.range((row, 2)).value = value
    result = entry.validate_workbook(book)
    assert result["errors"] == 1 and book.sheets["Losses"].cells[parse_cell("E7")].note is not None
