"""MarkTarget for a workbook open in Excel, through xlwings: the same marks as a marked file.

tallycheck.marks.logic does the deciding (which cells, which notes, replace the previous run,
restore exactly); this class only carries each operation out on the live book:

- fill: ``Range.color`` (the cell's own fill is described first, pattern and theme colour
  included, so clear puts it back exactly);
- note: ``Range.add_note`` / ``Note.text``, with the same bold heading and words as a file's note;
  a note the analyst already has keeps its text and formatting, ours follows it;
- summary: a worksheet added after the last one (``book.sheets.add(after=...)``), filled in one
  write, with internal hyperlinks to each finding's cell;
- restore record: the same XML document a marked file keeps, in the workbook's custom XML parts
  (``Workbook.CustomXMLParts``). Excel saves those as ``customXml/itemN.xml``, which is exactly
  where ``tallycheck clear`` looks, so a workbook marked here and saved can be cleared from the
  command line, and one marked from the command line can be cleared with the button.

Tokens written here carry ``via=excel`` and describe cells in words both targets understand
(a fill as pattern + colours, a note by the text of its runs, the summary by sheet name).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from ..engine.findings import Finding
from ..marks.errors import MarkError
from ..marks.plan import FILLS, SUMMARY_SHEET, Summary, is_summary_sheet, unique_sheet_name
from ..marks.record import NAMESPACE, CellRecord, MarkRecord, Token
from . import xlapi

#: record.state["target"]["kind"] for records written by this target.
KIND = "excel"
#: record.state keys this target adds: the findings the marks stand for (so that "Validate this
#: sheet" can keep the other sheets' marks) and the findings an auditor marked as reviewed.
FINDINGS_STATE = "findings"
REVIEWS_STATE = "reviews"
_TEXT_LIMIT = 32_767
_WIDTHS = (18, 9, 14, 10, 14, 14, 13, 12, 26, 100)
_HEADER_ROW = 5
_LINK_RGB = (0x05, 0x63, 0xC1)
_TAB = "FFC00000"


class XlwingsTarget:
    """A live xlwings Book as a MarkTarget (see tallycheck.marks.target)."""

    def __init__(self, book: Any) -> None:
        self.book = book
        self._sheets: dict[str, Any] | None = None
        # What this run has started to change, each entry written *before* the change is made, so
        # that a run failing part-way (Excel busy, a sheet protected meanwhile) can be rolled back.
        self._journal: dict[tuple[str, str], CellRecord] = {}
        self._new_summary: Token | None = None
        #: Kept in the record by write_record; set by the caller before marking.
        self.findings: Sequence[Finding] | None = None
        self.reviews: list[dict[str, str]] = []

    # -- helpers ------------------------------------------------------------------------------
    def _by_name(self) -> dict[str, Any]:
        if self._sheets is None:
            self._sheets = {s.name: s for s in self.book.sheets}
        return self._sheets

    def _find(self, name: str) -> Any | None:
        sheets = self._by_name()
        if name in sheets:
            return sheets[name]
        folded = name.casefold()
        return next((s for n, s in sheets.items() if n.casefold() == folded), None)

    def _cell(self, key: str, cell: str) -> Any | None:
        sheet = self._find(key)
        return sheet.range(cell) if sheet is not None else None

    def _log(self, key: str, cell: str, *, fill: Token | None = None, note: Token | None = None) -> None:
        entry = self._journal.setdefault((key, cell), CellRecord(key, key, cell, "", {}, {}))
        if fill is not None:
            entry.fill = fill
        if note is not None:
            entry.note = note

    # -- MarkTarget ---------------------------------------------------------------------------
    def sheet_key(self, sheet: str) -> str:
        """The sheet's name: Excel's object model has no other id that survives a save."""
        found = self._find(sheet)
        if found is None:
            raise MarkError(None, f"the workbook has no worksheet named {sheet!r}")
        return found.name

    def paint(self, key: str, cell: str, rgb: str) -> Token:
        rng = self._cell(key, cell)
        if rng is None:
            raise MarkError(None, f"the workbook has no worksheet named {key!r}")
        was = xlapi.fill_state(rng)
        token = {"via": KIND, "applied": rgb}
        token.update({f"was.{k}": v for k, v in was.items()})
        self._log(key, cell, fill=token)
        xlapi.paint_solid(rng, rgb)
        return token

    def unpaint(self, key: str, cell: str, token: Token) -> bool:
        """Put the cell's own fill back, if it still shows ours."""
        rng = self._cell(key, cell)
        if rng is None:
            return False
        now = rng.color
        if token.get("via") == KIND:
            ours = {_rgb_tuple(token.get("applied"))}
        else:  # a file's token: its "applied" is a style index; any of our fills will do
            ours = {_rgb_tuple(v) for v in FILLS.values()}
        if now is None or tuple(now) not in ours:
            return False
        was = {k[4:]: v for k, v in token.items() if k.startswith("was.")}
        xlapi.restore_fill(rng, was or {"pattern": "none"})
        return True

    def add_note(self, key: str, cell: str, blocks: Sequence[tuple[str, bool]]) -> Token:
        rng = self._cell(key, cell)
        if rng is None:
            raise MarkError(None, f"the workbook has no worksheet named {key!r}")
        if _threaded(rng):
            return {"via": KIND, "mode": "skipped"}
        runs = [text for text, _ in blocks]
        heading = next((text for text, bold in blocks if bold), "")
        note = rng.note
        width, height = _box(runs)
        if note is None:
            text = "".join(runs)[:_TEXT_LIMIT]
            self._log(key, cell, note={"via": KIND, "mode": "new", "ours": json.dumps(runs)})
            note = rng.add_note(text)
            _embolden(note, 1, runs, blocks)
            xlapi.set_note_size(note, width, height)
            return {"via": KIND, "mode": "new", "ours": json.dumps(runs), "shape": "added"}
        original = note.text or ""
        runs = ["\n\n" + runs[0], *runs[1:]]
        size = xlapi.note_size(note)
        self._log(key, cell, note={"via": KIND, "mode": "appended", "ours": json.dumps(runs)})
        xlapi.append_text(note, "".join(runs))
        xlapi.set_bold(note, xlapi.u16(original) + 1, 2 + xlapi.u16(heading), True)
        _embolden(note, xlapi.u16(original) + 1 + xlapi.u16(runs[0]), runs[1:], blocks[1:])
        token = {"via": KIND, "mode": "appended", "ours": json.dumps(runs)}
        if size is not None:
            token["size"] = f"{size[0]:g},{size[1]:g}"
            xlapi.set_note_size(note, max(size[0], width), max(size[1], height))
        return token

    def remove_note(self, key: str, cell: str, token: Token) -> bool:
        """Cut our text out of the note; the note goes if nothing else is left in it."""
        if token.get("mode") not in ("new", "appended"):
            return False
        rng = self._cell(key, cell)
        note = rng.note if rng is not None else None
        if note is None:
            return False
        ours = "".join(json.loads(token.get("ours", "[]")))
        text = note.text or ""
        at = text.rfind(ours) if ours else -1
        if at < 0:
            return False
        rest = text[:at] + text[at + len(ours) :]
        if not rest.strip() and token.get("mode") == "new":
            note.delete()
            return True
        xlapi.cut_text(note, xlapi.u16(text[:at]) + 1, xlapi.u16(ours))
        if "size" in token:
            w, _, h = token["size"].partition(",")
            xlapi.set_note_size(note, float(w), float(h))
        return True

    def add_summary(self, summary: Summary, previous: Token | None) -> Token:
        """Refill the previous run's summary sheet where it is, or add one after the last sheet."""
        sheet = self._summary_sheet(previous) if previous else None
        active = self.book.sheets.active
        if sheet is not None:
            sheet.clear()
        else:
            name = self._unique_name(SUMMARY_SHEET)
            last = self.book.sheets[len(self.book.sheets) - 1]
            self._new_summary = {"via": KIND, "name": name}
            sheet = self.book.sheets.add(name=name, after=last)
            self._sheets = None
        _render(sheet, summary)
        if self.reviews:
            _render_reviews(sheet, _HEADER_ROW + len(summary.rows) + 2, self.reviews)
        if active is not None and active.name != self.book.sheets.active.name:
            active.activate()  # adding a sheet activates it; the analyst stays where they were
        return {"via": KIND, "name": sheet.name}

    def remove_summary(self, token: Token) -> bool:
        sheet = self._summary_sheet(token)
        if sheet is None:
            return False
        sheet.delete()
        self._sheets = None
        return True

    def read_record(self) -> MarkRecord | None:
        """The record in the workbook's custom XML parts, keys as this target spells them."""
        for xml in reversed(xlapi.read_custom_xml(self.book, NAMESPACE)):
            record = MarkRecord.from_xml(xml.encode("utf-8"))
            if record is None:
                continue
            if record.state.get("target", {}).get("kind") != KIND:
                for c in record.cells:  # a file's record keys sheets by sheetId: use the names
                    c.key = c.sheet
            return record
        return None

    def release(self, record: MarkRecord) -> None:
        """Nothing workbook-wide to free: Excel manages its own cell formats."""

    def write_record(self, record: MarkRecord | None) -> None:
        if record is None:
            xlapi.write_custom_xml(self.book, NAMESPACE, None)
            return
        record.state["target"] = {"kind": KIND}
        if self.findings is not None:
            record.state[FINDINGS_STATE] = {"json": json.dumps([_finding_json(f) for f in self.findings])}
        if self.reviews:
            record.state[REVIEWS_STATE] = {"json": json.dumps(self.reviews)}
        xml = record.to_xml().decode("utf-8")
        xml = xml[xml.index("?>") + 2 :] if xml.startswith("<?xml") else xml
        xlapi.write_custom_xml(self.book, NAMESPACE, xml)

    def roll_back(self, previous: MarkRecord | None) -> None:
        """Undo what a failed run changed, so the workbook is as Clear marks would leave it.

        Marking first restores the previous run's cells, then paints; once painting has begun the
        previous marks are gone, and so is their record. Whatever cannot be undone now (Excel still
        refusing calls) is written as the restore record instead, so Clear marks finishes the job.
        """
        journal, self._journal = list(self._journal.values()), {}
        left = MarkRecord(version="", when="")
        for c in reversed(journal):
            if not _retried(lambda c=c: self._unmark(c)):
                left.cells.insert(0, c)
        refilled = previous.summary if previous is not None and journal else None
        for token, ours in ((self._new_summary, True), (refilled, False)):
            if token and not _retried(lambda t=token, o=ours: self._drop_summary(t, o)):
                left.summary = token
        self._new_summary = None
        if not journal and not left.summary:
            return  # nothing was painted: the previous record still describes the workbook
        _retried(lambda: self.write_record(left if left.cells or left.summary else None))

    def _unmark(self, c: CellRecord) -> None:
        if c.fill:
            self.unpaint(c.key, c.cell, c.fill)
        if c.note:
            self.remove_note(c.key, c.cell, c.note)

    def _drop_summary(self, token: Token, ours: bool) -> None:
        """Delete a summary sheet this run added or was refilling (a half-written one has no title)."""
        sheet = self._find(token["name"])
        if sheet is None or sheet.name != token["name"]:
            return
        first = sheet.range("A1").value
        if ours or first is None or is_summary_sheet(sheet.name, first):
            sheet.delete()
            self._sheets = None

    # -- summary helpers -------------------------------------------------------------------------
    def _summary_sheet(self, token: Token | None) -> Any | None:
        name = (token or {}).get("name")
        sheet = self._find(name) if name else None
        if sheet is None or sheet.name != name:
            return None
        return sheet if is_summary_sheet(sheet.name, sheet.range("A1").value) else None

    def _unique_name(self, base: str) -> str:
        return unique_sheet_name(base, self._by_name())

    def summary_name(self) -> str | None:
        """The summary sheet the last run added, if it is still there."""
        record = self.read_record()
        if record is None or not record.summary:
            return None
        sheet = self._summary_sheet(record.summary)
        return sheet.name if sheet is not None else None


