"""[Content_Types].xml: declare the parts we add and forget them again when we remove them."""

from __future__ import annotations

import posixpath

from lxml import etree

from .ns import CONTENT_TYPES

_DEFAULT = f"{{{CONTENT_TYPES}}}Default"
_OVERRIDE = f"{{{CONTENT_TYPES}}}Override"

PART_NAME = "[Content_Types].xml"


class ContentTypes:
    """The package's content-type map, backed by its lxml root."""

    def __init__(self, root: etree._Element) -> None:
        self.root = root

    def _override(self, part: str) -> etree._Element | None:
        want = "/" + part.lower()
        for el in self.root.iter(_OVERRIDE):
            if el.get("PartName", "").lower() == want:
                return el
        return None

    def _default(self, ext: str) -> etree._Element | None:
        for el in self.root.iter(_DEFAULT):
            if el.get("Extension", "").lower() == ext.lower():
                return el
        return None

    def type_of(self, part: str) -> str | None:
        """The content type of a part (its Override, else its extension's Default)."""
        el = self._override(part)
        if el is not None:
            return el.get("ContentType")
        ext = posixpath.splitext(part)[1].lstrip(".")
        el = self._default(ext)
        return el.get("ContentType") if el is not None else None

    def declare(self, part: str, content_type: str, *, by_extension: bool = False) -> str:
        """Make a new part's type known; return what was added ('', 'override' or 'default').

        ``by_extension`` adds a Default for the part's extension when none exists, the way Excel
        declares .vml drawings.
        """
        if self.type_of(part) == content_type:
            return ""
        ext = posixpath.splitext(part)[1].lstrip(".")
        if by_extension and self._default(ext) is None:
            el = etree.Element(_DEFAULT)
            el.set("Extension", ext)
            el.set("ContentType", content_type)
            defaults = list(self.root.iter(_DEFAULT))
            if defaults:
                defaults[-1].addnext(el)
            else:
                self.root.insert(0, el)
            return "default"
        el = etree.SubElement(self.root, _OVERRIDE)
        el.set("PartName", "/" + part)
        el.set("ContentType", content_type)
        return "override"

    def forget(self, part: str) -> None:
        """Remove a part's Override (a removed part must not stay declared)."""
        el = self._override(part)
        if el is not None:
            el.getparent().remove(el)

    def forget_default(self, ext: str) -> None:
        """Remove the Default for an extension (only ever one we added)."""
        el = self._default(ext)
        if el is not None:
            el.getparent().remove(el)
