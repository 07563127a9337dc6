"""Ten buyers race for the last two seats of a group: exactly two hold and pay, the others get a
clear answer; the group never over-fills (SQLite and PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import func, select

from commerce.extensions import db
from commerce.groupbuy.models import Group, GroupBuyer, GroupCampaign, GroupSeat
from tests.commerce.groupbuy.conftest import group_order, group_row, pay
from tests.commerce.orders.test_concurrency import race

RACERS = 10


def test_ten_buyers_race_for_the_last_two_seats(app, campaign, shopper, webhook_inbox):
    made = campaign(group_size=3)
    product = made["product"]
    leader = shopper("Ann")
    opened = group_order(leader, product.id).get_json()
    pay(app, leader, opened["order_id"])
    racers = [shopper(f"R{i}") for i in range(RACERS)]
    answers: list = [None] * RACERS

    def call(index):
        def run():
            response = group_order(racers[index], product.id, opened["group_id"])
            answers[index] = response.get_json()
            return response.status_code

        return run

    codes = race([call(i) for i in range(RACERS)])
    assert sorted(codes) == [201] * 2 + [409] * (RACERS - 2), answers
    refusals = {a["error"]["code"] for a, c in zip(answers, codes, strict=True) if c == 409}
    assert refusals == {"group_full"}
    winners = [i for i, c in enumerate(codes) if c == 201]
    row = group_row(app, opened["group_id"])
    assert (row.paid, row.held) == (1, 2)

    # Both winners pay at once: the group fills exactly.
    race([lambda i=i: pay(app, racers[i], answers[i]["order_id"]) or 0 for i in winners])
    row = group_row(app, opened["group_id"])
    assert (row.state, row.paid, row.held) == ("succeeded", 3, 0)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(GroupSeat)) == 3
        assert db.session.get(GroupCampaign, made["id"]).taken == 3
        # Losers kept nothing: their per-person counters were rolled back with the refusal.
        taken = db.session.scalars(select(GroupBuyer.taken)).all()
        assert sorted(taken) == [1, 1, 1]


def test_one_buyer_racing_against_the_per_person_limit(app, campaign, shopper, make_api):
    made = campaign(group_size=2, per_person_limit=2)
    product = made["product"]
    buyer = shopper("Ann")
    sessions = [dict(buyer, api=make_api(buyer["user"])) for _ in range(RACERS)]
    codes = race([lambda s=s: group_order(s, product.id).status_code for s in sessions])
    assert sorted(codes) == [201] * 2 + [409] * (RACERS - 2)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Group)) == 2
        assert db.session.get(GroupBuyer, (made["id"], buyer["user"].id)).taken == 2


def test_racing_for_the_campaign_total(app, campaign, shopper):
    made = campaign(group_size=2, total_limit=3)
    product = made["product"]
    racers = [shopper(f"R{i}") for i in range(RACERS)]
    codes = race([lambda s=s: group_order(s, product.id).status_code for s in racers])
    assert sorted(codes) == [201] * 3 + [409] * (RACERS - 3)
    with app.app_context():
        assert db.session.get(GroupCampaign, made["id"]).taken == 3


def test_two_rebates_racing_for_the_last_leader_free_quota(app, campaign, shopper, webhook_inbox):
    from datetime import timedelta

    from sqlalchemy import update

    from commerce.groupbuy import settle
    from commerce.groupbuy.jobs import reverse_hook
    from commerce.orders.models import Order
    from commerce.payments.webhooks import provider
    from commerce.timeutil import utcnow

    made = campaign(group_size=2, leader_free=True, free_quota=1, free_budget_minor=5000)
    product, seller = made["product"], made["seller"]
    leaders = []
    for n in range(2):
        leader, member = shopper(f"L{n}"), shopper(f"M{n}")
        opened = group_order(leader, product.id).get_json()
        pay(app, leader, opened["order_id"])
        pay(app, member, group_order(member, product.id, opened["group_id"]).get_json()["order_id"])
        seller.post(f"/api/v1/orders/{opened['order_id']}/ship", {"tracking_number": "SF1"})
        seller.post(f"/api/v1/orders/{opened['order_id']}/deliver")
        leaders.append(opened)
    with app.app_context():
        db.session.execute(update(Order).values(delivered_at=utcnow() - timedelta(days=8)))
        db.session.commit()

    def rebate(public_id):
        def run():
            with app.app_context():
                group = db.session.scalar(select(Group).where(Group.public_id == public_id))
                now = utcnow()
                reason = settle.do_rebate_leader(
                    db.session,
                    group,
                    provider(),
                    now,
                    timedelta(days=7),
                    reverse_hook(db.session, now),
                )
                db.session.commit()
                return reason

        return run

    reasons = race([rebate(g["group_id"]) for g in leaders])
    assert sorted(reasons) == ["budget_spent", "ok"] or sorted(reasons) == ["ok", "quota_spent"]
    with app.app_context():
        campaign_row = db.session.get(GroupCampaign, made["id"])
        assert (campaign_row.free_used, campaign_row.free_spent_minor) == (1, 700)
        refunded = db.session.scalars(select(Order.public_id).where(Order.refunded_minor > 0)).all()
        assert len(refunded) == 1