#: A roll-back step Excel refuses (busy: "Call was rejected by callee") is tried this often,
#: pausing a little longer each time.
RETRIES = 4
PAUSE = 0.2


def _retried(step: Callable[[], object]) -> bool:
    """Run a step, again after a pause if Excel refuses it; False if it never went through."""
    import time

    for attempt in range(RETRIES):
        try:
            step()
            return True
        except Exception:
            if attempt < RETRIES - 1:
                time.sleep(PAUSE * (attempt + 1))
    return False


def _finding_json(f: Finding) -> dict[str, Any]:
    return {**f.to_json(), "table": f.table}


def stored_findings(record: MarkRecord | None) -> list[Finding] | None:
    """The findings a record's marks stand for; None for a record without them (the command line's)."""
    token = record.state.get(FINDINGS_STATE) if record is not None else None
    if not token:
        return None
    return [Finding(**{**d, "cells": tuple(d["cells"])}) for d in json.loads(token["json"])]


def stored_reviews(record: MarkRecord | None) -> list[dict[str, str]]:
    """The reviews a record carries: sheet, cell, rule, expected, found, by, when."""
    token = record.state.get(REVIEWS_STATE) if record is not None else None
    return json.loads(token["json"]) if token else []


def review_key(f: Finding | dict[str, str]) -> tuple[str, ...]:
    """What makes a review apply to a finding: the same cell, rule and figures."""
    from ..marks.plan import fmt
    from ..marks.refs import normalize_a1

    if isinstance(f, Finding):
        return f.sheet, normalize_a1(f.cell), f.rule, fmt(f.expected), fmt(f.found)
    return f["sheet"], f["cell"], f["rule"], f["expected"], f["found"]


