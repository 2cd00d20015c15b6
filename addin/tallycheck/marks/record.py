"""The restore record: what clear needs to undo a run's marks exactly, kept inside the workbook.

It travels with the file (moved, copied, e-mailed), so clear never depends on anything stored
elsewhere. Tokens are opaque string maps owned by the target that made them (a file's original
style index, a note's original rich text, ...); the logic only stores and hands them back.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

NAMESPACE = "urn:tallycheck:marks:1"
_Q = f"{{{NAMESPACE}}}"

Token = dict[str, str]


@dataclass
class CellRecord:
    """One marked cell and how to unmark it."""

    sheet: str  # the sheet's name when it was marked (for messages)
    key: str  # the target's stable id of the sheet
    cell: str
    severity: str
    fill: Token
    note: Token


@dataclass
class MarkRecord:
    """A run's marks: cells, summary sheet, and the target's own workbook-level state."""

    version: str
    when: str
    cells: list[CellRecord] = field(default_factory=list)
    summary: Token = field(default_factory=dict)
    state: dict[str, Token] = field(default_factory=dict)

    def to_xml(self) -> bytes:
        """The record as a small XML document in its own namespace."""
        root = etree.Element(_Q + "marks", nsmap={None: NAMESPACE})
        root.set("format", "1")
        root.set("version", self.version)
        root.set("when", self.when)
        for c in self.cells:
            el = etree.SubElement(root, _Q + "cell")
            for attr in ("sheet", "key", "cell", "severity"):
                el.set(attr, getattr(c, attr))
            _put(el, "fill", c.fill)
            _put(el, "note", c.note)
        _put(root, "summary", self.summary)
        for name, token in self.state.items():
            _put(root, "state", token).set("name", name)
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)

    @classmethod
    def from_xml(cls, data: bytes) -> MarkRecord | None:
        """Parse a record; None if the document is not one (or from a future format)."""
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        try:
            root = etree.fromstring(data, parser)
        except etree.XMLSyntaxError:
            return None
        if root.tag != _Q + "marks" or root.get("format") != "1":
            return None
        rec = cls(root.get("version", ""), root.get("when", ""))
        for el in root.iterchildren(_Q + "cell"):
            rec.cells.append(
                CellRecord(
                    el.get("sheet", ""), el.get("key", ""), el.get("cell", ""),
                    el.get("severity", ""), _get(el.find(_Q + "fill")), _get(el.find(_Q + "note")),
                )
            )
        rec.summary = _get(root.find(_Q + "summary"))
        for el in root.iterchildren(_Q + "state"):
            rec.state[el.get("name", "")] = _get(el)
        return rec


def is_record(data: bytes) -> bool:
    """Cheap test before parsing a custom XML part."""
    return NAMESPACE.encode() in data[:500]


def _put(parent: etree._Element, tag: str, token: Token) -> etree._Element:
    el = etree.SubElement(parent, _Q + tag)
    for k, v in token.items():
        item = etree.SubElement(el, _Q + "v")
        item.set("k", k)
        item.text = v
    return el


def _get(el: etree._Element | None) -> Token:
    if el is None:
        return {}
    return {item.get("k", ""): item.text or "" for item in el.iterchildren(_Q + "v")}
