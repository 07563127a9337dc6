"""Pure arithmetic of the promotion dashboards: rates, day windows, series with empty days."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta

DAYS = 30  # the dashboards' window: the last 30 days, today included


def rate_bp(part: int, whole: int) -> int | None:
    """part / whole in basis points, rounded down; None when there is nothing to divide by
    (a page shows "–", not a made-up 0 %)."""
    if whole <= 0:
        return None
    return part * 10_000 // whole


def percent_text(bp: int | None) -> str:
    """'66.6 %' style, one decimal, rounded down like the basis points it comes from."""
    if bp is None:
        return "–"
    return f"{bp // 100}.{(bp % 100) // 10} %"


def window_start(now: datetime, days: int = DAYS) -> datetime:
    """Midnight (server time) of the first day in the window."""
    return datetime.combine(now.date() - timedelta(days=days - 1), datetime.min.time())


def days_back(today: date, days: int = DAYS) -> list[date]:
    return [today - timedelta(days=n) for n in range(days - 1, -1, -1)]


def as_day(value: date | datetime | str) -> date:
    """SQL date() of a timestamp: a date on PostgreSQL, 'YYYY-MM-DD' text on SQLite."""
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    return value.date() if isinstance(value, datetime) else value


def series(counts: Mapping[date, int], today: date, days: int = DAYS) -> list[tuple[date, int]]:
    """One point per day of the window, oldest first; days without rows are 0."""
    return [(day, int(counts.get(day, 0))) for day in days_back(today, days)]
