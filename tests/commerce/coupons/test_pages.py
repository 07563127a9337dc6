"""Coupon pages: the merchant creates and pauses coupons with a form; My coupons by state."""

from __future__ import annotations

from datetime import timedelta

from werkzeug.datastructures import MultiDict

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


def test_the_form_offers_the_shops_products_and_the_creators_who_sell_them(
    app, create_user, create_product, make_api
):
    from commerce.live.models import LiveRoom, LiveShelfItem

    merchant = create_user(merchant=True, name="Lotus")
    jasmine = create_product(merchant, title="Jasmine")
    oolong = create_product(merchant, title="Oolong")
    other_shop_item = create_product(create_user(merchant=True), title="Elsewhere")
    mia = create_user(creator=True, name="Mia <3")
    followed = create_user(creator=True, name="Fay")
    create_user(creator=True, name="Stranger")
    with app.app_context():
        room = LiveRoom(public_id="room-mia", creator_id=mia.id, title="Tea")
        db.session.add(room)
        db.session.flush()
        db.session.add(LiveShelfItem(room_id=room.id, product_id=jasmine.id, position=0))
        db.session.commit()
    api = make_api(merchant)
    assert api.put(f"/api/v1/users/{followed.id}/follow").status_code == 200
    page = api.client.get("/merchant/coupons").get_data(as_text=True)
    assert f'name="product_ids" value="{jasmine.id}"' in page
    assert f'name="product_ids" value="{oolong.id}"' in page
    assert f'name="product_ids" value="{other_shop_item.id}"' not in page
    assert "Mia &lt;3" in page and "Fay" in page and "Stranger" not in page
    form = {
        "csrf_token": api.token(),
        "title": "For Mia's room",
        "kind": "amount",
        "amount": "8.00",
        "scope": "products",
        "claim_ends_at": (utcnow() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
        "valid_days": "3",
        "total": "10",
        "per_person": "1",
        "audience": "anyone",
        "task": "none",
    }
    ticked = [("product_ids", str(jasmine.id)), ("product_ids", str(oolong.id))]
    made = api.client.post("/merchant/coupons", data=MultiDict([*form.items(), *ticked]))
    assert made.status_code == 302
    for_mia = {**form, "title": "Mia only", "scope": "creator", "creator_id": str(mia.id)}
    assert api.client.post("/merchant/coupons", data=for_mia).status_code == 302
    with app.app_context():
        by_title = {t.title: t for t in db.session.query(CouponTemplate)}
        assert by_title["For Mia's room"].product_ids == sorted([jasmine.id, oolong.id])
        assert by_title["Mia only"].creator_id == mia.id
    # A refused form keeps what was ticked.
    refused = api.client.post(
        "/merchant/coupons",
        data=MultiDict([*{**form, "amount": "x"}.items(), ("product_ids", str(oolong.id))]),
    ).get_data(as_text=True)
    assert f'value="{oolong.id}" checked' in refused
    assert f'value="{jasmine.id}" checked' not in refused
