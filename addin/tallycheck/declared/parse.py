"""Rule text -> rule tree: a small hand-written lexer and Pratt parser with errors a person can act on.

Rules read like the spreadsheet: column headers and row labels are names, written bare (spaces and
all) or in [brackets] when they hold an operator; cells are Excel references (``C4``,
``Summary!C4``, ``'By year'!C4:C9``).

    Total = Killed + Wounded + Missing          a relation (per row of a table)
    Per day = Losses / days(Year)
    Cumulative = previous(Cumulative) + Daily change
    Low <= Best <= High
    row "Total" = sum(rows above)
    Summary!C4 = Breakdown!E12                  a relation between cells
    ignore per_day                              switches
    tolerance 1% for sum
    missing -999, "n/a"
    severity warning for percent

A rule with a comparison (=, <=, >=, <, >, ≤, ≥) is a relation; one without is a switch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from ..engine.relations import Relation

FUNCTIONS = ("days", "previous", "sum", "abs", "min", "max")
CMP_OPS = {"=": "=", "==": "=", "<=": "<=", ">=": ">=", "<": "<", ">": ">", "≤": "<=", "≥": ">="}
SWITCHES = ("ignore", "tolerance", "missing", "severity")
SEVERITIES = ("error", "warning")

_CELL = r"\$?[A-Za-z]{1,3}\$?\d{1,7}"
CELL_RE = re.compile(rf"^{_CELL}$")
RANGE_RE = re.compile(rf"^({_CELL})(?::({_CELL}))?$")
_UPPER_CELL_RE = re.compile(r"^\$?[A-Z]{1,3}\$?\d{1,7}(?::\$?[A-Z]{1,3}\$?\d{1,7})?$")
_STOP = set("+-*/=<>≤≥≠(),[]!:\"“”")
_QUOTES = {'"': '"', "“": "”", "”": "”"}


class RuleSyntaxError(ValueError):
    """A rule that cannot be read; ``position`` is the 0-based character it stumbled on."""

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


# ---------------------------------------------------------------- the tree


@dataclass(frozen=True)
class Num:
    value: float
    text: str


@dataclass(frozen=True)
class Col:
    """A column, by its header (as written in the rule)."""

    name: str
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Cell:
    """A cell or a range, on a named sheet or on the sheet the rule applies to."""

    ref: str
    sheet: str | None = None
    pos: int = field(default=0, compare=False)

    @property
    def is_range(self) -> bool:
        return ":" in self.ref


@dataclass(frozen=True)
class RowRef:
    """``row "Total"``: the row (or rows) with that label."""

    label: str
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Rows:
    """``rows above`` / ``rows below`` / ``rows "2022" to "2024"`` / ``rows "Subtotal"``."""

    how: Literal["above", "below", "range", "label"]
    first: str = ""
    last: str = ""
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Call:
    fn: str
    args: tuple[Expr, ...]
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class BinOp:
    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Neg:
    operand: Expr


Expr = Num | Col | Cell | RowRef | Rows | Call | BinOp | Neg


@dataclass(frozen=True)
class Claim:
    """A relation: ``terms[0] ops[0] terms[1] ops[1] terms[2] ...`` (a chain such as Low <= Best <= High)."""

    terms: tuple[Expr, ...]
    ops: tuple[str, ...]
    text: str = ""


@dataclass(frozen=True)
class Switch:
    """ignore / tolerance / missing / severity, with what it covers."""

    kind: Literal["ignore", "tolerance", "missing", "severity"]
    rules: tuple[str, ...] = ()
    cells: tuple[str, ...] = ()
    amount: Tolerance | None = None
    values: tuple[float | str, ...] = ()
    severity: str = ""
    text: str = ""


@dataclass(frozen=True)
class Tolerance:
    """An allowed difference: absolute (5) or relative (1% of the expected figure)."""

    absolute: float = 0.0
    percent: float = 0.0

    def amount(self, lo: float, hi: float) -> float:
        scale = max((abs(v) for v in (lo, hi) if v not in (float("inf"), float("-inf"))), default=0.0)
        return max(self.absolute, self.percent / 100 * scale)

    def widen(self, rel: Relation) -> None:
        """Let the relation be off by this much (never less than it already allows)."""
        rel.tolerance = max(rel.tolerance, self.amount(*rel.expected))

    def __str__(self) -> str:
        return f"{_num(self.percent)}%" if self.percent else _num(self.absolute)


Rule = Claim | Switch


# ---------------------------------------------------------------- lexer


@dataclass(frozen=True)
class Token:
    kind: Literal["name", "cell", "num", "str", "op", "cmp", "(", ")", ",", "end"]
    text: str
    pos: int
    sheet: str | None = None


def _read_quoted(text: str, i: int, close: str) -> tuple[str, int]:
    j = text.find(close, i + 1)
    if j < 0:
        raise RuleSyntaxError(f"a quotation opened at character {i + 1} is never closed", i)
    return text[i + 1 : j], j + 1


def _read_ref(text: str, i: int, sheet: str, start: int) -> tuple[Token, int]:
    m = re.compile(rf"\s*({_CELL}(?::{_CELL})?)").match(text, i)
    if not m:
        raise RuleSyntaxError(f"expected a cell such as {sheet}!C4 after '{sheet}!'", i)
    return Token("cell", m.group(1).upper().replace("$", ""), start, sheet=sheet), m.end()


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        start = i
        if ch in _QUOTES:
            value, i = _read_quoted(text, i, _QUOTES[ch])
            tokens.append(Token("str", value, start))
            continue
        if ch == "[":
            value, i = _read_quoted(text, i, "]")
            tokens.append(Token("name", value.strip(), start))
            continue
        if ch == "'":
            sheet, i = _read_quoted(text, i, "'")
            if i < n and text[i] == "!":
                tok, i = _read_ref(text, i + 1, sheet, start)
                tokens.append(tok)
                continue
            raise RuleSyntaxError(f"'{sheet}' in single quotes must be a sheet followed by !, as in '{sheet}'!C4", start)
        two = text[i : i + 2]
        if two in ("<=", ">=", "=="):
            tokens.append(Token("cmp", CMP_OPS[two], start))
            i += 2
            continue
        if two in ("<>", "!=") or ch == "≠":
            raise RuleSyntaxError("'not equal' is not a rule tallycheck can check; state what must hold", start)
        if ch in "=<>≤≥":
            tokens.append(Token("cmp", CMP_OPS[ch], start))
            i += 1
            continue
        if ch in "+-*/×÷−":
            tokens.append(Token("op", {"×": "*", "÷": "/", "−": "-"}.get(ch, ch), start))
            i += 1
            continue
        if ch in "(),":
            tokens.append(Token(ch, ch, start))  # type: ignore[arg-type]
            i += 1
            continue
        if ch.isdigit() or (ch == "." and i + 1 < n and text[i + 1].isdigit()):
            m = re.compile(r"\d*\.?\d+(?:[eE][-+]?\d+)?").match(text, i)
            assert m is not None
            end = m.end()
            if end < n and (text[end].isalpha() or text[end] == "_"):
                word = re.compile(r"[\w$]+").match(text, i)
                raise RuleSyntaxError(
                    f"'{word.group(0) if word else text[i:end]}' starts with a digit: write a header like that "
                    f"in brackets, [{word.group(0) if word else text[i:end]}]", i
                )
            tokens.append(Token("num", m.group(0), start))
            i = end
            continue
        if ch in "!:]\"”":
            raise RuleSyntaxError(f"unexpected '{ch}' at character {i + 1}", i)
        # a name: words, spaces and punctuation up to the next operator
        j = i
        while j < n and text[j] not in _STOP:
            j += 1
            if j < n and text[j] == "-" and text[j - 1].isalnum() and j + 1 < n and text[j + 1].isalnum():
                j += 1  # Re-conscripted, Post-war: a hyphen inside a word is part of the name
        name = text[i:j].strip()
        k = j
        while k < n and text[k] == " ":
            k += 1
        if k < n and text[k] == "(" and name.lower() not in FUNCTIONS and name.lower() not in ("row", "rows"):
            close = text.find(")", k)
            if close > 0:  # "Share (%)", "Per day (avg)": parentheses that belong to a header
                name = text[i : close + 1].strip()
                j = close + 1
        if j < n and text[j] == "!":
            tok, j = _read_ref(text, j + 1, name, start)
            tokens.append(tok)
        elif j < n and text[j] == ":" and CELL_RE.match(name):
            m = re.compile(rf":\s*({_CELL})").match(text, j)
            if not m:
                raise RuleSyntaxError(f"expected a range such as {name}:{name[0]}9", j)
            tokens.append(Token("cell", f"{name}:{m.group(1)}".upper().replace("$", ""), start))
            j = m.end()
        elif _UPPER_CELL_RE.match(name):
            tokens.append(Token("cell", name.replace("$", ""), start))
        else:
            tokens.append(Token("name", name, start))
        i = j
    tokens.append(Token("end", "", n))
    return tokens


# ---------------------------------------------------------------- parser


_BINDING = {"+": 10, "-": 10, "*": 20, "/": 20}


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def where(self, tok: Token) -> str:
        return "at the end" if tok.kind == "end" else f"at character {tok.pos + 1}"

    def expect(self, kind: str, what: str) -> Token:
        if self.tok.kind != kind:
            raise RuleSyntaxError(f"expected {what} {self.where(self.tok)}{self._got()}", self.tok.pos)
        return self.take()

    def _got(self) -> str:
        return "" if self.tok.kind == "end" else f", found '{self.tok.text}'"

    def claim(self) -> Claim:
        terms = [self.expr(0)]
        ops: list[str] = []
        while self.tok.kind == "cmp":
            ops.append(self.take().text)
            terms.append(self.expr(0))
        if self.tok.kind != "end":
            tok = self.tok
            hint = " (an operator is missing?)" if tok.kind in ("name", "num", "cell", "str") else ""
            raise RuleSyntaxError(f"unexpected '{tok.text}' at character {tok.pos + 1}{hint}", tok.pos)
        if not ops:
            raise RuleSyntaxError("a relation needs =, <= or >= between two sides", len(self.text))
        if "=" in ops and len(ops) > 1:
            raise RuleSyntaxError("write one equation a rule (a chain such as Low <= Best <= High may use <, <=, >, >=)", 0)
        if any(o in ("<", "<=") for o in ops) and any(o in (">", ">=") for o in ops):
            raise RuleSyntaxError("a chain must run one way: all <, <= or all >, >=", 0)
        return Claim(tuple(terms), tuple(ops), self.text.strip())

    def expr(self, bind: int) -> Expr:
        left = self.prefix()
        while self.tok.kind == "op" and _BINDING[self.tok.text] > bind:
            op = self.take().text
            if self.tok.kind in ("end", "cmp", ")", ","):
                raise RuleSyntaxError(
                    f"expected a column, a cell or a number after '{op}' {self.where(self.tok)}", self.tok.pos
                )
            left = BinOp(op, left, self.expr(_BINDING[op]))
        if self.tok.kind in ("name", "num", "cell", "("):
            tok = self.tok
            raise RuleSyntaxError(
                f"expected an operator (+, -, *, /, =) before '{tok.text}' at character {tok.pos + 1}", tok.pos
            )
        return left

    def prefix(self) -> Expr:
        tok = self.take()
        if tok.kind == "num":
            return Num(float(tok.text), tok.text)
        if tok.kind == "cell":
            return Cell(tok.text, tok.sheet, tok.pos)
        if tok.kind == "op" and tok.text == "-":
            return Neg(self.expr(25))
        if tok.kind == "(":
            inner = self.expr(0)
            if self.tok.kind != ")":
                raise RuleSyntaxError(f"missing ')' for the '(' at character {tok.pos + 1}", self.tok.pos)
            self.take()
            return inner
        if tok.kind == "str":
            raise RuleSyntaxError(
                f'"{tok.text}" in quotes is a row label: write row "{tok.text}", or leave the quotes off for a column',
                tok.pos,
            )
        if tok.kind == "name":
            return self.named(tok)
        if tok.kind == "end":
            raise RuleSyntaxError("the rule ends too early: expected a column, a cell or a number", tok.pos)
        raise RuleSyntaxError(f"expected a column, a cell or a number {self.where(tok)}, found '{tok.text}'", tok.pos)

    def named(self, tok: Token) -> Expr:
        low = " ".join(tok.text.lower().split())
        if low == "row":
            label = self.expect("str", 'a row label in quotes after row, as in row "Total"')
            return RowRef(label.text, tok.pos)
        if low in ("rows above", "rows below"):
            return Rows(low.split()[1], pos=tok.pos)  # type: ignore[arg-type]
        if low == "rows":
            first = self.expect("str", 'rows above, rows below, or rows "First" to "Last"')
            if self.tok.kind == "name" and self.tok.text.lower() == "to":
                self.take()
                last = self.expect("str", 'the last row label in quotes, as in rows "2022" to "2024"')
                return Rows("range", first.text, last.text, tok.pos)
            return Rows("label", first.text, pos=tok.pos)
        if low in FUNCTIONS and self.tok.kind == "(":
            self.take()
            args: list[Expr] = []
            if self.tok.kind != ")":
                args.append(self.expr(0))
                while self.tok.kind == ",":
                    self.take()
                    args.append(self.expr(0))
            if self.tok.kind != ")":
                raise RuleSyntaxError(f"missing ')' to close {low}( {self.where(self.tok)}{self._got()}", self.tok.pos)
            self.take()
            _check_call(low, args, tok.pos)
            return Call(low, tuple(args), tok.pos)
        return Col(tok.text, tok.pos)


def _check_call(fn: str, args: list[Expr], pos: int) -> None:
    if fn == "previous" and (len(args) != 1 or not isinstance(args[0], Col)):
        raise RuleSyntaxError("previous() takes one column: previous(Cumulative)", pos)
    if fn == "days" and not (1 <= len(args) <= 2 and all(isinstance(a, Col | Cell) for a in args)):
        raise RuleSyntaxError("days() takes the column of the period, days(Year), or two date columns, days(Start, End)", pos)
    if fn in ("abs",) and len(args) != 1:
        raise RuleSyntaxError(f"{fn}() takes one value", pos)
    if fn in ("sum", "min", "max") and not args:
        raise RuleSyntaxError(f"{fn}() needs something to work on, as in sum(rows above)", pos)


# ---------------------------------------------------------------- switches

_TOL_RE = re.compile(r"^\s*(?:±|\+/-|\+-)?\s*(\d+(?:\.\d+)?|\.\d+)\s*(%?)\s*$")


def parse_tolerance(value: object) -> Tolerance | None:
    """5 -> absolute 5; "1%" -> 1 percent; blank -> None; anything else -> RuleSyntaxError."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise RuleSyntaxError(f"tolerance {value!r} is not a number")
    if isinstance(value, int | float):
        if value < 0:
            raise RuleSyntaxError("a tolerance cannot be negative")
        return Tolerance(absolute=float(value))
    m = _TOL_RE.match(str(value))
    if not m:
        raise RuleSyntaxError(f"tolerance '{value}' is not a number such as 5 or 1%")
    number = float(m.group(1))
    return Tolerance(percent=number) if m.group(2) else Tolerance(absolute=number)


