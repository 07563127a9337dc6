"""Catalog: merchants own their products; validation; search; permissions."""

import io

import pytest

from commerce.catalog.rates import RateError, bp_to_percent, percent_to_bp
from tests.conftest import png_bytes

PRODUCT = {
    "title": "Celadon cup",
    "description": "120 ml",
    "price_minor": 12900,
    "currency": "CNY",
    "stock": 20,
    "per_buyer_limit": 2,
    "creator_rate_bp": 1000,
    "sharer_rate_bp": 500,
}


def test_merchant_creates_and_edits_a_product(make_api, create_user):
    api = make_api(create_user(merchant=True))
    created = api.post("/api/v1/products", PRODUCT)
    assert created.status_code == 201
    product = created.get_json()
    assert product["price_display"] == "¥129.00"
    assert product["creator_rate_bp"] == 1000
    edited = api.put(f"/api/v1/products/{product['id']}", {**PRODUCT, "stock": 5})
    assert edited.status_code == 200 and edited.get_json()["stock"] == 5


def test_non_merchant_cannot_create(make_api, create_user):
    response = make_api(create_user()).post("/api/v1/products", PRODUCT)
    assert response.status_code == 403


def test_anonymous_cannot_create(make_api):
    assert make_api().post("/api/v1/products", PRODUCT).status_code == 401


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"price_minor": -1}, "price_minor"),
        ({"price_minor": 12.5}, "price_minor"),
        ({"stock": -3}, "stock"),
        ({"currency": "XYZ"}, "currency"),
        ({"creator_rate_bp": 10001}, "creator_rate_bp"),
        ({"creator_rate_bp": 6000, "sharer_rate_bp": 5000}, "body"),
        ({"title": ""}, "title"),
        ({"per_buyer_limit": 0}, "per_buyer_limit"),
    ],
)
def test_invalid_products_are_refused_with_the_field(make_api, create_user, change, field):
    api = make_api(create_user(merchant=True))
    response = api.post("/api/v1/products", {**PRODUCT, **change})
    assert response.status_code == 400
    assert field in response.get_json()["error"]["fields"]


def test_another_merchant_cannot_edit_or_add_images(make_api, create_user, create_product):
    owner = create_user(merchant=True)
    product = create_product(owner)
    intruder = make_api(create_user(merchant=True))
    assert intruder.put(f"/api/v1/products/{product.id}", PRODUCT).status_code == 404
    upload = intruder.post(
        f"/api/v1/products/{product.id}/images",
        data={"image": (png_bytes(), "x.png")},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 404
    assert intruder.client.get(f"/merchant/products/{product.id}/edit").status_code == 404


def test_product_images_validated_and_removed(make_api, create_user, create_product):
    owner = create_user(merchant=True)
    product = create_product(owner)
    api = make_api(owner)
    bad = api.post(
        f"/api/v1/products/{product.id}/images",
        data={"image": (io.BytesIO(b"GIF89a-not-really"), "x.gif")},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 400
    good = api.post(
        f"/api/v1/products/{product.id}/images",
        data={"image": (png_bytes((2000, 1000)), "x.png")},
        content_type="multipart/form-data",
    )
    assert good.status_code == 201
    image = good.get_json()
    assert api.get(image["url"]).status_code == 200
    assert api.delete(f"/api/v1/products/{product.id}/images/{image['id']}").status_code == 204
    assert api.get(image["url"]).status_code == 404


def test_search_and_inactive_products(make_api, create_user, create_product):
    merchant = create_user(merchant=True)
    create_product(merchant, title="Jasmine tea", description="Fujian pearls")
    create_product(merchant, title="Oolong 100% leaf", description="")
    hidden = create_product(merchant, title="Secret tea", is_active=False)
    api = make_api()
    titles = [p["title"] for p in api.get("/api/v1/products?q=tea").get_json()["items"]]
    assert titles == ["Jasmine tea"]
    assert [p["title"] for p in api.get("/api/v1/products?q=pearls").get_json()["items"]] == [
        "Jasmine tea"
    ]
    assert api.get("/api/v1/products?q=100%25").get_json()["total"] == 1
    assert api.get("/api/v1/products?q=%25").get_json()["total"] == 1  # % is literal
    assert api.get(f"/api/v1/products/{hidden.id}").status_code == 404
    mine = make_api(merchant).get("/api/v1/products?mine=true").get_json()
    assert mine["total"] == 3


def test_html_product_form_takes_major_units(make_api, create_user):
    api = make_api(create_user(merchant=True))
    form = {
        "csrf_token": api.token(),
        "title": "Tray",
        "description": "",
        "price": "259.00",
        "currency": "CNY",
        "stock": "3",
        "per_buyer_limit": "",
        "creator_rate_pct": "12.5",
        "sharer_rate_pct": "",
        "is_active": "on",
    }
    response = api.client.post("/merchant/products/new", data=form)
    assert response.status_code == 302
    listing = api.get("/api/v1/products?mine=true").get_json()["items"]
    assert listing[0]["price_minor"] == 25900
    assert (listing[0]["creator_rate_bp"], listing[0]["sharer_rate_bp"]) == (1250, 0)
    edit = api.client.get(f"/merchant/products/{listing[0]['id']}/edit").get_data(as_text=True)
    assert 'name="creator_rate_pct"' in edit and 'value="12.5"' in edit
    for rate in ("100.5", "-1", "1.234", "ten"):
        refused = api.client.post("/merchant/products/new", data={**form, "sharer_rate_pct": rate})
        assert refused.status_code == 400, rate
        assert "like 12.5" in refused.get_data(as_text=True)
    bad = api.client.post("/merchant/products/new", data={**form, "price": "2.999"})
    assert bad.status_code == 400
    assert "12.30" in bad.get_data(as_text=True)


def test_product_pages_render_and_escape(make_api, create_user, create_product):
    merchant = create_user(merchant=True)
    product = create_product(merchant, title="<script>alert(1)</script>")
    page = make_api().client.get(f"/products/{product.id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page
    listing = make_api().client.get("/products?q=script").get_data(as_text=True)
    assert "&lt;script&gt;" in listing


@pytest.mark.parametrize(
    ("typed", "bp"),
    [("12.5", 1250), ("10", 1000), ("0.05", 5), ("", 0), (" 7 % ", 700), ("100", 10000)],
)
def test_a_typed_percentage_is_stored_in_basis_points_and_shown_back(typed, bp):
    assert percent_to_bp(typed) == bp
    assert percent_to_bp(bp_to_percent(bp)) == bp


@pytest.mark.parametrize("typed", ["100.01", "-1", "1.234", "ten", "nan", "inf"])
def test_a_rate_outside_0_to_100_or_past_two_decimals_is_refused(typed):
    with pytest.raises(RateError):
        percent_to_bp(typed)
