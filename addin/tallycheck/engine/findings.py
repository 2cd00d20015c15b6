"""What a check found, in cell terms: the one object every output (text, JSON, marks) reads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]


@dataclass(frozen=True)
class Finding:
    """A broken relation, named by real cells so a person can go and look.

    ``cell`` is the cell that gets marked (the derived figure: a total, an average, a cumulative
    value); ``cells`` are all the cells of the relation, ``cell`` included.
    """

    rule: str
    severity: Severity
    sheet: str
    cell: str
    cells: tuple[str, ...]
    expected: float | int | str | None
    found: float | int | str | None
    tolerance: float | int
    message: str
    table: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        """The finding as the JSON report contract (version 1) spells it."""
        data = asdict(self)
        data.pop("extra")
        data.pop("table")
        data["cells"] = list(self.cells)
        return data


SEVERITY_ORDER: dict[str, int] = {"error": 0, "warning": 1, "info": 2}


def selected(findings: Sequence[Finding], select: Sequence[str] = (), ignore: Sequence[str] = ()) -> list[Finding]:
    """The findings --select / --ignore keep: their rule selected (all when none is) and not ignored.
    One function for what is reported and what is marked, so the two never disagree."""
    return [f for f in findings if (not select or f.rule in select) and f.rule not in ignore]


@dataclass(frozen=True)
class Series:
    """A dated cumulative column, kept for reports that draw it with its discrepant days marked."""

    sheet: str
    table: str
    column: str
    dates: tuple[str, ...]
    values: tuple[float | None, ...]
    cells: tuple[str, ...]
    flagged: tuple[str, ...] = ()
