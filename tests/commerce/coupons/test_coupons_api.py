"""Coupons through the API: templates and their owners, claims, checkout, give-back, expiry."""

from __future__ import annotations

from datetime import timedelta

from commerce.coupons.claims import do_expire_coupons
from commerce.coupons.models import Coupon, CouponTemplate
from commerce.extensions import db
from commerce.orders.models import OrderLine
from commerce.timeutil import utcnow
from tests.commerce.coupons.conftest import claim, template_body
from tests.commerce.orders.conftest import buy_now, place


def test_a_merchant_creates_a_coupon_with_rules_shown_before_claiming(
    create_user, make_api, create_product
):
    merchant = create_user(merchant=True, name="Tea House")
    api = make_api(merchant)
    made = api.post("/api/v1/coupons/templates", template_body())
    assert made.status_code == 201, made.get_json()
    shown = make_api().get(f"/api/v1/coupons/templates/{made.get_json()['id']}").get_json()
    assert shown["headline"] == "¥3.00 off on orders over ¥10.00"
    assert any("Tea House" in line for line in shown["rules_text"])
    assert any("at most 1 per person" in line for line in shown["rules_text"])


def test_only_admins_make_platform_coupons_and_only_own_products(
    create_user, make_api, create_product
):
    merchant = create_user(merchant=True)
    other = create_product(create_user(merchant=True))
    api = make_api(merchant)
    assert (
        api.post("/api/v1/coupons/templates", template_body(funded_by="platform")).status_code
        == 403
    )
    listed = template_body(scope="products", product_ids=[other.id])
    assert api.post("/api/v1/coupons/templates", listed).status_code == 400
    assert (
        make_api(create_user()).post("/api/v1/coupons/templates", template_body()).status_code
        == 403
    )
    percent_without_cap = template_body(kind="percent", percent=10)
    assert api.post("/api/v1/coupons/templates", percent_without_cap).status_code == 400


def test_another_merchant_cannot_touch_my_template(create_user, make_api, create_template):
    mine = create_template(create_user(merchant=True))
    thief = make_api(create_user(merchant=True))
    assert thief.post(f"/api/v1/coupons/templates/{mine}/pause").status_code == 404
    assert thief.put(f"/api/v1/coupons/templates/{mine}", template_body()).status_code == 404


def test_rules_change_only_in_the_buyers_favour_once_claimed(create_user, make_api):
    merchant = create_user(merchant=True)
    api = make_api(merchant)
    template_id = api.post("/api/v1/coupons/templates", template_body()).get_json()["id"]
    # Before any claim: anything goes.
    assert (
        api.put(
            f"/api/v1/coupons/templates/{template_id}", template_body(amount_minor=200)
        ).status_code
        == 200
    )
    assert claim(make_api(create_user()), template_id).status_code == 201
    worse = api.put(f"/api/v1/coupons/templates/{template_id}", template_body(amount_minor=100))
    assert worse.status_code == 409
    assert "buyer's favour" in worse.get_json()["error"]["message"]
    better = api.put(f"/api/v1/coupons/templates/{template_id}", template_body(amount_minor=500))
    assert better.status_code == 200


def test_claim_limits_and_windows(create_user, make_api, create_template):
    merchant = create_user(merchant=True)
    template_id = create_template(merchant, total=2, per_person=1)
    first, second, third = (make_api(create_user()) for _ in range(3))
    assert claim(first, template_id).status_code == 201
    assert claim(first, template_id).get_json()["error"]["code"] == "per_person"
    assert claim(second, template_id).status_code == 201
    assert claim(third, template_id).get_json()["error"]["code"] == "sold_out"
    assert claim(make_api(merchant), template_id).status_code == 400  # own coupon
    closed = create_template(merchant, claim_ends_at=utcnow() - timedelta(seconds=1))
    assert claim(third, closed).status_code == 409
    live_only = create_template(merchant, live_only=True)
    assert claim(third, live_only).get_json()["error"]["code"] == "live"


def test_follower_and_new_customer_audiences(create_user, make_api, create_template):
    merchant = create_user(merchant=True)
    fans = create_template(merchant, audience="followers")
    fan = make_api(create_user())
    assert claim(fan, fans).get_json()["error"]["code"] == "followers"
    assert fan.put(f"/api/v1/users/{merchant.id}/follow").status_code in (200, 201)
    assert claim(fan, fans).status_code == 201


def test_checkout_applies_the_best_coupon_and_cancel_gives_it_back(
    app, buyer_setup, make_api, create_template
):
    api, product, address_id, _buyer, merchant = buyer_setup(price_minor=2000, stock=10)
    small = create_template(merchant, amount_minor=100)
    big = create_template(merchant, kind="percent", percent=20, cap_minor=500, amount_minor=0)
    for template_id in (small, big):
        assert claim(api, template_id).status_code == 201
    [order] = place(api, buy_now(product.id, address_id, 2)).get_json()["orders"]
    assert order["discount_minor"] == 500  # 20% of 4000 = 800, capped at 500
    assert order["total_minor"] == 3500
    assert order["lines"][0]["merchant_discount_minor"] == 500
    with app.app_context():
        used = db.session.query(Coupon).filter_by(template_id=big).one()
        assert used.state == "used" and used.discount_minor == 500
        assert db.session.get(CouponTemplate, big).spent_minor == 500
    assert api.post(f"/api/v1/orders/{order['id']}/cancel").status_code == 200
    with app.app_context():
        back = db.session.query(Coupon).filter_by(template_id=big).one()
        assert back.state == "valid" and back.order_id is None
        assert db.session.get(CouponTemplate, big).spent_minor == 0


