"""MarkTarget for a workbook file: each operation patches only the parts it needs.

This is where the part modules meet: a fill is a new cell format (styles) plus one `s` attribute
(worksheet); a note is a comment (comments) plus a box (vml) plus, for a sheet without notes, the
relationships and content types that make them visible; the summary is a new worksheet part plus
its entry in the workbook; the record is a custom XML part.
"""

from __future__ import annotations

import contextlib
import posixpath
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from lxml import etree

from ..errors import PatchRefused
from ..plan import SUMMARY_SHEET, Summary
from ..record import MarkRecord, Token
from ..refs import parse_a1
from . import summary_sheet, vml
from .comments import Comments
from .comments import new_root as new_comments_root
from .custom_xml import RecordStore
from .ns import CT_COMMENTS, CT_RELS, CT_STYLES, CT_VML, CT_WORKSHEET, dialect_of
from .opc import Package
from .relationships import rels_part_name
from .styles import Styles
from .styles import damage as styles_damage
from .workbook import Workbook
from .worksheet import Worksheet

_STYLE_REF = re.compile(rb"""\s(?:s|style)\s*=\s*["'](\d+)["']""")
_THREADED = "threadedComment"


@dataclass
class _Sheet:
    """A worksheet being marked and the note parts that hang off it."""

    key: str
    part: str
    ws: Worksheet
    state: Token = field(default_factory=dict)  # parts this run created, for the record
    comments: Comments | None = None
    comments_part: str | None = None
    vml: vml.Vml | None = None
    vml_part: str | None = None
    drawing_id: int = 0
    threaded: set[tuple[int, int]] | None = None
    flushed: bytes | None = None


