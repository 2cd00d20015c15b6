"""Periods behind per-day averages: a year label, a partial year, a date range, Start/End dates.

Days are calendar days, inclusive, leap years counted; a period knows how to say which days it used.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

_MONTHS = {
    name: i
    for i, names in enumerate(
        [
            (),
            ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"),
            ("may",), ("june", "jun"), ("july", "jul"), ("august", "aug"),
            ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
            ("december", "dec"),
        ]
    )
    for name in names
}
# Ukrainian and Russian month names, as the General Staff's tables write them (nominative and genitive)
_MONTHS.update({
    name: i
    for i, names in enumerate(
        [
            (),
            ("січень", "січня", "январь", "января"), ("лютий", "лютого", "февраль", "февраля"),
            ("березень", "березня", "март", "марта"), ("квітень", "квітня", "апрель", "апреля"),
            ("травень", "травня", "май", "мая"), ("червень", "червня", "июнь", "июня"),
            ("липень", "липня", "июль", "июля"), ("серпень", "серпня", "август", "августа"),
            ("вересень", "вересня", "сентябрь", "сентября"), ("жовтень", "жовтня", "октябрь", "октября"),
            ("листопад", "листопада", "ноябрь", "ноября"), ("грудень", "грудня", "декабрь", "декабря"),
        ]
    )
    for name in names
})
_MONTH = r"(?:" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DATE_RES = [
    # 2025-06-04, 04.06.2025, 4/6/2025 (day first, as outside the US), 4 June 2025, June 4, 2025, 4 June
    re.compile(r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"),
    re.compile(r"(?P<d>\d{1,2})[./](?P<m>\d{1,2})[./](?P<y>\d{4})"),
    re.compile(rf"(?<!\d)(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<mon>{_MONTH})(?:,?\s+(?P<y>\d{{4}}))?", re.I),
    re.compile(rf"(?P<mon>{_MONTH})\s+(?P<d>\d{{1,2}})(?!\d)(?:st|nd|rd|th)?(?:,?\s+(?P<y>\d{{4}}))?", re.I),
]
# "Jan–Mar 2024", "January to May": whole months
_MONTH_RANGE_RE = re.compile(rf"(?P<m1>{_MONTH})\s*(?:[–—-]|\bto\b)\s*(?P<m2>{_MONTH})(?:\s+(?P<y>\d{{4}}))?", re.I)
_DAY_RANGE_RE = re.compile(rf"(?<!\d)(?P<d1>\d{{1,2}})\s*(?:[–—-]|\bto\b)\s*(?P<d2>\d{{1,2}})\s+(?P<mon>{_MONTH})(?:,?\s+(?P<y>\d{{4}}))?", re.I)
_YEAR_RE = re.compile(r"(?<!\d)(19\d\d|20\d\d)(?!\d)")
_MONTH_YEAR_RE = re.compile(rf"^\s*(?P<mon>{_MONTH})\s+(?P<y>\d{{4}})\s*$", re.I)
_SINCE_RE = re.compile(r"\b(?:since|from|starting|beginning)\b", re.I)
_UNTIL_RE = re.compile(r"\b(?:as of|as at|until|till|to|through|up to|by)\b|[–—-]", re.I)


@dataclass(frozen=True)
class Period:
    """An inclusive span of calendar days and why it was chosen."""

    start: date
    end: date
    source: str

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def leap_days(self) -> int:
        """How many 29 Februaries the period covers (a per-day average depends on them)."""
        return sum(
            1
            for y in range(self.start.year, self.end.year + 1)
            if calendar.isleap(y) and self.start <= date(y, 2, 29) <= self.end
        )

    def describe(self) -> str:
        """'366 days (2024 is a leap year)' or '311 days, 24 Feb 2022 – 31 Dec 2022'."""
        whole_year = self.start == date(self.start.year, 1, 1) and self.end == date(self.start.year, 12, 31)
        if whole_year:
            leap = f" ({self.start.year} is a leap year)" if self.leap_days else ""
            return f"{self.days} days{leap}"
        span = f"{_show(self.start)} – {_show(self.end)}"
        leap = ", incl. 29 Feb" if self.leap_days else ""
        return f"{self.days} days, {span}{leap}"


@dataclass(frozen=True)
class Days:
    """A period stated as a number of days (a Days column), with no dates to name."""

    days: int
    source: str
    leap_days: int = 0

    def describe(self) -> str:
        return f"{self.days} days ({self.source})"


def _show(day: date) -> str:
    return f"{day.day} {day.strftime('%b')} {day.year}"


@dataclass(frozen=True)
class PeriodContext:
    """What a table's title or notes say about its whole series ("since 24 Feb 2022", "as of 4 June 2025")."""

    series_start: date | None = None
    as_of: date | None = None


