"""A relation instance: one arithmetic claim a table makes, as intervals, with the cells behind it.

Rules produce these; checks validate all instances of a kind in one pandera frame; messages turn the
failing ones into findings. Every instance keeps its sheet and cells from the start.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["sum", "part", "per_day", "percent", "shares", "cumulative", "never_falls", "order", "dates", "expression"]
Interval = tuple[float, float]


@dataclass(slots=True)
class Relation:
    """One claim, e.g. "E7 = B7 + C7 + D7": found and expected as intervals, plus what to say."""

    kind: Kind
    rule: str
    sheet: str
    table: str
    cell: str
    cells: tuple[str, ...]
    found: Interval
    expected: Interval
    tolerance: float = 0.0
    strict: bool = False
    rounded: Interval | None = None
    facts: dict[str, Any] = field(default_factory=dict)
    workbook: str = ""

    def frame_row(self) -> tuple[float, ...]:
        rounded = self.rounded or self.found
        return (*self.found, *self.expected, self.tolerance, float(self.strict), *rounded)


FRAME_COLUMNS = ("found_lo", "found_hi", "expected_lo", "expected_hi", "tolerance", "strict", "round_lo", "round_hi")


@dataclass(slots=True)
class Rows:
    """Many claims of one kind and rule, as the columns of their frame rows.

    A daily series states hundreds of thousands of claims and almost all hold: they travel to
    pandera as one array, and ``build`` makes the Relation, with its cells and words, only for a
    row that fails.
    """

    kind: Kind
    rule: str
    frame: Any  # numpy array, one row per claim, FRAME_COLUMNS wide
    build: Callable[[int], Relation]
    reading: str | None = None  # names the reading, so the check can count its support

    def __len__(self) -> int:
        return len(self.frame)


Claim = Relation | Rows


def size(claim: Claim) -> int:
    """How many frame rows a claim is: a Relation one, a block its length."""
    return len(claim) if isinstance(claim, Rows) else 1


def frame_rows(found_lo: Any, found_hi: Any, expected_lo: Any, expected_hi: Any) -> Any:
    """A block's frame (FRAME_COLUMNS) for claims with no tolerance, not strict, found its own rounding."""
    import numpy as np

    zeros = np.zeros(len(found_lo))
    return np.column_stack([found_lo, found_hi, expected_lo, expected_hi, zeros, zeros, found_lo, found_hi])


def expanded(claims: Iterable[Claim]) -> list[Relation]:
    """Every claim as a Relation (for explain, declared rules and the public API)."""
    out: list[Relation] = []
    for claim in claims:
        if isinstance(claim, Rows):
            out.extend(claim.build(i) for i in range(len(claim)))
        else:
            out.append(claim)
    return out


def rule_counts(claims: Iterable[Claim]) -> dict[str, int]:
    """How many claims of each rule, as a table's summary lists them."""
    counts: dict[str, int] = {}
    for claim in claims:
        counts[claim.rule] = counts.get(claim.rule, 0) + size(claim)
    return counts
