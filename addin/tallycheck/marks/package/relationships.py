"""A .rels part: find, add and remove relationships without disturbing the others."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from urllib.parse import quote, unquote

from lxml import etree

from .ns import PKG_RELS, rel_kind

_REL = f"{{{PKG_RELS}}}Relationship"


def rels_part_name(part: str) -> str:
    """'xl/worksheets/sheet1.xml' -> 'xl/worksheets/_rels/sheet1.xml.rels'."""
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def source_part(rels_part: str) -> str:
    """'xl/_rels/workbook.xml.rels' -> 'xl/workbook.xml'; '_rels/.rels' -> '' (the package)."""
    folder, name = posixpath.split(rels_part)
    return posixpath.join(posixpath.dirname(folder), name[: -len(".rels")]) if name != ".rels" else ""


def resolve(source: str, target: str) -> str:
    """A relationship target as a zip member name ('/xl/x.xml' and '../x.xml' both work)."""
    target = unquote(target.split("#", 1)[0])
    if target.startswith("/"):
        return posixpath.normpath(target[1:])
    return posixpath.normpath(posixpath.join(posixpath.dirname(source), target))


def relative(source: str, part: str) -> str:
    """The target string for a relationship from source to part (both names in the package; made
    absolute, relpath needs no working directory)."""
    return quote(posixpath.relpath("/" + part, "/" + posixpath.dirname(source)), safe="/._-~")


@dataclass(frozen=True)
class Rel:
    """One internal or external relationship."""

    rid: str
    type: str
    target: str  # resolved member name for internal targets, raw for external ones
    external: bool

    @property
    def kind(self) -> str:
        """The short type ('worksheet', 'comments', ...)."""
        return rel_kind(self.type)


def empty_rels() -> etree._Element:
    """A new, empty Relationships root."""
    return etree.Element(f"{{{PKG_RELS}}}Relationships", nsmap={None: PKG_RELS})


class Relationships:
    """The relationships of one source part, backed by its lxml root."""

    def __init__(self, source: str, root: etree._Element) -> None:
        self.source = source
        self.root = root
        self._rels: list[Rel] | None = None  # parsed once; every change goes through add/remove
        self._by_id: dict[str, Rel] = {}

    def _parsed(self) -> list[Rel]:
        if self._rels is None:
            self._rels = []
            for el in self.root.iter(_REL):
                external = el.get("TargetMode") == "External"
                target = el.get("Target", "")
                self._rels.append(Rel(
                    el.get("Id", ""), el.get("Type", ""),
                    target if external else resolve(self.source, target), external,
                ))
            self._by_id = {}
            for rel in self._rels:
                self._by_id.setdefault(rel.rid, rel)
        return self._rels

    def __iter__(self):
        return iter(list(self._parsed()))

    def of_kind(self, kind: str) -> list[Rel]:
        """Internal relationships of one kind."""
        return [r for r in self._parsed() if r.kind == kind and not r.external]

    def get(self, rid: str) -> Rel | None:
        """The relationship with this Id, if any."""
        self._parsed()
        return self._by_id.get(rid)

    def add(self, rel_type: str, part: str) -> str:
        """Add an internal relationship; return its new, unused Id."""
        self._parsed()
        n = len(self._by_id) + 1
        while f"rId{n}" in self._by_id:
            n += 1
        rid = f"rId{n}"
        el = etree.SubElement(self.root, _REL)
        el.set("Id", rid)
        el.set("Type", rel_type)
        el.set("Target", relative(self.source, part))
        self._rels = None
        return rid

    def remove(self, rid: str) -> bool:
        """Remove a relationship by Id."""
        for el in self.root.iter(_REL):
            if el.get("Id") == rid:
                el.getparent().remove(el)
                self._rels = None
                return True
        return False

    def __len__(self) -> int:
        return len(self._parsed())

