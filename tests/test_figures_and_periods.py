"""Figures as analysts write them, and the days behind per-day averages."""

from __future__ import annotations

import math
from datetime import date

import pytest
from tallycheck.engine.figures import decimals_from_format, figure_from_number, figure_from_text
from tallycheck.engine.periods import PeriodContext, context_from_text, period_from_label


@pytest.mark.parametrize(
    ("text", "lo", "hi"),
    [
        ("4,000", 4000, 4000),
        ("1.05M", 1_050_000, 1_050_000),
        ("8.7 million", 8_700_000, 8_700_000),
        ("26.6 mln", 26_600_000, 26_600_000),
        ("about 26.6 million", 26_550_000, 26_650_000),
        ("~5,710", 5709.5, 5710.5),
        ("1 050 250", 1_050_250, 1_050_250),
        ("5,710 killed", 5710, 5710),
        ("75%", 75, 75),
    ],
)
def test_text_figures_become_intervals(text, lo, hi):
    figure = figure_from_text(text)
    assert figure is not None
    assert (figure.lo, figure.hi) == pytest.approx((lo, hi))


def test_open_intervals():
    over = figure_from_text("over 200,000")
    assert over.lo > 200_000 and over.hi == math.inf
    under = figure_from_text("less than 5")
    assert under.lo == -math.inf and under.hi < 5
    assert figure_from_text("200,000+").lo > 200_000


@pytest.mark.parametrize("text", ["No data", "n/a", "-", "—", "2025 (as of 4 June)", "13 Oct 2022: a correction", "Source: MoD"])
def test_text_that_is_no_figure(text):
    assert figure_from_text(text) is None


def test_round_totals_know_their_rounding():
    assert figure_from_number(12_840_000).rounding() == (12_835_000, 12_845_000)
    assert figure_from_number(1_050_250).rounding() == (1_050_250, 1_050_250)


def test_number_formats_give_displayed_precision_and_percent_scale():
    assert decimals_from_format("#,##0") == 0
    assert decimals_from_format("#,##0.0") == 1
    assert decimals_from_format("General") is None
    pct = figure_from_number(0.123, "0.0%")
    assert (pct.value, pct.decimals) == (pytest.approx(12.3), 1)


@pytest.mark.parametrize(
    ("label", "days"),
    [("2023", 365), ("2024", 366), ("2025 (as of 4 June)", 155), ("2025 (as of June 4)", 155),
     ("24 Feb – 31 Dec 2022", 311), ("Jan 2024", 31), ("Feb 2024", 29), ("2022 (from 24 February)", 311)],
)
def test_periods_count_calendar_days_inclusive(label, days):
    assert period_from_label(label).days == days


def test_title_context_sets_series_start_and_as_of():
    ctx = context_from_text("Russian losses since 24 February 2022, by year (as of 4 June 2025)")
    assert ctx == PeriodContext(date(2022, 2, 24), date(2025, 6, 4))
    assert period_from_label("2022", ctx).days == 311
    assert period_from_label("since 24 Feb 2022", ctx).days == (date(2025, 6, 4) - date(2022, 2, 24)).days + 1
    assert period_from_label("since 24 Feb 2022") is None  # no end date known: no guess
    assert "leap year" in period_from_label("2024").describe()
