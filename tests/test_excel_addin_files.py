"""The built add-in (.xlam) and button template (.xlsm) hold exactly the text sources, and every
button reaches an importable Python entry point with the right argument.

- The committed files are what addin/build_addin.py builds now (reproducible, byte for byte).
- oletools' olevba (an independent reader) extracts from each file's VBA project exactly the
  repository's .bas/.cls sources; LibreOffice (another one) imports them as VBA modules.
- The VBA project's encryption and compression follow MS-OVBA (the specification's own example,
  olevba's decompressor); the compound file reads back with olefile.
- Each ribbon button's onAction and each template button's macro is a Public Sub of TallyCheck.bas
  that runs an action of tallycheck.excel.entry; the Python command the VBA builds is run here,
  as RunPython would run it, against the fake Excel.
"""

from __future__ import annotations

import importlib
import io
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from lxml import etree

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "addin"))

import build_addin  # noqa: E402
import vba_project  # noqa: E402

olevba = pytest.importorskip("oletools.olevba")
olefile = pytest.importorskip("olefile")

UI = "{http://schemas.microsoft.com/office/2009/07/customui}"
BUILT = {"addin": build_addin.ADDIN, "template": build_addin.TEMPLATE}


def vba_text(name: str) -> str:
    """A module's text as the build puts it in the project (ours, or xlwings' with the changes)."""
    return build_addin.read_source(name)


def extracted(path: Path) -> dict[str, str]:
    parser = olevba.VBA_Parser(str(path))
    try:
        return {stream.split("/")[-1]: code for _, stream, _, code in parser.extract_macros()}
    finally:
        parser.close()


def normalized(text: str) -> str:
    return text.replace("\r\n", "\n").rstrip("\n")


def test_committed_files_are_a_fresh_build() -> None:
    assert build_addin.build_addin() == build_addin.ADDIN.read_bytes(), "run python addin/build_addin.py"
    assert build_addin.build_template() == build_addin.TEMPLATE.read_bytes(), "run python addin/build_addin.py"
    assert build_addin.main(["--check"]) == 0


@pytest.mark.parametrize("which", sorted(BUILT))
def test_files_hold_exactly_the_sources(which: str) -> None:
    code = extracted(BUILT[which])
    for name in build_addin.SOURCES:
        module, stored = vba_project.stored_source(vba_text(name))
        assert normalized(code[module]) == normalized(stored), name
        if name.endswith(".bas"):  # a standard module is stored exactly as the file has it
            assert normalized(code[module]) == normalized(vba_text(name))
    documents = {"ThisWorkbook", "Sheet1"} | ({"Sheet2"} if which == "template" else set())
    assert set(code) == {vba_project.stored_source(vba_text(n))[0] for n in build_addin.SOURCES} | documents
    for doc in documents:  # document modules: attributes, and only the add-in's ThisWorkbook has code
        lines = normalized(code[doc]).splitlines()
        attributes = [line for line in lines if line.startswith("Attribute ")]
        assert lines[: len(attributes)] == attributes
        body = "\n".join(lines[len(attributes):])
        expected = vba_text(build_addin.ADDIN_EVENTS) if (which, doc) == ("addin", "ThisWorkbook") else ""
        assert body == normalized(expected), doc


def test_addin_shortcuts_run_macros_of_the_addin() -> None:
    """Workbook_Open binds each shortcut to a Public Sub of TallyCheck.bas; closing unbinds them."""
    source = vba_text(build_addin.ADDIN_EVENTS)
    shortcuts = dict(item.split("=") for item in re.search(r'SHORTCUTS As String = "([^"]+)"', source).group(1).split(";"))
    assert shortcuts == {"^+q": "TallyValidateWorkbook", "^+n": "TallyNextFinding"}
    subs = _public_subs(vba_text("TallyCheck.bas"))
    assert all(subs[macro][0] == "" for macro in shortcuts.values())
    assert re.search(r"^Private Sub Workbook_Open\(\)", source, re.M)
    assert re.search(r"^Private Sub Workbook_BeforeClose\(Cancel As Boolean\)", source, re.M)