def test_the_buyer_chooses_or_removes_the_coupon(app, buyer_setup, create_template):
    api, product, address_id, _buyer, merchant = buyer_setup(price_minor=2000)
    small = create_template(merchant, amount_minor=100)
    big = create_template(merchant, amount_minor=400)
    claim(api, small), claim(api, big)
    mine = {c["template_id"]: c["id"] for c in api.get("/api/v1/coupons/mine").get_json()["items"]}
    chosen = place(api, {**buy_now(product.id, address_id), "coupon_ids": [mine[small]]})
    assert chosen.get_json()["orders"][0]["discount_minor"] == 100
    none = place(api, {**buy_now(product.id, address_id), "coupon_ids": []})
    assert none.get_json()["orders"][0]["discount_minor"] == 0
    # Two shop coupons in one order: refused, nothing written.
    both = place(api, {**buy_now(product.id, address_id), "coupon_ids": [mine[small], mine[big]]})
    assert both.status_code == 409
    # The used one is gone; a stranger's id is refused.
    again = place(api, {**buy_now(product.id, address_id), "coupon_ids": [mine[small]]})
    assert again.status_code == 409
    # A chosen coupon that does not reach its minimum spend here: refused, not ignored.
    pricey = create_template(merchant, amount_minor=100, min_spend_minor=10_000)
    claim(api, pricey)
    held = {c["template_id"]: c["id"] for c in api.get("/api/v1/coupons/mine").get_json()["items"]}
    short = place(api, {**buy_now(product.id, address_id), "coupon_ids": [held[pricey]]})
    assert short.get_json()["error"]["code"] == "coupon_not_applicable"


def test_merchant_and_platform_coupons_stack_over_lines(
    app, create_user, create_product, create_address, make_api, create_template
):
    merchant = create_user(merchant=True)
    cup = create_product(merchant, price_minor=3000)
    pot = create_product(merchant, price_minor=7000)
    admin = create_user()
    shop = create_template(merchant, amount_minor=1000)
    platform = create_template(admin, merchant_id=None, funded_by="platform", amount_minor=501)
    buyer = create_user()
    api = make_api(buyer)
    claim(api, shop), claim(api, platform)
    body = {
        "items": [{"product_id": cup.id, "quantity": 1}, {"product_id": pot.id, "quantity": 1}],
        "address_id": create_address(buyer),
    }
    [order] = place(api, body).get_json()["orders"]
    assert order["discount_minor"] == 1501 and order["total_minor"] == 10_000 - 1501
    lines = order["lines"]
    assert sum(li["merchant_discount_minor"] for li in lines) == 1000
    assert sum(li["platform_discount_minor"] for li in lines) == 501
    assert sum(li["amount_minor"] for li in lines) == order["total_minor"]
    with app.app_context():
        rows = db.session.query(OrderLine).order_by(OrderLine.id).all()
        assert [r.commission_base_minor for r in rows] == [
            r.amount_minor + r.platform_discount_minor for r in rows
        ]
        assert sum(r.commission_base_minor for r in rows) == 10_000 - 1000


def test_expired_coupons_by_the_job_and_on_read(app, create_user, make_api, create_template):
    merchant = create_user(merchant=True)
    buyer = create_user()
    api = make_api(buyer)
    soon = utcnow() + timedelta(seconds=1)
    template_id = create_template(merchant, valid_days=None, valid_until=soon)
    assert claim(api, template_id).status_code == 201
    with app.app_context():
        coupon = db.session.query(Coupon).one()
        coupon.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    # On read: shown expired before the job has run.
    assert api.get("/api/v1/coupons/mine").get_json()["items"] == []
    [shown] = api.get("/api/v1/coupons/mine?state=expired").get_json()["items"]
    assert shown["state"] == "expired"
    with app.app_context():
        assert db.session.query(Coupon).one().state == "valid"
        assert do_expire_coupons(db.session, utcnow()) == 1
        db.session.commit()
        assert db.session.query(Coupon).one().state == "expired"


def test_claims_are_rate_limited_per_account(create_user, make_api, create_template, monkeypatch):
    from commerce.coupons import claims

    monkeypatch.setattr(claims, "CLAIM_RATE", (2, timedelta(minutes=10)))
    merchant = create_user(merchant=True)
    api = make_api(create_user())
    codes = [claim(api, create_template(merchant)).status_code for _ in range(3)]
    assert codes == [201, 201, 429]
