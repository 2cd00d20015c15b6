"""Zip container I/O that copies every member it does not change byte for byte.

Python's zipfile can only write a member by compressing it again; a workbook's untouched parts
(pictures, VBA, charts, other sheets) must come out exactly as they went in, with the same
compression, flags, timestamps and extra fields. So the central directory is read here, each
untouched member's local record is copied verbatim, and only changed or new members are deflated.
"""

from __future__ import annotations

import itertools
import struct
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import BinaryIO

from ...engine.grid import DEFAULT_MAX_SIZE, human_size
from ..errors import PatchRefused

_EOCD = b"PK\x05\x06"
_CDIR = b"PK\x01\x02"
_LOCAL = b"PK\x03\x04"
_DESCRIPTOR = b"PK\x07\x08"
_ZIP64_LOCATOR = b"PK\x06\x07"
_U32_MAX = 0xFFFFFFFF
_U16_MAX = 0xFFFF
_XML_SUFFIXES = (".xml", ".rels", ".vml")  # the parts a patcher may parse; pictures are only copied

#: zlib level for the members we write. Rewriting a big sheet is dominated by this (see
#: benchmarks/bench_marks.py): on 30 MB sheets, level 6 (zlib's default) takes 0.6 s, level 4 takes
#: 0.11-0.17 s and writes at most 7% more; level 1 is faster still but writes up to 23% more.
DEFLATE_LEVEL = 4
_MIN_WBITS, _MAX_WBITS = 9, 15  # zlib's raw deflate window sizes, 512 B to 32 kB
_MAX_MEM_LEVEL = 8  # zlib's default; memLevel = window bits - 7 keeps its ratio of hash to window


@dataclass(frozen=True)
class Member:
    """One member as the source archive stores it."""

    name: str
    central: bytes  # the central directory record, verbatim
    header_offset: int
    record_end: int  # end of local header + data + data descriptor
    data_start: int
    method: int
    flags: int
    crc: int
    compress_size: int
    file_size: int
    date_time: tuple[int, int]  # DOS (time, date)


def _u16(buf: bytes, pos: int) -> int:
    return struct.unpack_from("<H", buf, pos)[0]


def _u32(buf: bytes, pos: int) -> int:
    return struct.unpack_from("<I", buf, pos)[0]


