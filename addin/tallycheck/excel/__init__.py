"""The Excel front door: the Tally Check ribbon / button runs these through xlwings (RunPython).

- book.py: a live xlwings Book -> tallycheck.engine.grid.Workbook (bulk reads per used range);
- target.py: XlwingsTarget, the marks.target.MarkTarget for a live book;
- xlapi.py: the few Excel object-model calls xlwings has no wrapper for, in one place;
- entry.py: validate_workbook, validate_sheet, clear_marks, show_summary, show_checked;
- install.py: ``tallycheck addin install|remove|status``.

Nothing here is imported by the command line's check/mark/clear, and this package imports
nothing heavy at import time: a click starts Python afresh.
"""

#: The xlwings release whose RunPython module the add-in carries (addin/build_addin.py takes it from
#: that installed package at build time). pyproject.toml pins ``xlwings==`` to it: xlwings' UDF server
#: loads its DLL by this exact version, and RunPython on a Mac calls the AppleScript of this name.
XLWINGS_VERSION = "0.37.8"