def test_vendored_xlwings_module_is_upstream_plus_the_listed_changes() -> None:
    """The add-in's xlwings module differs from the installed package's in the listed lines only."""
    upstream = build_addin.upstream_source("xlwings.bas").split("\r\n")
    ours = extracted(build_addin.ADDIN)["xlwings"].split("\r\n")
    assert len(ours) == len(upstream)
    changed = [(a, b) for a, b in zip(upstream, ours, strict=True) if a != b]
    expected = sum(upstream_text.count(old) for upstream_text in ["\r\n".join(upstream)]
                   for old, _ in build_addin.VENDOR_CHANGES)
    assert len(changed) == expected == 5
    for a, b in changed:
        assert any(old.split("\r\n")[0] in a and new.split("\r\n")[0] in b for old, new in build_addin.VENDOR_CHANGES)
    assert build_addin.upstream_source("Dictionary.cls").endswith(extracted(build_addin.ADDIN)["Dictionary"][-200:])
    assert not (build_addin.VBA / "xlwings.bas").exists(), "xlwings' module is taken from the package, not kept here"


def test_xlwings_pin_is_the_version_the_addin_carries() -> None:
    """pyproject's xlwings pin = XLWINGS_VERSION = the version of the module inside the built add-in."""
    import tomllib

    from tallycheck.excel import XLWINGS_VERSION
    from tallycheck.excel.install import vba_xlwings_version

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    pins = {req for extra in ("excel", "dev") for req in project[extra] if req.startswith("xlwings")}
    assert pins == {f"xlwings=={XLWINGS_VERSION}"}
    for built in BUILT.values():
        module = extracted(built)["xlwings"]
        assert re.search(r"^'Version: ([\d.]+)", module, re.M).group(1) == XLWINGS_VERSION
        assert f'Public Const XLWINGS_VERSION As String = "{XLWINGS_VERSION}"' in module
        assert f'Lib "xlwings64-{XLWINGS_VERSION}.dll"' in module  # what the UDF server loads
    assert vba_xlwings_version() == XLWINGS_VERSION


def test_build_refuses_another_xlwings(monkeypatch) -> None:
    import xlwings

    monkeypatch.setattr(xlwings, "__version__", "0.99.0")
    with pytest.raises(SystemExit, match=r"needs xlwings 0\.37\.8 \(pinned\), found 0\.99\.0"):
        build_addin.build_addin()


def test_addin_package_is_an_addin_with_the_ribbon() -> None:
    with zipfile.ZipFile(build_addin.ADDIN) as z:
        ct = etree.fromstring(z.read("[Content_Types].xml"))
        rels = etree.fromstring(z.read("_rels/.rels"))
        workbook = z.read("xl/workbook.xml").decode()
        ui = z.read("customUI/customUI14.xml")
        names = z.namelist()
    overrides = {o.get("PartName"): o.get("ContentType") for o in ct if o.get("PartName")}
    assert overrides["/xl/workbook.xml"] == build_addin.CT_ADDIN
    assert "xl/vbaProject.bin" in names
    assert any(d.get("ContentType") == "application/vnd.ms-office.vbaProject" for d in ct)
    assert any(r.get("Type") == build_addin.REL_UI and r.get("Target") == "customUI/customUI14.xml" for r in rels)
    assert ui == (build_addin.VBA / build_addin.RIBBON).read_bytes()
    assert 'codeName="ThisWorkbook"' in workbook


def _public_subs(source: str) -> dict[str, tuple[str, str]]:
    """Public Sub name -> (parameter list, body)."""
    subs = {}
    for m in re.finditer(r"^Public Sub (\w+)\(([^)]*)\)\r?\n(.*?)^End Sub", source, re.M | re.S):
        subs[m.group(1)] = (m.group(2).strip(), m.group(3))
    return subs


def _python_command(action: str) -> str:
    """Evaluate TallyPythonCommand(action) from the VBA text: string literals joined with &."""
    source = vba_text("TallyCheck.bas").replace("\r\n", "\n")
    body = re.search(r"TallyPythonCommand = (.*?)\nEnd Function", source, re.S).group(1)
    body = re.sub(r"\s*_\n\s*", " ", body)
    out = []
    for piece in re.findall(r'"(?:[^"]|"")*"|\baction\b', body):
        out.append(action if piece == "action" else piece[1:-1].replace('""', '"'))
    return "".join(out)


#: Ribbon buttons that are VBA only (no Python to run): the Sub their tag leads to.
VBA_ONLY = {"restart_python": "TallyRestartPython", "save_report": "TallySaveReport"}


