"""Buying JSON API: addresses, cart, orders, flash sales."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from commerce.accounts.auth import current_user, require_merchant, require_user
from commerce.apispec import endpoint
from commerce.catalog.services import access_product_for_editing, access_product_for_viewing
from commerce.extensions import db
from commerce.flashsales import services as flash_sales
from commerce.live import services as live_services
from commerce.orders import lifecycle, services
from commerce.orders.idempotency import idempotent
from commerce.orders.models import Order
from commerce.orders.present import (
    address_out,
    buy_info_out,
    cart_item_out,
    flash_out,
    order_out,
    publish_order,
)
from commerce.orders.schemas import (
    AddressIn,
    AddressList,
    AddressOut,
    BuyInfoOut,
    CartItemIn,
    CartItemOut,
    CartOut,
    CartQuantityIn,
    FlashSaleIn,
    FlashSaleList,
    FlashSaleOut,
    OrderIn,
    OrderOut,
    OrderPage,
    OrderQuery,
    PlacedOrders,
    RefundDeclineIn,
    RefundRequestIn,
    ShipIn,
)
from commerce.points.rules import terms_from_config
from commerce.timeutil import utcnow
from commerce.visitor import current_visitor_id, hash_ip

bp = Blueprint("orders_api", __name__, url_prefix="/api/v1")


# Addresses


@endpoint(bp, "/addresses", summary="Your saved addresses", response=AddressList)
def list_addresses() -> AddressList:
    user = require_user()
    return AddressList(items=[address_out(a) for a in services.list_addresses(db.session, user)])


@endpoint(
    bp,
    "/addresses",
    methods=("POST",),
    summary="Save an address",
    body=AddressIn,
    response=AddressOut,
    status=201,
)
def add_address(body: AddressIn) -> AddressOut:
    address = services.do_add_address(db.session, require_user(), body)
    db.session.commit()
    return address_out(address)


@endpoint(
    bp,
    "/addresses/<int:address_id>",
    methods=("PUT",),
    summary="Edit your address",
    body=AddressIn,
    response=AddressOut,
    errors=(404,),
)
def update_address(address_id: int, body: AddressIn) -> AddressOut:
    address = services.access_address(db.session, address_id, require_user())
    services.do_update_address(address, body)
    db.session.commit()
    return address_out(address)


@endpoint(
    bp,
    "/addresses/<int:address_id>",
    methods=("DELETE",),
    summary="Delete your address",
    status=204,
    errors=(404,),
)
def delete_address(address_id: int) -> Response:
    address = services.access_address(db.session, address_id, require_user())
    services.do_delete_address(db.session, address)
    db.session.commit()
    return Response(status=204)


# Cart


@endpoint(bp, "/cart", summary="Your cart", response=CartOut)
def get_cart() -> CartOut:
    items = services.list_cart(db.session, require_user())
    return CartOut(items=[cart_item_out(i) for i in items])


@endpoint(
    bp,
    "/cart",
    methods=("POST",),
    summary="Add a product to your cart",
    body=CartItemIn,
    response=CartItemOut,
    status=201,
    errors=(404,),
)
def add_to_cart(body: CartItemIn) -> CartItemOut:
    item = services.do_add_to_cart(db.session, require_user(), body)
    db.session.commit()
    return cart_item_out(item)


@endpoint(
    bp,
    "/cart/<int:item_id>",
    methods=("PATCH",),
    summary="Change a cart line's quantity",
    body=CartQuantityIn,
    response=CartItemOut,
    errors=(404,),
)
def update_cart_item(item_id: int, body: CartQuantityIn) -> CartItemOut:
    item = services.access_cart_item(db.session, item_id, require_user())
    services.do_set_cart_quantity(item, body.quantity)
    db.session.commit()
    return cart_item_out(item)


@endpoint(
    bp,
    "/cart/<int:item_id>",
    methods=("DELETE",),
    summary="Remove a cart line",
    status=204,
    errors=(404,),
)
def remove_cart_item(item_id: int) -> Response:
    item = services.access_cart_item(db.session, item_id, require_user())
    services.do_remove_from_cart(db.session, item)
    db.session.commit()
    return Response(status=204)


# Orders


@endpoint(
    bp,
    "/orders",
    methods=("POST",),
    summary="Place an order (buy now, or check out one seller's cart); needs Idempotency-Key",
    body=OrderIn,
    response=PlacedOrders,
    status=201,
    errors=(404, 409, 422),
)
def place_order(body: OrderIn) -> Response:
    buyer = require_user()
    how = services.Placement(
        buyer=buyer,
        now=utcnow(),
        deadline_minutes=current_app.config["PAYMENT_DEADLINE_MINUTES"],
        device_id=current_visitor_id(),
        ip_hash=hash_ip(request.remote_addr),
        points=terms_from_config(current_app.config),
    )

    def run() -> tuple[int, dict]:
        def present(orders: list[Order]) -> dict:
            return PlacedOrders(orders=[order_out(o) for o in orders]).model_dump(mode="json")

        return 201, services.do_place_orders(db.session, how, body, present)

    return idempotent(buyer.id, "orders.place", body.model_dump(mode="json"), run)


@endpoint(
    bp, "/orders", summary="Your orders as buyer or seller", query=OrderQuery, response=OrderPage
)
def list_orders(query: OrderQuery) -> OrderPage:
    user = require_merchant() if query.role == "merchant" else require_user()
    listing = lifecycle.list_orders(
        db.session, user, role=query.role, state=query.state, cursor=query.cursor, page=query.page
    )
    return OrderPage(
        items=[order_out(o) for o in listing.items],
        page=query.page,
        total=listing.total,
        total_exact=listing.total_exact,
        next_cursor=listing.next_cursor,
    )


@endpoint(bp, "/orders/<order_id>", summary="An order of yours", response=OrderOut, errors=(404,))
def get_order(order_id: str) -> OrderOut:
    return order_out(lifecycle.access_order_for_party(db.session, order_id, require_user()))


@endpoint(
    bp,
    "/orders/<order_id>/cancel",
    methods=("POST",),
    summary="Cancel your unpaid order (its units go back on sale)",
    response=OrderOut,
    errors=(404, 409),
)
def cancel_order(order_id: str) -> OrderOut:
    buyer = require_user()
    order = lifecycle.access_order_for_buyer(db.session, order_id, buyer)
    if not services.do_release_unpaid(
        db.session, order, utcnow(), actor_id=buyer.id, note="cancelled by the buyer"
    ):
        raise lifecycle.illegal(lifecycle.IllegalTransition(order.state, "cancelled"))
    publish_order(db.session, order)
    db.session.commit()
    return order_out(order)


@endpoint(
    bp,
    "/orders/<order_id>/refund-request",
    methods=("POST",),
    summary="Ask the seller for a refund",
    body=RefundRequestIn,
    response=OrderOut,
    errors=(404, 409),
)
def request_refund(order_id: str, body: RefundRequestIn) -> OrderOut:
    buyer = require_user()
    order = lifecycle.access_order_for_buyer(db.session, order_id, buyer)
    lifecycle.do_request_refund(db.session, order, buyer, body.reason, utcnow())
    db.session.commit()
    return order_out(order)


@endpoint(
    bp,
    "/orders/<order_id>/refund-request/decline",
    methods=("POST",),
    summary="Decline the buyer's refund request, saying why (seller)",
    body=RefundDeclineIn,
    response=OrderOut,
    errors=(403, 404, 409),
)
def decline_refund_request(order_id: str, body: RefundDeclineIn) -> OrderOut:
    merchant = require_merchant()
    order = lifecycle.access_order_for_merchant(db.session, order_id, merchant)
    lifecycle.do_decline_refund_request(db.session, order, merchant, body.reason, utcnow())
    db.session.commit()
    return order_out(order)


@endpoint(
    bp,
    "/orders/<order_id>/confirm",
    methods=("POST",),
    summary="Confirm you received the order (completes it)",
    response=OrderOut,
    errors=(404, 409),
)
def confirm_received(order_id: str) -> OrderOut:
    buyer = require_user()
    order = lifecycle.access_order_for_buyer(db.session, order_id, buyer)
    lifecycle.do_complete(db.session, order, buyer.id, utcnow())
    db.session.commit()
    return order_out(order)


@endpoint(
    bp,
    "/orders/<order_id>/ship",
    methods=("POST",),
    summary="Ship an order (seller)",
    body=ShipIn,
    response=OrderOut,
    errors=(403, 404, 409),
)
def ship_order(order_id: str, body: ShipIn) -> OrderOut:
    merchant = require_merchant()
    order = lifecycle.access_order_for_merchant(db.session, order_id, merchant)
    lifecycle.do_ship(db.session, order, merchant, body.tracking_number, utcnow())
    db.session.commit()
    return order_out(order)


@endpoint(
    bp,
    "/orders/<order_id>/deliver",
    methods=("POST",),
    summary="Mark an order delivered (seller)",
    response=OrderOut,
    errors=(403, 404, 409),
)
def deliver_order(order_id: str) -> OrderOut:
    merchant = require_merchant()
    order = lifecycle.access_order_for_merchant(db.session, order_id, merchant)
    lifecycle.do_mark_delivered(db.session, order, merchant, utcnow())
    db.session.commit()
    return order_out(order)


# Products: what the checkout drawer needs, and flash sales


@endpoint(
    bp,
    "/products/<int:product_id>/buy-info",
    summary="Price now (flash sale included), stock and the server's clock",
    response=BuyInfoOut,
    auth=False,
    errors=(404,),
)
def buy_info(product_id: int) -> BuyInfoOut:
    product = access_product_for_viewing(db.session, product_id, current_user())
    now = utcnow()
    return buy_info_out(product, flash_sales.current_or_next(db.session, product.id, now), now)


@endpoint(
    bp,
    "/products/<int:product_id>/flash-sales",
    methods=("POST",),
    summary="Schedule a flash sale of your product",
    body=FlashSaleIn,
    response=FlashSaleOut,
    status=201,
    errors=(403, 404, 409),
)
def create_flash_sale(product_id: int, body: FlashSaleIn) -> FlashSaleOut:
    product = access_product_for_editing(db.session, product_id, require_merchant())
    now = utcnow()
    flash = flash_sales.do_create_flash_sale(db.session, product, body, now)
    live_services.do_announce_product_flash(db.session, product.id, now)
    db.session.commit()
    return flash_out(flash, now, product.currency)


@endpoint(
    bp,
    "/products/<int:product_id>/flash-sales",
    summary="Your product's flash sales",
    response=FlashSaleList,
    errors=(403, 404),
)
def list_flash_sales(product_id: int) -> FlashSaleList:
    product = access_product_for_editing(db.session, product_id, require_merchant())
    now = utcnow()
    return FlashSaleList(
        items=[
            flash_out(f, now, product.currency)
            for f in flash_sales.list_flash_sales(db.session, product.id)
        ]
    )