def review(f: Finding, by: str, when: str) -> dict[str, str]:
    sheet, cell, rule, expected, found = review_key(f)
    return {"sheet": sheet, "cell": cell, "rule": rule, "expected": expected, "found": found, "by": by, "when": when}


_REVIEW_HEADERS = ("Sheet", "Cell", "Rule", "Expected", "Found", "Reviewed by", "When")


def _render_reviews(sheet: Any, row: int, reviews: list[dict[str, str]]) -> None:
    """Below the findings: what was marked as reviewed, by whom and when (not marked again)."""
    title = "Reviewed: accepted, and not marked again while the figures stay the same"
    rows: list[list[object]] = [[title, *[None] * 6], list(_REVIEW_HEADERS)]
    rows += [[r["sheet"], r["cell"], r["rule"], r["expected"], r["found"], r["by"], r["when"]] for r in reviews]
    sheet.range((row, 1)).resize(len(rows), len(_REVIEW_HEADERS)).value = [[_cell_value(v) for v in r] for r in rows]
    sheet.range((row, 1)).font.bold = True
    sheet.range((row + 1, 1)).resize(1, len(_REVIEW_HEADERS)).font.bold = True


def _rgb_tuple(argb: str | None) -> tuple[int, int, int] | None:
    if not argb:
        return None
    rgb = argb[-6:]
    return int(rgb[0:2], 16), int(rgb[2:4], 16), int(rgb[4:6], 16)


