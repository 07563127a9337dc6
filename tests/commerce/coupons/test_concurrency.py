"""Racing claims and checkouts, each in its own thread, request and database session."""

from __future__ import annotations

import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commerce.accounts.models import User
from commerce.coupons.claims import do_claim
from commerce.coupons.models import Coupon, CouponHolding, CouponTemplate
from commerce.errors import DomainError
from commerce.extensions import db
from commerce.orders.models import Order
from commerce.timeutil import utcnow
from tests.commerce.coupons.conftest import claim
from tests.commerce.orders.conftest import buy_now
from tests.commerce.orders.test_concurrency import race


def test_twenty_racing_claims_of_five_coupons_make_five(
    app, create_user, make_api, create_template
):
    template_id = create_template(create_user(merchant=True), total=5)
    apis = [make_api(create_user()) for _ in range(20)]
    codes = race([lambda api=api: claim(api, template_id).status_code for api in apis])
    assert sorted(codes) == [201] * 5 + [409] * 15
    with app.app_context():
        assert db.session.get(CouponTemplate, template_id).claimed == 5
        assert db.session.query(Coupon).count() == 5


def test_one_person_racing_five_claims_gets_one(app, create_user, make_api, create_template):
    template_id = create_template(create_user(merchant=True), total=100, per_person=1)
    buyer = create_user()
    apis = [make_api(buyer) for _ in range(5)]  # five browser sessions of one person
    codes = race([lambda api=api: claim(api, template_id).status_code for api in apis])
    assert sorted(codes) == [201] + [409] * 4
    with app.app_context():
        assert db.session.query(Coupon).filter_by(user_id=buyer.id).count() == 1
        assert db.session.get(CouponHolding, (template_id, buyer.id)).count == 1
        assert db.session.get(CouponTemplate, template_id).claimed == 1


def test_two_racing_checkouts_with_one_coupon_use_it_once(
    app, buyer_setup, make_api, create_template
):
    api, product, address_id, buyer, merchant = buyer_setup(price_minor=2000, stock=50)
    template_id = create_template(merchant, amount_minor=500)
    coupon_id = claim(api, template_id).get_json()["id"]
    body = {**buy_now(product.id, address_id), "coupon_ids": [coupon_id]}
    apis = [make_api(buyer) for _ in range(2)]

    def checkout(api):
        return lambda: (
            api.post(
                "/api/v1/orders", body, headers={"Idempotency-Key": uuid.uuid4().hex}
            ).status_code
        )

    codes = race([checkout(a) for a in apis])
    assert sorted(codes) == [201, 409]
    with app.app_context():
        assert db.session.query(Order).count() == 1  # the loser's order was undone
        coupon = db.session.get(Coupon, coupon_id)
        assert coupon.state == "used" and coupon.order_id is not None
        template = db.session.get(CouponTemplate, template_id)
        assert template.redeemed == 1 and template.spent_minor == 500


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    total=st.integers(1, 6),
    per_person=st.integers(1, 3),
    claims=st.lists(st.integers(0, 3), min_size=1, max_size=15),
)
def test_claim_counters_never_exceed_limits_or_go_negative(
    app, create_user, create_template, total, per_person, claims
):
    """Any sequence of claims by four people: counters stay within total and per person."""
    merchant = create_user(merchant=True)
    people = [create_user() for _ in range(4)]
    template_id = create_template(merchant, total=total, per_person=per_person)
    with app.app_context():
        for who in claims:
            template = db.session.get(CouponTemplate, template_id)
            user = db.session.get(User, people[who].id)
            try:
                do_claim(db.session, template, user, utcnow(), source="shop")
                db.session.commit()
            except DomainError:
                db.session.rollback()
        template = db.session.get(CouponTemplate, template_id)
        held = {
            h.user_id: h.count
            for h in db.session.query(CouponHolding).filter_by(template_id=template_id)
        }
        coupons = db.session.query(Coupon).filter_by(template_id=template_id).count()
        assert 0 <= template.claimed <= total
        assert all(0 <= count <= per_person for count in held.values())
        assert template.claimed == coupons == sum(held.values())
        wanted = {}
        for who in claims:
            wanted[who] = wanted.get(who, 0) + 1
        assert template.claimed == min(total, template.claimed)
        assert coupons <= sum(min(n, per_person) for n in wanted.values())
