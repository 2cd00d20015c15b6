"""The fake Excel stands for the real xlwings API: same names, same parameters, same COM members.

If xlwings renames or drops something tallycheck.excel uses, or tallycheck.excel starts using an
object-model member the fake (and xlapi.COM_MEMBERS) do not list, these tests fail.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import excel_fake as fake
import pytest
import xlwings as xw
import xlwings.main as xwm
from tallycheck.excel import xlapi

PAIRS = [
    (fake.FakeApp, xw.App), (fake.FakeBooks, xwm.Books), (fake.FakeBook, xw.Book), (fake.FakeSheets, xwm.Sheets),
    (fake.FakeSheet, xw.Sheet), (fake.FakeRange, xw.Range), (fake.FakeNote, xwm.Note), (fake.FakeFont, xwm.Font),
    (fake.FakeComment, xwm.Comment), (fake.FakeApps, xwm.Apps),
]
EXCEL = Path(xlapi.__file__).parent


def public(cls: type) -> set[str]:
    """Public class members, and the public attributes an instance sets in __init__."""
    names = {n for n in vars(cls) if not n.startswith("_")}
    init = vars(cls).get("__init__")
    if init is not None:
        for node in ast.walk(ast.parse(inspect.getsource(cls))):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self"
                    and isinstance(node.ctx, ast.Store) and not node.attr.startswith("_")):
                names.add(node.attr)
    return names


@pytest.mark.parametrize(("fake_cls", "real_cls"), PAIRS, ids=[p[1].__name__ for p in PAIRS])
def test_fake_members_exist_in_xlwings(fake_cls: type, real_cls: type) -> None:
    missing = {n for n in public(fake_cls) if not hasattr(real_cls, n)}
    # FakeBook/FakeSheet keep their model in plain attributes the tests poke (cells, custom_xml, ...);
    # those are data, not API, and are listed here so nothing else slips through.
    data = {"FakeBook": {"custom_xml", "protect_structure", "from_xlsx", "carries_macros"},
            "FakeSheet": {"cells", "merged", "widths", "protected", "tab_color", "frozen", "split_row", "split_col",
                          "scroll_row"},
            "FakeApp": {"alerts", "status_history", "addin_open", "macro_calls", "mac", "fail_at", "changes", "running"}}
    assert missing - data.get(fake_cls.__name__, set()) == set()


@pytest.mark.parametrize(("fake_cls", "real_cls"), PAIRS, ids=[p[1].__name__ for p in PAIRS])
def test_fake_methods_take_xlwings_parameters(fake_cls: type, real_cls: type) -> None:
    for name, member in vars(fake_cls).items():
        if name.startswith("_") or not callable(member) or isinstance(member, (property, classmethod)):
            continue
        real = getattr(real_cls, name)
        fake_params = list(inspect.signature(member).parameters)
        real_params = list(inspect.signature(real).parameters)
        assert fake_params == real_params[: len(fake_params)], (fake_cls.__name__, name)
        kinds = {p.name: p.kind for p in inspect.signature(real).parameters.values()}
        assert all(kinds[p] != inspect.Parameter.VAR_KEYWORD or p == "options" for p in fake_params[1:])


def _xlwings_used() -> dict[str, set[str]]:
    """Attribute names tallycheck.excel reads off xlwings objects (a coarse check: by name)."""
    names: set[str] = set()
    for path in EXCEL.glob("*.py"):
        if path.name in ("xlapi.py", "install.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute):
                names.add(node.attr)
    return {"all": names}


def test_every_xlwings_name_the_code_uses_is_implemented_by_the_fake() -> None:
    """Names the Excel door calls that xlwings defines must be in the fake as well."""
    used = _xlwings_used()["all"]
    real = set().union(*(public(r) for _, r in PAIRS))
    faked = set().union(*(public(f) for f, _ in PAIRS))
    needed = (used & real) - {"impl", "api"}
    # A few xlwings names our code uses on non-xlwings objects (dicts, grids, reports) only.
    unrelated = {"name", "value", "values", "count", "items", "get", "sheet", "copy", "index", "add", "clear",
                 "delete", "row", "column", "text", "color", "rows", "path", "range", "cells", "options", "tables", "insert", "close", "flush", "table",
                 "apps",  # xlwings.apps, the module's list of running Excel instances (FakeApps)
                 "notes"}  # the add-in's Settings (install.AddinSettings.notes), not xlwings' Sheet.notes
    assert needed - faked - unrelated == set()
    assert {"add_note", "note", "comment", "used_range", "status_bar", "alert", "screen_updating",
            "number_format", "merge_cells", "merge_area", "last_cell", "resize", "formula", "font",
            "column_width", "sheets", "fullname", "books", "active", "activate", "visible"} <= faked


def test_only_xlapi_reaches_into_the_object_model() -> None:
    for path in EXCEL.glob("*.py"):
        if path.name == "xlapi.py":
            continue
        tree = ast.parse(path.read_text())
        uses = [n for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr == "api"]
        assert uses == [], f"{path.name} uses .api; keep object-model calls in xlapi.py"


def test_xlapi_uses_only_listed_com_members_and_the_fake_has_them() -> None:
    listed = set().union(*xlapi.COM_MEMBERS.values())
    tree = ast.parse(Path(xlapi.__file__).read_text())
    used = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr[:1].isupper()}
    used |= {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
             and n.value in listed}
    assert used - listed - {"Count", "Item"} == set(), "list new object-model members in COM_MEMBERS"
    com_classes = [c for n, c in vars(fake).items() if n.startswith("Com") and isinstance(c, type)]
    implemented = set().union(*(public(c) for c in com_classes))
    assert listed - implemented == set(), "the fake must implement every listed member"
    assert implemented - listed - {"Count", "Item", "NamespaceURI"} == set(), \
        "the fake implements an object-model member xlapi does not list"