def _threaded(rng: Any) -> bool:
    """A modern threaded comment: Excel keeps notes out of such cells."""
    try:
        return rng.comment is not None
    except Exception:  # older Excel, or a platform without threaded comments
        return False


def _embolden(note: Any, start: int, runs: Sequence[str], blocks: Sequence[tuple[str, bool]]) -> None:
    """Give each run its bold flag, as the file's rich-text runs have it."""
    at = start
    for text, (_, bold) in zip(runs, blocks, strict=False):
        n = xlapi.u16(text)
        if bold:
            xlapi.set_bold(note, at, n, True)
        at += n


def _box(runs: Sequence[str]) -> tuple[float, float]:
    """The size a file's note box gets for this text, in points."""
    from ..marks.package import vml

    rows = vml.note_rows("".join(runs))
    return vml.NOTE_COLUMNS * 64 * 0.75, rows * 20 * 0.75


def _cell_value(value: object) -> object:
    """What to write so that Excel keeps it as it is: numbers as numbers, text as text."""
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    text = str(value)[:_TEXT_LIMIT]
    return "'" + text if _coercible(text) else text


_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def _coercible(text: str) -> bool:
    """Whether Excel would turn typed text into a number, date, boolean or formula."""
    import re

    if not text or text[0] in "=+-@'":
        return bool(text)
    if text.strip().upper() in ("TRUE", "FALSE"):
        return True
    if len(text) > 40:
        return False
    if re.fullmatch(r"[\s\d.,:/%$€£()eE-]+", text) and any(ch.isdigit() for ch in text):
        return True
    low = text.lower()
    return any(ch.isdigit() for ch in text) and any(m in low for m in _MONTHS)


