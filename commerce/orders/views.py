"""Buying pages: cart, addresses, orders of buyers and sellers (actions go through the API)."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from commerce.accounts.auth import login_required, require_merchant, require_user
from commerce.extensions import db
from commerce.inputs import page_arg
from commerce.orders import lifecycle, services
from commerce.orders.present import order_out
from commerce.orders.pricing import active_flash_sales
from commerce.orders.rules import STATES
from commerce.payments.services import open_payment
from commerce.timeutil import utcnow

bp = Blueprint("orders", __name__)


def _state_filter() -> str | None:
    state = request.args.get("state") or None
    return state if state in STATES else None


@bp.get("/orders")
@login_required
def my_orders() -> str:
    listing = lifecycle.list_orders(
        db.session,
        require_user(),
        role="buyer",
        state=_state_filter(),
        cursor=request.args.get("cursor") or None,
        page=page_arg(),
    )
    return render_template("orders/list.html", listing=listing, role="buyer", state=_state_filter())


@bp.get("/merchant/orders")
@login_required
def merchant_orders() -> str:
    listing = lifecycle.list_orders(
        db.session,
        require_merchant(),
        role="merchant",
        state=_state_filter(),
        cursor=request.args.get("cursor") or None,
        page=page_arg(),
    )
    return render_template(
        "orders/list.html", listing=listing, role="merchant", state=_state_filter()
    )


@bp.get("/orders/<public_id>")
@login_required
def order_page(public_id: str) -> str:
    user = require_user()
    order = lifecycle.access_order_for_party(db.session, public_id, user)
    role = "buyer" if order.buyer_id == user.id else "merchant"
    payment = open_payment(db.session, order) if role == "buyer" else None
    return render_template(
        "orders/detail.html",
        order=order,
        role=role,
        data=order_out(order).model_dump(mode="json"),
        pay_url=payment.pay_url if payment else None,
    )


@bp.get("/cart")
@login_required
def cart_page() -> str:
    user = require_user()
    items = services.list_cart(db.session, user)
    groups: dict[int, list] = {}
    for item in items:
        groups.setdefault(item.product.merchant_id, []).append(item)
    # A line in a flash sale shows the price the quote and the order will charge.
    flashes = active_flash_sales(db.session, [i.product_id for i in items], utcnow())
    return render_template(
        "orders/cart.html",
        groups=groups,
        flash_prices={product_id: flash.price_minor for product_id, flash in flashes.items()},
        addresses=services.list_addresses(db.session, user),
    )


@bp.get("/addresses")
@login_required
def addresses_page() -> str:
    return render_template(
        "orders/addresses.html", addresses=services.list_addresses(db.session, require_user())
    )