def _split_list(text: str) -> list[str]:
    parts, buf, quote = [], "", ""
    for ch in text:
        if quote:
            buf += ch
            if ch == quote:
                quote = ""
        elif ch in _QUOTES:
            quote = _QUOTES[ch]
            buf += ch
        elif ch == ",":
            parts.append(buf.strip())
            buf = ""
        else:
            buf += ch
    if quote:
        raise RuleSyntaxError("a quotation is never closed")
    if buf.strip():
        parts.append(buf.strip())
    return [p for p in parts if p]


def _rule_names(text: str) -> tuple[str, ...]:
    return tuple(w.strip().lower().replace(" ", "_") for w in _split_list(text))


def parse_switch(text: str) -> Switch:
    stripped = text.strip()
    word, _, rest = stripped.partition(" ")
    kind = word.lower()
    rest = rest.strip()
    if kind == "ignore":
        m = re.match(r"^(?P<rules>.*?)(?:(?:^|\s)at\s+(?P<cells>.+))?$", rest, re.I)
        assert m is not None
        rules_part, at = m.group("rules").strip(), m.group("cells")
        names: list[str] = []
        cells: list[str] = []
        for item in _split_list(rules_part):
            (cells if RANGE_RE.match(item.replace("$", "")) and any(c.isdigit() for c in item) else names).append(item)
        for item in _split_list(at or ""):
            if not RANGE_RE.match(item.replace("$", "")):
                raise RuleSyntaxError(f"'{item}' after 'at' is not a cell or range such as E7 or E7:E9")
            cells.append(item)
        if not names and not cells:
            raise RuleSyntaxError("say what to ignore: a check (sum, per_day, ...), 'all', or cells (ignore sum at E7)")
        return Switch(
            "ignore", tuple(n.lower().replace(" ", "_") for n in names) or ("all",),
            tuple(c.upper().replace("$", "") for c in cells), text=stripped,
        )
    if kind in ("tolerance", "severity"):
        value, scope = [*re.split(r"\s+for\s+", rest, maxsplit=1, flags=re.I), ""][:2]
        rules = _rule_names(scope) if scope else ()
        if kind == "tolerance":
            amount = parse_tolerance(value)
            if amount is None:
                raise RuleSyntaxError("tolerance needs an amount, as in 'tolerance 5' or 'tolerance 1%'")
            return Switch("tolerance", rules, amount=amount, text=stripped)
        level = value.strip().lower()
        if level not in SEVERITIES:
            raise RuleSyntaxError(f"severity must be error or warning, not '{value.strip()}'")
        return Switch("severity", rules, severity=level, text=stripped)
    if kind == "missing":
        values: list[float | str] = []
        for item in _split_list(rest):
            if item[0] in _QUOTES:
                values.append(item[1:-1].strip())
            else:
                try:
                    values.append(float(item.replace("−", "-")))
                except ValueError:
                    values.append(item)
        if not values:
            raise RuleSyntaxError('missing needs the codes that stand for "no figure", as in missing -999, "n/a"')
        return Switch("missing", values=tuple(values), text=stripped)
    raise RuleSyntaxError("")  # not a switch: the caller explains


