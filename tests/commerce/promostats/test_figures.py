"""Each dashboard figure against known rows (conftest.seeded): all time and per day."""

from __future__ import annotations

from datetime import date, timedelta

from commerce.extensions import db
from commerce.promostats import group_queries, queries
from commerce.promostats.queries import Scope


def _days(points, today: date) -> dict[int, int]:
    """{days back: value} of the non-zero points."""
    return {(today - d).days: v for d, v in points if v}


def test_coupon_figures_per_template_all_time(app, seeded):
    with app.app_context():
        figures = queries.coupon_figures(db.session, [seeded.shop_coupon, seeded.platform_coupon])
    shop, platform = figures[seeded.shop_coupon], figures[seeded.platform_coupon]
    # 5 claims; 3 used by paid orders (the unpaid one does not count); net of the 500 refund.
    assert (shop.claims, shop.redemptions, shop.rate_bp) == (5, 3, 6000)
    assert (shop.cost_minor, shop.gmv_minor) == (900, 1000 + 1500 + 700)
    assert (platform.claims, platform.redemptions, platform.cost_minor, platform.gmv_minor) == (
        1,
        1,
        100,
        1000,
    )


def test_coupon_days_split_the_cost_by_funder_and_count_an_order_once(app, seeded):
    today = seeded.now.date()
    with app.app_context():
        days = queries.coupon_days(
            db.session, [seeded.shop_coupon, seeded.platform_coupon], seeded.now
        )
    assert len(days.claims) == 30 and days.claims[-1][0] == today
    assert _days(days.claims, today) == {2: 2, 1: 2, 0: 1}  # 40 days ago is outside
    assert _days(days.redemptions, today) == {1: 2, 0: 1}
    assert days.rate_bp == 6000
    money = days.money["CNY"]
    assert _days(money.merchant_cost, today) == {1: 300, 0: 300}
    assert _days(money.platform_cost, today) == {1: 100}
    # The order that used both coupons yesterday counts once: 1000, not 2000.
    assert _days(money.gmv, today) == {1: 1000, 0: 1500}


def test_a_creator_sees_only_her_rooms_claims_and_her_contents_orders(app, seeded):
    scope = Scope(creator_id=seeded.creator.id)
    today = seeded.now.date()
    with app.app_context():
        ids = queries.creator_template_ids(db.session, seeded.creator.id)
        figures = queries.coupon_figures(db.session, ids, scope)
        days = queries.coupon_days(db.session, ids, seeded.now, scope)
    assert sorted(ids) == sorted([seeded.shop_coupon, seeded.platform_coupon])
    shop, platform = figures[seeded.shop_coupon], figures[seeded.platform_coupon]
    assert (shop.claims, shop.redemptions, shop.cost_minor, shop.gmv_minor) == (1, 1, 300, 1000)
    assert (platform.claims, platform.redemptions, platform.gmv_minor) == (0, 1, 1000)
    assert _days(days.claims, today) == {2: 1}
    assert _days(days.redemptions, today) == {1: 2}
    assert _days(days.money["CNY"].gmv, today) == {1: 1000}


def test_group_figures_per_campaign_all_time(app, seeded):
    with app.app_context():
        figures = group_queries.group_figures(db.session, [seeded.campaign, seeded.other_campaign])
    f = figures[seeded.campaign]
    # The pending group (leader never paid) is not counted as opened.
    assert (f.opened, f.open, f.succeeded, f.failed) == (3, 1, 1, 1)
    assert f.fill_rate_bp == 5000
    # Paid seats net of refunds: the rebated leader 0, the member 700, the open leader 700;
    # the failed group's refunded leader is out.
    assert f.gmv_minor == 1400
    assert (f.rebates, f.rebate_minor) == (1, 700)
    other = figures[seeded.other_campaign]
    assert (other.opened, other.gmv_minor, other.fill_rate_bp) == (0, 0, None)


def test_group_days(app, seeded):
    today = seeded.now.date()
    with app.app_context():
        days = group_queries.group_days(db.session, [seeded.campaign], seeded.now)
    assert _days(days.opened, today) == {3: 1, 1: 1, 0: 1}
    assert _days(days.succeeded, today) == {2: 1}
    assert _days(days.failed, today) == {0: 1}
    assert days.fill_rate_bp == 5000
    assert _days(days.gmv["CNY"], today) == {2: 700, 0: 700}
    assert _days(days.rebates["CNY"], today) == {1: 700}


def test_a_creators_groups_are_those_her_content_led(app, seeded):
    scope = Scope(creator_id=seeded.creator.id)
    today = seeded.now.date()
    with app.app_context():
        ids = group_queries.creator_campaign_ids(db.session, seeded.creator.id)
        f = group_queries.group_figures(db.session, ids, scope)[seeded.campaign]
        days = group_queries.group_days(db.session, ids, seeded.now, scope)
    assert ids == [seeded.campaign]
    assert (f.opened, f.succeeded, f.failed, f.fill_rate_bp) == (1, 1, 0, 10_000)
    assert (f.gmv_minor, f.rebates, f.rebate_minor) == (700, 1, 700)
    assert _days(days.opened, today) == {3: 1}
    assert _days(days.gmv["CNY"], today) == {2: 700}


def test_nothing_to_show_is_zero_not_an_error(app, seeded):
    with app.app_context():
        coupons = queries.coupon_days(db.session, [], seeded.now)
        groups = group_queries.group_days(db.session, [], seeded.now)
        assert queries.creator_template_ids(db.session, seeded.merchant.id) == []
    assert sum(v for _, v in coupons.claims) == 0 and coupons.money == {}
    assert groups.fill_rate_bp is None and len(groups.opened) == 30
    assert groups.opened[0][0] == seeded.now.date() - timedelta(days=29)
