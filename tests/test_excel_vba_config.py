"""Security of the add-in's settings: the workbook being checked cannot choose what runs.

xlwings' GetConfig reads each setting from a "tallycheck.conf" sheet of the active workbook, then a
tallycheck.conf file beside it, then the user's own file. Tally Check's users open third-party
workbooks, so the add-in's copy reads the user's file only (addin/build_addin.py VENDOR_CHANGES).

There is no Excel here to run VBA, so GetConfig is run by a small translator of the VBA it is
written in (If/End If, #If, assignments, Exit Function, =/<>/And/Or/&) into Python, over a model of
Windows: the function's text is taken from the built .xlam (olevba), so the test covers what ships.
The same translator run on upstream's module returns the workbook's values: the test can fail.
The ribbon's callbacks (tests/test_excel_ribbon_lists.py) are run by the same translator, which
also knows the loops, procedure calls and file statements they use.
"""

from __future__ import annotations

import contextlib
import re
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "addin"))

import build_addin  # noqa: E402

olevba = pytest.importorskip("oletools.olevba")

USER_FILE = r"C:\Users\me\.tallycheck\tallycheck.conf"
SIBLING_FILE = r"C:\Users\me\Downloads\tallycheck.conf"
HOSTILE = {"INTERPRETER_WIN": r"C:\Users\me\Downloads\evil\python.exe", "PYTHONPATH": r"C:\Users\me\Downloads\evil",
           "CONDA ENV": "base & calc.exe", "CONDA PATH": r"C:\Users\me\miniconda3"}


class _Exit(Exception):
    pass


def _function(source: str, name: str) -> tuple[list[tuple[str, str | None]], list[str]]:
    """(parameters with defaults, body lines) of a VBA Function or Sub; continued lines joined."""
    source = re.sub(r" _\n\s*", " ", source.replace("\r\n", "\n"))
    m = re.search(rf"^(?:Public |Private )?(Function|Sub) {name}\((.*?)\)(?: As \w+)?\n(.*?)^End \1", source, re.M | re.S)
    params = []
    for p in filter(str.strip, m.group(2).split(",")):
        pm = re.match(r'\s*(?:Optional\s+)?(?:ByRef\s+|ByVal\s+)?(\w+)(?: As \w+)?(?:\s*=\s*"(.*)")?', p)
        params.append((pm.group(1), pm.group(2)))
    return params, m.group(3).split("\n")


def _expr(text: str) -> str:
    """A VBA expression as Python (outside string literals)."""
    out = []
    for piece in re.split(r'("(?:[^"]|"")*")', text):
        if piece.startswith('"'):
            out.append(repr(piece[1:-1].replace('""', '"')))
            continue
        piece = piece.replace("<>", "!=")
        piece = re.sub(r"(?<![=!<>])=(?!=)", "==", piece)
        piece = re.sub(r"\bAnd\b", "and", piece)
        piece = re.sub(r"\bOr\b", "or", piece)
        piece = re.sub(r"\bNot\b", "not", piece)
        piece = re.sub(r"\bIs Nothing\b", "is None", piece)
        piece = re.sub(r"(\w)\$", r"\1_", piece)  # Left$ -> Left_
        out.append(piece.replace("&", "+"))
    return "".join(out)


def _strip_comment(line: str) -> str:
    out, in_string = [], False
    for ch in line:
        if ch == '"':
            in_string = not in_string
        if ch == "'" and not in_string:
            break
        out.append(ch)
    return "".join(out).rstrip()


_FILE_STATEMENTS = {  # VBA's file statements, as calls of the model's functions
    r"Open (.+) For (Input|Output) As #(\w+)": r"vb_open(\3, \1, '\2')",
    r"Input #(\w+), (.+)": r"\2 = vb_input(\1)",
    r"Write #(\w+), (.+)": r"vb_write(\1, \2)",
    r"Close #(\w+)": r"vb_close(\1)",
}


