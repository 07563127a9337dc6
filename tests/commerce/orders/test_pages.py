"""Buying pages render for their owners only, and the drawer is on the feed and product page."""

from __future__ import annotations

from tests.commerce.orders.conftest import buy_now, place


def test_order_pages_for_buyer_and_seller_only(buyer_setup, make_api, create_user):
    api, product, address_id, _buyer, merchant = buyer_setup()
    [order] = place(api, buy_now(product.id, address_id)).get_json()["orders"]
    mine = api.client.get(f"/orders/{order['id']}")
    assert mine.status_code == 200 and b"Cancel order" in mine.data
    seller = make_api(merchant)
    theirs = seller.client.get(f"/orders/{order['id']}")
    assert theirs.status_code == 200 and b"Ship" in theirs.data
    assert make_api(create_user()).client.get(f"/orders/{order['id']}").status_code == 404
    assert order["id"].encode() in api.client.get("/orders").data
    assert order["id"].encode() in seller.client.get("/merchant/orders").data


def test_cart_and_address_pages(buyer_setup):
    api, product, *_ = buyer_setup(title="Jasmine <b>tea</b>")
    api.post("/api/v1/cart", {"product_id": product.id})
    page = api.client.get("/cart")
    assert page.status_code == 200
    assert b"Jasmine &lt;b&gt;tea&lt;/b&gt;" in page.data  # user text is escaped
    assert b"Check out and pay" in page.data
    assert api.client.get("/addresses").status_code == 200


def test_a_cart_line_in_a_flash_sale_shows_the_flash_price(buyer_setup, create_flash):
    api, product, *_ = buyer_setup(price_minor=2990)
    other = buyer_setup(price_minor=1500)[1]
    create_flash(product.id, price_minor=990)
    for item in (product, other):
        api.post("/api/v1/cart", {"product_id": item.id})
    page = api.client.get("/cart").get_data(as_text=True)
    assert '<s class="muted">¥29.90</s>' in page
    assert '<span class="cart-flash-price">¥9.90</span>' in page
    assert "¥15.00" in page and page.count("cart-flash-price") == 1


def test_pages_need_a_login(client):
    for url in ("/orders", "/cart", "/addresses", "/merchant/orders"):
        assert client.get(url).status_code == 302


def test_product_page_has_buy_now_and_the_disclosure(make_api, create_user, create_product):
    product = create_product(create_user(merchant=True))
    page = make_api(create_user()).client.get(f"/products/{product.id}")
    assert b"data-checkout-product" in page.data
    assert b"The creator may earn a commission" in page.data
    assert b'id="checkout-drawer"' in page.data


def test_feed_has_the_drawer_and_a_buy_button(client):
    page = client.get("/")
    assert b'id="checkout-drawer"' in page.data and b"pin-buy" in page.data
