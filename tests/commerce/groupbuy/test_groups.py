"""Opening, joining, paying, shipping, expiring and the leader's rebate, through the API."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from commerce.extensions import db
from commerce.groupbuy import settle
from commerce.groupbuy.jobs import reverse_hook
from commerce.groupbuy.models import Group, GroupCampaign, GroupSeat
from commerce.notifications.models import NotificationEvent
from commerce.orders.models import Order, OrderLine
from commerce.payments.webhooks import provider
from commerce.timeutil import utcnow
from tests.commerce.groupbuy.conftest import group_order, group_row, pay


def _ship(seller, order_id):
    return seller.post(f"/api/v1/orders/{order_id}/ship", {"tracking_number": "SF123"})


def _order(app, public_id):
    with app.app_context():
        order = db.session.scalar(select(Order).where(Order.public_id == public_id))
        db.session.expunge(order)
        return order


def test_a_group_opens_when_its_leader_pays_fills_and_then_ships(
    app, campaign, shopper, webhook_inbox
):
    made = campaign(group_size=2)
    product, seller = made["product"], made["seller"]
    leader, member = shopper("Ann"), shopper("Bo")

    opened = group_order(leader, product.id)
    assert opened.status_code == 201, opened.get_json()
    body = opened.get_json()
    assert body["role"] == "leader" and body["total_minor"] == 700
    group_id = body["group_id"]
    # Not open before the leader paid: not listed, nobody can join, its page exists only for
    # the leader (waiting for her payment).
    assert member["api"].get(f"/api/v1/groups/{group_id}").status_code == 404
    assert leader["api"].get(f"/api/v1/groups/{group_id}").get_json()["state"] == "pending"
    assert seller.get(f"/api/v1/products/{product.id}/groups").get_json()["open_groups"] == []
    assert group_order(member, product.id, group_id).status_code == 409

    pay(app, leader, body["order_id"])
    group = leader["api"].get(f"/api/v1/groups/{group_id}").get_json()
    assert (group["state"], group["paid"], group["seats_left"]) == ("open", 1, 1)
    assert 3500 < group["seconds_left"] <= 3600
    listed = seller.get(f"/api/v1/products/{product.id}/groups").get_json()
    assert [g["id"] for g in listed["open_groups"]] == [group_id]
    assert listed["campaign"]["rules"]  # shown before taking part

    refused = _ship(seller, body["order_id"])
    assert refused.status_code == 409
    assert refused.get_json()["error"]["code"] == "waiting_for_group"

    joined = group_order(member, product.id, group_id)
    assert joined.status_code == 201, joined.get_json()
    assert joined.get_json()["role"] == "member"
    pay(app, member, joined.get_json()["order_id"])

    group = leader["api"].get(f"/api/v1/groups/{group_id}").get_json()
    assert (group["state"], group["paid"], group["held"]) == ("succeeded", 2, 0)
    assert sorted(m["name"] for m in group["members"]) == ["Ann", "Bo"]
    assert _ship(seller, body["order_id"]).status_code == 200
    assert _ship(seller, joined.get_json()["order_id"]).status_code == 200
    with app.app_context():
        told = db.session.scalars(
            select(NotificationEvent.event_key).where(NotificationEvent.type == "group")
        ).all()
        assert len(told) == 1 and told[0].endswith(":succeeded")
    mine = member["api"].get("/api/v1/me/groups").get_json()["items"]
    assert [(i["group"]["id"], i["role"], i["seat_state"]) for i in mine] == [
        (group_id, "member", "paid")
    ]


def test_an_unpaid_seat_is_released_when_its_order_expires(app, campaign, shopper, webhook_inbox):
    made = campaign(group_size=2)
    product = made["product"]
    leader, late, next_one = shopper("Ann"), shopper("Cy"), shopper("Di")
    opened = group_order(leader, product.id).get_json()
    pay(app, leader, opened["order_id"])
    held = group_order(late, product.id, opened["group_id"])
    assert held.status_code == 201
    # The last seat is held: nobody else can take it while Cy pays.
    assert group_order(next_one, product.id, opened["group_id"]).status_code == 409
    with app.app_context():
        db.session.execute(
            update(Order)
            .where(Order.public_id == held.get_json()["order_id"])
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )
        db.session.commit()
        from commerce.orders.jobs import expire_unpaid_orders

        expire_unpaid_orders(db.session)
        db.session.commit()
    row = group_row(app, opened["group_id"])
    assert (row.paid, row.held) == (1, 0)
    assert group_order(next_one, product.id, opened["group_id"]).status_code == 201


def test_a_payment_for_a_group_that_closed_starts_a_new_group(
    app, campaign, shopper, webhook_inbox
):
    made = campaign(group_size=2)
    product = made["product"]
    leader, member = shopper("Ann"), shopper("Bo")
    opened = group_order(leader, product.id).get_json()
    pay(app, leader, opened["order_id"])
    joined = group_order(member, product.id, opened["group_id"]).get_json()
    # The group's window ends (and the job fails it) while Bo is still paying.
    with app.app_context():
        db.session.execute(
            update(Group)
            .where(Group.public_id == opened["group_id"])
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        now = utcnow()
        settle.do_expire_groups(db.session, provider(), now, reverse_hook(db.session, now))
        db.session.commit()
    pay(app, member, joined["order_id"])
    with app.app_context():
        seat = db.session.scalar(select(GroupSeat).where(GroupSeat.user_id == member["user"].id))
        assert (seat.role, seat.state, seat.moved) == ("leader", "paid", True)
        new_group = db.session.get(Group, seat.group_id)
        assert new_group.public_id != opened["group_id"]
        assert (new_group.state, new_group.paid, new_group.held) == ("open", 1, 0)
        old = db.session.scalar(select(Group).where(Group.public_id == opened["group_id"]))
        assert (old.state, old.paid, old.held) == ("failed", 1, 0)
    assert _order(app, opened["order_id"]).state == "refunded"
    mine = member["api"].get("/api/v1/me/groups").get_json()["items"]
    assert mine[0]["moved"] is True and mine[0]["role"] == "leader"
    # The order page says so.
    page = member["api"].client.get(f"/orders/{joined['order_id']}").get_data(as_text=True)
    assert "you now lead a new group" in page
    kinds = [
        e["kind"]
        for e in member["api"].get(f"/api/v1/orders/{joined['order_id']}").get_json()["history"]
    ]
    assert "group_moved" in kinds


def test_an_expired_group_refunds_every_paid_member_and_gives_stock_back(
    app, campaign, shopper, webhook_inbox
):
    made = campaign(group_size=3, stock=10)
    product = made["product"]
    leader, member = shopper("Ann"), shopper("Bo")
    opened = group_order(leader, product.id).get_json()
    pay(app, leader, opened["order_id"])
    joined = group_order(member, product.id, opened["group_id"]).get_json()
    pay(app, member, joined["order_id"])
    with app.app_context():
        db.session.execute(
            update(Group)
            .where(Group.public_id == opened["group_id"])
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
    # The check on read says failed before the job ran; nobody can join.
    assert leader["api"].get(f"/api/v1/groups/{opened['group_id']}").get_json()["state"] == "failed"
    with app.app_context():
        now = utcnow()
        assert (
            settle.do_expire_groups(db.session, provider(), now, reverse_hook(db.session, now)) == 1
        )
        assert (
            settle.do_expire_groups(db.session, provider(), now, reverse_hook(db.session, now)) == 0
        )
        db.session.commit()
        from commerce.catalog.models import Product

        assert db.session.get(Product, product.id).stock == 10
    for order_id in (opened["order_id"], joined["order_id"]):
        order = _order(app, order_id)
        assert (order.state, order.refunded_minor, order.ship_hold) == ("refunded", 700, None)
    # A failed group does not count against the per-person limit: Bo may open a group now.
    assert group_order(member, product.id).status_code == 201


def test_the_leader_rides_free_after_the_return_window_and_credits_nobody(
    app, campaign, shopper, webhook_inbox
):
    made = campaign(group_size=2, leader_free=True, free_quota=1, free_budget_minor=1000)
    product, seller = made["product"], made["seller"]
    first = []
    for name in ("Ann", "Bo", "Cy", "Di"):
        first.append(shopper(name))
    groups = []
    for leader, member in (first[:2], first[2:]):
        opened = group_order(leader, product.id).get_json()
        pay(app, leader, opened["order_id"])
        joined = group_order(member, product.id, opened["group_id"]).get_json()
        pay(app, member, joined["order_id"])
        groups.append(opened)
        assert _ship(seller, opened["order_id"]).status_code == 200
        assert seller.post(f"/api/v1/orders/{opened['order_id']}/deliver").status_code == 200
    with app.app_context():
        now = utcnow()
        window = timedelta(days=7)
        # Inside the return window: nothing yet.
        assert (
            settle.do_rebate_leaders(
                db.session, provider(), now, window, reverse_hook(db.session, now)
            )
            == 0
        )
        db.session.execute(update(Order).values(delivered_at=now - timedelta(days=8)))
        paid = settle.do_rebate_leaders(
            db.session, provider(), now, window, reverse_hook(db.session, now)
        )
        db.session.commit()
        assert paid == 1  # the quota is one group
        campaign_row = db.session.get(GroupCampaign, made["id"])
        assert (campaign_row.free_used, campaign_row.free_spent_minor) == (1, 700)
        states = sorted(
            db.session.execute(
                select(Group.rebate_state, Group.rebated_at).where(Group.state == "succeeded")
            ).all()
        )
        # The day the rebate was paid is kept (the dashboards plot rebates per day).
        assert states == [("none", None), ("paid", now)]
    refunded = [_order(app, g["order_id"]) for g in groups]
    assert sorted((o.state, o.refunded_minor) for o in refunded) == [
        ("delivered", 0),
        ("refunded", 700),
    ]


TAPPED = {
    "Sec-Fetch-Site": "cross-site",
    "Sec-Fetch-Mode": "navigate",
    "Sec-Fetch-Dest": "document",
    "Sec-Fetch-User": "?1",
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36",
}


def test_the_leaders_rebated_order_credits_nobody(app, campaign, shopper, webhook_inbox):
    """Sam's link brought the leader: Sam earns on her order until the rebate makes its base 0.
    The member who joined through the leader's group link credits the leader."""
    from tests.commerce.attribution.conftest import balance

    made = campaign(
        group_size=2, leader_free=True, free_quota=1, free_budget_minor=1000, sharer_rate_bp=1000
    )
    product, seller = made["product"], made["seller"]
    sam, ann, bo = shopper("Sam"), shopper("Ann"), shopper("Bo")
    link = (
        sam["api"]
        .post("/api/v1/shares", {"target_kind": "product", "target_key": str(product.id)})
        .get_json()["url"]
    )
    ann["api"].client.get(link.replace("http://localhost", ""), headers=TAPPED)
    opened = group_order(ann, product.id).get_json()
    pay(app, ann, opened["order_id"])
    assert balance(app, sam["user"].id)["pending"] == 70  # 10% of the group price

    group_link = ann["api"].post(
        "/api/v1/shares", {"target_kind": "group", "target_key": opened["group_id"]}
    )
    assert group_link.status_code == 201, group_link.get_json()
    landed = bo["api"].client.get(
        group_link.get_json()["url"].replace("http://localhost", ""), headers=TAPPED
    )
    assert landed.status_code == 302 and landed.location.endswith(f"/groups/{opened['group_id']}")
    joined = group_order(bo, product.id, opened["group_id"]).get_json()
    pay(app, bo, joined["order_id"])
    assert balance(app, ann["user"].id)["pending"] == 70  # the leader is Bo's level-1 sharer
    with app.app_context():
        chain = db.session.scalar(
            select(OrderLine.chain).join(Order).where(Order.public_id == joined["order_id"])
        )
        assert chain == [ann["user"].id]

    assert _ship(seller, opened["order_id"]).status_code == 200
    assert seller.post(f"/api/v1/orders/{opened['order_id']}/deliver").status_code == 200
    with app.app_context():
        db.session.execute(
            update(Order)
            .where(Order.public_id == opened["order_id"])
            .values(delivered_at=utcnow() - timedelta(days=8))
        )
        now = utcnow()
        assert (
            settle.do_rebate_leaders(
                db.session, provider(), now, timedelta(days=7), reverse_hook(db.session, now)
            )
            == 1
        )
        db.session.commit()
    assert balance(app, sam["user"].id).get("pending", 0) == 0
    assert balance(app, sam["user"].id)["cancelled"] == 70
    assert balance(app, ann["user"].id)["pending"] == 70  # Bo's order still credits her
    assert _order(app, opened["order_id"]).refunded_minor == 700