def _render(sheet: Any, summary: Summary) -> None:
    """The summary sheet's cells, written as few calls as Excel allows."""
    from ..marks.package.summary_sheet import quote_sheet
    from ..marks.refs import a1

    width = len(summary.headers)
    rows: list[list[object]] = [[summary.title] + [None] * (width - 1)]
    lines = list(summary.lines[: _HEADER_ROW - 2])
    for line in lines:
        rows.append([line] + [None] * (width - 1))
    while len(rows) < _HEADER_ROW - 1:
        rows.append([None] * width)
    rows.append(list(summary.headers))
    for item in summary.rows:
        rows.append(list(item.values()))
    sheet.range((1, 1)).resize(len(rows), width).value = [[_cell_value(v) for v in r] for r in rows]

    for i, w in enumerate(_WIDTHS[:width], start=1):
        sheet.range((1, i)).column_width = w
    sheet.range("A1").font.bold = True
    sheet.range("A1").font.size = 14
    header = sheet.range((_HEADER_ROW, 1)).resize(1, width)
    header.font.bold = True
    ints: list[str] = []
    by_severity: dict[str, list[str]] = {}
    for n, item in enumerate(summary.rows, start=_HEADER_ROW + 1):
        link = sheet.range((n, 2))
        xlapi.add_internal_link(link, f"{quote_sheet(item.sheet)}!{item.cell}", item.cell)
        if item.severity in FILLS:
            by_severity.setdefault(item.severity, []).append(a1(n, 4))
        for c, value in enumerate(item.values(), start=1):
            if c in (2, 4):
                continue
            if isinstance(value, (int, float)) and not isinstance(value, bool) and float(value).is_integer():
                ints.append(a1(n, c))
    if summary.rows:
        links = sheet.range(f"B{_HEADER_ROW + 1}:B{_HEADER_ROW + len(summary.rows)}")
        links.font.color = _LINK_RGB
        xlapi.underline(links)
    for severity, refs in by_severity.items():
        for chunk in _chunks(refs):
            sheet.range(chunk).color = "#" + FILLS[severity][-6:]
    for chunk in _chunks(ints):
        sheet.range(chunk).number_format = "#,##0"
    xlapi.tab_color(sheet, _TAB)
    xlapi.freeze_rows(sheet, _HEADER_ROW)


def _chunks(refs: list[str], limit: int = 250) -> list[str]:
    """Comma-joined addresses Excel accepts as one range (its address argument stops at 255)."""
    out: list[str] = []
    current = ""
    for ref in refs:
        if current and len(current) + 1 + len(ref) > limit:
            out.append(current)
            current = ref
        else:
            current = f"{current},{ref}" if current else ref
    if current:
        out.append(current)
    return out
