"""Coupon pages: the merchant creates and pauses coupons with a form; My coupons by state."""

from __future__ import annotations

from datetime import timedelta

from commerce.coupons.models import CouponTemplate
from commerce.extensions import db
from commerce.timeutil import utcnow
from tests.commerce.coupons.conftest import claim


def test_a_merchant_creates_and_pauses_a_coupon_on_her_page(app, create_user, make_api):
    merchant = create_user(merchant=True)
    api = make_api(merchant)
    page = api.client.get("/merchant/coupons")
    assert page.status_code == 200 and b"coupon-form" in page.data
    ends = (utcnow() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    form = {
        "csrf_token": api.token(),
        "title": "Tea <b>day</b>",
        "kind": "amount",
        "amount": "5.00",
        "min_spend": "50",
        "scope": "shop",
        "claim_ends_at": ends,
        "valid_days": "3",
        "total": "10",
        "per_person": "1",
        "audience": "anyone",
        "task": "none",
    }
    made = api.client.post("/merchant/coupons", data=form)
    assert made.status_code == 302
    with app.app_context():
        template = db.session.query(CouponTemplate).one()
        assert (template.amount_minor, template.min_spend_minor) == (500, 5000)
    listed = api.client.get("/merchant/coupons").data
    assert b"Tea &lt;b&gt;day&lt;/b&gt;" in listed  # escaped
    bad = api.client.post("/merchant/coupons", data={**form, "amount": "five"})
    assert bad.status_code == 400 and b"form-error" in bad.data
    paused = api.client.post(
        f"/merchant/coupons/{template.id}/pause", data={"csrf_token": api.token()}
    )
    assert paused.status_code == 302
    with app.app_context():
        assert db.session.get(CouponTemplate, template.id).state == "paused"
    assert make_api(create_user()).client.get("/merchant/coupons").status_code == 403


def test_my_coupons_by_state(create_user, make_api, create_template):
    merchant = create_user(merchant=True)
    buyer = make_api(create_user())
    claim(buyer, create_template(merchant, title="Green tea"))
    valid = buyer.client.get("/me/coupons").data
    assert b"Green tea" in valid and b'data-state="valid"' in valid
    assert b"Green tea" not in buyer.client.get("/me/coupons?state=used").data