def test_every_ribbon_button_calls_an_entry_point() -> None:
    from tallycheck.excel import entry

    ui = etree.fromstring((build_addin.VBA / build_addin.RIBBON).read_bytes())
    buttons = list(ui.iter(f"{UI}button"))
    labels = {b.get("label") for b in buttons}
    assert labels == {"Validate workbook", "Validate this sheet", "Clear marks", "Show summary", "What is checked",
                      "Previous finding", "Next finding", "Restart Python", "Mark as reviewed", "Save report…"}
    subs = _public_subs(vba_text("TallyCheck.bas"))
    assert {b.get("onAction") for b in buttons} == {"TallyRibbon"}
    params, body = subs["TallyRibbon"]
    assert params == "control As Object"  # the IRibbonControl Excel passes
    # The callback: the VBA-only tags to their Sub, every other tag to TallyRun.
    assert re.fullmatch(r'\s*If control\.Tag = "restart_python" Then\s+TallyRestartPython\s+'
                        r'ElseIf control\.Tag = "save_report" Then\s+TallySaveReport\s+Else\s+'
                        r"TallyRun control\.Tag\s+End If\s*", body)
    assert "KillPy" in subs[VBA_ONLY["restart_python"]][1]  # xlwings' own way to stop the UDF server's Python
    assert 'TallyRun "save_report:" & TallyHex(CStr(chosen))' in subs[VBA_ONLY["save_report"]][1]
    tags = [b.get("tag") for b in buttons]
    assert len(set(tags)) == len(tags)
    # every action is a button's, but go_to_finding: the Findings list's (TallyFindingsPick)
    assert set(tags) - {"restart_python"} == set(entry.ACTIONS) - {"go_to_finding"}
    assert all(callable(getattr(entry, t)) for t in entry.ACTIONS)


def test_keytips_reach_every_button_with_distinct_keys() -> None:
    """Alt, T, C opens the tab; one letter per button (customUI: keytip is 1 to 3 characters)."""
    ui = etree.fromstring((build_addin.VBA / build_addin.RIBBON).read_bytes())
    assert next(ui.iter(f"{UI}tab")).get("keytip") == "TC"
    tips = [el.get("keytip") for el in ui.iter() if el.get("id") and el.tag != f"{UI}tab" and el.getparent().tag == f"{UI}group"]
    assert len(tips) == 14  # the buttons, the Findings list, Checks, Tolerance and Notes
    assert all(t and 1 <= len(t) <= 3 and t.isalnum() and t.isupper() for t in tips)
    assert len(set(tips)) == len(tips)
    ids = [el.get("id") for el in ui.iter() if el.get("id")]
    assert len(set(ids)) == len(ids)


def test_every_template_button_runs_a_macro_of_the_project() -> None:
    from tallycheck.excel import entry

    with zipfile.ZipFile(build_addin.TEMPLATE) as z:
        vml = b"".join(z.read(n) for n in z.namelist() if n.endswith(".vml"))
    macros = re.findall(rb"<x:FmlaMacro>\[0\]!(\w+)</x:FmlaMacro>", vml)
    assert {m.decode() for m in macros} == {m for m, _ in build_addin.BUTTONS}
    subs = _public_subs(vba_text("TallyCheck.bas"))
    for macro in macros:
        params, body = subs[macro.decode()]
        assert params == ""
        assert re.fullmatch(r'\s*TallyRun "(\w+)"\s*', body).group(1) in entry.ACTIONS


def test_the_python_command_runs_each_action(monkeypatch) -> None:
    """What RunPython runs (python -c <command>) reaches tallycheck.excel.entry with the action."""
    from excel_fake import FakeBook
    from tallycheck.excel import entry

    book = FakeBook.from_xlsx(ROOT / "examples" / "missing-in-action.xlsx")
    monkeypatch.setattr(entry, "caller_book", lambda: book)
    active = []
    for action in ("validate_workbook", "show_summary", "show_checked", "clear_marks", "validate_sheet"):
        command = _python_command(action)
        assert '"' not in command and "|" not in command and "\\" not in command  # cmd.exe / AppleScript safe
        exec(compile(command, "<RunPython>", "exec"), {})
        active.append(book.sheets.active.name)
    prompts = [p for p, _, _ in book.app.alerts]
    assert prompts[0].startswith("1 error and 0 warnings in 2 tables")
    assert active[1] == "tallycheck"  # show_summary went there (no message box)
    assert prompts[1].startswith("Tally Check finds 2 tables")
    assert prompts[2].startswith("Removed the marks from 1 cell")