class ZipSource:
    """The members of a zip held in memory, readable one by one and copyable verbatim.

    A member inflates at most to the size the directory declares (a bigger one is damaged), and
    the declared sizes of the parts that may be read add up to at most ``max_size``: reading stays
    bounded whatever the archive claims.
    """

    def __init__(self, data: bytes, max_size: int = DEFAULT_MAX_SIZE) -> None:
        self.data = data
        self.members: list[Member] = []
        self.comment = b""
        self._parse()
        self.by_name = {m.name: m for m in self.members}
        declared = sum(m.file_size for m in self.members if m.name.lower().endswith(_XML_SUFFIXES))
        if declared > max_size:
            raise PatchRefused(f"too large to patch safely: its XML parts inflate to {human_size(declared)}, over the "
                               f"{human_size(max_size)} limit")

    def _parse(self) -> None:
        data = self.data
        eocd = data.rfind(_EOCD, max(0, len(data) - 65_557))
        if eocd < 0 or len(data) < eocd + 22:
            raise PatchRefused("not a zip package (no central directory)")
        (_, disk, cd_disk, n_disk, n_total, cd_size, cd_offset, comment_len) = struct.unpack_from(
            "<4sHHHHIIH", data, eocd
        )
        if _U16_MAX in (n_disk, n_total) or _U32_MAX in (cd_size, cd_offset) or (
            data.rfind(_ZIP64_LOCATOR, max(0, eocd - 20), eocd) >= 0
        ):
            raise PatchRefused("ZIP64 packages are not supported for marking")
        if disk or cd_disk or n_disk != n_total:
            raise PatchRefused("multi-disk zip archives are not supported")
        if cd_offset + cd_size != eocd:
            raise PatchRefused("the zip directory is not where it says it is (damaged or prefixed)")
        self.comment = data[eocd + 22 : eocd + 22 + comment_len]
        pos = cd_offset
        names: set[str] = set()
        for _ in range(n_total):
            if data[pos : pos + 4] != _CDIR:
                raise PatchRefused("damaged zip directory")
            flags, method, mtime, mdate, crc, csize, usize = struct.unpack_from(
                "<HHHHIII", data, pos + 8
            )
            nlen, elen, clen = struct.unpack_from("<HHH", data, pos + 28)
            offset = _u32(data, pos + 42)
            raw_name = data[pos + 46 : pos + 46 + nlen]
            central = data[pos : pos + 46 + nlen + elen + clen]
            pos += 46 + nlen + elen + clen
            if _U32_MAX in (csize, usize, offset):
                raise PatchRefused("ZIP64 members are not supported for marking")
            if flags & 0x1:
                raise PatchRefused("the package has encrypted members")
            name = raw_name.decode("utf-8" if flags & 0x800 else "cp437")
            if name.lower() in names:
                raise PatchRefused(f"the package holds {name!r} twice")
            names.add(name.lower())
            if data[offset : offset + 4] != _LOCAL:
                raise PatchRefused(f"damaged zip member {name!r}")
            lnlen, lelen = struct.unpack_from("<HH", data, offset + 26)
            if data[offset + 30 : offset + 30 + lnlen] != raw_name:
                raise PatchRefused(f"damaged zip member {name!r} (names disagree)")
            data_start = offset + 30 + lnlen + lelen
            end = data_start + csize
            if flags & 0x8:
                end += 16 if data[end : end + 4] == _DESCRIPTOR else 12
            if end > cd_offset:
                raise PatchRefused(f"damaged zip member {name!r} (runs past the directory)")
            self.members.append(
                Member(name, central, offset, end, data_start, method, flags, crc, csize, usize,
                       (mtime, mdate))
            )
        spans = sorted((m.header_offset, m.record_end) for m in self.members)
        for (_, end), (start, _) in itertools.pairwise(spans):
            if start < end:
                raise PatchRefused("zip members overlap (damaged or crafted archive)")

    def read(self, name: str) -> bytes:
        """The member's content, checked against its size and CRC."""
        m = self.by_name[name]
        raw = self.data[m.data_start : m.data_start + m.compress_size]
        if m.method == 0:
            out = bytes(raw)
        elif m.method == 8:
            try:
                d = zlib.decompressobj(-15)
                out = d.decompress(raw, m.file_size + 1)  # one byte more than declared is damage enough
            except zlib.error as exc:
                raise PatchRefused(f"damaged zip member {name!r}: {exc}") from None
        else:
            raise PatchRefused(f"zip member {name!r} uses compression method {m.method}")
        if len(out) != m.file_size or zlib.crc32(out) != m.crc:
            raise PatchRefused(f"damaged zip member {name!r} (size or checksum mismatch)")
        return out

    def local_record(self, m: Member) -> memoryview:
        """The member's local header, data and descriptor exactly as stored."""
        return memoryview(self.data)[m.header_offset : m.record_end]


def deflate(data: bytes, level: int = DEFLATE_LEVEL) -> bytes:
    """Raw deflate, as zip stores it.

    The window and hash table are no bigger than the data needs: a marked small workbook writes
    ~16 parts of a few kB, and setting up zlib's full 32 kB window and 128 kB hash for each was a
    quarter of deflating them. A window the size of the data compresses it as well (to a few bytes).
    """
    bits = min(_MAX_WBITS, max(_MIN_WBITS, len(data).bit_length()))
    c = zlib.compressobj(level, zlib.DEFLATED, -bits, max(1, min(_MAX_MEM_LEVEL, bits - 7)))
    return c.compress(data) + c.flush()


