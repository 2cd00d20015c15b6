"""Write a VBA project (vbaProject.bin) from module source text, without Office.

The file is what [MS-OVBA] calls a VBA project storage inside an [MS-CFB] compound file:

- ``PROJECT`` (text: modules, project name, the host extender, the protection fields CMG/DPB/GC
  obfuscated with the spec's Data Encryption), ``PROJECTwm`` (module names in Unicode);
- ``VBA/dir`` (project information, references and one record set per module, compressed with the
  spec's RLE-LZ77 compression), ``VBA/_VBA_PROJECT`` (seven bytes, version 0xFFFF: "no
  performance cache, compile from source", as the spec says a writer must), and one compressed
  source stream per module.

With no performance cache, Office compiles the project from the source text when it opens the
workbook, so the binary holds nothing but the .bas/.cls text and its description. Everything is
deterministic (fixed project id, fixed encryption seed, no timestamps): the same sources give the
same bytes. oletools' olevba reads these files back (tests/test_excel_addin_files.py).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

CODEPAGE = 1252
VISIBLE = b"\xff"
LCID = 0x0409
# The Office document base classes of the document modules Excel expects.
WORKBOOK_BASE = "0{00020819-0000-0000-C000-000000000046}"
WORKSHEET_BASE = "0{00020820-0000-0000-C000-000000000046}"
HOST_EXTENDER = "&H00000001={3832D640-CF90-11CF-8E43-00A0C911005A};VBE;&H00000000"
STDOLE = (
    "stdole",
    "*\\G{00020430-0000-0000-C000-000000000046}#2.0#0#C:\\Windows\\System32\\stdole2.tlb#OLE Automation",
)


@dataclass(frozen=True)
class Module:
    """One VBA module: name, kind ('standard', 'class', 'document') and its stored source."""

    name: str
    kind: str
    source: str  # as stored: starts with its Attribute lines, CRLF line ends

    @property
    def type_record(self) -> int:
        return 0x0021 if self.kind == "standard" else 0x0022


def document_module(name: str, base: str, code: str = "") -> Module:
    """A document module (ThisWorkbook, Sheet1, ...) as Excel stores one: attributes, then any code."""
    lines = [
        f'Attribute VB_Name = "{name}"', f'Attribute VB_Base = "{base}"', "Attribute VB_GlobalNameSpace = False",
        "Attribute VB_Creatable = False", "Attribute VB_PredeclaredId = True", "Attribute VB_Exposed = True",
        "Attribute VB_TemplateDerived = False", "Attribute VB_Customizable = True",
    ]
    return Module(name, "document", "\r\n".join(lines) + "\r\n" + crlf(code))


def crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")


def stored_source(exported: str) -> tuple[str, str]:
    """A VBE export (.bas/.cls text) -> (module name, source as a module stream stores it).

    A class export's 'VERSION 1.0 CLASS / BEGIN ... END' header is the file format's, not the
    module's, and is not stored; everything from the first Attribute line on is.
    """
    text = crlf(exported)
    lines = text.split("\r\n")
    start = next(i for i, line in enumerate(lines) if line.startswith("Attribute VB_Name"))
    name = lines[start].split("=", 1)[1].strip().strip('"')
    return name, "\r\n".join(lines[start:])


# -- [MS-OVBA] 2.4.1 compression -----------------------------------------------------------------------
def compress(data: bytes) -> bytes:
    """RLE-LZ77 compression as [MS-OVBA] 2.4.1 specifies (a CompressedContainer)."""
    out = bytearray(b"\x01")
    for start in range(0, len(data), 4096):
        chunk = data[start : start + 4096]
        body = _compress_chunk(chunk)
        if len(body) > 4094 and len(chunk) == 4096:  # incompressible: a raw chunk
            out += struct.pack("<H", 0x3000 | 0x0FFF) + chunk  # size field: 4098 - 3
        else:
            out += struct.pack("<H", 0xB000 | (len(body) + 2 - 3)) + body
    return bytes(out)


def _bit_count(position: int) -> int:
    bits = 4
    while (1 << bits) < position:
        bits += 1
    return bits


def _compress_chunk(chunk: bytes) -> bytes:
    out = bytearray()
    pos = 0
    heads: dict[bytes, list[int]] = {}
    n = len(chunk)
    while pos < n:
        flag_at = len(out)
        out.append(0)
        flags = 0
        for bit in range(8):
            if pos >= n:
                break
            bits = _bit_count(pos)
            max_len = (0xFFFF >> bits) + 3
            best_len, best_off = 0, 0
            key = chunk[pos : pos + 3]
            if len(key) == 3:
                for cand in reversed(heads.get(key, ())):
                    offset = pos - cand
                    if offset > (1 << bits):
                        break
                    length = 3
                    limit = min(max_len, n - pos)
                    while length < limit and chunk[cand + length] == chunk[pos + length]:
                        length += 1
                    if length > best_len:
                        best_len, best_off = length, offset
                        if length == limit:
                            break
            step = best_len if best_len >= 3 else 1
            if best_len >= 3:
                token = ((best_off - 1) << (16 - bits)) | (best_len - 3)
                out += struct.pack("<H", token)
                flags |= 1 << bit
            else:
                out.append(chunk[pos])
            for p in range(pos, pos + step):
                k = chunk[p : p + 3]
                if len(k) == 3:
                    heads.setdefault(k, []).append(p)
            pos += step
        out[flag_at] = flags
    return bytes(out)


# -- [MS-OVBA] 2.4.3 data encryption (the PROJECT stream's CMG, DPB and GC) ------------------------------
def encrypt(data: bytes, project_id: str, seed: int = 0x07, ignored: bytes | None = None) -> str:
    """Data Encryption of [MS-OVBA] 2.4.3.2, as the hex text the PROJECT stream holds."""
    version = 2
    proj_key = sum(project_id.encode("latin-1")) & 0xFF
    version_enc = seed ^ version
    proj_key_enc = seed ^ proj_key
    unencrypted1, encrypted1, encrypted2 = proj_key, proj_key_enc, version_enc
    out = bytearray([seed, version_enc, proj_key_enc])
    ignored_length = (seed & 6) // 2
    ignored = (ignored or bytes(ignored_length))[:ignored_length]
    for value in [*ignored, *struct.pack("<I", len(data)), *data]:
        byte_enc = value ^ ((encrypted2 + unencrypted1) & 0xFF)
        out.append(byte_enc)
        encrypted2, encrypted1, unencrypted1 = encrypted1, byte_enc, value
    return out.hex().upper()


def decrypt(hex_text: str) -> bytes:
    """The inverse of encrypt (for tests against the specification's own example)."""
    data = bytes.fromhex(hex_text)
    seed, version_enc, proj_key_enc = data[0], data[1], data[2]
    proj_key = seed ^ proj_key_enc
    unencrypted1, encrypted1, encrypted2 = proj_key, proj_key_enc, version_enc
    ignored_length = (seed & 6) // 2
    plain = bytearray()
    for byte_enc in data[3:]:
        value = byte_enc ^ ((encrypted2 + unencrypted1) & 0xFF)
        plain.append(value)
        encrypted2, encrypted1, unencrypted1 = encrypted1, byte_enc, value
    length = struct.unpack("<I", bytes(plain[ignored_length : ignored_length + 4]))[0]
    return bytes(plain[ignored_length + 4 : ignored_length + 4 + length])


# -- the project's streams -----------------------------------------------------------------------------
def _mbcs(text: str) -> bytes:
    return text.encode("cp1252")


def _utf16(text: str) -> bytes:
    return text.encode("utf-16-le")


def _rec(rid: int, payload: bytes) -> bytes:
    return struct.pack("<HI", rid, len(payload)) + payload


def dir_stream(modules: Sequence[Module], project: str = "VBAProject") -> bytes:
    """The uncompressed dir stream ([MS-OVBA] 2.3.4.2)."""
    out = bytearray()
    out += _rec(0x0001, struct.pack("<I", 0x00000003))  # PROJECTSYSKIND: 64-bit Windows
    out += _rec(0x0002, struct.pack("<I", LCID))  # PROJECTLCID
    out += _rec(0x0014, struct.pack("<I", LCID))  # PROJECTLCIDINVOKE
    out += _rec(0x0003, struct.pack("<H", CODEPAGE))  # PROJECTCODEPAGE
    out += _rec(0x0004, _mbcs(project))  # PROJECTNAME
    out += _rec(0x0005, b"") + _rec(0x0040, b"")  # PROJECTDOCSTRING (+ Unicode)
    out += _rec(0x0006, b"") + _rec(0x003D, b"")  # PROJECTHELPFILEPATH (1 and 2)
    out += _rec(0x0007, struct.pack("<I", 0))  # PROJECTHELPCONTEXT
    out += _rec(0x0008, struct.pack("<I", 0))  # PROJECTLIBFLAGS
    out += struct.pack("<HIIH", 0x0009, 4, 1, 0)  # PROJECTVERSION (Reserved is 4; major, minor)
    out += _rec(0x000C, b"") + _rec(0x003C, b"")  # PROJECTCONSTANTS (+ Unicode)
    name, libid = STDOLE
    out += _rec(0x0016, _mbcs(name)) + _rec(0x003E, _utf16(name))  # REFERENCENAME
    registered = struct.pack("<I", len(libid)) + _mbcs(libid) + struct.pack("<IH", 0, 0)
    out += _rec(0x000D, registered)  # REFERENCEREGISTERED
    out += _rec(0x000F, struct.pack("<H", len(modules)))  # PROJECTMODULES
    out += _rec(0x0013, struct.pack("<H", 0xFFFF))  # PROJECTCOOKIE
    for m in modules:
        out += _rec(0x0019, _mbcs(m.name))  # MODULENAME
        out += _rec(0x0047, _utf16(m.name))  # MODULENAMEUNICODE
        out += _rec(0x001A, _mbcs(m.name)) + _rec(0x0032, _utf16(m.name))  # MODULESTREAMNAME
        out += _rec(0x001C, b"") + _rec(0x0048, b"")  # MODULEDOCSTRING
        out += _rec(0x0031, struct.pack("<I", 0))  # MODULEOFFSET: the source starts the stream
        out += _rec(0x001E, struct.pack("<I", 0))  # MODULEHELPCONTEXT
        out += _rec(0x002C, struct.pack("<H", 0xFFFF))  # MODULECOOKIE
        out += _rec(m.type_record, b"")  # MODULETYPE: procedural or document/class
        out += _rec(0x002B, b"")  # module terminator
    out += _rec(0x0010, b"")  # dir terminator
    return bytes(out)


def project_stream(modules: Sequence[Module], project_id: str, project: str = "VBAProject") -> bytes:
    """The PROJECT stream's text ([MS-OVBA] 2.3.1)."""
    lines = [f'ID="{project_id}"']
    for m in modules:
        if m.kind == "document":
            lines.append(f"Document={m.name}/&H00000000")
        elif m.kind == "class":
            lines.append(f"Class={m.name}")
        else:
            lines.append(f"Module={m.name}")
    lines += [
        f'Name="{project}"', 'HelpContextID="0"', 'VersionCompatible32="393222000"',
        f'CMG="{encrypt(bytes(4), project_id)}"',  # protection state: none
        f'DPB="{encrypt(bytes(1), project_id)}"',  # password: none
        f'GC="{encrypt(VISIBLE, project_id)}"',  # visibility: visible
        "", "[Host Extender Info]", HOST_EXTENDER, "", "[Workspace]",
    ]
    lines += [f"{m.name}=0, 0, 0, 0, C" for m in modules]
    return _mbcs("\r\n".join(lines) + "\r\n")


def project_wm(modules: Sequence[Module]) -> bytes:
    out = bytearray()
    for m in modules:
        out += _mbcs(m.name) + b"\x00" + _utf16(m.name) + b"\x00\x00"
    return bytes(out + b"\x00\x00")


def vba_project(
    modules: Sequence[Module], project_id: str = "{5B7D1A6E-2C3B-4D1A-9E8F-7A6B5C4D3E2F}", project: str = "VBAProject"
) -> bytes:
    """The vbaProject.bin for these modules, under this project name."""
    streams = {
        "PROJECT": project_stream(modules, project_id, project),
        "PROJECTwm": project_wm(modules),
        "VBA/_VBA_PROJECT": struct.pack("<HHBH", 0x61CC, 0xFFFF, 0x00, 0x0003),
        "VBA/dir": compress(dir_stream(modules, project)),
    }
    for m in modules:
        streams[f"VBA/{m.name}"] = compress(_mbcs(m.source))
    return compound_file(streams)


# -- [MS-CFB] version 3 compound file -------------------------------------------------------------------
FREESECT, ENDOFCHAIN, FATSECT, NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
SECTOR, MINI, CUTOFF = 512, 64, 4096


@dataclass
class _Entry:
    name: str
    kind: int  # 1 storage, 2 stream, 5 root
    data: bytes = b""
    children: list[_Entry] | None = None
    sid: int = 0
    left: int = NOSTREAM
    right: int = NOSTREAM
    child: int = NOSTREAM
    color: int = 1
    start: int = ENDOFCHAIN
    size: int = 0


def _order(name: str) -> tuple[int, str]:
    return len(name), name.upper()


def compound_file(streams: dict[str, bytes]) -> bytes:
    """A compound file holding these streams ('Storage/Stream' paths), deterministically."""
    root = _Entry("Root Entry", 5, children=[])
    for path, data in streams.items():
        node = root
        *folders, leaf = path.split("/")
        for folder in folders:
            found = next((c for c in node.children or [] if c.name == folder and c.kind == 1), None)
            if found is None:
                found = _Entry(folder, 1, children=[])
                node.children.append(found)  # type: ignore[union-attr]
            node = found
        node.children.append(_Entry(leaf, 2, data=data))  # type: ignore[union-attr]

    entries: list[_Entry] = []

    def number(e: _Entry) -> None:
        e.sid = len(entries)
        entries.append(e)
        for c in sorted(e.children or [], key=lambda c: _order(c.name)):
            number(c)

    number(root)
    for e in entries:
        if e.children:
            e.child = _tree(sorted(e.children, key=lambda c: _order(c.name)))

    # Small streams live in the mini stream, large ones in sectors of their own.
    mini = bytearray()
    minifat: list[int] = []
    for e in entries:
        if e.kind == 2 and len(e.data) < CUTOFF:
            e.size = len(e.data)
            if not e.data:
                e.start = ENDOFCHAIN
                continue
            n = -(-len(e.data) // MINI)
            e.start = len(minifat)
            minifat += [len(minifat) + i + 1 for i in range(n - 1)] + [ENDOFCHAIN]
            mini += e.data + bytes(n * MINI - len(e.data))
    big = [e for e in entries if e.kind == 2 and len(e.data) >= CUTOFF]

    def count(n_bytes: int) -> int:
        return -(-n_bytes // SECTOR)

    dir_sectors = count(len(entries) * 128)
    minifat_sectors = count(len(minifat) * 4)
    mini_sectors = count(len(mini))
    big_sectors = sum(count(len(e.data)) for e in big)
    fat_sectors = 1
    while True:
        total = fat_sectors + dir_sectors + minifat_sectors + mini_sectors + big_sectors
        if -(-total // (SECTOR // 4)) <= fat_sectors:
            break
        fat_sectors += 1
    if fat_sectors > 109:
        raise ValueError("project too large for a header-only DIFAT")

    fat: list[int] = [FATSECT] * fat_sectors
    sectors: list[bytes] = []

    def place(data: bytes) -> int:
        n = count(len(data))
        if n == 0:
            return ENDOFCHAIN
        first = len(fat)
        fat.extend([first + i + 1 for i in range(n - 1)] + [ENDOFCHAIN])
        padded = data + bytes(n * SECTOR - len(data))
        sectors.extend(padded[i * SECTOR : (i + 1) * SECTOR] for i in range(n))
        return first

    dir_start_index = len(fat)
    fat.extend([0] * dir_sectors)  # reserve; filled after the entries know their sectors
    dir_placeholder = len(sectors)
    sectors.extend([b""] * dir_sectors)
    minifat_start = place(b"".join(struct.pack("<I", v) for v in minifat)) if minifat else ENDOFCHAIN
    root.start = place(bytes(mini)) if mini else ENDOFCHAIN
    root.size = len(mini)
    for e in big:
        e.start = place(e.data)
        e.size = len(e.data)
    for i in range(dir_sectors):
        fat[dir_start_index + i] = dir_start_index + i + 1 if i < dir_sectors - 1 else ENDOFCHAIN

    directory = b"".join(_dir_entry(e) for e in entries)
    directory += _dir_entry(None) * (dir_sectors * SECTOR // 128 - len(entries))
    for i in range(dir_sectors):
        sectors[dir_placeholder + i] = directory[i * SECTOR : (i + 1) * SECTOR]

    fat += [FREESECT] * (fat_sectors * (SECTOR // 4) - len(fat))
    fat_bytes = b"".join(struct.pack("<I", v) for v in fat)
    fat_blocks = [fat_bytes[i * SECTOR : (i + 1) * SECTOR] for i in range(fat_sectors)]

    header = bytearray()
    header += bytes.fromhex("D0CF11E0A1B11AE1") + bytes(16)
    header += struct.pack("<HHHHH", 0x003E, 0x0003, 0xFFFE, 9, 6) + bytes(6)
    header += struct.pack("<IIIIIIIII", 0, fat_sectors, dir_start_index, 0, CUTOFF, minifat_start,
                          minifat_sectors if minifat else 0, ENDOFCHAIN, 0)
    difat = list(range(fat_sectors)) + [FREESECT] * (109 - fat_sectors)
    header += b"".join(struct.pack("<I", v) for v in difat)
    assert len(header) == SECTOR
    return bytes(header) + b"".join(fat_blocks) + b"".join(sectors)


def _tree(siblings: list[_Entry]) -> int:
    """A balanced binary search tree of siblings, coloured as a valid red-black tree."""
    depth_of: dict[int, int] = {}

    def build(items: list[_Entry], depth: int) -> int:
        if not items:
            return NOSTREAM
        mid = len(items) // 2
        node = items[mid]
        depth_of[node.sid] = depth
        node.left = build(items[:mid], depth + 1)
        node.right = build(items[mid + 1 :], depth + 1)
        return node.sid

    top = build(siblings, 0)
    deepest = max(depth_of.values())
    for e in siblings:
        e.color = 0 if depth_of[e.sid] == deepest and deepest > 0 else 1  # red on the last level only
    return top


def _dir_entry(e: _Entry | None) -> bytes:
    if e is None:
        return bytes(64) + struct.pack("<HBBIII", 0, 0, 1, NOSTREAM, NOSTREAM, NOSTREAM) + bytes(16 + 4 + 16) + \
            struct.pack("<IQ", 0, 0)
    name = _utf16(e.name) + b"\x00\x00"
    if len(name) > 64:
        raise ValueError(f"name too long for a compound file entry: {e.name!r}")
    start = e.start if e.kind != 1 else 0
    return (
        name + bytes(64 - len(name))
        + struct.pack("<HBBIII", len(name), e.kind, e.color, e.left, e.right, e.child)
        + bytes(16) + struct.pack("<I", 0) + bytes(16)
        + struct.pack("<IQ", start, e.size if e.kind != 1 else 0)
    )
