"""Commission rates as merchants type them (percent, up to two decimals) and as stored (basis
points, integers: 12.5 % is 1250). Pure: the form and its tests use these."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation


class RateError(ValueError):
    """Not a percentage between 0 and 100 with at most two decimals."""


def percent_to_bp(text: str) -> int:
    """'12.5' -> 1250, '' -> 0; refuses junk, negatives, more than 100 and a third decimal."""
    cleaned = (text or "").strip().rstrip("%").strip()
    if not cleaned:
        return 0
    try:
        amount = Decimal(cleaned)
    except InvalidOperation as exc:
        raise RateError(text) from exc
    if not amount.is_finite() or amount < 0 or amount > 100:
        raise RateError(text)
    scaled = amount * 100
    if scaled != scaled.to_integral_value():
        raise RateError(text)
    return int(scaled)


def bp_to_percent(bp: int) -> str:
    """1250 -> '12.5', 1000 -> '10', 5 -> '0.05': what the form shows back."""
    whole, frac = divmod(int(bp), 100)
    return str(whole) if frac == 0 else f"{whole}.{frac:02d}".rstrip("0")
