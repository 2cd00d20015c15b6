"""Build the Tally Check Excel add-in and the button template from the text sources, reproducibly.

    python addin/build_addin.py            # writes both files
    python addin/build_addin.py --check    # exit 1 if the committed files differ from a fresh build

Sources:
- addin/tallycheck/excel/vba/: TallyCheck.bas (our macros), ThisWorkbook.cls (the add-in's
  ThisWorkbook code: keyboard shortcuts) and customUI14.xml (the ribbon);
- the installed xlwings package, which must be the pinned version (XLWINGS_VERSION, the same as
  pyproject.toml's ``xlwings==`` pin): its RunPython module for custom add-ins
  (``xlwings_custom_addin.bas``), with the documented edits of VENDOR_CHANGES applied at build
  time, and ``addin/Dictionary.cls`` (which that module uses on a Mac). No copy of either is kept
  in this repository, so what the add-in carries is always upstream plus VENDOR_CHANGES.

Outputs:
- addin/tallycheck/excel/tallycheck.xlam: the add-in (package data, so `tallycheck addin install`
  finds it in an installed tallycheck): a macro-enabled add-in workbook with the VBA project and the
  "Tally Check" ribbon tab;
- templates/tally-check-button.xlsm: a workbook with the same macros and buttons on its Data sheet.

The VBA project binary is written from the sources by vba_project.py (MS-OVBA/MS-CFB, no Office
needed); the workbooks by XlsxWriter, then repackaged with fixed timestamps and order, so the same
sources always give the same bytes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import sys
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import vba_project  # noqa: E402
from tallycheck.excel import XLWINGS_VERSION  # noqa: E402

VBA = HERE / "tallycheck" / "excel" / "vba"
#: The VBA project's name, as the VBA editor and Excel's Disabled Items list show it.
PROJECT = "TallyCheck"
ADDIN = HERE / "tallycheck" / "excel" / "tallycheck.xlam"
TEMPLATE = HERE.parent / "templates" / "tally-check-button.xlsm"
SOURCES = ("TallyCheck.bas", "xlwings.bas", "Dictionary.cls")
UPSTREAM = ("xlwings.bas", "Dictionary.cls")  # taken from the installed xlwings at build time
RIBBON = "customUI14.xml"
ADDIN_EVENTS = "ThisWorkbook.cls"  # the add-in's ThisWorkbook code: keyboard shortcuts
FIXED_TIME = dt.datetime(2026, 1, 1)
ZIP_TIME = (1980, 1, 1, 0, 0, 0)

CT_ADDIN = "application/vnd.ms-excel.addin.macroEnabled.main+xml"
CT_XLSM = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
REL_UI = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"

#: The only edits made to xlwings' xlwings_custom_addin.bas (tests check nothing else differs).
VENDOR_CHANGES = (
    # Config file ~/.tallycheck/tallycheck.conf (Windows) or .../Data/tallycheck.conf (Mac):
    # tallycheck's own settings, not those of other xlwings tools.
    ('Public Const PROJECT_NAME As String = "myaddin"', 'Public Const PROJECT_NAME As String = "tallycheck"'),
    # Do not put the analyst's workbook folder first on sys.path: a tallycheck.py or xlwings.py
    # lying there must not replace the installed package.
    ('GetConfig("ADD_WORKBOOK_TO_PYTHONPATH", "true")', 'GetConfig("ADD_WORKBOOK_TO_PYTHONPATH", "false")'),
    # Security: settings come from the user's own config file only. Upstream reads a
    # "tallycheck.conf" sheet of the active workbook, then a tallycheck.conf file beside it, first:
    # a workbook received by e-mail could choose the interpreter, PYTHONPATH or conda command line.
    ('Function GetConfig(configKey As String, Optional default As String = "", Optional source As String = "") As Variant',
     'Function GetConfig(configKey As String, Optional default As String = "", Optional source As String = "user") As Variant'),
    # Likewise, a worksheet named "*.py" in the workbook being checked is not code to run
    # (upstream: xlwings PRO's embedded code, which otherwise blocks every click with a licence message).
    ("    For i = 1 To 2\r\n        If i = 1 Then", "    For i = 2 To 2\r\n        If i = 1 Then"),
)


def vendor(upstream: str) -> str:
    """xlwings' custom add-in module with tallycheck's changes."""
    for old, new in VENDOR_CHANGES:
        if old not in upstream:
            raise SystemExit(f"xlwings_custom_addin.bas has changed: {old!r} not found")
        upstream = upstream.replace(old, new)
    return upstream


def _xlwings_folder() -> Path:
    """The installed xlwings package, refused unless it is the version the add-in pins."""
    try:
        import xlwings
    except ImportError:
        raise SystemExit(f'building the add-in needs xlwings {XLWINGS_VERSION}: pip install "xlwings=={XLWINGS_VERSION}"') from None
    if xlwings.__version__ != XLWINGS_VERSION:
        raise SystemExit(
            f"building the add-in needs xlwings {XLWINGS_VERSION} (pinned), found {xlwings.__version__}: "
            f'pip install "xlwings=={XLWINGS_VERSION}"'
        )
    return Path(xlwings.__file__).parent


def upstream_source(name: str) -> str:
    """An xlwings VBA file as the installed package ships it."""
    folder = _xlwings_folder()
    path = folder / ("xlwings_custom_addin.bas" if name == "xlwings.bas" else f"addin/{name}")
    return path.read_bytes().decode("cp1252")


def read_source(name: str) -> str:
    """A module's text as it goes into the project: ours from vba/, xlwings' from the package."""
    if name == "xlwings.bas":
        return vendor(upstream_source(name))
    if name in UPSTREAM:
        return upstream_source(name)
    return (VBA / name).read_bytes().decode("cp1252")


def modules(sheet_code_names: list[str], workbook_code: str = "") -> list[vba_project.Module]:
    """The project's modules: document modules for the workbook and its sheets, then ours."""
    out = [vba_project.document_module("ThisWorkbook", vba_project.WORKBOOK_BASE, workbook_code)]
    out += [vba_project.document_module(n, vba_project.WORKSHEET_BASE) for n in sheet_code_names]
    for name in SOURCES:
        module_name, source = vba_project.stored_source(read_source(name))
        kind = "class" if name.endswith(".cls") else "standard"
        out.append(vba_project.Module(module_name, kind, source))
    return out


