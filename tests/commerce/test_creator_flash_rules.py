"""The bounds a merchant sets on creators' flash sales, as a table."""

from __future__ import annotations

import pytest

from commerce.catalog.rules import (
    ALL,
    DURATION,
    NONE,
    NOT_ALLOWED,
    PRICE,
    QUANTITY,
    CreatorFlashBounds,
    creator_flash_refusals,
    missing_bounds,
)

OPEN = CreatorFlashBounds(ALL, min_price_minor=5000, max_quantity=20, max_seconds=600)


@pytest.mark.parametrize(
    ("bounds", "price", "quantity", "seconds", "refused"),
    [
        (OPEN, 5000, 20, 600, []),  # every bound met exactly
        (OPEN, 9000, 1, 10, []),
        (OPEN, 4999, 20, 600, [PRICE]),
        (OPEN, 5000, 21, 600, [QUANTITY]),
        (OPEN, 5000, 20, 601, [DURATION]),
        (OPEN, 0, 100, 3600, [PRICE, QUANTITY, DURATION]),
        (CreatorFlashBounds(NONE, 5000, 20, 600), 9000, 1, 60, [NOT_ALLOWED]),
        (CreatorFlashBounds("someone", 5000, 20, 600), 9000, 1, 60, [NOT_ALLOWED]),
        # A bound left empty refuses: the merchant named none, so nothing is allowed.
        (CreatorFlashBounds(ALL, None, None, None), 9000, 1, 60, [PRICE, QUANTITY, DURATION]),
    ],
)
def test_creator_flash_refusals(bounds, price, quantity, seconds, refused):
    assert (
        creator_flash_refusals(
            bounds, price_minor=price, quantity=quantity, duration_seconds=seconds
        )
        == refused
    )


@pytest.mark.parametrize(
    ("bounds", "list_price", "missing"),
    [
        (OPEN, 12900, []),
        (CreatorFlashBounds(NONE, None, None, None), 12900, []),
        (CreatorFlashBounds(ALL, None, None, None), 12900, [PRICE, QUANTITY, DURATION]),
        (CreatorFlashBounds(ALL, 12900, 5, 60), 12900, [PRICE]),  # a floor at the list price
        (CreatorFlashBounds(ALL, 100, None, 60), 12900, [QUANTITY]),
        (CreatorFlashBounds(ALL, 100, 5, None), 12900, [DURATION]),
    ],
)
def test_missing_bounds(bounds, list_price, missing):
    assert missing_bounds(bounds, list_price) == missing
