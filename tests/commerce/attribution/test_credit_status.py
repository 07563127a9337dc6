"""Every credit view shows what happened to the commission, from the ledger, with its dates."""

from __future__ import annotations

from sqlalchemy import select

from commerce.attribution.crediting import do_reverse_for_refund
from commerce.extensions import db
from commerce.orders.models import Order
from commerce.timeutil import utcnow
from tests.commerce.attribution.conftest import balance


def refund_in_full(app, public_id: str) -> None:
    with app.app_context():
        order = db.session.scalar(select(Order).where(Order.public_id == public_id))
        order.refunded_minor = order.total_minor
        order.lines[0].refunded_minor = order.lines[0].amount_minor
        do_reverse_for_refund(db.session, order, utcnow())
        db.session.commit()


def api_states(client, public_id: str) -> dict[str, dict]:
    credits = client.get(f"/api/v1/orders/{public_id}/credits").get_json()
    return {c["role"]: c["status"] for line in credits["lines"] for c in line["credits"]}


def test_a_full_refund_before_release_shows_cancelled_everywhere(
    app, world, add_click, paid_order, make_api
):
    add_click(world["share"], visitor="dev", user_id=world["buyer"].id)
    public_id = paid_order(world["buyer"], world["product"], video=world["video"])
    buyer = make_api(world["buyer"])
    before = api_states(buyer, public_id)
    assert before["sharer"]["state"] == before["creator"]["state"] == "pending"
    assert before["sharer"]["label"] == "Pending" and before["sharer"]["amount_minor"] == 1000
    refund_in_full(app, public_id)

    after = api_states(buyer, public_id)
    for status in after.values():
        assert status["state"] == "cancelled" and status["label"] == "Cancelled"
        assert status["amount_minor"] == 0
        assert status["accrued_at"] and status["reversed_at"] and not status["paid_at"]
    page = buyer.client.get(f"/orders/{public_id}/credits").get_data(as_text=True)
    assert page.count('data-state="cancelled"') >= 2 and "Cancelled" in page
    assert "reversed " in page and "accrued " in page

    sharer = make_api(world["sharer"])
    [mine] = sharer.get("/api/v1/me/earnings").get_json()["commissions"]
    assert mine["status"]["state"] == "cancelled"
    earnings = sharer.client.get("/earnings").get_data(as_text=True)
    assert 'class="credit-state" data-state="cancelled">Cancelled' in earnings
    studio = make_api(world["creator"]).client.get("/studio/earnings").get_data(as_text=True)
    assert 'data-state="cancelled">Cancelled' in studio


def test_released_then_paid_out_then_refunded_is_clawed_back(app, world, earned, make_api):
    sharer = make_api(world["sharer"])
    assert 'id="payout-form"' in sharer.client.get("/earnings").get_data(as_text=True)
    assert {api_states(sharer, p)["sharer"]["state"] for p in earned} == {"available"}
    body = {"amount_minor": 2000, "idempotency_key": "k-clawback-1"}
    assert sharer.post("/api/v1/me/payouts", body).status_code == 201
    paid = api_states(sharer, earned[1])["sharer"]
    assert paid["state"] == "paid" and paid["paid_at"] and paid["released_at"]

    refund_in_full(app, earned[0])
    clawed = api_states(sharer, earned[0])["sharer"]
    assert clawed["state"] == "clawed_back" and clawed["label"] == "Clawed back"
    assert clawed["reversed_at"] and clawed["amount_minor"] == 0
    assert api_states(sharer, earned[1])["sharer"]["state"] == "paid"  # the other one stays paid
    assert balance(app, world["sharer"].id)["available"] == -1000

    page = sharer.client.get("/earnings").get_data(as_text=True)
    assert 'id="payout-form"' not in page  # nothing to pay: explained instead
    assert 'id="payout-blocked"' in page and "being netted" in page
    assert 'data-state="clawed_back">Clawed back' in page and 'data-state="paid">Paid out' in page


def test_no_payout_form_below_the_minimum_and_why(world, make_api):
    page = make_api(world["sharer"]).client.get("/earnings").get_data(as_text=True)
    assert 'id="payout-form"' not in page
    assert "Nothing to pay out yet: you have ¥0.00 available" in page.replace("CN¥", "¥")
    zh = make_api(world["sharer"]).client.get("/earnings", headers={"Accept-Language": "zh-CN"})
    text = zh.get_data(as_text=True)
    assert 'id="payout-blocked"' in text and "Nothing to pay out yet" not in text


def test_my_links_count_clicks_orders_and_net_earnings_per_link(
    app, world, add_click, paid_order, add_share
):
    from commerce.accounts.models import User
    from commerce.attribution import dashboard

    ids = []
    for n in range(3):
        add_click(world["share"], visitor=f"dev{n}", user_id=world["buyer"].id)
        ids.append(paid_order(world["buyer"], world["product"], video=world["video"]))
    refund_in_full(app, ids[0])  # its 10.00 no longer counts as earned; the order still does
    quiet = add_share(world["sharer"], "product", str(world["product"].id))
    with app.app_context():
        sharer = db.session.get(User, world["sharer"].id)
        links = {link.share.id: link for link in dashboard.my_links(db.session, sharer).links}
    busy = links[world["share"]]
    assert (busy.clicks, busy.orders, busy.earned_minor) == (3, 3, {"CNY": 2000})
    idle = links[quiet]
    assert (idle.clicks, idle.orders, idle.earned_minor) == (0, 0, {})
