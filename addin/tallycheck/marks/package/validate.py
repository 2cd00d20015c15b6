"""Check the package the patcher wrote before it replaces anything: readers must open it as before.

Marking patches a few parts and copies the rest, so a fault (ours, or a package stranger than we
thought) shows in the parts we wrote: each must match its checksum and be well-formed XML
again (the copied ones are the original's bytes, damage included, and so are the rows a marked
sheet copies between its edits), every relationship we
wrote must lead to a part that exists, the workbook may keep at most one styles relationship, and
every new part needs a content type. A package that fails is refused and nothing is written.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from xml.parsers import expat

from lxml import etree

from ..errors import PatchRefused
from . import xmlio
from .ns import CONTENT_TYPES, CT_STYLES, PKG_RELS, rel_kind
from .relationships import resolve, source_part

_REL = f"{{{PKG_RELS}}}Relationship"


def _dangling(root: etree._Element, source: str, names: set[str]) -> set[str]:
    out = set()
    for el in root.iter(_REL):
        if el.get("TargetMode") != "External" and resolve(source, el.get("Target", "")).lower() not in names:
            out.add(el.get("Target", ""))
    return out


def _dangled_before(original: bytes, part: str, source: str) -> set[str]:
    """The targets of ``part`` that led nowhere in the original package already (rarely asked)."""
    before = zipfile.ZipFile(io.BytesIO(original))
    names = {n.lower(): n for n in before.namelist()}
    if part.lower() not in names:
        return set()
    return _dangling(xmlio.parse(before.read(names[part.lower()]), part), source, set(names))


def _well_formed(data: bytes, part: str, verbatim: Sequence[tuple[int, int]] = ()) -> None:
    """PatchRefused unless ``data`` parses as XML; expat with no handlers, so no tree is built.

    A marked sheet can be tens of MB: an lxml tree of it would cost seconds and a GB of memory,
    and even expat takes 0.2 s. So the spans copied verbatim from the source (whole elements) are
    left out, and what is parsed is what marking wrote around them.
    """
    if verbatim:
        view, pieces, pos = memoryview(data), [], 0
        for start, end in verbatim:
            pieces.append(view[pos:start])
            pos = end
        pieces.append(view[pos:])
        data = b"".join(pieces)
    parser = expat.ParserCreate()
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise PatchRefused(f"part {part} is not well-formed XML ({exc})") from None


def _member(out: zipfile.ZipFile, part: str, contents: Mapping[str, bytes] | None) -> bytes:
    """A written part's bytes: inflated from ``out``, or ``contents``' once the directory vouches for them.

    The bytes a part was deflated from need not be inflated again to be known: it is enough that
    the directory gives their size and checksum and that the member's local header is sound.
    """
    if contents is None:
        return out.read(part)  # zipfile checks the member's CRC as it reads
    data, info = contents[part], out.getinfo(part)
    if len(data) != info.file_size or zlib.crc32(data) != info.CRC:
        raise zipfile.BadZipFile(f"member {part} is not what was written")
    out.open(info).close()  # reads and checks the local header
    return data


def check_written(
    data: bytes, original: bytes, changed: list[str], workbook_part: str, *,
    contents: Mapping[str, bytes] | None = None, verbatim: Mapping[str, Sequence[tuple[int, int]]] | None = None,
) -> None:
    """PatchRefused unless the written package ``data`` is sound where the patch touched it.

    ``original`` is the package before patching: a relationship that dangled there already is
    not ours to judge. ``contents`` are the bytes the changed parts were written from (else they
    are read back from ``data``); ``verbatim`` gives, by part, the spans of those bytes copied
    as they were from the source part, which are the source's to judge, like the copied parts.
    """
    try:
        out = zipfile.ZipFile(io.BytesIO(data))
        names = out.namelist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise PatchRefused(f"the marked package would not open as a zip ({exc}); nothing was written") from None
    lower = {n.lower() for n in names}
    if len(lower) != len(names):
        raise PatchRefused("the marked package would hold a member twice; nothing was written")
    roots = {}  # only the relationships and content types are kept: a run may write thousands of parts
    for part in changed:
        if part not in names:
            continue  # removed after all (a part created and emptied in one run)
        tree_wanted = part.endswith(".rels") or part == "[Content_Types].xml"
        try:
            data = _member(out, part, contents)
            spans = (verbatim or {}).get(part, ())
            roots[part] = xmlio.parse(data, part) if tree_wanted else _well_formed(data, part, spans)
        except (PatchRefused, zipfile.BadZipFile, zlib.error) as exc:
            raise PatchRefused(f"the marked package would hold a damaged part ({exc}); nothing was written") from None
    for part, root in roots.items():
        if root is None or not part.endswith(".rels"):
            continue
        source = source_part(part)
        new = _dangling(root, source, lower)
        if new:
            new -= _dangled_before(original, part, source)
        if new:
            raise PatchRefused(f"the marked package's {part} would point at missing parts ({sorted(new)[0]}); "
                               "nothing was written")
        if source == workbook_part:
            styles = [el for el in root.iter(_REL) if rel_kind(el.get("Type", "")) == "styles"]
            if len(styles) > 1:
                raise PatchRefused("the marked package would have two styles parts; nothing was written")
    types = roots.get("[Content_Types].xml")
    if types is None:
        types = xmlio.parse(out.read("[Content_Types].xml"), "[Content_Types].xml")
    overrides = list(types.iter(f"{{{CONTENT_TYPES}}}Override"))
    if sum(el.get("ContentType") == CT_STYLES for el in overrides) > 1:
        raise PatchRefused("the marked package would have two styles parts; nothing was written")
    declared = {el.get("PartName", "").lstrip("/").lower() for el in overrides}
    defaults = {el.get("Extension", "").lower() for el in types.iter(f"{{{CONTENT_TYPES}}}Default")}
    for part in roots:
        ext = posixpath.splitext(part)[1].lstrip(".").lower()
        if part != "[Content_Types].xml" and part.lower() not in declared and ext not in defaults:
            raise PatchRefused(f"the marked package would hold {part} without a content type; nothing was written")
