"""Points pages: My points (balance, check-in button, history by keyset pages, the rules) and the
public rules page, in both languages; Me links to them; the order page shows points used."""

from __future__ import annotations

import uuid

from commerce.extensions import db
from commerce.points import ledger
from commerce.points.models import GRANT
from commerce.timeutil import utcnow
from tests.commerce.orders.conftest import buy_now, place
from tests.commerce.points.conftest import balance


def test_my_points_shows_the_balance_and_checks_in_with_a_form(app, create_user, make_api, grant):
    user = create_user()
    api = make_api(user)
    grant(user, 250)
    page = api.client.get("/me/points").get_data(as_text=True)
    assert 'id="points-balance">250<' in page
    assert "worth ¥2.50 at checkout" in page
    assert "Check in: +10 points" in page
    assert "100 points take ¥1.00 off" in page  # the rules, generated from the settings
    done = api.client.post("/me/points/check-in", data={"csrf_token": api.token()})
    assert done.status_code == 302
    after = api.client.get("/me/points").get_data(as_text=True)
    assert "Checked in: +10 points" in after and "Checked in today" in after
    assert balance(app, user) == 260
    again = api.client.post("/me/points/check-in", data={"csrf_token": api.token()})
    assert again.status_code == 302
    assert "already checked in" in api.client.get("/me/points").get_data(as_text=True)
    assert balance(app, user) == 260
    # no CSRF token: refused, nothing credited
    assert api.client.post("/me/points/check-in").status_code == 400


def test_history_pages_by_keyset(app, create_user, make_api):
    user = create_user()
    with app.app_context():
        for n in range(25):
            ledger.post(
                db.session,
                user_id=user.id,
                kind=GRANT,
                amount=n + 1,
                key=f"grant:{n}",
                now=utcnow(),
            )
        db.session.commit()
    api = make_api(user)
    first = api.get("/api/v1/points/entries").get_json()
    assert [e["amount"] for e in first["items"]][:3] == [25, 24, 23] and len(first["items"]) == 20
    second = api.get(f"/api/v1/points/entries?cursor={first['next_cursor']}").get_json()
    assert [e["amount"] for e in second["items"]] == [5, 4, 3, 2, 1]
    assert second["next_cursor"] is None
    assert api.get("/api/v1/points/entries?cursor=junk").status_code == 400
    page = api.client.get(f"/me/points?cursor={first['next_cursor']}").get_data(as_text=True)
    assert page.count('data-kind="grant"') == 5 and "Newest" in page
    assert api.client.get("/me/points?cursor=junk").status_code == 200  # first page
    # someone else's history is never shown
    other = make_api(create_user()).get("/api/v1/points/entries").get_json()
    assert other["items"] == []


def test_pages_in_chinese(app, create_user, make_api, grant):
    user = create_user()
    grant(user, 100)
    api = make_api(user)
    zh = {"Accept-Language": "zh-CN"}
    mine = api.client.get("/me/points", headers=zh).get_data(as_text=True)
    assert "我的积分" in mine and "签到：+10 积分" in mine and "积分怎么用" in mine
    rules = api.client.get("/points/rules", headers=zh).get_data(as_text=True)
    assert "积分规则" in rules and "100 积分抵扣 ¥1.00" in rules
    me = api.client.get("/me", headers=zh).get_data(as_text=True)
    assert "/me/points" in me


def test_the_order_page_says_what_points_took_off(app, buyer_setup, grant):
    api, product, address_id, buyer, _merchant = buyer_setup(price_minor=3000)
    grant(buyer, 500)
    [order] = place(
        api,
        {**buy_now(product.id, address_id), "points_to_use": 500},
        key=uuid.uuid4().hex,
    ).get_json()["orders"]
    page = api.client.get(f"/orders/{order['id']}").get_data(as_text=True)
    assert "500 points: −¥5.00" in page
    assert 'id="order-discount"' not in page  # no coupon


def test_the_rules_follow_the_settings(make_app):
    other = make_app(POINTS_EXPIRE_DAYS=0, POINTS_MAX_ORDER_POINTS=3000, POINTS_CHECKIN=0)
    text = other.test_client().get("/points/rules").get_data(as_text=True)
    assert "Points do not expire." in text
    assert "At most 3000 points per order." in text
    assert "Check in once a day" not in text
