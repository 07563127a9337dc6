"""Orders, carts, addresses and flash sales as the API, the pages and live events show them."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from commerce.catalog.models import Product
from commerce.flashsales.present import flash_out as flash_out  # the API of orders shows them
from commerce.flashsales.present import window
from commerce.money import format_money
from commerce.orders.models import Address, CartItem, FlashSale, Order
from commerce.orders.rules import (
    CANCELLED,
    COMPLETED,
    DELIVERED,
    PAID,
    PARTIALLY_REFUNDED,
    PENDING_PAYMENT,
    REFUNDED,
    SHIPPED,
    history_entry,
    next_step,
    unit_price,
)
from commerce.orders.schemas import (
    AddressOut,
    BuyInfoOut,
    CartItemOut,
    OrderEventOut,
    OrderLineOut,
    OrderOut,
    RefundRequestOut,
)
from commerce.realtime import publish, user_room


def address_out(address: Address) -> AddressOut:
    return AddressOut(id=address.id, **address.snapshot())


def order_url(order: Order) -> str:
    return f"/orders/{order.public_id}"


def order_out(order: Order, *, pay_url: str | None = None) -> OrderOut:
    return OrderOut(
        id=order.public_id,
        state=order.state,
        fulfilment=order.fulfilment,
        buyer_id=order.buyer_id,
        merchant_id=order.merchant_id,
        merchant_name=order.merchant.display_name,
        currency=order.currency,
        subtotal_minor=order.subtotal_minor,
        discount_minor=order.discount_minor,
        points_used=order.points_used,
        points_discount_minor=order.points_discount_minor,
        total_minor=order.total_minor,
        total_display=format_money(order.total_minor, order.currency),
        refunded_minor=order.refunded_minor,
        address={k: str(v) for k, v in (order.address or {}).items()},
        tracking_number=order.tracking_number,
        refund_requested=order.refund_requested,
        refund_request=(
            RefundRequestOut(
                state=order.refund_request_state,
                reason=order.refund_request_reason,
                requested_at=order.refund_requested_at,
                decided_at=order.refund_decided_at,
                decline_reason=order.refund_decline_reason,
            )
            if order.refund_request_state
            else None
        ),
        next_step=next_step(order.state, order.fulfilment),
        expires_at=order.expires_at,
        paid_at=order.paid_at,
        created_at=order.created_at,
        lines=[
            OrderLineOut(
                id=line.id,
                product_id=line.product_id,
                title=line.title,
                quantity=line.quantity,
                list_price_minor=line.list_price_minor,
                unit_price_minor=line.unit_price_minor,
                amount_minor=line.amount_minor,
                refunded_minor=line.refunded_minor,
                merchant_discount_minor=line.merchant_discount_minor,
                platform_discount_minor=line.platform_discount_minor,
                points_used=line.points_used,
                points_discount_minor=line.points_discount_minor,
                flash_sale_id=line.flash_sale_id,
                source_kind=line.source_kind,
                source_key=line.source_key,
                creator_id=line.creator_id,
            )
            for line in order.lines
        ],
        history=[event_out(e.from_state, e.to_state, e.note, e.at) for e in order.history],
        url=order_url(order),
        pay_url=pay_url,
    )


def event_out(from_state: str | None, to_state: str, note: str, at: datetime) -> OrderEventOut:
    kind, detail = history_entry(from_state, to_state, note or "")
    shown = note if kind or detail else ""
    return OrderEventOut(
        from_state=from_state, to_state=to_state, note=shown, kind=kind, detail=detail, at=at
    )


# Order states and history notes as people read them; orders.js gets the same through
# order_strings() so live updates read alike.
STATE_LABELS = {
    PENDING_PAYMENT: _l("Awaiting payment"),
    PAID: _l("To ship"),
    SHIPPED: _l("Shipped"),
    DELIVERED: _l("Delivered"),
    COMPLETED: _l("Completed"),
    CANCELLED: _l("Cancelled"),
    REFUNDED: _l("Refunded"),
    PARTIALLY_REFUNDED: _l("Partly refunded"),
}
NOTE_TEXTS = {
    "tracking": _l("tracking number: %(detail)s"),
    "refund_requested": _l("refund requested: %(detail)s"),
    "refund_declined": _l("refund declined: %(detail)s"),
    "reason": _l("reason: %(detail)s"),
    "cancelled_by_buyer": _l("cancelled by the buyer"),
    "deadline_passed": _l("payment deadline passed"),
    "paid_late": _l("paid after the deadline, refunded"),
    "not_payable": _l("the order could no longer be paid, refunded"),
    "paid_twice": _l("already paid by another payment, refunded"),
    "group_moved": _l(
        "the group you paid for had closed: you now lead a new group with this order"
    ),
    "group_filled": _l("the group is full: the order can ship"),
    "group_failed": _l("the group did not fill in time: refunded in full"),
    "leader_free": _l("leader rides free: refunded as a rebate"),
}


def order_state_label(state: str) -> str:
    return str(STATE_LABELS.get(state, state))


def history_note(event: OrderEventOut | object) -> str:
    """A history line's note, translated: from an OrderEvent row or an OrderEventOut."""
    if isinstance(event, OrderEventOut):
        kind, detail = event.kind, event.detail
    else:
        kind, detail = history_entry(
            getattr(event, "from_state", None),
            getattr(event, "to_state", ""),
            getattr(event, "note", "") or "",
        )
    if not kind:
        return ""
    text = NOTE_TEXTS.get(kind)
    return str(text) % {"detail": detail} if text is not None else detail


def order_strings() -> dict[str, dict[str, str]]:
    """The labels orders.js needs, in the page's language."""
    return {
        "states": {state: str(label) for state, label in STATE_LABELS.items()},
        "notes": {kind: str(text) for kind, text in NOTE_TEXTS.items()},
    }


def publish_order(session: Session, order: Order) -> None:
    """Both sides see the order change live, once the transaction commits."""
    session.flush()
    session.refresh(order)
    payload = order_out(order).model_dump(mode="json")
    publish(session, "order.updated", payload, room=user_room(order.buyer_id))
    publish(session, "order.updated", payload, room=user_room(order.merchant_id))


def cart_item_out(item: CartItem) -> CartItemOut:
    product = item.product
    return CartItemOut(
        id=item.id,
        product_id=product.id,
        title=product.title,
        quantity=item.quantity,
        unit_price_minor=product.price_minor,
        price_display=format_money(product.price_minor, product.currency),
        merchant_id=product.merchant_id,
        merchant_name=product.merchant.display_name,
        source_kind=item.source_kind,
        source_key=item.source_key,
        available=product.is_active and product.stock >= item.quantity,
    )


def buy_info_out(product: Product, flash: FlashSale | None, now: datetime) -> BuyInfoOut:
    price = unit_price(product.price_minor, window(flash) if flash else None, now)
    return BuyInfoOut(
        product_id=product.id,
        title=product.title,
        currency=product.currency,
        list_price_minor=product.price_minor,
        unit_price_minor=price,
        price_display=format_money(price, product.currency),
        stock=product.stock,
        per_buyer_limit=product.per_buyer_limit,
        merchant_id=product.merchant_id,
        flash=flash_out(flash, now, product.currency) if flash else None,
        server_now=now,
    )
