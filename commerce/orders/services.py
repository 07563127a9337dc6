"""Buying use cases: addresses, the cart, placing orders (reserving units), cancel and expiry."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast

from flask_babel import gettext as _
from sqlalchemy import CursorResult, delete, func, select, update
from sqlalchemy.orm import Session

from commerce.accounts.models import User
from commerce.catalog.models import Product
from commerce.coupons import checkout as coupons
from commerce.errors import Conflict, NotFound, ValidationFailed
from commerce.order_signals import order_released as order_released  # group buying, points
from commerce.orders import pricing, stock
from commerce.orders.models import Address, CartItem, FlashSale, Order, OrderEvent, OrderLine
from commerce.orders.pricing import PricedLine
from commerce.orders.rules import CANCELLED, PENDING_PAYMENT
from commerce.orders.schemas import AddressIn, CartItemIn, OrderIn, OrderItemIn
from commerce.points import checkout as points

T = TypeVar("T")


MAX_ADDRESSES = 20
MAX_CART_ITEMS = 50


# Addresses ---------------------------------------------------------------------------------


def list_addresses(session: Session, user: User) -> list[Address]:
    return list(
        session.scalars(select(Address).where(Address.user_id == user.id).order_by(Address.id))
    )


def access_address(session: Session, address_id: int, user: User) -> Address:
    address = session.get(Address, address_id)
    if address is None or address.user_id != user.id:
        raise NotFound(_("This address does not exist."))
    return address


def do_add_address(session: Session, user: User, data: AddressIn) -> Address:
    count = session.scalar(select(func.count()).where(Address.user_id == user.id)) or 0
    if count >= MAX_ADDRESSES:
        raise ValidationFailed(_("You can save at most 20 addresses."), code="too_many")
    address = Address(user_id=user.id, **data.model_dump())
    address.country = address.country.upper()
    session.add(address)
    session.flush()
    return address


def do_update_address(address: Address, data: AddressIn) -> Address:
    for name, value in data.model_dump().items():
        setattr(address, name, value)
    address.country = address.country.upper()
    return address


def do_delete_address(session: Session, address: Address) -> None:
    # Orders keep a copy of the address, so deleting it never changes an order.
    session.delete(address)
    session.flush()


# Cart ----------------------------------------------------------------------------------------


def list_cart(session: Session, user: User) -> list[CartItem]:
    return list(
        session.scalars(select(CartItem).where(CartItem.user_id == user.id).order_by(CartItem.id))
    )


def access_cart_item(session: Session, item_id: int, user: User) -> CartItem:
    item = session.get(CartItem, item_id)
    if item is None or item.user_id != user.id:
        raise NotFound(_("This cart item does not exist."))
    return item


def _buyable(session: Session, product_id: int, buyer: User) -> Product:
    product = session.get(Product, product_id)
    if product is None or not product.is_active:
        raise NotFound(_("This product does not exist."))
    if product.merchant_id == buyer.id:
        raise ValidationFailed(_("You cannot buy your own product."), code="own_product")
    return product


def do_add_to_cart(session: Session, user: User, data: CartItemIn) -> CartItem:
    """Adding a product already in the cart adds to its quantity and keeps the newest source."""
    product = _buyable(session, data.product_id, user)
    item = session.scalar(
        select(CartItem).where(CartItem.user_id == user.id, CartItem.product_id == data.product_id)
    )
    wanted = (item.quantity if item is not None else 0) + data.quantity
    limit = product.per_buyer_limit
    had = stock.bought(session, user.id, product.id) if limit is not None else 0
    if limit is not None and had + wanted > limit:
        raise stock.limit_refusal(product.title, limit, had, wanted)
    if item is None:
        count = session.scalar(select(func.count()).where(CartItem.user_id == user.id)) or 0
        if count >= MAX_CART_ITEMS:
            raise ValidationFailed(_("Your cart is full."), code="cart_full")
        item = CartItem(user_id=user.id, product_id=data.product_id, quantity=0)
        session.add(item)
    item.quantity = min(item.quantity + data.quantity, 99)
    if data.source_kind:
        item.source_kind, item.source_key = data.source_kind, data.source_key
    session.flush()
    return item


def do_set_cart_quantity(item: CartItem, quantity: int) -> CartItem:
    item.quantity = quantity
    return item


def do_remove_from_cart(session: Session, item: CartItem) -> None:
    session.delete(item)
    session.flush()


# Placing orders ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Placement:
    """Who is buying from where, and the settings that apply."""

    buyer: User
    now: datetime
    deadline_minutes: int
    device_id: str | None = None
    ip_hash: str | None = None
    # Group buying: product id -> (group price, seat id) for lines bought into a group seat.
    group_prices: dict[int, tuple[int, int]] | None = None
    points: points.rules.Terms | None = None  # None: this checkout cannot spend points


def new_public_id() -> str:
    return secrets.token_urlsafe(12)


def _min_limit(*limits: int | None) -> int | None:
    present = [limit for limit in limits if limit is not None]
    return min(present) if present else None


def do_place_orders(
    session: Session, how: Placement, data: OrderIn, present: Callable[[list[Order]], T]
) -> T:
    """Snapshot prices, write the orders, present them, then reserve every unit; any refusal
    undoes them all.

    The reservations (conditional UPDATEs on the hot rows) come last, after even the answer is
    built, so that the row locks on stock and flash counters are held only until the commit:
    every other buyer of the product queues behind them.
    """
    buyer, now = how.buyer, how.now
    items = data.items
    if data.from_cart:
        cart = [i for i in list_cart(session, buyer) if i.product.merchant_id == data.merchant_id]
        if not cart:
            raise ValidationFailed(_("Your cart has nothing from this seller."), code="empty")
        items = [
            OrderItemIn(
                product_id=i.product_id,
                quantity=i.quantity,
                source_kind=cast(Any, i.source_kind),
                source_key=i.source_key,
            )
            for i in cart
        ]
    items = pricing.merge(items)
    products = pricing.load_products(session, items)
    # Fast refusal when already sold out as read: no rows written and rolled back. The
    # conditional UPDATE below still decides for everyone who gets past this point.
    pricing.check_buyable(items, products, buyer.id)
    # After the stock read: a sold-out rush is refused without this query.
    address = access_address(session, data.address_id, buyer)
    ids = list(products)
    flashes = pricing.active_flash_sales(session, ids, now)
    by_merchant = pricing.price_lines(session, items, products, flashes, how.group_prices)
    pricing.check_currencies(by_merchant)
    orders: list[Order] = []
    redemptions: list[coupons.Redemption] = []
    wallet = points.open_wallet(session, buyer.id, data.points_to_use, how.points, now)
    for merchant_id, group in by_merchant.items():
        order = Order(
            public_id=new_public_id(),
            buyer_id=buyer.id,
            merchant_id=merchant_id,
            state=PENDING_PAYMENT,
            currency=group[0].product.currency,
            subtotal_minor=0,
            discount_minor=0,
            shipping_minor=0,
            total_minor=0,
            address=address.snapshot(),
            device_id=how.device_id,
            ip_hash=how.ip_hash,
            expires_at=now + timedelta(minutes=how.deadline_minutes),
            created_at=now,
        )
        for line in group:
            order.lines.append(_order_line(line))
        order.subtotal_minor = sum(line.amount_minor for line in order.lines)
        # Coupons: the best (or the buyer's choice), split over the lines' amounts.
        coupons.apply_coupons(session, order, buyer.id, now, data.coupon_ids, redemptions)
        points.apply_points(order, wallet)  # then points, on what is left to pay
        order.total_minor = order.subtotal_minor - order.discount_minor + order.shipping_minor
        order.history.append(
            OrderEvent(from_state=None, to_state=PENDING_PAYMENT, actor_id=buyer.id, at=now)
        )
        session.add(order)
        orders.append(order)
    if data.from_cart:
        session.execute(
            delete(CartItem).where(CartItem.user_id == buyer.id, CartItem.product_id.in_(ids))
        )
    session.flush()
    answer = present(orders)
    coupons.redeem(session, redemptions, now, data.coupon_ids)
    points.redeem(session, wallet, now)
    for order in orders:
        for line in order.lines:
            _reserve(session, buyer, products[line.product_id], line, flashes, now)
    return answer


def _order_line(line: PricedLine) -> OrderLine:
    product, item = line.product, line.item
    return OrderLine(
        product_id=product.id,
        title=product.title,
        list_price_minor=product.price_minor,
        unit_price_minor=line.unit_minor,
        quantity=item.quantity,
        amount_minor=line.amount_minor,
        flash_sale_id=line.flash.id if line.flash is not None else None,
        group_seat_id=line.seat_id,
        creator_rate_bp=product.creator_rate_bp,
        sharer_rate_bp=product.sharer_rate_bp,
        source_kind=item.source_kind,
        source_key=item.source_key,
        creator_id=line.creator_id,
    )


def _reserve(
    session: Session,
    buyer: User,
    product: Product,
    line: OrderLine,
    flashes: dict[int, FlashSale],
    now: datetime,
) -> None:
    flash = flashes.get(product.id) if line.flash_sale_id is not None else None
    limit = _min_limit(product.per_buyer_limit, flash.per_buyer_limit if flash else None)
    # One line per product (merged), so the buyer's counter sees the order's total at once.
    # The buyer's own counter first: it has no contention; the hot rows go last.
    if not stock.take_allowance(session, buyer.id, product.id, line.quantity, limit):
        had = stock.bought(session, buyer.id, product.id)
        raise stock.limit_refusal(product.title, limit or 0, had, line.quantity)
    if flash is not None and not stock.take_flash(session, flash.id, line.quantity, now):
        raise Conflict(
            _("The flash sale of %(title)s has sold out or ended.", title=product.title),
            code="flash_sold_out",
        )
    if not stock.take_stock(session, product.id, line.quantity):
        raise Conflict(
            _("%(title)s does not have enough stock left.", title=product.title),
            code="out_of_stock",
        )


# Cancel and expiry ---------------------------------------------------------------------------


def _rows(result: Any) -> int:
    return cast(CursorResult[Any], result).rowcount


def do_release_unpaid(
    session: Session, order: Order, now: datetime, *, actor_id: int | None, note: str
) -> bool:
    """Cancel an unpaid order and give its units back, exactly once (a conditional UPDATE)."""
    result = session.execute(
        update(Order)
        .where(Order.id == order.id, Order.state == PENDING_PAYMENT)
        .values(state=CANCELLED, cancelled_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if _rows(result) != 1:
        return False
    coupons.release_for_order(session, order.id, now)
    for line in order.lines:
        stock.give_back(
            session,
            buyer_id=order.buyer_id,
            product_id=line.product_id,
            quantity=line.quantity,
            flash_id=line.flash_sale_id,
        )
    session.add(
        OrderEvent(
            order_id=order.id,
            from_state=PENDING_PAYMENT,
            to_state=CANCELLED,
            actor_id=actor_id,
            note=note,
            at=now,
        )
    )
    session.flush()
    session.refresh(order)
    order_released.send(order, session=session, now=now)
    return True


def expired_order_ids(session: Session, now: datetime, limit: int = 200) -> list[int]:
    return list(
        session.scalars(
            select(Order.id)
            .where(Order.state == PENDING_PAYMENT, Order.expires_at < now)
            .order_by(Order.expires_at)
            .limit(limit)
        )
    )


def do_expire_orders(session: Session, now: datetime) -> list[Order]:
    """Cancel unpaid orders past their deadline; returns those this call cancelled."""
    cancelled = []
    for order_id in expired_order_ids(session, now):
        order = session.get(Order, order_id)
        if order is not None and do_release_unpaid(
            session, order, now, actor_id=None, note="payment deadline passed"
        ):
            cancelled.append(order)
    return cancelled
