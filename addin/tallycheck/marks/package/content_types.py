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
        self._overrides: dict[str, etree._Element] | None = None  # by lower-cased part name
        self._repeated = False  # whether some part name has two Overrides (only the first counts)
        tags = [el.tag for el in root]
        # whether every Default comes before the first Override (as Excel writes): then a search for
        # one can stop at the first Override instead of walking thousands of them
        self._defaults_first = _DEFAULT not in tags[tags.index(_OVERRIDE):] if _OVERRIDE in tags else True

    def _override(self, part: str) -> etree._Element | None:
        if self._overrides is None:
            self._overrides = {}
            for el in self.root.iter(_OVERRIDE):
                self._overrides.setdefault(el.get("PartName", "").lower(), el)
            self._repeated = len(self._overrides) != sum(1 for _ in self.root.iter(_OVERRIDE))
        return self._overrides.get("/" + part.lower())

    def _default(self, ext: str) -> etree._Element | None:
        for el in self.root:  # a handful, and Excel lists them before the Overrides
            if el.tag == _DEFAULT and el.get("Extension", "").lower() == ext.lower():
                return el
            if el.tag == _OVERRIDE and self._defaults_first:
                return None
        return None

    def parts_of_type(self, content_type: str) -> list[str]:
        """The parts an Override declares with this content type."""
        return [el.get("PartName", "").lstrip("/") for el in self.root.iter(_OVERRIDE)
                if el.get("ContentType") == content_type]

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
            defaults = [d for d in self.root if d.tag == _DEFAULT]
            if defaults:
                defaults[-1].addnext(el)
            else:
                self.root.insert(0, el)
            return "default"
        el = etree.SubElement(self.root, _OVERRIDE)
        el.set("PartName", "/" + part)
        el.set("ContentType", content_type)
        if self._overrides is not None:
            self._overrides.setdefault("/" + part.lower(), el)
        return "override"

    def forget(self, part: str) -> None:
        """Remove a part's Override (a removed part must not stay declared)."""
        el = self._override(part)
        if el is not None:
            el.getparent().remove(el)
            if self._repeated:
                self._overrides = None  # a second Override of the same name shows now
            elif self._overrides is not None:
                self._overrides.pop("/" + part.lower(), None)

    def forget_default(self, ext: str) -> None:
        """Remove the Default for an extension (only ever one we added)."""
        el = self._default(ext)
        if el is not None:
            el.getparent().remove(el)
