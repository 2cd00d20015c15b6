"""Relations -> verdicts, through pandera: one registered check per claim, one schema per kind.

Every relation instance of a kind, from every table (and, in a batch, every workbook) is one row of a
single frame, validated once and lazily, so pandera's fixed cost per validation is paid per kind, not
per table. Failure cases come back as row positions, which map to relations and so to cells.
"""

from __future__ import annotations

import itertools
import sys
import threading
from collections.abc import Callable, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

from .relations import FRAME_COLUMNS, Claim, Rows, size

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


#: The registered check methods (pandera's ``Check.<name>``): what each tests on a kind's frame, and why.
CHECK_METHODS: dict[str, tuple[Callable[[pd.DataFrame], pd.Series], str]] = {
    "sums_match": (_meet, "A total equals the sum of its parts (as intervals)."),
    "sums_match_if_total_rounded": (lambda df: _meet(df, "round"), "...or would, if the round total had been rounded to its last significant digit."),
    "part_within_whole": (_not_above, "A single part is at most its whole."),
    "average_matches": (_meet, "|A - C/D| < 10^-d: rounded, truncated and ceiled averages all pass."),
    "percent_matches": (_meet, "A percentage is its part over its whole, within the decimals shown."),
    "shares_total_100": (_meet, "Shares of one whole add up to 100, within their rounding."),
    "cumulative_matches_change": (_meet, "A tally rises by the day's stated change."),
    "cumulative_never_falls": (_not_below, "A cumulative tally never falls."),
    "estimates_in_order": (_not_above, "Low <= best <= high."),
    "dates_not_duplicated": (lambda df: df["found_lo"] != 0, "No date twice."),
    "dates_in_order": (lambda df: df["found_lo"] >= 0, "Dates run forward."),
    "dates_without_gaps": (lambda df: df["found_lo"] <= 1, "No day missing."),
    "expression_holds": (_meet, "A declared relation (=, <=, >=) between intervals; an inequality's expected side is open."),
}


@cache
def _register_once() -> None:
    pandera_pandas()
    from pandera import extensions

    for name, (test, why) in CHECK_METHODS.items():
        extensions.register_check_method(_named(name, test, why), statistics=[], supported_types=None)


def _named(name: str, test: Callable[[pd.DataFrame], pd.Series], why: str) -> Callable[[pd.DataFrame], pd.Series]:
    """The test as a function pandera registers under ``name`` (it takes the method name from ``__name__``)."""

    def check(df: pd.DataFrame) -> pd.Series:
        return test(df)

    check.__name__ = check.__qualname__ = name
    check.__doc__ = why
    return check


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
    for at, claim in zip(itertools.accumulate(map(size, claims), initial=0), claims, strict=False):  # each start
        by_kind.setdefault(claim.kind, []).append((at, claim))
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

    return np.concatenate([np.arange(at, at + size(c)) for at, c in members])


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
