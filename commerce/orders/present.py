"""Orders, carts, addresses and flash sales as the API, the pages and live events show them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from commerce.catalog.models import Product
from commerce.money import format_money
from commerce.orders.models import Address, CartItem, FlashSale, Order
from commerce.orders.rules import FlashWindow, flash_is_on, unit_price
from commerce.orders.schemas import (
    AddressOut,
    BuyInfoOut,
    CartItemOut,
    FlashSaleOut,
    OrderEventOut,
    OrderLineOut,
    OrderOut,
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
        total_minor=order.total_minor,
        total_display=format_money(order.total_minor, order.currency),
        refunded_minor=order.refunded_minor,
        address={k: str(v) for k, v in (order.address or {}).items()},
        tracking_number=order.tracking_number,
        refund_requested=order.refund_requested,
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
                flash_sale_id=line.flash_sale_id,
                source_kind=line.source_kind,
                source_key=line.source_key,
                creator_id=line.creator_id,
            )
            for line in order.lines
        ],
        history=[
            OrderEventOut(from_state=e.from_state, to_state=e.to_state, note=e.note, at=e.at)
            for e in order.history
        ],
        url=order_url(order),
        pay_url=pay_url,
    )


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


def window(flash: FlashSale) -> FlashWindow:
    return FlashWindow(
        flash.price_minor, flash.starts_at, flash.ends_at, flash.quantity, flash.sold
    )


def flash_out(flash: FlashSale, now: datetime, currency: str) -> FlashSaleOut:
    return FlashSaleOut(
        id=flash.id,
        product_id=flash.product_id,
        price_minor=flash.price_minor,
        price_display=format_money(flash.price_minor, currency),
        starts_at=flash.starts_at,
        ends_at=flash.ends_at,
        quantity=flash.quantity,
        sold=flash.sold,
        remaining=max(flash.quantity - flash.sold, 0),
        per_buyer_limit=flash.per_buyer_limit,
        on=flash_is_on(window(flash), now),
        server_now=now,
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