def is_relation(text: str) -> bool:
    """A rule with a comparison outside quotes and brackets is a relation; otherwise a switch."""
    depth_quote = ""
    for ch in text:
        if depth_quote:
            if ch == depth_quote:
                depth_quote = ""
            continue
        if ch in _QUOTES:
            depth_quote = _QUOTES[ch]
        elif ch == "[":
            depth_quote = "]"
        elif ch in "=<>≤≥≠":
            return True
    return False


def parse_rule(text: str) -> Rule:
    """Parse one rule; RuleSyntaxError says what was expected, and where."""
    if not isinstance(text, str) or not text.strip():
        raise RuleSyntaxError("the rule is empty")
    if is_relation(text):
        return _Parser(text).claim()
    word = text.strip().split()[0].lower()
    if word in SWITCHES:
        return parse_switch(text)
    import difflib

    close = difflib.get_close_matches(word, SWITCHES, n=1, cutoff=0.7)
    if close:
        raise RuleSyntaxError(f"unknown switch '{word}'; did you mean '{close[0]}'?", 0)
    raise RuleSyntaxError(
        "not a rule: a relation needs = (or <=, >=) between two sides, as in Total = Killed + Wounded; "
        "a switch starts with ignore, tolerance, missing or severity", 0,
    )


# ---------------------------------------------------------------- showing


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