class ZipBuilder:
    """Writes a zip to a file object: verbatim copies and freshly deflated members, in the order given."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.offset = 0
        self.central: list[bytes] = []

    def _write(self, chunk: bytes | memoryview) -> None:
        self.out.write(chunk)
        self.offset += len(chunk)

    def copy(self, source: ZipSource, m: Member) -> None:
        """Copy one member untouched; only its offset in the directory changes."""
        central = bytearray(m.central)
        struct.pack_into("<I", central, 42, self.offset)
        self.central.append(bytes(central))
        self._write(source.local_record(m))

    def add(
        self, name: str, data: bytes, like: Member | None, date_time: tuple[int, int], crc: int | None = None
    ) -> None:
        """Write a changed or new member, deflated; keeps the old member's attributes if any.

        ``crc`` is data's CRC-32 when the caller knows it already (a big sheet's takes 10 ms).
        """
        raw_name = name.encode("utf-8")
        flags = 0x800 if not name.isascii() else 0
        comp = deflate(data)
        method = 8
        if len(comp) >= len(data):
            comp, method = data, 0
        crc = zlib.crc32(data) if crc is None else crc
        mtime, mdate = like.date_time if like else date_time
        if len(data) >= _U32_MAX or self.offset >= _U32_MAX:
            raise PatchRefused("the marked workbook would need ZIP64; refusing")
        local = struct.pack(
            "<4sHHHHHIIIHH", _LOCAL, 20, flags, method, mtime, mdate, crc, len(comp), len(data),
            len(raw_name), 0,
        )
        if like is not None:
            old = like.central
            made_by, ext_attr = _u16(old, 4), _u32(old, 38)
            int_attr = _u16(old, 36)
            elen, clen = _u16(old, 30), _u16(old, 32)
            nlen = _u16(old, 28)
            extra = _strip_zip64(old[46 + nlen : 46 + nlen + elen])
            comment = old[46 + nlen + elen : 46 + nlen + elen + clen]
        else:
            made_by, ext_attr, int_attr, extra, comment = 20, 0, 0, b"", b""
        central = struct.pack(
            "<4sHHHHHHIIIHHHHHII", _CDIR, made_by, 20, flags, method, mtime, mdate, crc,
            len(comp), len(data), len(raw_name), len(extra), len(comment), 0, int_attr, ext_attr,
            self.offset,
        )
        self.central.append(central + raw_name + extra + comment)
        self._write(local + raw_name)
        self._write(comp)

    def finish(self, comment: bytes = b"") -> None:
        """Write the central directory and its end record."""
        start = self.offset
        for rec in self.central:
            self._write(rec)
        size = self.offset - start
        if len(self.central) >= _U16_MAX or start >= _U32_MAX:
            raise PatchRefused("the marked workbook would need ZIP64; refusing")
        self._write(
            struct.pack("<4sHHHHIIH", _EOCD, 0, 0, len(self.central), len(self.central), size,
                        start, len(comment))
            + comment
        )


def _strip_zip64(extra: bytes) -> bytes:
    """Drop a zip64 extra field (id 1): the sizes we write fit in 32 bits."""
    out, pos = bytearray(), 0
    while pos + 4 <= len(extra):
        hid, size = struct.unpack_from("<HH", extra, pos)
        if hid != 1:
            out += extra[pos : pos + 4 + size]
        pos += 4 + size
    return bytes(out)


def write_package(
    out: BinaryIO,
    source: ZipSource,
    changed: dict[str, bytes],
    removed: Iterable[str],
    added_order: list[str],
    date_time: tuple[int, int],
    crcs: Mapping[str, int] | None = None,
) -> None:
    """Assemble the new archive: source order, changed members in place, new ones at the end.

    ``crcs`` holds the CRC-32 of those changed members whose checksum is known already.
    """
    crcs = crcs or {}
    gone = set(removed)
    builder = ZipBuilder(out)
    # Local records in their original file order; the directory follows the same order, which is
    # what every writer of workbooks produces (and what readers scanning local headers expect).
    for m in sorted(source.members, key=lambda m: m.header_offset):
        if m.name in gone:
            continue
        if m.name in changed:
            builder.add(m.name, changed[m.name], m, date_time, crcs.get(m.name))
        else:
            builder.copy(source, m)
    for name in added_order:
        if name not in gone:
            builder.add(name, changed[name], None, date_time, crcs.get(name))
    builder.finish(source.comment)