def _statement(line: str) -> str:
    """One simple VBA statement as Python: assignment (to a variable or an array item), a file
    statement, Exit, ReDim (arrays are dicts here), or a procedure call."""
    for pattern, python in _FILE_STATEMENTS.items():
        m = re.fullmatch(pattern, line)
        if m:
            return _file(m, python)
    if line in ("Exit Function", "Exit Sub"):
        return "raise _Exit()"
    m = re.fullmatch(r"ReDim (Preserve )?(\w+)\(.*\)", line)
    if m:
        return "pass" if m.group(1) else f"{m.group(2)} = VBArray()"
    target, _, value = line.removeprefix("Set ").partition(" = ")
    if value:
        item = re.fullmatch(r"(\w+)\((.+)\)", target)
        if item:
            target = f"{item.group(1)}[{_expr(item.group(2))}]"
        assert re.fullmatch(r"\w+(\[.+\])?", target), f"unsupported VBA statement: {line}"
        return f"{target} = {_expr(value)}"
    name, _, args = line.partition(" ")
    assert re.fullmatch(r"\w+(\.\w+)?", name), f"unsupported VBA statement: {line}"
    return f"{name}({_expr(args)})"


def _file(m: re.Match[str], python: str) -> str:
    groups = [_expr(g) for g in m.groups()]
    return re.sub(r"\\(\d)", lambda g: groups[int(g.group(1)) - 1], python)


_DEFAULTS = {"String": "''", "Long": "0", "Integer": "0", "Boolean": "False"}


def translate(body: list[str], defines: dict[str, bool]) -> str:
    """The body as Python: #If blocks resolved with defines, VBA statements translated.

    An error handler (from its label on) is left out: an error in the model is a test failure.
    """
    code, depth, keep = [], 0, [True]
    for raw in body:
        line = _strip_comment(raw).strip()
        if re.fullmatch(r"\w+:", line):
            break
        if line.startswith("On Error "):
            continue
        if line.startswith("#If "):
            cond = line[4:].removesuffix(" Then")
            value = defines[cond]
            keep.append(keep[-1] and value)
            continue
        if line == "#Else":
            keep[-1] = not keep[-1] and keep[-2]
            continue
        if line == "#End If":
            keep.pop()
            continue
        if not keep[-1] or not line:
            continue
        if line.startswith("Dim "):  # each variable starts as VBA starts it: "", 0, False, Empty
            for name, array, kind in re.findall(r"(\w+)(\(\))?(?: As (\w+))?", line[4:]):
                value = "VBArray()" if array else _DEFAULTS.get(kind, "None")
                code.append("    " * depth + f"{name} = {value}")
            continue
        indent = "    " * depth
        single = re.fullmatch(r"If (.+?) Then (.+)", line)
        loop = re.fullmatch(r"For Each (\w+) In (.+)|For (\w+) = (.+) To (.+)|Do While (.+)", line)
        if line.startswith("If ") and line.endswith(" Then"):
            code.append(indent + f"if {_expr(line[3:-5])}:")
            depth += 1
        elif single:
            code.append(indent + f"if {_expr(single.group(1))}: {_statement(single.group(2))}")
        elif line.startswith("ElseIf ") and line.endswith(" Then"):
            code.append("    " * (depth - 1) + f"elif {_expr(line[7:-5])}:")
        elif line == "Else":
            code.append("    " * (depth - 1) + "else:")
        elif loop:
            each, of, counter, start, stop, cond = loop.groups()
            if each:
                code.append(indent + f"for {each} in {_expr(of)}:")
            elif counter:
                code.append(indent + f"for {counter} in range({_expr(start)}, ({_expr(stop)}) + 1):")
            else:
                code.append(indent + f"while {_expr(cond)}:")
            depth += 1
        elif line in ("End If", "Loop") or line.startswith("Next"):
            code.append(indent + "pass")
            depth -= 1
        else:
            code.append(indent + _statement(line))
    return "\n".join(code)


