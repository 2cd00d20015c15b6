"""A relation instance: one arithmetic claim a table makes, as intervals, with the cells behind it.

Rules produce these; checks validate all instances of a kind in one pandera frame; messages turn the
failing ones into findings. Every instance keeps its sheet and cells from the start.
"""

from __future__ import annotations

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
