"""Creator flash sales: the bounds a merchant sets on a product and whether a sale fits them.

Pure: the live room's flash sale, the product form and their tests use these.
"""

from __future__ import annotations

from dataclasses import dataclass

NONE, ALL = "none", "all"  # which creators may run flash sales of the product
SCOPES = (NONE, ALL)

# What a refusal names: the whole permission, or one bound (the field the creator typed).
NOT_ALLOWED = "not_allowed"
PRICE = "price_minor"
QUANTITY = "quantity"
DURATION = "duration_seconds"


@dataclass(frozen=True)
class CreatorFlashBounds:
    scope: str
    min_price_minor: int | None
    max_quantity: int | None
    max_seconds: int | None


def creator_flash_refusals(
    bounds: CreatorFlashBounds, *, price_minor: int, quantity: int, duration_seconds: int
) -> list[str]:
    """The bounds a creator's flash sale breaks, in the form's order; [] when it may start.

    A bound left empty refuses rather than allows: a merchant who opens flash sales to creators
    names the floor price, the units and the duration (the product form requires them).
    """
    if bounds.scope != ALL:
        return [NOT_ALLOWED]
    refusals = []
    if bounds.min_price_minor is None or price_minor < bounds.min_price_minor:
        refusals.append(PRICE)
    if bounds.max_quantity is None or quantity > bounds.max_quantity:
        refusals.append(QUANTITY)
    if bounds.max_seconds is None or duration_seconds > bounds.max_seconds:
        refusals.append(DURATION)
    return refusals


def missing_bounds(bounds: CreatorFlashBounds, list_price_minor: int) -> list[str]:
    """What a merchant must still set (or set lower) to open a product's flash sales to creators."""
    if bounds.scope != ALL:
        return []
    missing = []
    if bounds.min_price_minor is None or bounds.min_price_minor >= list_price_minor:
        missing.append(PRICE)
    if bounds.max_quantity is None:
        missing.append(QUANTITY)
    if bounds.max_seconds is None:
        missing.append(DURATION)
    return missing


def rating_average(count: int, star_sum: int) -> float | None:
    """A product's stars as shops show them, to one decimal; None before the first review."""
    if count <= 0:
        return None
    return round(star_sum / count + 1e-9, 1)
