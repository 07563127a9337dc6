"""Reserving and giving back limited units with conditional UPDATEs acting on the row count.

Read-then-write code oversells under concurrency; a single `UPDATE ... WHERE stock >= n` is
atomic on both SQLite and PostgreSQL, so the database decides who gets the last units.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from flask_babel import gettext as _
from sqlalchemy import CursorResult, update
from sqlalchemy.orm import Session

from commerce.catalog.models import Product
from commerce.errors import Conflict
from commerce.locking import insert_ignore
from commerce.orders.models import FlashSale, PurchaseCounter


def _rows(result: Any) -> int:
    return cast(CursorResult[Any], result).rowcount


def take_stock(session: Session, product_id: int, quantity: int) -> bool:
    result = session.execute(
        update(Product)
        .where(Product.id == product_id, Product.stock >= quantity, Product.is_active.is_(True))
        .values(stock=Product.stock - quantity)
        .execution_options(synchronize_session=False)
    )
    return _rows(result) == 1


def take_flash(session: Session, flash_id: int, quantity: int, now: datetime) -> bool:
    """The window is checked in the same statement, against the server's clock."""
    result = session.execute(
        update(FlashSale)
        .where(
            FlashSale.id == flash_id,
            FlashSale.sold + quantity <= FlashSale.quantity,
            FlashSale.starts_at <= now,
            FlashSale.ends_at > now,
        )
        .values(sold=FlashSale.sold + quantity)
        .execution_options(synchronize_session=False)
    )
    return _rows(result) == 1


def bought(session: Session, buyer_id: int, product_id: int) -> int:
    """Units of the product the buyer holds already (placed and not cancelled)."""
    counter = session.get(PurchaseCounter, (buyer_id, product_id))
    return counter.quantity if counter is not None else 0


def limit_refusal(title: str, limit: int, had: int, wanted: int) -> Conflict:
    """The per-buyer limit counts every unit of the product: this order's lines together (or the
    cart's) plus what the buyer already holds."""
    return Conflict(
        _(
            "You can buy at most %(limit)d of %(title)s per person (already bought: %(had)d, "
            "asked for now: %(wanted)d).",
            limit=limit,
            title=title,
            had=had,
            wanted=wanted,
        ),
        code="limit_reached",
    )


def take_allowance(
    session: Session, buyer_id: int, product_id: int, quantity: int, limit: int | None
) -> bool:
    """Count the units against the buyer's limit: insert the counter if missing, then add."""
    insert_ignore(
        session, PurchaseCounter, {"buyer_id": buyer_id, "product_id": product_id, "quantity": 0}
    )
    condition = [PurchaseCounter.buyer_id == buyer_id, PurchaseCounter.product_id == product_id]
    if limit is not None:
        condition.append(PurchaseCounter.quantity + quantity <= limit)
    result = session.execute(
        update(PurchaseCounter)
        .where(*condition)
        .values(quantity=PurchaseCounter.quantity + quantity)
        .execution_options(synchronize_session=False)
    )
    return _rows(result) == 1


def give_back(
    session: Session,
    *,
    buyer_id: int,
    product_id: int,
    quantity: int,
    flash_id: int | None,
    restock: bool = True,
    release_allowance: bool = True,
) -> None:
    """Undo a reservation; callers make sure it runs once (a conditional update on the order)."""
    if restock:
        session.execute(
            update(Product)
            .where(Product.id == product_id)
            .values(stock=Product.stock + quantity)
            .execution_options(synchronize_session=False)
        )
    if flash_id is not None and restock:
        session.execute(
            update(FlashSale)
            .where(FlashSale.id == flash_id, FlashSale.sold >= quantity)
            .values(sold=FlashSale.sold - quantity)
            .execution_options(synchronize_session=False)
        )
    if release_allowance:
        session.execute(
            update(PurchaseCounter)
            .where(
                PurchaseCounter.buyer_id == buyer_id,
                PurchaseCounter.product_id == product_id,
                PurchaseCounter.quantity >= quantity,
            )
            .values(quantity=PurchaseCounter.quantity - quantity)
            .execution_options(synchronize_session=False)
        )
