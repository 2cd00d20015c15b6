"""Parse a package part safely and write it back with its own prologue.

Parts are parsed without DTDs, entities or network access (a workbook is untrusted input), and
serialised behind the original bytes that preceded the root element (XML declaration, byte order
mark, line break), so a part we touch differs from the original only where we changed it.
"""

from __future__ import annotations

import re

from lxml import etree

from ..errors import PatchRefused

_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, huge_tree=True, load_dtd=False, remove_blank_text=False
)
_ENCODING = re.compile(rb"""encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


def parse(data: bytes, part: str) -> etree._Element:
    """The root element of a part; PatchRefused for anything but plain well-formed XML."""
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise PatchRefused(f"part {part} is not well-formed XML ({exc})") from None
    if root.getroottree().docinfo.doctype:
        raise PatchRefused(f"part {part} declares a DTD; refusing to patch it")
    if any(uri and ":" not in uri for uri in root.nsmap.values()):
        # a relative namespace URI: not XML a standard package holds, and lxml cannot canonicalise it
        raise PatchRefused(f"part {part} uses a relative namespace URI; refusing to patch it")
    return root


def prologue(data: bytes) -> bytes:
    """The bytes before the root element: BOM, declaration, comments, PIs, whitespace."""
    pos = 0
    if data.startswith(b"\xef\xbb\xbf"):
        pos = 3
    while True:
        while pos < len(data) and data[pos : pos + 1].isspace():
            pos += 1
        if data.startswith(b"<?", pos):
            end = data.find(b"?>", pos)
            pos = end + 2 if end >= 0 else len(data)
        elif data.startswith(b"<!--", pos):
            end = data.find(b"-->", pos)
            pos = end + 3 if end >= 0 else len(data)
        else:
            return data[:pos]


def declared_encoding(data: bytes) -> str:
    """The encoding named in the XML declaration, UTF-8 if none."""
    head = prologue(data[:400])
    m = _ENCODING.search(head) if head.lstrip(b"\xef\xbb\xbf").startswith(b"<?xml") else None
    return m.group(1).decode("ascii").upper() if m else "UTF-8"


def serialize(root: etree._Element, original: bytes | None, default_prologue: bytes) -> bytes:
    """The part's new bytes: the original prologue and trailing whitespace around the new root."""
    if original is None:
        return default_prologue + etree.tostring(root, encoding="UTF-8")
    encoding = declared_encoding(original)
    has_siblings = root.getprevious() is not None or root.getnext() is not None
    if encoding.replace("-", "") != "UTF8" or has_siblings:
        # Rare: keep lxml's own rendering of the whole document (declaration included).
        return etree.tostring(root.getroottree(), encoding=encoding, xml_declaration=True)
    tail = original[len(original.rstrip()) :]
    return prologue(original) + etree.tostring(root, encoding="UTF-8") + tail


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_text(text: str) -> str:
    """Text without the characters XML 1.0 cannot carry (a finding's message may hold any)."""
    return _NOT_XML.sub("", text)


XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
