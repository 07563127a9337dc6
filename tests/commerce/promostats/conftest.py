"""Known promotion data written straight into the database, dated day by day, so each figure
of the dashboards can be checked to the unit."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, time, timedelta

import pytest
from flask import Flask

from commerce.accounts.models import User
from commerce.coupons.models import USED, VALID, Coupon, CouponTemplate
from commerce.extensions import db
from commerce.groupbuy.models import Group, GroupCampaign, GroupSeat
from commerce.live.models import LiveRoom
from commerce.orders.models import Order, OrderLine
from commerce.timeutil import utcnow


@dataclass
class Seeded:
    now: datetime
    merchant: User
    other_merchant: User
    creator: User
    admin: User
    shop_coupon: int  # the merchant's template
    platform_coupon: int  # the admin's platform template
    other_coupon: int  # the other merchant's template
    campaign: int
    other_campaign: int


def day(now: datetime, back: int) -> datetime:
    """A moment on the day `back` days before now's (now itself for today)."""
    if back == 0:
        return now
    return datetime.combine(now.date() - timedelta(days=back), time(0, 0, 1))


@pytest.fixture
def seeded(app: Flask, create_user, create_product) -> Seeded:
    merchant = create_user(merchant=True, name="Mia Tea")
    other = create_user(merchant=True, name="Other Shop")
    creator = create_user(creator=True, name="Cai")
    admin = create_user(name="Ada")
    buyer = create_user(name="Bo")
    product = create_product(merchant, title="Jasmine tea", price_minor=1000)
    other_product = create_product(other, title="Oolong", price_minor=1000)
    now = utcnow()
    with app.app_context():
        db.session.get(User, admin.id).is_admin = True
        room = LiveRoom(public_id="room-cai", creator_id=creator.id, title="Tea live")
        db.session.add(room)

        def template(owner: User, **fields: object) -> CouponTemplate:
            values: dict[str, object] = {
                "owner_id": owner.id,
                "merchant_id": owner.id,
                "title": "Spring tea",
                "amount_minor": 300,
                "claim_starts_at": day(now, 60),
                "claim_ends_at": now + timedelta(days=5),
                "valid_days": 90,
                "total": 100,
            }
            t = CouponTemplate(**(values | fields))
            db.session.add(t)
            return t

        shop = template(merchant, title="Spring tea")
        platform = template(
            admin, title="Platform treat", merchant_id=None, funded_by="platform", amount_minor=100
        )
        other_t = template(other, title="Other coupon")
        db.session.flush()

        def order(
            total: int,
            paid: datetime | None,
            *,
            creator_id: int | None = None,
            refunded: int = 0,
            shop_of: User = merchant,
            item: int = product.id,
        ) -> Order:
            o = Order(
                public_id=uuid.uuid4().hex[:20],
                buyer_id=buyer.id,
                merchant_id=shop_of.id,
                currency="CNY",
                subtotal_minor=total,
                total_minor=total,
                refunded_minor=refunded,
                state="paid" if paid else "pending_payment",
                paid_at=paid,
                created_at=paid or now,
            )
            o.lines = [
                OrderLine(
                    product_id=item,
                    title="Tea",
                    list_price_minor=total,
                    unit_price_minor=total,
                    quantity=1,
                    amount_minor=total,
                    refunded_minor=refunded,
                    creator_id=creator_id,
                    source_kind="live" if creator_id else None,
                    source_key="room-cai" if creator_id else None,
                )
            ]
            db.session.add(o)
            db.session.flush()
            return o

        def coupon(
            t: CouponTemplate,
            claimed: datetime,
            n: int,
            used_by: Order | None = None,
            room_id: int | None = None,
        ) -> None:
            db.session.add(
                Coupon(
                    template_id=t.id,
                    user_id=buyer.id,
                    n=n,
                    room_id=room_id,
                    claimed_at=claimed,
                    valid_from=claimed,
                    expires_at=now + timedelta(days=30),
                    state=USED if used_by else VALID,
                    order_id=used_by.id if used_by else None,
                    discount_minor=t.amount_minor if used_by else 0,
                    used_at=used_by.created_at if used_by else None,
                    source="live" if room_id else "shop",
                )
            )

        # The shop coupon: 5 claims (one 40 days ago), 3 used by paid orders, 1 by an unpaid one.
        o1 = order(1000, day(now, 1), creator_id=creator.id)  # from Cai's live, both coupons
        o2 = order(2000, now, refunded=500)
        o3 = order(700, day(now, 40))
        unpaid = order(900, None)
        coupon(shop, day(now, 2), 1, o1, room_id=room.id)
        coupon(shop, day(now, 2), 2, o2)
        coupon(shop, now, 3)
        coupon(shop, day(now, 40), 4, o3)
        coupon(shop, day(now, 1), 5, unpaid)
        coupon(platform, day(now, 1), 1, o1)
        coupon(
            other_t, day(now, 1), 1, order(800, day(now, 1), shop_of=other, item=other_product.id)
        )

        # A group campaign: one group succeeded (its leader rebated), one failed, one open,
        # one whose leader never paid.
        campaign = GroupCampaign(
            product_id=product.id,
            merchant_id=merchant.id,
            price_minor=700,
            group_size=2,
            leader_free=True,
            free_quota=5,
            free_budget_minor=10_000,
        )
        other_campaign = GroupCampaign(
            product_id=other_product.id, merchant_id=other.id, price_minor=700, group_size=2
        )
        db.session.add_all([campaign, other_campaign])
        db.session.flush()

        def group(state: str, opened: datetime | None, closed: datetime | None = None) -> Group:
            g = Group(
                public_id=uuid.uuid4().hex[:20],
                campaign_id=campaign.id,
                leader_id=buyer.id,
                state=state,
                size=2,
                opened_at=opened,
                closed_at=closed,
                expires_at=(opened or now) + timedelta(days=1),
            )
            db.session.add(g)
            db.session.flush()
            return g

        def seat(g: Group, o: Order, role: str, state: str) -> None:
            db.session.add(
                GroupSeat(
                    group_id=g.id,
                    joined_group_id=g.id,
                    campaign_id=campaign.id,
                    user_id=buyer.id,
                    order_id=o.id,
                    role=role,
                    state=state,
                    paid_at=o.paid_at,
                )
            )

        won = group("succeeded", day(now, 3), day(now, 2))
        won.paid, won.rebate_state, won.rebate_minor, won.rebated_at = 2, "paid", 700, day(now, 1)
        seat(won, order(700, day(now, 3), creator_id=creator.id, refunded=700), "leader", "paid")
        seat(won, order(700, day(now, 2), creator_id=creator.id), "member", "paid")
        lost = group("failed", day(now, 1), now)
        seat(lost, order(700, day(now, 1), refunded=700), "leader", "refunded")
        still = group("open", now)
        still.paid = 1
        seat(still, order(700, now), "leader", "paid")
        group("pending", None)
        db.session.commit()
        return Seeded(
            now,
            merchant,
            other,
            creator,
            admin,
            shop.id,
            platform.id,
            other_t.id,
            campaign.id,
            other_campaign.id,
        )
