"""Figures as analysts write them: exact numbers, or text such as "over 200,000" read as intervals.

A relation between figures holds when their intervals can agree, so "about 26.6 million" is not a
false alarm and "over 200,000" can still be shown to contradict an average.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from functools import lru_cache
from typing import NamedTuple

INF = math.inf

_APPROX = r"about|approx\.?|approximately|around|c\.|ca\.?|circa|~|≈|some|nearly|roughly|almost|est\.?|estimated|близько|около|приблизно|примерно"
_ABOVE = r"over|more than|at least|above|>=|≥|>|понад|более|больше|свыше"
_BELOW = r"under|less than|fewer than|up to|at most|below|<=|≤|<|до|менее|меньше"
_SCALES = {
    "k": 1e3, "thousand": 1e3, "thousands": 1e3, "thous.": 1e3, "тис.": 1e3, "тыс.": 1e3, "тис": 1e3, "тыс": 1e3,
    "m": 1e6, "mn": 1e6, "mln": 1e6, "mio": 1e6, "million": 1e6, "millions": 1e6, "млн": 1e6, "млн.": 1e6,
    "b": 1e9, "bn": 1e9, "billion": 1e9, "млрд": 1e9,
}
_NUMBER = r"[-+−]?\d{1,3}(?:[,\u00a0\u202f\u2009 ]\d{3})+(?:\.\d+)?|[-+−]?\d+(?:\.\d+)?|[-+−]?\.\d+"
_FIGURE_RE = re.compile(
    rf"^\s*(?P<qual>(?:{_APPROX}|{_ABOVE}|{_BELOW})\s*)?"
    rf"(?P<num>{_NUMBER})\s*"
    rf"(?:(?P<scale>{'|'.join(re.escape(s) for s in sorted(_SCALES, key=len, reverse=True))})(?![^\W\d_]))?"
    rf"(?P<plus>\+)?%?(?![\d.,])",  # "75%" in a percent column is the figure 75
    re.IGNORECASE,
)
_TRAILING_BAD = re.compile(r"[\d()\[\]:;/=]")
_MISSING = {"", "-", "–", "—", "n/a", "na", "n.a.", "no data", "nd", "..", "...", "…", "?", "x", "none", "unknown", "немає даних", "нет данных"}


class Figure(NamedTuple):
    """One figure: the number stated, the interval it stands for, and how precisely it was shown.

    ``lo``/``hi`` bound the true value as written ("over 200,000" -> (200,000, inf)); ``decimals``
    is the precision shown (from the number format, or the text); ``unit`` is the size of the
    last significant digit, which says how far a round figure may have been rounded.
    """

    value: float
    lo: float
    hi: float
    decimals: int
    unit: float
    text: str = ""
    qualifier: str = ""

    @property
    def exact(self) -> bool:
        return self.lo == self.hi

    def rounding(self) -> tuple[float, float]:
        """The interval if this figure is a round number that was rounded (warning territory)."""
        if self.unit >= 100 or (self.text and self.unit > 1):
            unit = self.unit
            while unit > 1 and abs(self.value) / unit < 10:  # keep two significant digits: 100 was not 140
                unit /= 10
            if unit < 100 and not self.text:
                return (self.lo, self.hi)
            half = unit / 2
            return (min(self.lo, self.value - half), max(self.hi, self.value + half))
        return (self.lo, self.hi)

    def show(self) -> str:
        """The figure as the analyst wrote it, for messages."""
        return self.text.strip() if self.text else format_number(self.value, self.decimals)


def format_number(value: float, decimals: int | None = None) -> str:
    """A number with thousands separators, as an analyst reads it."""
    if value in (INF, -INF):
        return "∞" if value > 0 else "-∞"
    if decimals is None:
        decimals = 0 if float(value).is_integer() else min(_decimals_of(value), 2)
    return f"{value:,.{decimals}f}"


def _decimals_of(value: float) -> int:
    text = repr(round(float(value), 10))
    if "e" in text or "." not in text:
        return 0
    frac = text.split(".", 1)[1].rstrip("0")
    return len(frac)


def _significant_unit(value: float, decimals: int) -> float:
    """Size of the last significant digit: 12,840,000 -> 10,000; 26.6 -> 0.1; 340 -> 10."""
    if decimals > 0:
        return 10.0 ** -decimals
    n = abs(round(value))
    if n % 10 or n == 0:
        return 1.0
    unit = 1
    while n % 10 == 0:
        n //= 10
        unit *= 10
    return float(unit)


@lru_cache(maxsize=512)
def decimals_from_format(code: str | None) -> int | None:
    """Decimals a number format shows ("#,##0.0" -> 1); None for General."""
    if not code or code.lower() == "general":
        return None
    section = code.split(";", 1)[0]
    section = re.sub(r'"[^"]*"|\[[^\]]*\]|\\.', "", section)
    match = re.search(r"\.([0#?]+)", section)
    return len(match.group(1)) if match else 0


@lru_cache(maxsize=512)
def is_percent_format(code: str | None) -> bool:
    if not code:
        return False
    return "%" in re.sub(r'"[^"]*"|\\.', "", code.split(";", 1)[0])


_FORMAT_INFO: dict[str, tuple[int | None, bool]] = {}


def figure_from_number(value: float, number_format: str | None = None) -> Figure:
    """A number typed in a cell is exact; its format tells the precision shown."""
    value = float(value)
    shown = None
    if number_format is not None:
        info = _FORMAT_INFO.get(number_format)
        if info is None:
            info = _FORMAT_INFO[number_format] = (decimals_from_format(number_format), is_percent_format(number_format))
        shown, percent = info
        if percent:
            value *= 100
    decimals = shown if shown is not None else 0 if value.is_integer() else _decimals_of(value)
    return Figure(value, value, value, decimals, _significant_unit(value, decimals))


@lru_cache(maxsize=4096)
def figure_from_text(text: str) -> Figure | None:
    """Parse "4,000", "1.05M", "8.7 million", "over 200,000", "~5,710" into a Figure.

    Returns None for missing-value text ("No data", "n/a", "-") and for text that is no figure.
    """
    raw = text.strip()
    if raw.lower() in _MISSING:
        return None
    match = _FIGURE_RE.match(raw)
    if not match:
        return None
    rest = raw[match.end() :]
    if rest and (_TRAILING_BAD.search(rest) or not (rest[0].isspace() or raw[match.end() - 1].isspace())):
        return None  # "2025 (as of 4 June)" or "1st" is a label, not a figure; "5,710 killed" is one
    num = match.group("num").replace("−", "-")
    num = re.sub(r"[,\u00a0\u202f\u2009 ]", "", num)
    decimals = len(num.split(".", 1)[1]) if "." in num else 0
    scale = _SCALES.get((match.group("scale") or "").lower(), 1.0)
    value = float(num) * scale
    stated_unit = 10.0**-decimals * scale  # "half a unit of the last stated digit"
    unit = _significant_unit(float(num), decimals) * scale
    qual = (match.group("qual") or "").strip().lower()
    lo = hi = value
    if match.group("plus") or re.fullmatch(_ABOVE, qual):
        qual = qual or "+"
        lo, hi = math.nextafter(value, INF), INF
    elif re.fullmatch(_BELOW, qual):
        lo, hi = -INF, math.nextafter(value, -INF)
    elif qual:
        lo, hi = value - stated_unit / 2, value + stated_unit / 2
    decimals_shown = max(0, decimals - round(math.log10(scale)))
    return Figure(value, lo, hi, decimals_shown, unit, text=raw, qualifier=qual)


def figure_of(value: object, number_format: str | None = None) -> Figure | None:
    """The figure in a cell value, whatever its type; None when the cell holds no figure."""
    kind = type(value)
    if kind is float:  # most cells: the reader's numbers
        return figure_from_number(value, number_format) if math.isfinite(value) else None
    if kind is str:  # labels and text figures, met again and again while tables are found
        return figure_from_text(value)
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            return None
        return figure_from_number(float(value), number_format)
    if isinstance(value, str):
        return figure_from_text(value)
    if isinstance(value, (date, datetime)):
        return None
    return None
