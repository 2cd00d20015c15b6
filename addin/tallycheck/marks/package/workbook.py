"""The workbook part (xl/workbook.xml): which sheets exist, and the summary sheet's entry.

Adding the summary sheet last means no existing sheet index moves, so defined names scoped to a
sheet (localSheetId), the active tab and the calculation chain keep pointing where they did.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from ..plan import unique_sheet_name
from .ns import Dialect
from .opc import Package


@dataclass(frozen=True)
class SheetEntry:
    """One <sheet> of the workbook, resolved to its part."""

    name: str
    sheet_id: str
    rid: str
    kind: str  # 'worksheet', 'chartsheet', 'dialogsheet', 'xlMacrosheet', ...
    part: str | None
    index: int


class Workbook:
    """Sheets of the workbook part, backed by its lxml root."""

    def __init__(self, pkg: Package, part: str, d: Dialect) -> None:
        self.pkg = pkg
        self.part = part
        self.d = d
        self.root = pkg.xml(part)
        self._entries: list[SheetEntry] | None = None  # asked for a dozen times a mark; changed only here
        self._indexes: tuple[dict[str, SheetEntry], ...] | None = None  # rebuilt with _entries

    def _sheets_el(self) -> etree._Element:
        el = self.root.find(self.d.q("sheets"))
        if el is None:
            raise ValueError("the workbook part lists no sheets")
        return el

    def sheets(self) -> list[SheetEntry]:
        """Every sheet, in tab order."""
        if self._entries is None:
            self._entries = self._read_sheets()
            self._indexes = None
        return list(self._entries)

    def _read_sheets(self) -> list[SheetEntry]:
        rels = self.pkg.rels(self.part)
        out = []
        for i, el in enumerate(self._sheets_el().iterchildren(self.d.q("sheet"))):
            rid = el.get(self.d.rid, "")
            rel = rels.get(rid) if rels is not None else None
            part = self.pkg.name(rel.target) if rel is not None and not rel.external else None
            kind = rel.kind if rel is not None else ""
            out.append(SheetEntry(el.get("name", ""), el.get("sheetId", ""), rid, kind, part, i))
        return out

    def _index(self) -> tuple[dict[str, SheetEntry], dict[str, SheetEntry], dict[str, SheetEntry]]:
        """Sheets by name, by case-folded name and by sheetId (the first of each, as a scan finds)."""
        if self._entries is None or self._indexes is None:
            by_name: dict[str, SheetEntry] = {}
            by_folded: dict[str, SheetEntry] = {}
            by_id: dict[str, SheetEntry] = {}
            for s in self.sheets():
                by_name.setdefault(s.name, s)
                by_folded.setdefault(s.name.casefold(), s)
                by_id.setdefault(s.sheet_id, s)
            self._indexes = (by_name, by_folded, by_id)
        return self._indexes

    def find(self, name: str) -> SheetEntry | None:
        """A sheet by name (exact, else case-insensitive as Excel compares them)."""
        by_name, by_folded, _ = self._index()
        return by_name.get(name) or by_folded.get(name.casefold())

    def by_id(self, sheet_id: str) -> SheetEntry | None:
        """A sheet by its sheetId (stable across renames and re-saves)."""
        return self._index()[2].get(sheet_id)

    def unique_name(self, base: str) -> str:
        """base, or 'base (2)', ...: a sheet name no sheet has (case-insensitively)."""
        return unique_sheet_name(base, (s.name for s in self.sheets()))

    def add_sheet(self, name: str, rid: str) -> str:
        """Append a sheet entry pointing at relationship rid; return its new sheetId."""
        ids = [int(s.sheet_id) for s in self.sheets() if s.sheet_id.isdigit()]
        sheet_id = str(max(ids, default=0) + 1)
        sheets = self._sheets_el()
        el = etree.Element(self.d.q("sheet"), nsmap={"r": self.d.r})
        el.set("name", name)
        el.set("sheetId", sheet_id)
        el.set(self.d.rid, rid)
        items = sheets.findall(self.d.q("sheet"))
        if items:
            items[-1].addnext(el)
            el.tail = None
        else:
            sheets.append(el)
        self._entries = None
        self.pkg.touch(self.part)
        return sheet_id

    def remove_sheet(self, sheet_id: str) -> bool:
        """Remove a sheet entry and shift the sheet indexes that pointed past it."""
        entry = self.by_id(sheet_id)
        if entry is None:
            return False
        for el in self._sheets_el().iterchildren(self.d.q("sheet")):
            if el.get("sheetId") == sheet_id:
                el.getparent().remove(el)
                break
        self._entries = None
        index = entry.index
        names = self.root.find(self.d.q("definedNames"))
        if names is not None:
            for dn in list(names):
                local = dn.get("localSheetId")
                if local is not None and local.isdigit():
                    if int(local) == index:
                        names.remove(dn)
                    elif int(local) > index:
                        dn.set("localSheetId", str(int(local) - 1))
        views = self.root.find(self.d.q("bookViews"))
        remaining = len(self.sheets())
        for view in views if views is not None else ():
            for attr in ("activeTab", "firstSheet"):
                value = view.get(attr, "")
                if value.isdigit():
                    v = int(value)
                    if v > index or (v == index and v >= remaining):
                        view.set(attr, str(max(v - 1, 0)))
        self.pkg.touch(self.part)
        return True