def test_the_python_command_without_tallycheck_says_so(monkeypatch) -> None:
    import importlib.util

    import xlwings as xw

    shown = []

    class Caller:
        class app:
            @staticmethod
            def alert(prompt, title=None, mode=None):
                shown.append((prompt, title, mode))

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "tallycheck" else real_find_spec(name, *a))
    monkeypatch.setattr(xw.Book, "caller", classmethod(lambda cls: Caller()))
    exec(compile(_python_command("validate_workbook"), "<RunPython>", "exec"), {})
    assert shown and "does not have tallycheck installed" in shown[0][0] and shown[0][2] == "critical"


def test_encryption_reproduces_the_specification_example() -> None:
    # [MS-OVBA] 3.1.6: the PROJECT stream example's CMG, DPB and GC for its project id.
    project_id = "{917DED54-440B-4FD1-A5C1-74ACF261E600}"
    cases = {"0705D8E3D8EDDBF1DBF1DBF1DBF1": bytes(4), "0E0CD1ECDFF4E7F5E7F5E7": b"\x00", "1517CAF1D6F9D7F9D706": b"\xff"}
    for text, data in cases.items():
        assert vba_project.decrypt(text) == data
        raw = bytes.fromhex(text)
        seed = raw[0]
        n = (seed & 6) // 2
        # recover the example's arbitrary "ignored" bytes, then encrypting must give the same text
        key = seed ^ raw[2]
        u, e1, e2, ignored = key, raw[2], raw[1], []
        for b in raw[3 : 3 + n]:
            v = b ^ ((e2 + u) & 0xFF)
            ignored.append(v)
            e2, e1, u = e1, b, v
        assert vba_project.encrypt(data, project_id, seed=seed, ignored=bytes(ignored)) == text


@pytest.mark.parametrize("data", [b"", b"abc", b"#aaabcdefaaaaghijaaaaaklaaamnopqaaaaaaaaaaaarstuvwxyzaaa",
                                  bytes(range(256)) * 40, b"a" * 20000])
def test_compression_reads_back_with_olevba(data: bytes) -> None:
    assert olevba.decompress_stream(bytearray(vba_project.compress(data))) == data


def test_vba_project_is_a_valid_compound_file() -> None:
    with zipfile.ZipFile(build_addin.TEMPLATE) as z:
        data = z.read("xl/vbaProject.bin")
    ole = olefile.OleFileIO(io.BytesIO(data))
    streams = {"/".join(s) for s in ole.listdir()}
    assert {"PROJECT", "PROJECTwm", "VBA/dir", "VBA/_VBA_PROJECT", "VBA/TallyCheck", "VBA/xlwings",
            "VBA/Dictionary", "VBA/ThisWorkbook", "VBA/Sheet1", "VBA/Sheet2"} == streams
    assert ole.openstream("VBA/_VBA_PROJECT").read() == bytes.fromhex("CC61FFFF000300")
    project = ole.openstream("PROJECT").read().decode("cp1252")
    assert "Module=TallyCheck" in project and "Class=Dictionary" in project and "Document=Sheet2/&H00000000" in project
    assert 'Name="TallyCheck"' in project  # as the VBA editor and Disabled Items show it


def _libreoffice_basic(built: Path, tmp_path: Path, *infilter: str) -> dict[str, dict[str, str]]:
    """The Basic libraries LibreOffice makes of a built file's VBA project: library -> module -> XML."""
    source = tmp_path / f"t{built.suffix}"
    shutil.copy(built, source)
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/profile", *infilter,
                    "--convert-to", "ods", "--outdir", str(tmp_path), str(source)], check=True, capture_output=True,
                   timeout=180)
    libraries: dict[str, dict[str, str]] = {}
    with zipfile.ZipFile(tmp_path / "t.ods") as z:
        for n in z.namelist():
            parts = n.split("/")
            if len(parts) == 3 and parts[0] == "Basic" and parts[1] != "Standard" and not n.endswith("-lb.xml"):
                libraries.setdefault(parts[1], {})[parts[2][:-4]] = z.read(n).decode()
    return libraries


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice not installed")
def test_libreoffice_imports_the_vba_modules(tmp_path: Path) -> None:
    libraries = _libreoffice_basic(build_addin.TEMPLATE, tmp_path)
    assert set(libraries) == {build_addin.PROJECT}  # the project's name, as the VBA editor shows it
    modules = libraries[build_addin.PROJECT]
    assert set(modules) == {"ThisWorkbook", "Sheet1", "Sheet2", "TallyCheck", "xlwings", "Dictionary"}
    assert 'moduleType="class"' in modules["Dictionary"] and 'moduleType="document"' in modules["Sheet1"]
    assert "Public Sub TallyRibbon(control As Object)" in modules["TallyCheck"]


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice not installed")
def test_libreoffice_reads_the_addins_workbook_events(tmp_path: Path) -> None:
    """The add-in (read as Excel 2007 VBA XML: LibreOffice does not detect .xlam by itself, nor
    xlwings' own Excel-made one) carries its ThisWorkbook code: the keyboard shortcuts."""
    libraries = _libreoffice_basic(build_addin.ADDIN, tmp_path, "--infilter=Calc MS Excel 2007 VBA XML")
    modules = libraries[build_addin.PROJECT]
    assert set(modules) == {"ThisWorkbook", "Sheet1", "TallyCheck", "xlwings", "Dictionary"}
    workbook = modules["ThisWorkbook"]
    assert 'moduleType="document"' in workbook
    assert "Private Sub Workbook_Open()" in workbook and "Application.OnKey" in workbook


