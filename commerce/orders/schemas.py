"""What the order, cart, address and flash-sale endpoints accept and return."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from flask_babel import lazy_gettext as _l
from pydantic import ConfigDict, Field, model_validator

from commerce.flashsales.schemas import FlashSaleIn as FlashSaleIn
from commerce.flashsales.schemas import FlashSaleOut
from commerce.validation import BigInt, Schema

MAX_QUANTITY = 99


class AddressIn(Schema):
    model_config = ConfigDict(str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=60)
    phone: str = Field(min_length=3, max_length=32, pattern=r"^[0-9+()\- ]+$")
    line1: str = Field(min_length=1, max_length=200)
    line2: str = Field(default="", max_length=200)
    city: str = Field(min_length=1, max_length=80)
    region: str = Field(default="", max_length=80)
    postal_code: str = Field(default="", max_length=20)
    country: str = Field(default="CN", min_length=2, max_length=2, pattern=r"^[A-Za-z]{2}$")


class AddressOut(AddressIn):
    id: int


class AddressList(Schema):
    items: list[AddressOut]


class SourceIn(Schema):
    """The content a product was bought from: a video (public id) or a live room (key)."""

    source_kind: Literal["video", "live"] | None = None
    source_key: str | None = Field(default=None, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")


class CartItemIn(SourceIn):
    product_id: int
    quantity: int = Field(default=1, ge=1, le=MAX_QUANTITY)


class CartQuantityIn(Schema):
    quantity: int = Field(ge=1, le=MAX_QUANTITY)


class CartItemOut(Schema):
    id: int
    product_id: int
    title: str
    quantity: int
    unit_price_minor: int
    price_display: str
    merchant_id: int
    merchant_name: str
    source_kind: str | None
    source_key: str | None
    available: bool


class CartOut(Schema):
    items: list[CartItemOut]


class OrderItemIn(SourceIn):
    product_id: int
    quantity: int = Field(ge=1, le=MAX_QUANTITY)


class OrderIn(Schema):
    """Buy now (items) or check out the cart's lines of one merchant (from_cart + merchant_id)."""

    items: list[OrderItemIn] = Field(default_factory=list, max_length=50)
    from_cart: bool = False
    merchant_id: int | None = None
    address_id: int
    # None: the best coupons apply by themselves; []: none; else the buyer's choice (<= 1 each
    # of shop and platform).
    coupon_ids: list[int] | None = Field(default=None, max_length=2)
    points_to_use: int | None = Field(
        default=None,
        ge=0,
        le=10**9,
        description="Use up to this many points (at most your balance; each order takes what "
        "its cap allows, after coupons). More than your balance: 409.",
    )

    @model_validator(mode="after")
    def one_way_to_say_what(self) -> OrderIn:
        if self.from_cart == bool(self.items):
            raise ValueError(_l("Give either items, or from_cart with merchant_id."))
        if self.from_cart and self.merchant_id is None:
            raise ValueError(_l("merchant_id is required with from_cart."))
        return self


class OrderLineOut(Schema):
    id: int
    product_id: int
    title: str
    quantity: int
    list_price_minor: int
    unit_price_minor: int
    amount_minor: int
    refunded_minor: int
    merchant_discount_minor: int = 0
    platform_discount_minor: int = 0
    points_used: int = 0
    points_discount_minor: int = 0
    flash_sale_id: int | None
    source_kind: str | None
    source_key: str | None
    creator_id: int | None


class OrderEventOut(Schema):
    from_state: str | None
    to_state: str
    note: str  # the stored note, less internal ids (a payment's provider id)
    kind: str = ""  # what the note is: "tracking", "refund_requested", "reason", a system code
    detail: str = ""  # the user's text within it (a reason, a tracking number)
    at: datetime


class OrderOut(Schema):
    id: str
    state: str
    fulfilment: str
    buyer_id: int
    merchant_id: int
    merchant_name: str
    currency: str
    subtotal_minor: int
    discount_minor: int = 0  # coupons and points
    points_used: int = 0
    points_discount_minor: int = 0  # the part of discount_minor that points took off
    total_minor: int
    total_display: str
    refunded_minor: int
    address: dict[str, str]
    tracking_number: str | None
    refund_requested: bool
    refund_request: RefundRequestOut | None
    next_step: Literal["ship", "deliver", "confirm"] | None
    expires_at: datetime | None
    paid_at: datetime | None
    created_at: datetime
    lines: list[OrderLineOut]
    history: list[OrderEventOut]
    url: str
    pay_url: str | None = None


class OrderQuery(Schema):
    role: Literal["buyer", "merchant"] = "buyer"
    state: str | None = Field(default=None, max_length=20)
    page: int = Field(default=1, ge=1, le=10000)
    # The `next_cursor` of the page before: keyset pages, as fast deep as on top (page is ignored).
    cursor: str | None = Field(default=None, max_length=200)


class OrderPage(Schema):
    items: list[OrderOut]
    page: int
    total: int  # counted up to 1000: total_exact is false beyond
    total_exact: bool
    next_cursor: str | None  # pass as `cursor` for the next page; null on the last one


class PlacedOrders(Schema):
    """A cart checkout may make one order per merchant; buy now makes one."""

    orders: list[OrderOut]


class ShipIn(Schema):
    model_config = ConfigDict(str_strip_whitespace=True)

    tracking_number: str = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9\-]+$")


class RefundRequestIn(Schema):
    reason: str = Field(default="", max_length=1000)


class RefundDeclineIn(Schema):
    reason: str = Field(min_length=1, max_length=1000, description="Shown to the buyer.")


class RefundRequestOut(Schema):
    state: Literal["requested", "approved", "declined"]
    reason: str
    requested_at: datetime | None
    decided_at: datetime | None
    decline_reason: str


class RefundIn(Schema):
    amount_minor: BigInt = Field(
        ge=1, le=10**12, description="Minor units to give back to the buyer."
    )
    reason: str = Field(default="", max_length=1000)
    restock: bool = Field(default=False, description="Put fully refunded lines back in stock.")


class FlashSaleList(Schema):
    items: list[FlashSaleOut]


class BuyInfoOut(Schema):
    """What the checkout drawer needs about a product, with the server's clock for countdowns."""

    product_id: int
    title: str
    currency: str
    list_price_minor: int
    unit_price_minor: int
    price_display: str
    stock: int
    per_buyer_limit: int | None
    merchant_id: int
    flash: FlashSaleOut | None
    server_now: datetime
