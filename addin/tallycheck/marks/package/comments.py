"""A sheet's comments part (xl/commentsN.xml): the text of its notes.

Our note is a rich-text comment whose first run is a bold "tallycheck" heading. When the analyst
already has a note on the cell, their runs stay as they are and ours follow; the exact original
<text> element is kept in the restore record, so clearing puts back precisely what was there.
"""

from __future__ import annotations

import bisect
import contextlib
import hashlib
import json

from lxml import etree

from ..refs import parse_a1
from .ns import XML_NS, Dialect
from .xmlio import xml_text

AUTHOR = "tallycheck"
_FONT = (("sz", "9"), ("color", None), ("rFont", "Tahoma"), ("family", "2"))


def new_root(d: Dialect) -> etree._Element:
    """An empty comments part."""
    root = etree.Element(d.q("comments"), nsmap={None: d.main})
    etree.SubElement(root, d.q("authors"))
    etree.SubElement(root, d.q("commentList"))
    return root


def _digest(el: etree._Element) -> str:
    return hashlib.sha256(etree.tostring(el, method="c14n")).hexdigest()


class Comments:
    """The notes of one sheet, backed by the comments part's lxml root."""

    def __init__(self, root: etree._Element, d: Dialect) -> None:
        self.root = root
        self.d = d
        self._index: dict[tuple[int, int], etree._Element] | None = None
        self._keys: list[tuple[int, int]] = []  # sorted keys of _index

    def _by_cell(self) -> dict[tuple[int, int], etree._Element]:
        """Comments by (row, column), built once: a sheet can hold thousands of notes."""
        if self._index is None:
            self._index = {}
            for c in self._list().iterchildren(self.d.q("comment")):
                with contextlib.suppress(ValueError):
                    self._index.setdefault(parse_a1(c.get("ref", "")), c)
            self._keys = sorted(self._index)
        return self._index

    def _list(self) -> etree._Element:
        lst = self.root.find(self.d.q("commentList"))
        if lst is None:
            lst = etree.Element(self.d.q("commentList"))
            authors = self.root.find(self.d.q("authors"))
            if authors is not None:
                authors.addnext(lst)
            else:
                self.root.insert(0, lst)
        return lst

    def find(self, ref: str) -> etree._Element | None:
        """The <comment> on a cell, if any."""
        return self._by_cell().get(parse_a1(ref))

    def __len__(self) -> int:
        return len(self._list().findall(self.d.q("comment")))

    def author_id(self) -> tuple[int, bool]:
        """Our author's index, and whether it had to be added."""
        authors = self.root.find(self.d.q("authors"))
        if authors is None:
            authors = etree.Element(self.d.q("authors"))
            self.root.insert(0, authors)
        names = [a.text or "" for a in authors.iterchildren(self.d.q("author"))]
        if AUTHOR in names:
            return names.index(AUTHOR), False
        etree.SubElement(authors, self.d.q("author")).text = AUTHOR
        return len(names), True

    def remove_author(self) -> bool:
        """Drop our author if it is the last one and no comment uses it (indexes stay valid)."""
        authors = self.root.find(self.d.q("authors"))
        if authors is None or not len(authors) or authors[-1].text != AUTHOR:
            return False
        index = str(len(authors) - 1)
        if any(c.get("authorId") == index for c in self._list()):
            return False
        authors.remove(authors[-1])
        return True

    def _runs(self, blocks: list[tuple[str, bool]]) -> list[etree._Element]:
        runs = []
        for text, bold in blocks:
            r = etree.Element(self.d.q("r"))
            rpr = etree.SubElement(r, self.d.q("rPr"))
            if bold:
                etree.SubElement(rpr, self.d.q("b"))
            for tag, val in _FONT:
                el = etree.SubElement(rpr, self.d.q(tag))
                if val is None:
                    el.set("indexed", "81")
                else:
                    el.set("val", val)
            t = etree.SubElement(r, self.d.q("t"))
            t.text = xml_text(text)
            t.set(f"{{{XML_NS}}}space", "preserve")
            runs.append(r)
        return runs

    def add(self, ref: str, blocks: list[tuple[str, bool]]) -> dict[str, str]:
        """Add our note to a cell; keep the analyst's note if there is one. Returns the token."""
        existing = self.find(ref)
        runs = self._runs(blocks)
        ours = json.dumps([r.findtext(self.d.q("t")) for r in runs])
        if existing is None:
            author, added = self.author_id()
            c = etree.Element(self.d.q("comment"))
            c.set("ref", ref)
            c.set("authorId", str(author))
            c.set("shapeId", "0")
            text = etree.SubElement(c, self.d.q("text"))
            text.extend(runs)
            self._insert_sorted(c)
            token = {"mode": "new", "ours": ours, "applied": _digest(text)}
            if added:
                token["author"] = "added"
            return token
        text = existing.find(self.d.q("text"))
        if text is None:
            text = etree.SubElement(existing, self.d.q("text"))
        original = etree.tostring(text, encoding="unicode")
        plain = text.find(self.d.q("t"))
        if plain is not None:
            # A plain-text note becomes one run, so that runs can follow it.
            r = etree.Element(self.d.q("r"))
            plain.addprevious(r)
            r.append(plain)
        first_r = runs[0].find(self.d.q("t"))
        first_r.text = "\n\n" + (first_r.text or "")
        ours = json.dumps([r.findtext(self.d.q("t")) for r in runs])
        last_run = text.findall(self.d.q("r"))
        anchor = last_run[-1] if last_run else None
        for r in reversed(runs):
            if anchor is not None:
                anchor.addnext(r)
            else:
                text.insert(0, r)
        return {"mode": "appended", "original": original, "ours": ours, "applied": _digest(text)}

    def _insert_sorted(self, comment: etree._Element) -> None:
        """Insert before the note of the next cell in reading order (Excel keeps them sorted)."""
        index = self._by_cell()
        key = parse_a1(comment.get("ref", ""))
        at = bisect.bisect(self._keys, key)
        if at < len(self._keys):
            index[self._keys[at]].addprevious(comment)
        else:
            items = self._list().findall(self.d.q("comment"))
            if items:
                items[-1].addnext(comment)
            else:
                self._list().insert(0, comment)
        self._keys.insert(at, key)
        index[key] = comment

    def _forget(self, comment: etree._Element) -> None:
        key = parse_a1(comment.get("ref", ""))
        index = self._by_cell()
        if index.get(key) is comment:
            del index[key]
            self._keys.remove(key)
        comment.getparent().remove(comment)

    def remove(self, ref: str, token: dict[str, str]) -> bool:
        """Take our note away again; False if the note is gone or no longer ours."""
        c = self.find(ref)
        if c is None:
            return False
        text = c.find(self.d.q("text"))
        if text is None:
            return False
        if token.get("mode") == "new":
            ours = set(json.loads(token.get("ours", "[]")))
            others = [r for r in text if r.findtext(self.d.q("t")) not in ours]
            if _digest(text) == token.get("applied") or not others:
                self._forget(c)
                return True
            for r in text.findall(self.d.q("r")):
                if r.findtext(self.d.q("t")) in ours:
                    text.remove(r)
            return True
        if _digest(text) == token.get("applied"):
            restored = etree.fromstring(token["original"])
            text.addprevious(restored)
            c.remove(text)
            return True
        ours = set(json.loads(token.get("ours", "[]")))
        found = False
        for r in text.findall(self.d.q("r")):
            if r.findtext(self.d.q("t")) in ours:
                text.remove(r)
                found = True
        return found