@lru_cache(maxsize=4096)
def _dates_in(text: str, default_year: int | None) -> tuple[tuple[int, date], ...]:
    """(position, date) of every date written in the text; labels repeat, so parses are kept."""
    found: list[tuple[int, date]] = []
    taken: list[range] = []
    for pattern in _DATE_RES:
        for m in pattern.finditer(text):
            span = range(m.start(), m.end())
            if any(set(span) & set(t) for t in taken):
                continue
            month = _MONTHS[m.group("mon").lower().rstrip(".")] if "mon" in m.groupdict() and m.group("mon") else int(m.group("m"))
            year = int(m.group("y")) if m.group("y") else default_year
            if year is None:
                continue
            try:
                found.append((m.start(), date(year, month, int(m.group("d")))))
            except ValueError:
                continue
            taken.append(span)
    return tuple(sorted(found))


def context_from_text(text: str) -> PeriodContext:
    """Series start and as-of dates stated in a title or a note."""
    start = as_of = None
    found = _dates_in(text, None)
    for pos, day in found:
        before = text[max(0, pos - 20) : pos]
        if _SINCE_RE.search(before):
            start = start or day
        elif re.search(r"as of|as at|until|up to|through|to\s*$", before, re.I):
            as_of = as_of or day
    if start is None and as_of is None and len(found) >= 2:  # "24 Feb 2022 – 4 Jun 2025"
        (p1, d1), (p2, d2) = found[0], found[1]
        if d1 < d2 and re.search(r"[–—-]|\bto\b", text[p1:p2], re.I):
            start, as_of = d1, d2
    return PeriodContext(start, as_of)


def period_from_label(label: str, context: PeriodContext = PeriodContext()) -> Period | None:
    """The period a row label names: "2024", "2025 (as of 4 June)", "since 24 Feb 2022", "Jan 2024"."""
    return _period_from_text(str(label).strip(), context)


@lru_cache(maxsize=4096)
def _period_from_text(text: str, context: PeriodContext) -> Period | None:
    """Labels repeat down a column and across families, so their periods are kept."""
    if not text:
        return None
    my = _MONTH_YEAR_RE.match(text)
    if my:
        year, month = int(my.group("y")), _MONTHS[my.group("mon").lower().rstrip(".")]
        return Period(date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1]), "month label")
    years = _YEAR_RE.findall(text)
    default_year = int(years[0]) if years else None
    months = _MONTH_RANGE_RE.search(text)
    if months and (months.group("y") or default_year):
        year = int(months.group("y") or default_year)
        first, last = (_MONTHS[months.group(k).lower().rstrip(".")] for k in ("m1", "m2"))
        if first <= last:
            return Period(date(year, first, 1), date(year, last, calendar.monthrange(year, last)[1]), "month range in label")
    days = _DAY_RANGE_RE.search(text)
    if days and (days.group("y") or default_year):  # "1–30 June 2025": days of one month
        year, month = int(days.group("y") or default_year), _MONTHS[days.group("mon").lower().rstrip(".")]
        try:
            first, last = date(year, month, int(days.group("d1"))), date(year, month, int(days.group("d2")))
        except ValueError:
            return None
        return Period(first, last, "day range in label") if first <= last else None
    dates = _dates_in(text, default_year)
    if len(dates) >= 2:
        return Period(dates[0][1], dates[-1][1], "date range in label")
    if len(dates) == 1:
        pos, day = dates[0]
        before = text[:pos]
        if _SINCE_RE.search(before):
            end = context.as_of
            if re.match(r"\s*\d{4}\b", text):  # "2022 (from 24 Feb)": the rest of that year
                year_end = date(day.year, 12, 31)
                end = end if end and end.year == day.year else year_end
            if end is None or end < day:
                return None
            return Period(day, end, "start date in label")
        if _UNTIL_RE.search(before) or default_year:
            year = day.year
            start = context.series_start if context.series_start and context.series_start.year == year else date(year, 1, 1)
            return Period(start, day, "as-of date in label")
        return None
    if len(years) == 1 and re.fullmatch(r"\s*(?:year\s+)?\d{4}\s*[*†]*\s*(?:\((?:[^)\d]*)\))?\s*", text, re.I) and not re.search(_MONTH, text, re.I):
        year = int(years[0])
        start, end = date(year, 1, 1), date(year, 12, 31)
        source = "year label"
        if context.series_start and context.series_start.year == year:
            start, source = context.series_start, "year label, series start from the title"
        if context.as_of and context.as_of.year == year:
            end, source = context.as_of, "year label, as-of date from the title"
        return Period(start, end, source)
    return None


def as_date(value: object) -> date | None:
    """A cell value as a calendar date (datetime values lose their time)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        found = _dates_in(value, None)
        if len(found) == 1 and len(value.strip()) <= 20:
            return found[0][1]
    return None


def period_between(start: object, end: object) -> Period | None:
    first, last = as_date(start), as_date(end)
    if first is None or last is None or last < first:
        return None
    return Period(first, last, "Start/End columns")


ONE_DAY = timedelta(days=1)
