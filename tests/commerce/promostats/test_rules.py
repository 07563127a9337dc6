"""The dashboards' arithmetic, by tables."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from commerce.promostats.rules import as_day, percent_text, rate_bp, series, window_start


@pytest.mark.parametrize(
    ("part", "whole", "expected"),
    [(0, 0, None), (3, 0, None), (0, 5, 0), (3, 5, 6000), (2, 3, 6666), (1, 1, 10_000)],
)
def test_rate_in_basis_points_rounds_down(part, whole, expected):
    assert rate_bp(part, whole) == expected


@pytest.mark.parametrize(
    ("bp", "text"),
    [(None, "–"), (0, "0.0 %"), (6666, "66.6 %"), (6000, "60.0 %"), (10_000, "100.0 %")],
)
def test_percent_text(bp, text):
    assert percent_text(bp) == text


@pytest.mark.parametrize(
    ("value", "day"),
    [
        ("2026-03-04", date(2026, 3, 4)),
        (date(2026, 3, 4), date(2026, 3, 4)),
        (datetime(2026, 3, 4, 23, 59), date(2026, 3, 4)),
    ],
)
def test_sql_dates_from_either_engine(value, day):
    assert as_day(value) == day


def test_a_series_has_every_day_of_the_window_oldest_first():
    points = series({date(2026, 3, 4): 2, date(2026, 1, 1): 9}, date(2026, 3, 5), days=3)
    assert points == [(date(2026, 3, 3), 0), (date(2026, 3, 4), 2), (date(2026, 3, 5), 0)]


def test_the_window_starts_at_midnight_of_its_first_day():
    assert window_start(datetime(2026, 3, 30, 15, 7), days=30) == datetime(2026, 3, 1)
