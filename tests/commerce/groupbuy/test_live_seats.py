"""The group page live over Socket.IO: viewers join the group's room (whoever may see the page)
and hear `group.updated` after the commit that took, paid, released a seat, filled or failed the
group; never from a transaction that rolled back."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from commerce.extensions import db, socketio
from commerce.groupbuy import seats, settle
from commerce.groupbuy.jobs import reverse_hook
from commerce.groupbuy.models import Group
from commerce.orders.models import Order
from commerce.payments.webhooks import provider
from commerce.timeutil import utcnow
from tests.commerce.groupbuy.conftest import group_order, pay
from tests.commerce.payments.conftest import deliver, pay_with, start_payment

EVENT = "group.updated"


def _viewer(app, api):
    return socketio.test_client(app, flask_test_client=api.client)


def _join(socket, group_id: str) -> dict:
    return socket.emit("group.join", {"group": group_id}, callback=True)


def _updates(socket) -> list[dict]:
    return [e["args"][0] for e in socket.get_received() if e["name"] == EVENT]


def _open_group(app, campaign, shopper, size: int = 2):
    made = campaign(group_size=size)
    leader = shopper("Ann")
    opened = group_order(leader, made["product"].id).get_json()
    pay(app, leader, opened["order_id"])
    return made, leader, opened


def test_a_viewer_sees_the_seat_taken_then_paid_and_the_group_succeed_after_the_commit(
    app, campaign, shopper, make_api, create_user, webhook_inbox
):
    made, _leader, opened = _open_group(app, campaign, shopper)
    group_id = opened["group_id"]
    viewer = _viewer(app, make_api(create_user(name="Vi")))
    joined = _join(viewer, group_id)
    assert joined["ok"] is True
    snapshot = joined["group"]
    assert (snapshot["state"], snapshot["paid"], snapshot["seats_left"]) == ("open", 1, 1)
    assert [m["name"] for m in snapshot["members"]] == ["Ann"]
    assert snapshot["seconds_left"] > 3000
    viewer.get_received()

    member = shopper("Bo")
    placed = group_order(member, made["product"].id, group_id)
    assert placed.status_code == 201
    [held] = _updates(viewer)
    assert (held["state"], held["paid"], held["held"], held["seats_left"]) == ("open", 1, 1, 0)

    payment = start_payment(member["api"], placed.get_json()["order_id"])
    pay_with(member["api"], payment.get_json()["pay_url"], "4242424242424242")
    assert _updates(viewer) == []  # paid on the provider's page; the webhook is not applied yet

    # Watch every commit while the webhook is applied: the transaction that seats Bo must not
    # have sent anything before it commits.
    got: list[dict] = []
    seen_at_seating_commit: list[int] = []

    def before_commit(session: Session) -> None:
        got.extend(_updates(viewer))
        paid = session.scalar(select(Group.paid).where(Group.public_id == group_id))
        if paid == 2 and not seen_at_seating_commit:
            seen_at_seating_commit.append(len(got))

    event.listen(Session, "before_commit", before_commit)
    try:
        deliver(app)
    finally:
        event.remove(Session, "before_commit", before_commit)
    got.extend(_updates(viewer))
    assert seen_at_seating_commit == [0]
    [done] = got
    assert (done["state"], done["paid"], done["held"], done["seats_left"]) == (
        "succeeded",
        2,
        0,
        0,
    )
    assert done["seconds_left"] == 0  # the countdown stops
    assert [m["name"] for m in done["members"]] == ["Ann", "Bo"]


def test_a_rolled_back_payment_says_nothing(app, campaign, shopper, make_api, webhook_inbox):
    made, _leader, opened = _open_group(app, campaign, shopper)
    viewer = _viewer(app, make_api())  # anonymous: the page is public once the group is open
    assert _join(viewer, opened["group_id"])["ok"] is True
    placed = group_order(shopper("Bo"), made["product"].id, opened["group_id"]).get_json()
    viewer.get_received()
    with app.app_context():
        order = db.session.scalar(select(Order).where(Order.public_id == placed["order_id"]))
        assert seats.do_seat_payment(db.session, order, utcnow()) == "completes"
        db.session.rollback()
    assert _updates(viewer) == []


def test_a_released_seat_and_an_expired_group_reach_the_viewer(
    app, campaign, shopper, make_api, webhook_inbox
):
    made, _leader, opened = _open_group(app, campaign, shopper, size=3)
    group_id = opened["group_id"]
    viewer = _viewer(app, make_api())
    _join(viewer, group_id)
    placed = group_order(shopper("Cy"), made["product"].id, group_id).get_json()
    assert _updates(viewer)[-1]["seats_left"] == 1
    with app.app_context():
        db.session.execute(
            update(Order)
            .where(Order.public_id == placed["order_id"])
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )
        db.session.commit()
        from commerce.orders.jobs import expire_unpaid_orders

        expire_unpaid_orders(db.session)
        assert _updates(viewer) == []  # not before the job's commit
        db.session.commit()
    [released] = _updates(viewer)
    assert (released["held"], released["seats_left"]) == (0, 2)

    with app.app_context():
        db.session.execute(
            update(Group)
            .where(Group.public_id == group_id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
        now = utcnow()
        settle.do_expire_groups(db.session, provider(), now, reverse_hook(db.session, now))
        assert _updates(viewer) == []
        db.session.commit()
    failed = _updates(viewer)[-1]
    assert (failed["state"], failed["seats_left"], failed["seconds_left"]) == ("failed", 0, 0)


def test_only_who_may_see_the_page_may_join(app, campaign, shopper, make_api, create_user):
    made = campaign(group_size=2)
    leader = shopper("Ann")
    pending = group_order(leader, made["product"].id).get_json()["group_id"]
    stranger = _viewer(app, make_api(create_user(name="Eve")))
    refused = _join(stranger, pending)  # waiting for the leader's payment: hers only
    assert refused["ok"] is False and refused["error"]["code"] == "not_found"
    assert _join(_viewer(app, make_api()), "no-such-group")["ok"] is False
    bad = _join(stranger, "<script>")
    assert bad["ok"] is False and bad["error"]["code"] == "invalid"
    assert stranger.emit("group.join", "nope", callback=True)["ok"] is False
    mine = _viewer(app, leader["api"])
    assert _join(mine, pending)["group"]["state"] == "pending"
    # Eve was not let in: she hears nothing of the group's changes.
    stranger.get_received()
    with app.app_context():
        group = db.session.scalar(select(Group).where(Group.public_id == pending))
        from commerce.groupbuy.broadcast import publish_group

        publish_group(db.session, group, utcnow())
        db.session.commit()
    assert _updates(stranger) == []
    assert len(_updates(mine)) == 1


def test_leaving_stops_the_updates(app, campaign, shopper, make_api, webhook_inbox):
    made, _leader, opened = _open_group(app, campaign, shopper)
    viewer = _viewer(app, make_api())
    _join(viewer, opened["group_id"])
    assert viewer.emit("group.leave", {"group": opened["group_id"]}, callback=True)["ok"] is True
    group_order(shopper("Bo"), made["product"].id, opened["group_id"])
    assert _updates(viewer) == []


def test_the_leaders_rebate_reaches_the_page_after_its_commit(
    app, campaign, shopper, make_api, webhook_inbox
):
    """团长免单 is paid after the return window, by the rebate job: the group's page hears it
    once the refund is committed, and says so when loaded again."""
    made = campaign(group_size=2, leader_free=True, free_quota=1, free_budget_minor=1000)
    leader = shopper("Ann")
    opened = group_order(leader, made["product"].id).get_json()
    pay(app, leader, opened["order_id"])
    member = shopper("Bo")
    joined = group_order(member, made["product"].id, opened["group_id"]).get_json()
    pay(app, member, joined["order_id"])
    seller = made["seller"]
    shipped = seller.post(f"/api/v1/orders/{opened['order_id']}/ship", {"tracking_number": "SF123"})
    assert shipped.status_code == 200
    assert seller.post(f"/api/v1/orders/{opened['order_id']}/deliver").status_code == 200

    api = make_api()
    viewer = _viewer(app, api)
    snapshot = _join(viewer, opened["group_id"])["group"]
    assert (snapshot["state"], snapshot["rebate_state"]) == ("succeeded", "")
    page = api.client.get(snapshot["url"]).get_data(as_text=True)
    assert '<p class="success group-rebate" hidden>' in page
    viewer.get_received()

    with app.app_context():
        now = utcnow()
        db.session.execute(update(Order).values(delivered_at=now - timedelta(days=8)))
        paid = settle.do_rebate_leaders(
            db.session, provider(), now, timedelta(days=7), reverse_hook(db.session, now)
        )
        assert paid == 1
        assert _updates(viewer) == []  # not before the refund is committed
        db.session.commit()
    [rebated] = _updates(viewer)
    assert (rebated["state"], rebated["rebate_state"]) == ("succeeded", "paid")
    page = api.client.get(snapshot["url"]).get_data(as_text=True)
    assert '<p class="success group-rebate">' in page
