"""The restore record as a custom XML data-store part (customXml/itemN.xml).

Custom XML parts are the package's own place for an application's data: Excel keeps them when it
saves the workbook, unlike an unknown relationship, so a workbook marked, opened and saved in Excel
can still be cleared.
"""

from __future__ import annotations

import posixpath
import uuid

from lxml import etree

from ..record import NAMESPACE, MarkRecord, is_record
from .ns import CT_CUSTOM_XML_PROPS, CT_RELS, CT_XML, Dialect
from .opc import Package
from .relationships import rels_part_name


class RecordStore:
    """Finds, writes and removes our record part, related from the workbook part."""

    def __init__(self, pkg: Package, workbook_part: str, d: Dialect) -> None:
        self.pkg = pkg
        self.workbook = workbook_part
        self.d = d

    def _find(self) -> tuple[str, str] | None:
        rels = self.pkg.rels(self.workbook)
        for rel in rels.of_kind("customXml") if rels is not None else ():
            part = self.pkg.name(rel.target)
            if part is not None and is_record(self.pkg.read(part)):
                return rel.rid, part
        return None

    def read(self) -> MarkRecord | None:
        """The record in the package, if any."""
        found = self._find()
        return MarkRecord.from_xml(self.pkg.read(found[1])) if found else None

    def write(self, record: MarkRecord) -> None:
        """Store the record, replacing a previous one in place."""
        data = record.to_xml()
        found = self._find()
        if found is not None:
            self.pkg.put_bytes(found[1], data)
            return
        item = self.pkg.unused_name("customXml/item{}.xml")  # where Excel keeps them
        number = item.rsplit("item", 1)[1].split(".")[0]
        props = posixpath.join(posixpath.dirname(item), f"itemProps{number}.xml")
        self.pkg.put_bytes(item, data)
        self.pkg.put_bytes(props, _props(self.d.custom_xml))
        ct = self.pkg.content_types
        ct.declare(item, CT_XML)
        ct.declare(props, CT_CUSTOM_XML_PROPS)
        item_rels = self.pkg.rels(item, create=True)
        assert item_rels is not None
        item_rels.add(self.d.rel("customXmlProps"), props)
        ct.declare(rels_part_name(item), CT_RELS)
        self.pkg.touch_rels(item)
        wb_rels = self.pkg.rels(self.workbook, create=True)
        assert wb_rels is not None
        wb_rels.add(self.d.rel("customXml"), item)
        self.pkg.touch_rels(self.workbook)
        self.pkg.touch("[Content_Types].xml")

    def remove(self) -> None:
        """Remove the record part, its properties part and the relationship to it."""
        found = self._find()
        if found is None:
            return
        rid, item = found
        item_rels = self.pkg.rels(item)
        for rel in item_rels.of_kind("customXmlProps") if item_rels is not None else ():
            self.pkg.remove(rel.target)
        self.pkg.remove(item)
        wb_rels = self.pkg.rels(self.workbook)
        assert wb_rels is not None
        wb_rels.remove(rid)
        self.pkg.touch_rels(self.workbook)


def _props(ds: str) -> bytes:
    root = etree.Element(f"{{{ds}}}datastoreItem", nsmap={"ds": ds})
    root.set(f"{{{ds}}}itemID", "{" + str(uuid.uuid4()).upper() + "}")
    refs = etree.SubElement(root, f"{{{ds}}}schemaRefs")
    etree.SubElement(refs, f"{{{ds}}}schemaRef").set(f"{{{ds}}}uri", NAMESPACE)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=False)