class PackageTarget:
    """A workbook package, marked by patching parts; see MarkTarget for the contract."""

    def __init__(self, pkg: Package) -> None:
        self.pkg = pkg
        office = pkg.rels("")
        docs = office.of_kind("officeDocument") if office is not None else []
        part = pkg.name(docs[0].target) if docs else None
        if part is None:
            raise PatchRefused("not a workbook package (no main workbook part)")
        root = pkg.xml(part)
        d = dialect_of(etree.QName(root).namespace or "")
        if d is None or etree.QName(root).localname != "workbook":
            raise PatchRefused(f"the main part {part} is not a SpreadsheetML workbook")
        self.d = d
        self.wb = Workbook(pkg, part, d)
        self.store = RecordStore(pkg, part, d)
        self.folder = posixpath.dirname(part)
        self._sheets: dict[str, _Sheet] = {}
        self._styles: Styles | None = None
        self._styles_part: str | None = None
        self._styles_created: str | None = None  # a styles part this run had to add
        self._source_drawing_ids: set[int] | None = None  # note-drawing ids the source's VML parts use
        self._last_drawing_id = 0  # the highest id a sheet of this run took

    # -- helpers ------------------------------------------------------------------------------
    def _path(self, *names: str) -> str:
        """A new part's name beside the workbook part (xl/... in every workbook Excel writes)."""
        return posixpath.join(self.folder, *names)

    @property
    def styles(self) -> Styles:
        """The workbook's style sheet; created (and recorded as ours) if it has none."""
        if self._styles is None:
            rels = self.pkg.rels(self.wb.part)
            every = [r for r in rels if r.kind == "styles"] if rels is not None else []
            if any(r.external for r in every) or len(every) > 1:
                # readers take the first styles relationship, whatever its mode: adding ours would
                # leave two, and openpyxl then fails to open the file (IndexError)
                raise PatchRefused("the workbook's styles relationship is external or given twice (not a "
                                   "package Excel writes); refusing to patch it")
            parts = self.pkg.related(self.wb.part, "styles")
            if parts and not self.pkg.exists(parts[0]):
                raise PatchRefused(f"the workbook's styles part {parts[0]} is missing")
            if parts and self.pkg.xml(parts[0]).tag != self.d.q("styleSheet"):
                raise PatchRefused(f"the styles part {parts[0]} is not a SpreadsheetML style sheet (root "
                                   f"{self.pkg.xml(parts[0]).tag!r}); refusing to patch it")
            if parts:
                self._styles_part = parts[0]
            else:
                part = self._path("styles.xml")
                if self.pkg.exists(part) or self.pkg.content_types.parts_of_type(CT_STYLES):
                    # a style sheet the workbook does not relate to: some readers take it by its
                    # name, others would take the one we add, and the two would read other values
                    raise PatchRefused("the package holds a styles part the workbook does not relate to; "
                                       "refusing to add a second one")
                self.pkg.put_xml(part, etree.Element(self.d.q("styleSheet"), nsmap={None: self.d.main}))
                self.pkg.content_types.declare(part, CT_STYLES)
                self.pkg.touch("[Content_Types].xml")
                rels = self.pkg.rels(self.wb.part, create=True)
                assert rels is not None
                rels.add(self.d.rel("styles"), part)
                self.pkg.touch_rels(self.wb.part)
                self._styles_part = self._styles_created = part
            problem = styles_damage(self.pkg.xml(self._styles_part), self.d)
            if problem:
                raise PatchRefused(f"the styles part {self._styles_part} is damaged ({problem}); refusing to patch it")
            self._styles = Styles(self.pkg.xml(self._styles_part), self.d)
        return self._styles

    def sheet_key(self, sheet: str) -> str:
        """The worksheet's sheetId; PatchRefused for a missing sheet or a chartsheet."""
        entry = self.wb.find(sheet)
        if entry is None:
            raise PatchRefused(f"the workbook has no sheet named {sheet!r}")
        if entry.kind != "worksheet" or entry.part is None:
            kind = entry.kind or "sheet without a part"
            raise PatchRefused(f"sheet {sheet!r} is a {kind}; only worksheets can be marked")
        return entry.sheet_id

    def _sheet(self, key: str) -> _Sheet | None:
        if key in self._sheets:
            return self._sheets[key]
        entry = self.wb.by_id(key)
        if entry is None or entry.kind != "worksheet" or entry.part is None:
            return None
        ws = Worksheet(self.pkg.read(entry.part), entry.part, self.d)
        self._sheets[key] = _Sheet(key, entry.part, ws)
        return self._sheets[key]

    def _threaded(self, sheet: _Sheet) -> set[tuple[int, int]]:
        """Cells with a modern threaded comment: their legacy note is Excel's, not ours to edit."""
        if sheet.threaded is None:
            sheet.threaded = set()
            for part in self.pkg.related(sheet.part, _THREADED):
                if self.pkg.exists(part):
                    for el in self.pkg.xml(part).iter():
                        ref = el.get("ref") if isinstance(el.tag, str) else None
                        if ref:
                            with contextlib.suppress(ValueError):
                                sheet.threaded.add(parse_a1(ref))
        return sheet.threaded

    def _sheet_rels(self, sheet: _Sheet):
        if not self.pkg.exists(rels_part_name(sheet.part)):
            sheet.state["rels"] = "created"
            self.pkg.content_types.declare(rels_part_name(sheet.part), CT_RELS)
            self.pkg.touch("[Content_Types].xml")
        rels = self.pkg.rels(sheet.part, create=True)
        assert rels is not None
        self.pkg.touch_rels(sheet.part)
        return rels

    def _comments(self, sheet: _Sheet, create: bool) -> Comments | None:
        if sheet.comments is not None and sheet.comments_part and self.pkg.exists(
            sheet.comments_part
        ):
            return sheet.comments
        found = [p for p in self.pkg.related(sheet.part, "comments") if self.pkg.exists(p)]
        if found and self.pkg.xml(found[0]).tag != self.d.q("comments"):
            raise PatchRefused(f"the notes part {found[0]} is not a SpreadsheetML comments part; refusing to patch it")
        if found:
            sheet.comments_part = found[0]
            sheet.comments = Comments(self.pkg.xml(found[0]), self.d)
            return sheet.comments
        if not create:
            return None
        part = self.pkg.unused_name(self._path("comments{}.xml"))
        self.pkg.put_xml(part, new_comments_root(self.d))
        self.pkg.content_types.declare(part, CT_COMMENTS)
        self._sheet_rels(sheet).add(self.d.rel("comments"), part)
        sheet.state["comments"] = part
        sheet.comments_part = part
        sheet.comments = Comments(self.pkg.xml(part), self.d)
        return sheet.comments

    def _vml(self, sheet: _Sheet, create: bool) -> vml.Vml | None:
        if sheet.vml is not None and sheet.vml_part and self.pkg.exists(sheet.vml_part):
            return sheet.vml
        rid = sheet.ws.legacy_drawing()
        if rid is not None:
            rels = self.pkg.rels(sheet.part)
            rel = rels.get(rid) if rels is not None else None
            part = self.pkg.name(rel.target) if rel is not None else None
            if part is None:
                raise PatchRefused(f"{sheet.part} points at a note drawing that is missing")
            ids = vml.idmaps(self.pkg.read(part))
            sheet.drawing_id = min(ids) if ids else self._free_drawing_id()
            self._last_drawing_id = max(self._last_drawing_id, sheet.drawing_id)
            sheet.vml_part, sheet.vml = part, vml.Vml(self.pkg.xml(part))
            return sheet.vml
        if not create:
            return None
        part = self.pkg.unused_name(self._path("drawings", "vmlDrawing{}.vml"))
        sheet.drawing_id = self._free_drawing_id()
        self.pkg.put_xml(part, vml.new_root(sheet.drawing_id), prologue=b"")
        if self.pkg.content_types.declare(part, CT_VML, by_extension=True) == "default":
            sheet.state["vml_default"] = "added"
        self.pkg.touch("[Content_Types].xml")
        rid = self._sheet_rels(sheet).add(self.d.rel("vmlDrawing"), part)
        sheet.ws.add_legacy_drawing(rid)
        sheet.state["vml"] = part
        sheet.vml_part, sheet.vml = part, vml.Vml(self.pkg.xml(part))
        return sheet.vml

    def _free_drawing_id(self) -> int:
        if self._source_drawing_ids is None:  # the source's drawings are read once a run, not once a sheet
            self._source_drawing_ids = set()
            for m in self.pkg.source.members:
                if m.name.lower().endswith(".vml") and self.pkg.exists(m.name):
                    self._source_drawing_ids |= vml.idmaps(self.pkg.read(m.name))
        self._last_drawing_id = max(self._last_drawing_id, max(self._source_drawing_ids, default=0)) + 1
        return self._last_drawing_id

    # -- MarkTarget ---------------------------------------------------------------------------
    def paint(self, key: str, cell: str, rgb: str) -> Token:
        """Clone the cell's format with our fill and point the cell at the clone."""
        sheet = self._sheet(key)
        if sheet is None:
            raise PatchRefused(f"sheet id {key} is not a worksheet")
        own = sheet.ws.cell_style(cell)
        style = self.styles.marked(own, rgb)
        token = sheet.ws.set_style(cell, style)
        token["applied"] = str(style)
        # The cell's own fill in words, so that the workbook open in Excel can be cleared there.
        token.update({f"was.{k}": v for k, v in self.styles.describe_fill(own).items()})
        return token

    def unpaint(self, key: str, cell: str, token: Token) -> bool:
        """Put the cell's own format index back, if the cell still carries ours."""
        sheet = self._sheet(key)
        if sheet is not None and token.get("via") == "excel":
            return self._unpaint_excel(sheet, cell, token)
        if sheet is None or "applied" not in token:
            return False
        return sheet.ws.restore_style(cell, token, int(token["applied"]))

    def _unpaint_excel(self, sheet: _Sheet, cell: str, token: Token) -> bool:
        """A mark made in Excel and saved: the cell's format now has our fill; give it its own back.

        Excel keeps no style index we could restore, so the cell gets a format like the one it has
        with the fill the token describes (pattern and colours, theme colours as theme colours).
        """
        style = sheet.ws.cell_style(cell)
        if not self.styles.shows_fill(style, token.get("applied", "")):
            return False
        was = {k[len("was."):]: v for k, v in token.items() if k.startswith("was.")}
        sheet.ws.set_style(cell, self.styles.refilled(style, was or {"pattern": "none"}))
        return True

    def add_note(self, key: str, cell: str, blocks: Sequence[tuple[str, bool]]) -> Token:
        """Comment text in the comments part, a hidden box in the VML drawing."""
        sheet = self._sheet(key)
        if sheet is None:
            raise PatchRefused(f"sheet id {key} is not a worksheet")
        row, col = parse_a1(cell)
        if (row, col) in self._threaded(sheet):
            return {"mode": "skipped"}
        comments = self._comments(sheet, create=True)
        assert comments is not None and sheet.comments_part is not None
        token = comments.add(cell, list(blocks))
        if token.pop("author", "") == "added":
            sheet.state["author"] = "added"
        self.pkg.touch(sheet.comments_part)
        c = comments.find(cell)
        shown = "".join(c.itertext()) if c is not None else ""
        box = self._vml(sheet, create=True)
        assert box is not None and sheet.vml_part is not None
        if box.note(row - 1, col - 1) is None:
            box.add_note(row - 1, col - 1, vml.note_rows(shown), sheet.drawing_id)
            token["shape"] = "added"
        elif token["mode"] == "appended":
            grown = box.grow_note(row - 1, col - 1, vml.note_rows(shown))
            if grown is not None:
                token["anchor"], token["anchor_new"] = grown
        self.pkg.touch(sheet.vml_part)
        return token

    def remove_note(self, key: str, cell: str, token: Token) -> bool:
        """Our comment text out, the analyst's back; our box out or theirs back to size."""
        sheet = self._sheet(key)
        if sheet is None or token.get("mode") not in ("new", "appended"):
            return False
        comments = self._comments(sheet, create=False)
        if comments is None:
            return False
        done = comments.remove(cell, token)
        self.pkg.touch(sheet.comments_part or "")
        box = self._vml(sheet, create=False)
        if box is not None:
            row, col = parse_a1(cell)
            if token.get("shape") == "added" and comments.find(cell) is None:
                box.remove_note(row - 1, col - 1)
            elif "anchor" in token:
                box.set_anchor(row - 1, col - 1, token.get("anchor_new", ""), token["anchor"])
            self.pkg.touch(sheet.vml_part or "")
        return done

    def add_summary(self, summary: Summary, previous: Token | None) -> Token:
        """A new worksheet part, declared, related and listed last in the workbook.

        A previous run's summary sheet, if still there, is refilled where it is instead: same
        name, same tab position, same part, so marking twice gives the same package as once.
        """
        entry = self.wb.by_id(previous.get("sheetId", "")) if previous else None
        if previous and entry is not None and entry.part == self.pkg.name(previous.get("part", "")):
            self.pkg.put_bytes(entry.part, summary_sheet.render(summary, self.styles, self.d))
            return {"sheetId": entry.sheet_id, "name": entry.name, "part": entry.part,
                    "rid": entry.rid}
        name = self.wb.unique_name(SUMMARY_SHEET)
        part = self.pkg.unused_name(self._path("worksheets", "sheet{}.xml"))
        self.pkg.put_bytes(part, summary_sheet.render(summary, self.styles, self.d))
        self.pkg.content_types.declare(part, CT_WORKSHEET)
        self.pkg.touch("[Content_Types].xml")
        rels = self.pkg.rels(self.wb.part, create=True)
        assert rels is not None
        rid = rels.add(self.d.rel("worksheet"), part)
        self.pkg.touch_rels(self.wb.part)
        sheet_id = self.wb.add_sheet(name, rid)
        return {"sheetId": sheet_id, "name": name, "part": part, "rid": rid}

    def remove_summary(self, token: Token) -> bool:
        """Remove our summary sheet (only if its entry still points at our part)."""
        entry = self.wb.by_id(token.get("sheetId", ""))
        if entry is None or entry.part != self.pkg.name(token.get("part", "")):
            return False
        self.wb.remove_sheet(entry.sheet_id)
        rels = self.pkg.rels(self.wb.part)
        if rels is not None:
            rels.remove(entry.rid)
            self.pkg.touch_rels(self.wb.part)
        self.pkg.remove(entry.part)
        return True

    def read_record(self) -> MarkRecord | None:
        """The record part's content, if the workbook has one.

        A record written in Excel (tallycheck.excel) names sheets, not sheetIds: it is put in this
        target's terms here, so the logic can clear a workbook marked with the Excel button.
        """
        record = self.store.read()
        if record is not None and record.state.get("target", {}).get("kind") == "excel":
            for c in record.cells:
                entry = self.wb.find(c.sheet)
                c.key = entry.sheet_id if entry is not None and entry.name == c.sheet else ""
            entry = self.wb.find(record.summary.get("name", "")) if record.summary else None
            if entry is not None and entry.kind == "worksheet" and entry.part is not None:
                record.summary = {"sheetId": entry.sheet_id, "name": entry.name, "part": entry.part,
                                  "rid": entry.rid}
            else:
                record.summary = {}
        return record

    def release(self, record: MarkRecord) -> None:
        """Free the formats the record's marks added; its note parts go when left empty.

        Note parts are only collected when the package is written (see _collect), so a re-run
        that marks the same sheet reuses them where they are.
        """
        for name, state in record.state.items():
            if name.startswith("sheet:"):
                sheet = self._sheet(name[len("sheet:") :])
                if sheet is not None:
                    for flag, value in state.items():
                        sheet.state.setdefault(flag, value)
        if "styles" in record.state:
            state = record.state["styles"]
            ours = set(self.styles.ours(state))
            in_use = bool(ours) and self._styles_in_use(ours, record.state.get("crc", {}))
            released = self.styles.release(state, in_use)
            part = state.get("part")
            if released and part == self._styles_part and not len(self.styles.root):
                rels = self.pkg.rels(self.wb.part)
                for rel in list(rels) if rels is not None else ():
                    if self.pkg.name(rel.target) == part:
                        rels.remove(rel.rid)
                self.pkg.touch_rels(self.wb.part)
                self.pkg.remove(part)
                self._styles = self._styles_part = None

    def _collect(self, sheet: _Sheet) -> None:
        """Remove the note parts (and flags) this tool created for a sheet and left empty."""
        state = sheet.state
        comments = self._comments(sheet, create=False)
        if comments is not None and sheet.comments_part is not None:
            if state.get("comments") == sheet.comments_part and len(comments) == 0:
                self._drop_related(sheet, sheet.comments_part)
                sheet.comments = sheet.comments_part = None
                state.pop("author", None)
            elif state.get("author") == "added" and comments.remove_author():
                self.pkg.touch(sheet.comments_part)
                state.pop("author")
        if state.get("comments") and sheet.comments_part != state["comments"]:
            del state["comments"]
        box = self._vml(sheet, create=False)
        if (
            box is not None
            and sheet.vml_part is not None
            and state.get("vml") == sheet.vml_part
            and not box.has_shapes()
        ):
            self._drop_related(sheet, sheet.vml_part)
            sheet.ws.remove_legacy_drawing()
            sheet.vml = sheet.vml_part = None
        if state.get("vml") and sheet.vml_part != state["vml"]:
            del state["vml"]
        if state.get("vml_default") == "added" and not any(
            m.name.lower().endswith(".vml") and self.pkg.exists(m.name)
            for m in self.pkg.source.members
        ) and not any(s.vml_part for s in self._sheets.values()):
            self.pkg.content_types.forget_default("vml")
            self.pkg.touch("[Content_Types].xml")
            del state["vml_default"]
        rels = self.pkg.rels(sheet.part)
        if state.get("rels") == "created" and rels is not None and len(rels) == 0:
            self.pkg.remove(rels_part_name(sheet.part))
            del state["rels"]

    def _drop_related(self, sheet: _Sheet, part: str) -> None:
        rels = self.pkg.rels(sheet.part)
        if rels is not None:
            for rel in list(rels):
                if not rel.external and self.pkg.name(rel.target) == part:
                    rels.remove(rel.rid)
            self.pkg.touch_rels(sheet.part)
        self.pkg.remove(part)

    def _styles_in_use(self, ours: set[int], crcs: Token) -> bool:
        """Whether any cell, row or column still uses one of our formats.

        A sheet whose bytes are what the marking run wrote cannot (only our marks used them, and
        they were just restored); only sheets changed since, e.g. re-saved by Excel, are scanned.
        """
        for entry in self.wb.sheets():
            if entry.kind != "worksheet" or entry.part is None:
                continue
            member = self.pkg.source.by_name.get(entry.part)
            if member is not None and crcs.get(entry.part) == str(member.crc):
                continue
            sheet = self._sheets.get(entry.sheet_id)
            data = sheet.ws.render() if sheet is not None else self.pkg.read(entry.part)
            if any(int(m.group(1)) in ours for m in _STYLE_REF.finditer(data)):
                return True
        return False

    def flush(self) -> None:
        """Hand every edited part to the package (worksheets as bytes, styles as a tree)."""
        if self._styles is not None and self._styles.changed and self._styles_part:
            self.pkg.touch(self._styles_part)
        for sheet in self._sheets.values():
            if sheet.ws.changed():
                data = sheet.ws.render()
                if data is not sheet.flushed:
                    self.pkg.put_bytes(sheet.part, data)
                    sheet.flushed = data

    def verbatim(self) -> dict[str, list[tuple[int, int]]]:
        """By worksheet part as flushed, the spans of its bytes that are source rows copied as they were."""
        return {
            sheet.part: sheet.ws.verbatim()
            for sheet in self._sheets.values()
            if sheet.flushed is not None and self.pkg.exists(sheet.part) and self.pkg.read(sheet.part) is sheet.flushed
        }

    def write_record(self, record: MarkRecord | None) -> None:
        """Store the record with what this run created, or remove it."""
        for sheet in self._sheets.values():
            self._collect(sheet)
        if record is None:
            self.store.remove()
            self.flush()
            return
        for sheet in sorted(self._sheets.values(), key=lambda s: (len(s.key), s.key)):
            if sheet.state:
                record.state[f"sheet:{sheet.key}"] = dict(sheet.state)
        if self._styles is not None and self._styles.changed:
            record.state["styles"] = self._styles.state()
            if self._styles_created:
                record.state["styles"]["part"] = self._styles_created
        self.flush()
        record.state["crc"] = {
            e.part: str(self.pkg.crc(e.part))
            for e in self.wb.sheets()
            if e.kind == "worksheet" and e.part is not None
        }
        self.store.write(record)