def _xlsx_bytes(build) -> bytes:
    """Run a function that fills an XlsxWriter workbook; return the written .xlsm bytes."""
    import xlsxwriter

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "book.xlsm"
        wb = xlsxwriter.Workbook(str(path))
        wb.set_properties({"title": "Tally Check", "author": "tallycheck", "created": FIXED_TIME})
        build(wb)
        wb.close()
        return path.read_bytes()


def _repackage(data: bytes, edit=None) -> bytes:
    """Rewrite a package with fixed timestamps and member order (optionally editing parts)."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    if edit is not None:
        edit(parts)
    first = ["[Content_Types].xml", "_rels/.rels"]
    order = first + sorted(n for n in parts if n not in first)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name in order:
            info = zipfile.ZipInfo(name, ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, parts[name], compresslevel=9)
    return out.getvalue()


def build_addin() -> bytes:
    """tallycheck.xlam: one (hidden, as in every add-in) worksheet, the VBA project, the ribbon."""
    bin_data = vba_project.vba_project(modules(["Sheet1"], read_source(ADDIN_EVENTS)), project=PROJECT)

    def build(wb) -> None:
        ws = wb.add_worksheet("Tally Check")
        ws.write(0, 0, "Tally Check add-in: see the 'Tally Check' ribbon tab.")
        wb.add_vba_project(io.BytesIO(bin_data), is_stream=True)

    def edit(parts: dict[str, bytes]) -> None:
        ct = parts["[Content_Types].xml"].decode("utf-8")
        assert CT_XLSM in ct
        ct = ct.replace(CT_XLSM, CT_ADDIN)
        parts["[Content_Types].xml"] = ct.encode("utf-8")
        parts["customUI/customUI14.xml"] = (VBA / RIBBON).read_bytes()
        rels = parts["_rels/.rels"].decode("utf-8")
        rel = f'<Relationship Id="rIdTallyCheckUI" Type="{REL_UI}" Target="customUI/customUI14.xml"/>'
        parts["_rels/.rels"] = rels.replace("</Relationships>", rel + "</Relationships>").encode("utf-8")

    return _repackage(_xlsx_bytes(build), edit)


BUTTONS = (
    ("TallyValidateWorkbook", "Validate workbook"),
    ("TallyValidateSheet", "Validate this sheet"),
    ("TallyShowSummary", "Show summary"),
    ("TallyClearMarks", "Clear marks"),
    ("TallyShowChecked", "What is checked"),
    ("TallyPreviousFinding", "Previous finding"),
    ("TallyNextFinding", "Next finding"),
    ("TallyMarkReviewed", "Mark as reviewed"),
)
ABOUT = (
    "Tally Check",
    "",
    "Put your table on the Data sheet (or add sheets), then click a button on the Data sheet:",
    "Validate workbook: check every table; cells that do not add up get a red (error) or amber",
    "(warning) fill and a note saying what was expected; a sheet named tallycheck lists every finding.",
    "Validate this sheet: the same for the active sheet only.",
    "Show summary: go to the tallycheck sheet. Clear marks: remove every fill, note and sheet added.",
    "What is checked: the tables and relations Tally Check finds.",
    "Previous finding / Next finding: select the marked cells one after the other, across sheets.",
    "Mark as reviewed: accept the selected cell's finding, so that a new check does not mark it again.",
    "",
    "Needs Python with tallycheck installed; run 'tallycheck addin install' once in a terminal.",
    "Save this workbook as a macro-enabled workbook (.xlsm) to keep the buttons.",
)


def build_template() -> bytes:
    """tally-check-button.xlsm: a Data sheet with the buttons at its right, and an About sheet."""
    bin_data = vba_project.vba_project(modules(["Sheet1", "Sheet2"]), project=PROJECT)

    def build(wb) -> None:
        data = wb.add_worksheet("Data")
        about = wb.add_worksheet("About")
        data.set_column(0, 0, 28)
        data.set_column(1, 8, 13)
        for i, (macro, caption) in enumerate(BUTTONS):
            data.insert_button(1 + 2 * i, 10, {"macro": macro, "caption": caption, "width": 150, "height": 28})
        bold = wb.add_format({"bold": True, "font_size": 14})
        about.set_column(0, 0, 110)
        for r, line in enumerate(ABOUT):
            about.write(r, 0, line, bold if r == 0 else None)
        wb.add_vba_project(io.BytesIO(bin_data), is_stream=True)

    return _repackage(_xlsx_bytes(build))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed files, write nothing")
    args = parser.parse_args(argv)
    outputs = {ADDIN: build_addin(), TEMPLATE: build_template()}
    if args.check:
        stale = [p for p, data in outputs.items() if not p.exists() or p.read_bytes() != data]
        for p in stale:
            print(f"out of date: {p.relative_to(HERE.parent)} (run python addin/build_addin.py)")
        return 1 if stale else 0
    for path, data in outputs.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        print(f"wrote {path.relative_to(HERE.parent)} ({len(data):,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
