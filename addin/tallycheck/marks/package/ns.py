"""The namespaces, relationship types and content types the marks touch.

SpreadsheetML comes in two dialects: Transitional (what Excel writes by default) and Strict ISO
(purl.oclc.org namespaces). Both are supported: every part we create uses the dialect of the
workbook it goes into, chosen once from the workbook part's root namespace.
"""

from __future__ import annotations

from dataclasses import dataclass

PKG_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
CONTENT_TYPES = "http://schemas.openxmlformats.org/package/2006/content-types"
XML_NS = "http://www.w3.org/XML/1998/namespace"

VML_V = "urn:schemas-microsoft-com:vml"
VML_O = "urn:schemas-microsoft-com:office:office"
VML_X = "urn:schemas-microsoft-com:office:excel"

MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"

CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_STYLES = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"
CT_COMMENTS = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
CT_VML = "application/vnd.openxmlformats-officedocument.vmlDrawing"
CT_RELS = "application/vnd.openxmlformats-package.relationships+xml"
CT_XML = "application/xml"
CT_CUSTOM_XML_PROPS = "application/vnd.openxmlformats-officedocument.customXmlProperties+xml"

_TRANSITIONAL_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_STRICT_MAIN = "http://purl.oclc.org/ooxml/spreadsheetml/main"


@dataclass(frozen=True)
class Dialect:
    """One SpreadsheetML dialect's namespaces."""

    main: str
    r: str  # relationship-id attributes (r:id)
    rel_base: str  # prefix of officeDocument relationship types
    custom_xml: str  # data store item properties

    def rel(self, kind: str) -> str:
        """The relationship type URI for a kind such as 'worksheet' or 'comments'."""
        return self.rel_base + kind

    def q(self, tag: str) -> str:
        """Clark name of a SpreadsheetML element."""
        return f"{{{self.main}}}{tag}"

    @property
    def rid(self) -> str:
        """Clark name of the r:id attribute."""
        return f"{{{self.r}}}id"


TRANSITIONAL = Dialect(
    main=_TRANSITIONAL_MAIN,
    r="http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    rel_base="http://schemas.openxmlformats.org/officeDocument/2006/relationships/",
    custom_xml="http://schemas.openxmlformats.org/officeDocument/2006/customXml",
)
STRICT = Dialect(
    main=_STRICT_MAIN,
    r="http://purl.oclc.org/ooxml/officeDocument/relationships",
    rel_base="http://purl.oclc.org/ooxml/officeDocument/relationships/",
    custom_xml="http://purl.oclc.org/ooxml/officeDocument/customXml",
)


def dialect_of(main_namespace: str) -> Dialect | None:
    """The dialect whose main namespace this is, or None (not SpreadsheetML)."""
    return {d.main: d for d in (TRANSITIONAL, STRICT)}.get(main_namespace)


def rel_kind(rel_type: str) -> str:
    """'.../relationships/worksheet' -> 'worksheet' (both dialects, and Microsoft's own types)."""
    return rel_type.rstrip("/").rsplit("/", 1)[-1]
