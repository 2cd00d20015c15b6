"""Relations -> verdicts, through pandera: one registered check per claim, one schema per kind.

Every relation instance of a kind, from every table (and, in a batch, every workbook) is one row of a
single frame, validated once and lazily, so pandera's fixed cost per validation is paid per kind, not
per table. Failure cases come back as row positions, which map to relations and so to cells.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

from .relations import FRAME_COLUMNS, Claim, Rows

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import pandera.pandas as pa

_EPS = 1e-9  # floating-point noise in sums of decimals


def _slack(df: pd.DataFrame) -> pd.Series:
    scale = df[["found_lo", "expected_lo"]].abs().clip(upper=1e15).max(axis=1).fillna(0)
    return df["tolerance"] + _EPS * (1 + scale)


def _meet(df: pd.DataFrame, found: str = "found") -> pd.Series:
    """The two intervals come within the tolerance of each other (strictly, when ``strict``)."""
    slack = _slack(df)
    gap = (df["expected_lo"] - df[f"{found}_hi"]).clip(lower=0) + (df[f"{found}_lo"] - df["expected_hi"]).clip(lower=0)
    strict = df["strict"] > 0
    return (strict & (gap < df["tolerance"])) | (~strict & (gap <= slack))


def _not_above(df: pd.DataFrame) -> pd.Series:
    """Found can be at most expected (low <= high, part <= whole)."""
    return df["found_lo"] <= df["expected_hi"] + _slack(df)


def _not_below(df: pd.DataFrame) -> pd.Series:
    return df["found_hi"] >= df["expected_lo"] - _slack(df)


def pandera_pandas() -> Any:
    """pandera's pandas API, imported without hypothesis.

    When hypothesis is installed (it is, with the dev tools) pandera imports it for its data
    synthesis strategies: 0.2 s of every start, for a feature this tool never uses. The first
    import is made as if hypothesis were absent; ``import hypothesis`` works as usual afterwards.
    """
    if "pandera.pandas" not in sys.modules and "hypothesis" not in sys.modules:
        sys.modules["hypothesis"] = None  # type: ignore[assignment]
        try:
            import pandera.pandas
            import pandera.strategies.pandas_strategies  # noqa: F401  (decides there: no hypothesis)
            from pandera import extensions  # noqa: F401
        finally:
            del sys.modules["hypothesis"]
    import pandera.pandas as pa

    return pa


_registering = threading.Lock()


def _register() -> None:
    """Register the check methods once, even when threads check workbooks at the same time."""
    with _registering:
        _register_once()


@cache
def _register_once() -> None:
    pandera_pandas()
    from pandera import extensions

    def sums_match(df: pd.DataFrame) -> pd.Series:
        """A total equals the sum of its parts (as intervals)."""
        return _meet(df)

    def sums_match_if_total_rounded(df: pd.DataFrame) -> pd.Series:
        """...or would, if the round total had been rounded to its last significant digit."""
        return _meet(df, "round")

    def part_within_whole(df: pd.DataFrame) -> pd.Series:
        return _not_above(df)

    def average_matches(df: pd.DataFrame) -> pd.Series:
        """|A - C/D| < 10^-d: rounded, truncated and ceiled averages all pass."""
        return _meet(df)

    def percent_matches(df: pd.DataFrame) -> pd.Series:
        return _meet(df)

    def shares_total_100(df: pd.DataFrame) -> pd.Series:
        return _meet(df)

    def cumulative_matches_change(df: pd.DataFrame) -> pd.Series:
        return _meet(df)

    def cumulative_never_falls(df: pd.DataFrame) -> pd.Series:
        return _not_below(df)

    def estimates_in_order(df: pd.DataFrame) -> pd.Series:
        return _not_above(df)

    def dates_not_duplicated(df: pd.DataFrame) -> pd.Series:
        return df["found_lo"] != 0

    def dates_in_order(df: pd.DataFrame) -> pd.Series:
        return df["found_lo"] >= 0

    def dates_without_gaps(df: pd.DataFrame) -> pd.Series:
        return df["found_lo"] <= 1

    def expression_holds(df: pd.DataFrame) -> pd.Series:
        """A declared relation (=, <=, >=) between intervals; an inequality's expected side is open."""
        return _meet(df)

    for fn in (
        sums_match, sums_match_if_total_rounded, part_within_whole, average_matches, percent_matches,
        shares_total_100, cumulative_matches_change, cumulative_never_falls, estimates_in_order,
        dates_not_duplicated, dates_in_order, dates_without_gaps, expression_holds,
    ):
        extensions.register_check_method(fn, statistics=[], supported_types=None)