def test_only_the_owner_runs_a_campaign_and_bad_rules_are_refused(
    app, campaign, create_user, make_api
):
    made = campaign(group_size=2)
    product = made["product"]
    other = make_api(create_user(merchant=True))
    body = {"price_minor": 500, "group_size": 2}
    assert other.post(f"/api/v1/products/{product.id}/group-campaigns", body).status_code == 404
    assert other.post(f"/api/v1/group-campaigns/{made['id']}/end").status_code == 404
    seller = made["seller"]
    again = seller.post(f"/api/v1/products/{product.id}/group-campaigns", body)
    assert again.status_code == 409  # one active campaign; its rules never change
    assert seller.post(f"/api/v1/group-campaigns/{made['id']}/end").status_code == 200
    for bad in (
        {"price_minor": 1000, "group_size": 2},  # not lower than the price
        {"price_minor": 500, "group_size": 1},
        {"price_minor": -1, "group_size": 2},
        {"price_minor": 500, "group_size": 2, "leader_free": True},  # no quota, no budget
        {"price_minor": 500, "group_size": 2, "window_minutes": 0},
    ):
        refused = seller.post(f"/api/v1/products/{product.id}/group-campaigns", bad)
        assert refused.status_code == 400, (bad, refused.get_json())
    assert seller.post(f"/api/v1/products/{product.id}/group-campaigns", body).status_code == 201


def test_a_member_refunded_while_the_group_fills_leaves_it(app, campaign, shopper, webhook_inbox):
    made = campaign(group_size=3)
    product, seller = made["product"], made["seller"]
    leader, member, late = shopper("Ann"), shopper("Bo"), shopper("Cy")
    opened = group_order(leader, product.id).get_json()
    pay(app, leader, opened["order_id"])
    joined = group_order(member, product.id, opened["group_id"]).get_json()
    pay(app, member, joined["order_id"])
    refund = seller.post(
        f"/api/v1/orders/{joined['order_id']}/refund",
        {"amount_minor": 700, "reason": "changed my mind", "restock": True},
        headers={"Idempotency-Key": "r1"},
    )
    assert refund.status_code == 200, refund.get_json()
    row = group_row(app, opened["group_id"])
    assert (row.state, row.paid, row.held) == ("open", 1, 0)
    # Bo's seat is free again: the group still needs two more real buyers.
    for who in (late, member):
        placed = group_order(who, product.id, opened["group_id"])
        assert placed.status_code == 201, placed.get_json()
        pay(app, who, placed.get_json()["order_id"])
    row = group_row(app, opened["group_id"])
    assert (row.state, row.paid) == ("succeeded", 3)