def test_build_script_imports_cleanly() -> None:
    importlib.reload(build_addin)


def test_record_macros_exist_in_the_vba() -> None:
    from tallycheck.excel import xlapi

    source = vba_text("TallyCheck.bas")
    assert re.search(r"^Public Function TallyRecordRead\(bookName As String, ns As String\) As String", source, re.M)
    assert re.search(r"^Public Function TallyRecordWrite\(bookName As String, ns As String, xml As String\) As Boolean",
                     source, re.M)
    assert re.search(r"^Public Function TallyProtection\(bookName As String\) As String", source, re.M)
    assert set(xlapi.MAC_MACROS) == {"TallyRecordRead", "TallyRecordWrite", "TallyProtection"}
    assert build_addin.ADDIN.name == xlapi.ADDIN_BOOK


def test_save_report_reaches_python_with_any_path(monkeypatch, tmp_path: Path) -> None:
    """The chosen path travels as hex of its UTF-16 units (TallyHex): quotes, spaces, accents survive."""
    from excel_fake import FakeBook
    from tallycheck.excel import entry

    book = FakeBook.from_xlsx(ROOT / "examples" / "missing-in-action.xlsx")
    monkeypatch.setattr(entry, "caller_book", lambda: book)
    before = book._snapshot()
    target = tmp_path / "O'Brien \"draft\" José" / "report"
    target.parent.mkdir()
    encoded = "".join(f"{ord(ch):04X}" for ch in str(target))  # what TallyHex makes of it
    command = _python_command("save_report:" + encoded)
    assert re.fullmatch(r"[0-9A-F]+", command.split("save_report:")[1].split("'")[0])
    exec(compile(command, "<RunPython>", "exec"), {})
    written = target.with_name("report.html")
    assert written.is_file() and "missing-in-action.xlsx" in written.read_text(encoding="utf-8")
    assert book.app.alerts[-1][0] == f"Saved the report (1 error and 0 warnings in missing-in-action.xlsx) to {written}."
    assert book._snapshot() == before  # a report marks nothing


def test_protected_view_and_conda_are_understood_before_python_starts() -> None:
    """TallyRun: a workbook in Protected View gets 'Enable Editing first' (Windows only: the Mac's object
    model has no ProtectedViewWindows); TallyInterpreter accepts a conda environment instead of a path."""
    source = vba_text("TallyCheck.bas").replace("\r\n", "\n")
    run = re.search(r"^Public Sub TallyRun\(action As String\)\n(.*?)^End Sub", source, re.M | re.S).group(1)
    guard = re.search(r"If ActiveWorkbook Is Nothing Then\n(.*?)\n        Exit Sub", run, re.S).group(1)
    windows = guard.split("#Else", 1)[1].split("#End If", 1)[0]
    assert "If Application.ProtectedViewWindows.Count > 0 Then" in windows and "Enable Editing" in windows
    assert "ProtectedViewWindows" not in guard.split("#Else", 1)[0]
    interpreter = re.search(r"^Private Function TallyInterpreter\(\) As String\n(.*?)^End Function", source,
                            re.M | re.S).group(1)
    assert re.search(r'GetConfig\("CONDA PATH", ""\) <> "" And GetConfig\("CONDA ENV", ""\) <> "" Then\s+'
                     r'TallyInterpreter = "python"', interpreter)
