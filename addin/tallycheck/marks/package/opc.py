"""The workbook as an OPC package: parts by name, their relationships and content types.

Parts are read lazily and only when the marks need them; each part we change is kept as an lxml
tree (or as bytes, for the big sheet parts) and serialised once, when the package is written.
Everything else stays the source archive's bytes.
"""

from __future__ import annotations

import zlib
from typing import BinaryIO

from lxml import etree

from ...engine.grid import DEFAULT_MAX_SIZE
from ..errors import PatchRefused
from . import xmlio
from .content_types import PART_NAME as CONTENT_TYPES_PART
from .content_types import ContentTypes
from .ns import PKG_RELS
from .relationships import Relationships, empty_rels, rels_part_name, source_part
from .zipio import ZipSource, write_package


class Package:
    """Read access to every part, write access to the few the marks touch."""

    def __init__(self, data: bytes, max_size: int = DEFAULT_MAX_SIZE) -> None:
        self.source = ZipSource(data, max_size)
        self._lower = {m.name.lower(): m.name for m in self.source.members}
        self._trees: dict[str, tuple[etree._Element, bytes | None]] = {}
        self._prologue: dict[str, bytes] = {}
        self._dirty: set[str] = set()
        self._bytes: dict[str, bytes] = {}
        self._removed: set[str] = set()
        self._added: list[str] = []
        self._rels: dict[str, Relationships] = {}
        self._next_free: dict[str, int] = {}  # unused_name's resume point, by pattern
        self._crcs: dict[str, tuple[bytes, int]] = {}  # crc()'s answers, by part, with the bytes they are of
        if any("\\" in m.name for m in self.source.members):
            raise PatchRefused("the package's part names use '\\' instead of '/' (not a standard "
                               "package); refusing to patch it")
        if self.name(CONTENT_TYPES_PART) is None:
            raise PatchRefused("not an Office Open XML package (no [Content_Types].xml)")
        self.content_types = ContentTypes(self.xml(CONTENT_TYPES_PART))

    # -- names ------------------------------------------------------------------------------
    def name(self, part: str) -> str | None:
        """The member name as stored (part names are case-insensitive), or None if absent."""
        if part in self._removed:
            return None
        if part in self._bytes or part in self._trees:
            return part
        actual = self._lower.get(part.lower())
        return actual if actual is not None and actual not in self._removed else None

    def exists(self, part: str) -> bool:
        """Whether the package holds this part now."""
        return self.name(part) is not None

    def unused_name(self, pattern: str) -> str:
        """The first 'xl/comments{}.xml'-style name not taken (case-insensitively).

        The search resumes where the last one for the pattern stopped, and goes back only when a
        part of that pattern is removed: a run that adds a part per sheet probes each number once.
        """
        n = self._next_free.get(pattern, 1)
        while True:
            candidate = pattern.format(n)
            if not self.exists(candidate):
                self._next_free[pattern] = n
                return candidate
            n += 1

    # -- content ----------------------------------------------------------------------------
    def read(self, part: str) -> bytes:
        """A part's current bytes."""
        actual = self.name(part)
        if actual is None:
            raise PatchRefused(f"the package has no part {part}")
        if actual in self._trees and actual in self._dirty:
            return self._serialize(actual)
        if actual in self._bytes:
            return self._bytes[actual]
        return self.source.read(actual)

    def xml(self, part: str) -> etree._Element:
        """A part's lxml root, parsed once; edit it and call touch()."""
        actual = self.name(part)
        if actual is None:
            raise PatchRefused(f"the package has no part {part}")
        if actual not in self._trees:
            data = self.read(actual)
            self._trees[actual] = (xmlio.parse(data, actual), data)
        return self._trees[actual][0]

    def touch(self, part: str) -> None:
        """Mark a parsed part as changed."""
        self._dirty.add(self.name(part) or part)

    def put_xml(
        self, part: str, root: etree._Element, prologue: bytes = xmlio.XML_DECLARATION
    ) -> None:
        """Add a new XML part (or replace one) given its root and what precedes it."""
        self._new(part)
        self._prologue[part] = prologue
        self._trees[part] = (root, None)
        self._dirty.add(part)

    def put_bytes(self, part: str, data: bytes) -> None:
        """Add or replace a part with finished bytes."""
        actual = self.name(part) or part
        self._new(actual)
        self._trees.pop(actual, None)
        self._dirty.discard(actual)
        self._bytes[actual] = data

    def _new(self, part: str) -> None:
        self._removed.discard(part)
        if part.lower() not in self._lower and part not in self._added:
            self._added.append(part)

    def remove(self, part: str) -> None:
        """Drop a part (and its relationships part) from the package."""
        actual = self.name(part)
        if actual is None:
            return
        for store in (self._trees, self._bytes):
            store.pop(actual, None)
        self._dirty.discard(actual)
        self._next_free.clear()  # a number may be free again
        if actual.endswith(".rels"):
            self._rels.pop(source_part(actual), None)
        if actual in self._added:
            self._added.remove(actual)
        else:
            self._removed.add(actual)
        self.content_types.forget(actual)
        self.touch(CONTENT_TYPES_PART)
        rels = rels_part_name(actual)
        if self.exists(rels):
            self.remove(rels)

    def _serialize(self, part: str) -> bytes:
        root, original = self._trees[part]
        return xmlio.serialize(root, original, self._prologue.get(part, xmlio.XML_DECLARATION))

    def crc(self, part: str) -> int:
        """CRC-32 of a part's current bytes (the zip directory's own checksum when untouched)."""
        actual = self.name(part)
        if actual is None:
            return 0
        if actual not in self._dirty and actual not in self._bytes:
            member = self.source.by_name.get(actual)
            if member is not None:
                return member.crc
        data = self.read(actual)
        known = self._crcs.get(actual)
        if known is None or known[0] is not data:  # the bytes changed since
            known = self._crcs[actual] = (data, zlib.crc32(data))
        return known[1]

    # -- relationships ----------------------------------------------------------------------
    def rels(self, source: str, *, create: bool = False) -> Relationships | None:
        """The relationships of a part ('' for the package itself); optionally create the part."""
        if source in self._rels:
            return self._rels[source]
        rels_name = _rels_name(source)
        if self.exists(rels_name):
            root = self.xml(rels_name)
            if root.tag != f"{{{PKG_RELS}}}Relationships":
                raise PatchRefused(f"part {rels_name} is not an OPC relationships part (root {root.tag!r}); "
                                   "refusing to patch it")
        elif create:
            root = empty_rels()
            self.put_xml(rels_name, root)
        else:
            return None
        self._rels[source] = Relationships(source, root)
        return self._rels[source]

    def touch_rels(self, source: str) -> None:
        """Mark a part's relationships as changed."""
        self.touch(_rels_name(source))

    def related(self, source: str, kind: str) -> list[str]:
        """Member names of the parts a part relates to with one relationship kind."""
        rels = self.rels(source)
        if rels is None:
            return []
        return [self.name(r.target) or r.target for r in rels.of_kind(kind)]

    # -- writing ----------------------------------------------------------------------------
    def changed(self) -> bool:
        """Whether anything differs from the source archive."""
        return bool(self._dirty or self._bytes or self._removed or self._added)

    def changed_parts(self) -> list[str]:
        """The parts this package writes anew (changed or added), in no particular order."""
        return sorted({p for p in self._dirty if p in self._trees} | set(self._bytes))

    def write(self, out: BinaryIO) -> dict[str, bytes]:
        """Write the package: untouched members verbatim, changed and new ones deflated.

        Returns the bytes of the parts written anew, by name, for the check of what was written.
        """
        changed: dict[str, bytes] = {}
        for part in self._dirty:
            if part in self._trees:
                changed[part] = self._serialize(part)
        changed.update(self._bytes)
        first = min(self.source.members, key=lambda m: m.header_offset, default=None)
        date_time = first.date_time if first is not None else (0, 0x21)
        crcs = {part: crc for part, (data, crc) in self._crcs.items() if changed.get(part) is data}
        write_package(out, self.source, changed, self._removed, self._added, date_time, crcs)
        return changed


def _rels_name(source: str) -> str:
    return rels_part_name(source) if source else "_rels/.rels"
