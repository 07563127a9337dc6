"""Demo promotions: a shop coupon on a demo product, a platform coupon, a group campaign with one
open group whose leader really paid (sandbox card, the payment event applied as the webhook
endpoint applies it), and the creator's scheduled live room with a LIVE voucher the shop made for
her, ready to pin once she goes live. Each piece is added only if missing: `flask demo` runs
twice."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import timedelta

from flask import Flask
from sqlalchemy import select

from commerce.accounts.models import User
from commerce.accounts.schemas import SignupIn
from commerce.accounts.services import do_signup, find_user_by_email
from commerce.attribution.crediting import policy_from_config
from commerce.attribution.fraud import settings_from_config
from commerce.catalog.models import Product
from commerce.coupons.models import CouponTemplate
from commerce.coupons.schemas import TemplateIn
from commerce.coupons.services import do_create_template
from commerce.extensions import db
from commerce.groupbuy import rules as group_rules
from commerce.groupbuy.models import Group, GroupCampaign
from commerce.groupbuy.schemas import CampaignIn, GroupOrderIn
from commerce.groupbuy.services import active_campaign, do_create_campaign, do_place_group_order
from commerce.live.models import LiveRoom
from commerce.live.schemas import RoomIn
from commerce.live.services import do_schedule_room
from commerce.orders.models import Order
from commerce.orders.schemas import AddressIn
from commerce.orders.services import Placement, do_add_address, list_addresses
from commerce.payments import services as payments
from commerce.payments.models import SandboxObject
from commerce.payments.provider import ProviderEvent
from commerce.payments.sandbox import CARD_SUCCEEDS, parse_event
from commerce.payments.webhooks import provider
from commerce.timeutil import utcnow

OPERATOR = ("operator@example.com", "LiveShop Platform")
SHOP_COUPON = "Jasmine week: ¥10 off"
PLATFORM_COUPON = "Welcome to LiveShop: ¥5 off"
LIVE_VOUCHER = "Mia's tea live: ¥8 off"
LIVE_ROOM = "Tea tasting LIVE"
MAKE_RUN_WEBHOOK = "http://127.0.0.1:5000/api/v1/payments/webhook/sandbox"
DEMO_ADDRESS = AddressIn(
    name="Leo", phone="13800000000", line1="1 Tea Street", city="Hangzhou", region="Zhejiang"
)


def _operator() -> tuple[User, str | None]:
    """The platform operator who funds platform coupons; a new one gets a random password."""
    user = find_user_by_email(db.session, OPERATOR[0])
    if user is not None:
        return user, None
    password = secrets.token_urlsafe(12)
    user = do_signup(
        db.session, SignupIn(email=OPERATOR[0], password=password, display_name=OPERATOR[1])
    )
    user.is_admin = True
    return user, password


def _coupon(owner: User, title: str, **fields: object) -> bool:
    if db.session.scalar(select(CouponTemplate.id).where(CouponTemplate.title == title)):
        return False
    now = utcnow()
    data = TemplateIn.model_validate(
        {
            "title": title,
            "claim_ends_at": now + timedelta(days=60),
            "valid_days": 14,
            "total": 1000,
            **fields,
        }
    )
    do_create_template(db.session, owner, data, now)
    return True


def _pay_in_sandbox(app: Flask, order: Order) -> str:
    """Pay with the sandbox's test card, then apply its event here (no server runs yet): the
    same services the webhook endpoint calls, so the order is paid and its group opens."""
    now = utcnow()
    sandbox = provider()
    payment = payments.do_start_payment(
        db.session,
        sandbox,
        order,
        now,
        return_url=f"/orders/{order.public_id}",
        # Later events (a refund if the group fails) go to the app `make run` serves.
        webhook_url=app.config["PAYMENT_WEBHOOK_URL"] or MAKE_RUN_WEBHOOK,
    )
    sandbox.confirm(payment.provider_ref, card_number=CARD_SUCCEEDS)
    event_row = db.session.scalars(
        select(SandboxObject)
        .where(SandboxObject.kind == "event", SandboxObject.parent_id == payment.provider_ref)
        .order_by(SandboxObject.created_at.desc())
    ).first()
    assert event_row is not None
    return _apply(app, parse_event(event_row.data["body"]), event_row)


def _apply(app: Flask, event: ProviderEvent, event_row: SandboxObject) -> str:
    now = utcnow()
    payments.record_event(db.session, provider().name, event)
    credit, _reverse = payments.commission_hooks(
        db.session,
        policy_from_config(app.config),
        app.config["ATTRIBUTION_WINDOW_DAYS"],
        now,
        settings_from_config(app.config),
    )
    result = payments.do_apply_event(db.session, provider(), event, now, credit=credit)
    event_row.state = "delivered"  # its queued delivery has nothing left to do
    return result


def _open_group(app: Flask, campaign: GroupCampaign, leader: User) -> str | None:
    busy = db.session.scalar(
        select(Group.id).where(
            Group.campaign_id == campaign.id,
            Group.state.in_((group_rules.PENDING, group_rules.OPEN)),
        )
    )
    if busy is not None:
        return None
    addresses = list_addresses(db.session, leader)
    address = addresses[0] if addresses else do_add_address(db.session, leader, DEMO_ADDRESS)
    db.session.flush()
    how = Placement(
        buyer=leader, now=utcnow(), deadline_minutes=app.config["PAYMENT_DEADLINE_MINUTES"]
    )
    order, group, _seat = do_place_group_order(
        db.session,
        how,
        GroupOrderIn(product_id=campaign.product_id, address_id=address.id),
        lambda orders: orders[0],
    )
    _pay_in_sandbox(app, order)
    db.session.flush()
    db.session.refresh(group)
    return group.public_id


def _live_room(merchant: User, creator: User, products: list[Product]) -> bool:
    """A scheduled room on the creator's shelf of the shop's products, and a voucher the shop
    funds for her fans (达人专属券): she pins it from the control page once she is live."""
    added = _coupon(
        merchant,
        LIVE_VOUCHER,
        amount_minor=800,
        min_spend_minor=5000,
        scope="creator",
        creator_id=creator.id,
        live_only=True,
        task="watch",
        watch_seconds=30,
    )
    if db.session.scalar(select(LiveRoom.id).where(LiveRoom.creator_id == creator.id)) is None:
        now = utcnow()
        data = RoomIn(
            title=LIVE_ROOM,
            description="Five oolongs brewed live; a voucher for everyone who stays 30 s.",
            scheduled_at=now + timedelta(hours=2),
            featured_product_ids=[p.id for p in products[:3]],
        )
        do_schedule_room(db.session, creator, data, now)
        added = True
    return added


def seed_promotions(app: Flask, merchant: User, creator: User, viewer: User) -> Iterator[str]:
    products = list(
        db.session.scalars(
            select(Product).where(Product.merchant_id == merchant.id).order_by(Product.id)
        )
    )
    if len(products) < 2:
        yield "promotions skipped: the demo shop has no products"
        return
    operator, password = _operator()
    if password:
        yield f"platform operator: {OPERATOR[0]} (password {password}, shown once)"
    added = _coupon(
        merchant,
        SHOP_COUPON,
        amount_minor=1000,
        min_spend_minor=6000,
        scope="products",
        product_ids=[products[0].id],
    )
    added |= _coupon(
        operator, PLATFORM_COUPON, funded_by="platform", amount_minor=500, min_spend_minor=3000
    )
    db.session.commit()
    yield "coupons added (shop and platform)" if added else "coupons are already there"
    if _live_room(merchant, creator, products):
        db.session.commit()
        yield f"live room {LIVE_ROOM!r} scheduled, with a LIVE voucher for {creator.display_name}"
    campaign = active_campaign(db.session, products[1].id)
    if campaign is None:
        campaign = do_create_campaign(
            db.session,
            merchant,
            products[1].id,
            CampaignIn(
                price_minor=products[1].price_minor * 3 // 4,
                group_size=2,
                leader_free=True,
                free_quota=5,
                free_budget_minor=100_000,
            ),
        )
        db.session.commit()
        yield f"group campaign on {products[1].title!r}"
    group_id = _open_group(app, campaign, viewer)
    db.session.commit()
    if group_id:
        yield f"open group /groups/{group_id} (led by {viewer.display_name}, paid)"
    else:
        yield "an open group is already there"
