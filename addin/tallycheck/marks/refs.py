"""A1 references as (row, column) numbers: the only cell address the marks code speaks."""

from __future__ import annotations

import re
from functools import lru_cache

MAX_ROW = 1_048_576
MAX_COL = 16_384

#: References parse_a1 remembers: a few sheets' worth of the cells marks look at and step over.
_PARSED = 1 << 14  # at most a few MB
_A1 = re.compile(r"^\$?([A-Za-z]{1,3})\$?([0-9]{1,7})$")


def column_number(letters: str) -> int:
    """'A' -> 1, 'AA' -> 27."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ord(ch) - 64)
    return n


@lru_cache(maxsize=MAX_COL)
def column_letters(n: int) -> str:
    """1 -> 'A', 27 -> 'AA'."""
    out = ""
    while n > 0:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


@lru_cache(maxsize=_PARSED)
def parse_a1(ref: str) -> tuple[int, int]:
    """'E7' or '$E$7' -> (7, 5); ValueError for anything that is not one cell on the grid.

    Remembered: finding a cell in a row reads every cell reference before it, ~100 a workbook.
    """
    m = _A1.match(ref.strip())
    if not m:
        raise ValueError(f"not a cell reference: {ref!r}")
    row, col = int(m.group(2)), column_number(m.group(1))
    if not (1 <= row <= MAX_ROW and 1 <= col <= MAX_COL):
        raise ValueError(f"cell reference outside the sheet: {ref!r}")
    return row, col


def a1(row: int, col: int) -> str:
    """(7, 5) -> 'E7'."""
    return f"{column_letters(col)}{row}"


def normalize_a1(ref: str) -> str:
    """'$e$7' -> 'E7': the spelling marks and the restore record use."""
    return a1(*parse_a1(ref))
