"""One clock for the whole app: naive UTC datetimes (portable across SQLite and PostgreSQL)."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def rfc3339(value: datetime) -> str:
    """A stored (naive UTC) time as RFC 3339 with its offset: 2026-12-04T17:00:00Z."""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.isoformat().replace("+00:00", "Z")