# kind -> [(check name, severity when it fails)]; a kind's later checks only soften or harden its first.
CHECKS: dict[str, list[tuple[str, str]]] = {
    "sum": [("sums_match", "error"), ("sums_match_if_total_rounded", "warning")],
    "part": [("part_within_whole", "error")],
    "per_day": [("average_matches", "error")],
    "percent": [("percent_matches", "error")],
    "shares": [("shares_total_100", "error")],
    "cumulative": [("cumulative_matches_change", "error")],
    "never_falls": [("cumulative_never_falls", "error")],
    "order": [("estimates_in_order", "error")],
    "dates": [("dates_not_duplicated", "error"), ("dates_in_order", "warning"), ("dates_without_gaps", "warning")],
    "expression": [("expression_holds", "error")],
}


@cache
def schema_for(kind: str) -> pa.DataFrameSchema:
    """The pandera schema that validates every relation of one kind."""
    pa = pandera_pandas()

    _register()
    columns = {name: pa.Column(float, nullable=False) for name in FRAME_COLUMNS}
    checks = [getattr(pa.Check, name)(error=name) for name, _ in CHECKS[kind]]
    return pa.DataFrameSchema(columns, checks=checks, name=kind, coerce=False)


def failed_checks(claims: Sequence[Claim]) -> dict[int, list[str]]:
    """Position -> names of the checks it failed (validated once per kind).

    Positions count the claims' frame rows in order: a Relation is one, a ``Rows`` block its length.
    """
    import pandas as pd

    pa = pandera_pandas()
    by_kind: dict[str, list[tuple[int, Claim]]] = {}
    at = 0
    for claim in claims:
        by_kind.setdefault(claim.kind, []).append((at, claim))
        at += len(claim) if isinstance(claim, Rows) else 1
    failed: dict[int, list[str]] = {}
    for kind, members in by_kind.items():
        frame = pd.DataFrame(_frame_rows(members), columns=list(FRAME_COLUMNS), index=_positions(members), copy=False)
        try:
            schema_for(kind).validate(frame, lazy=True)
        except pa.errors.SchemaErrors as errors:
            cases = errors.failure_cases
            cases = cases[cases["index"].notna()]
            for check, index in zip(cases["check"], cases["index"], strict=True):
                names = failed.setdefault(int(index), [])
                if check not in names:
                    names.append(str(check))
    return failed


def _frame_rows(members: list[tuple[int, Claim]]) -> np.ndarray:
    """The members' frame rows in order, single relations gathered into one array between blocks."""
    import numpy as np

    parts: list[np.ndarray] = []
    singles: list[tuple[float, ...]] = []
    for _, claim in members:
        if isinstance(claim, Rows):
            if singles:
                parts.append(np.array(singles, dtype=float))
                singles = []
            parts.append(np.asarray(claim.frame, dtype=float).reshape(-1, len(FRAME_COLUMNS)))
        else:
            singles.append(claim.frame_row())
    if singles:
        parts.append(np.array(singles, dtype=float))
    return np.concatenate(parts) if len(parts) > 1 else parts[0]


def _positions(members: list[tuple[int, Claim]]) -> np.ndarray:
    import numpy as np

    return np.concatenate([np.arange(at, at + (len(c) if isinstance(c, Rows) else 1)) for at, c in members])


def severity_of(kind: str, failed: list[str]) -> str | None:
    """None when the relation holds; otherwise the severity its failed checks imply."""
    checks = CHECKS[kind]
    main, main_severity = checks[0]
    if kind == "dates":
        for name, severity in checks:
            if name in failed:
                return severity
        return None
    if main not in failed:
        return None
    if len(checks) > 1 and checks[1][0] not in failed:
        return checks[1][1]
    return main_severity