def show(expr: Expr, parent: int = 0) -> str:
    """An expression written back the way an analyst would write it."""
    if isinstance(expr, Num):
        return expr.text
    if isinstance(expr, Col):
        return expr.name if not any(c in _STOP for c in expr.name) or "(" in expr.name else f"[{expr.name}]"
    if isinstance(expr, Cell):
        if expr.sheet is None:
            return expr.ref
        sheet = expr.sheet if re.fullmatch(r"\w+", expr.sheet) else f"'{expr.sheet}'"
        return f"{sheet}!{expr.ref}"
    if isinstance(expr, RowRef):
        return f'row "{expr.label}"'
    if isinstance(expr, Rows):
        if expr.how in ("above", "below"):
            return f"rows {expr.how}"
        return f'rows "{expr.first}" to "{expr.last}"' if expr.how == "range" else f'rows "{expr.first}"'
    if isinstance(expr, Call):
        return f"{expr.fn}({', '.join(show(a) for a in expr.args)})"
    if isinstance(expr, Neg):
        return f"-{show(expr.operand, 30)}"
    bind = _BINDING[expr.op]
    text = f"{show(expr.left, bind - 1)} {expr.op} {show(expr.right, bind)}"
    return f"({text})" if bind <= parent else text


def show_claim(claim: Claim) -> str:
    out = show(claim.terms[0])
    for op, term in zip(claim.ops, claim.terms[1:], strict=True):
        out += f" {op} {show(term)}"
    return out