def windows(files: dict[str, dict[str, str]], sheet: dict[str, str] | None) -> dict[str, object]:
    """What GetConfig calls, on Windows, for a workbook opened from Downloads."""
    ns: dict[str, object] = {"configValue": ""}

    def from_file(path: str, key: str, _value: str) -> bool:
        values = {k.lower(): v for k, v in files.get(path, {}).items()}
        if key.lower() in values:
            ns["configValue"] = values[key.lower()]
            return True
        return False

    class Sheet:
        def __init__(self, values: dict[str, str]) -> None:
            self.values = values

        def Exists(self, key: str) -> bool:
            return key in self.values

        def Item(self, key: str) -> str:
            return self.values[key]

    active = SimpleNamespace(sheets={"tallycheck.conf": sheet} if sheet else {}, FullName=r"C:\Users\me\Downloads\x.xlsx")
    addin = SimpleNamespace(sheets={}, FullName=r"C:\Users\me\AppData\Roaming\Microsoft\Excel\XLSTART\tallycheck.xlam")
    ns.update({
        "_Exit": _Exit, "True": True, "False": False, "PROJECT_NAME": "tallycheck",
        "Application": SimpleNamespace(Name="Microsoft Excel"), "ActiveWorkbook": active, "ThisWorkbook": addin,
        "SheetExists": lambda wb, name: name in wb.sheets,
        "GetConfigFromSheet": lambda wb: Sheet(wb.sheets["tallycheck.conf"]),
        "GetFullName": lambda wb: wb.FullName,
        "GetDirectoryPath": lambda *wb: r"C:\Users\me\Downloads",
        "GetDirectoryConfigFilePath": lambda: SIBLING_FILE,
        "GetConfigFilePath": lambda: USER_FILE,
        "FileExists": lambda path: path in files,
        "GetConfigFromFile": from_file,
        "ExpandEnvironmentStrings": lambda s: s,
        "InStr": lambda a, b: a.find(b) + 1,
    })
    return ns


def get_config(module: str, key: str, default: str = "", *, files: dict, sheet: dict | None) -> object:
    """Run the module's GetConfig(key, default) on the Windows model."""
    params, body = _function(module, "GetConfig")
    ns = windows(files, sheet)
    args = {"configKey": key, "default": default}
    for name, fallback in params:
        ns[name] = args.get(name, fallback)
    with contextlib.suppress(_Exit):  # Exit Function
        exec(translate(body, {'App = "Microsoft Excel"': True, "Mac": False}), ns)
    return ns["GetConfig"]


def shipped_module() -> str:
    parser = olevba.VBA_Parser(str(build_addin.ADDIN))
    try:
        return next(code for _, stream, _, code in parser.extract_macros() if stream.endswith("xlwings"))
    finally:
        parser.close()


FILES = {USER_FILE: {"INTERPRETER_WIN": r"C:\Python311\python.exe"}, SIBLING_FILE: HOSTILE}


def test_a_workbooks_conf_sheet_and_sibling_file_are_ignored() -> None:
    module = shipped_module()
    for sheet in (HOSTILE, None):  # the workbook's own sheet; or only the file beside it
        assert get_config(module, "INTERPRETER_WIN", files=FILES, sheet=sheet) == r"C:\Python311\python.exe"
        for key in ("PYTHONPATH", "CONDA ENV", "CONDA PATH"):
            assert get_config(module, key, files=FILES, sheet=sheet) == ""
    assert get_config(module, "USE UDF SERVER", "False", files=FILES, sheet=HOSTILE) == "False"


def test_upstream_module_would_take_the_workbooks_settings() -> None:
    """The same run on xlwings' own module: the hostile values win (what the change prevents)."""
    upstream = build_addin.upstream_source("xlwings.bas")
    assert get_config(upstream, "INTERPRETER_WIN", files=FILES, sheet=HOSTILE) == HOSTILE["INTERPRETER_WIN"]
    assert get_config(upstream, "PYTHONPATH", files=FILES, sheet=None) == HOSTILE["PYTHONPATH"]


def _calls(source: str, name: str) -> list[list[str]]:
    """The argument lists of every call to name(...) in the source (balanced parentheses)."""
    out = []
    for m in re.finditer(rf"\b{name}\(", source):
        depth, args, current, i = 1, [], "", m.end()
        while depth:
            ch = source[i]
            depth += {"(": 1, ")": -1}.get(ch, 0)
            if ch == "," and depth == 1:
                args.append(current)
                current = ""
            elif depth:
                current += ch
            i += 1
        out.append([*args, current])
    return out


def test_no_call_asks_for_the_workbooks_layers() -> None:
    """Every GetConfig call takes the default source (the user's file): none passes a third argument."""
    module = shipped_module()
    calls = [c for c in _calls(module, "GetConfig") if not c[0].startswith("configKey As")]
    assert len(calls) > 20
    assert [c for c in calls if len(c) > 2] == []
    assert re.search(r'^Function GetConfig\(.*Optional source As String = "user"\) As Variant', module, re.M)
    # Sheets named *.py in the checked workbook are not embedded code to run (xlwings PRO).
    assert re.search(r"^    For i = 2 To 2\r?\n        If i = 1 Then", module, re.M)
