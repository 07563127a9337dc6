"""Order pages as people read them: translated states, history without payment ids, times as
<time> the browser shows in its zone; the pay page without the site's links."""

from __future__ import annotations

import re

from commerce.extensions import db
from commerce.payments.models import Payment
from tests.commerce.payments.conftest import deliver, pay_with


def test_a_paid_order_page_shows_human_states_and_no_payment_id(app, placed, webhook_inbox):
    p = placed()
    api = p["api"]
    pay_with(api, p["pay_url"], "4242 4242 4242 4242")
    assert deliver(app) == 1
    with app.app_context():
        provider_ref = db.session.scalars(db.select(Payment.provider_ref)).one()
    page = api.client.get(p["order"]["url"]).get_data(as_text=True)
    assert provider_ref and provider_ref not in page
    assert '<span class="order-state" id="order-state" data-state="paid"' in page
    assert ">To ship</span>" in page
    history = page.split('id="order-history"')[1].split("</ol>")[0]
    assert "Awaiting payment" in history and "To ship" in history
    assert "pending_payment" not in history and "UTC</time>" in history
    assert re.search(
        r'<time datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z" data-local="datetime">', page
    )
    api_history = api.get(f"/api/v1/orders/{p['order']['id']}").get_json()["history"]
    assert provider_ref not in str(api_history)

    api.client.set_cookie("lang", "zh_Hans")
    listing = api.client.get("/orders").get_data(as_text=True)
    rows = listing.split("<tbody>")[1].split("</tbody>")[0]
    assert ">待发货</span>" in rows and "_payment" not in rows and "UTC</time>" in rows


def test_a_refund_request_reads_translated_in_the_history(app, placed, webhook_inbox):
    p = placed()
    api = p["api"]
    pay_with(api, p["pay_url"], "4242 4242 4242 4242")
    deliver(app)
    asked = api.post(f"/api/v1/orders/{p['order']['id']}/refund-request", {"reason": "lid cracked"})
    assert asked.status_code == 200, asked.get_json()
    api.client.set_cookie("lang", "zh_Hans")
    page = api.client.get(p["order"]["url"]).get_data(as_text=True)
    history = page.split('id="order-history"')[1].split("</ol>")[0]
    assert "申请退款：lid cracked" in history and "refund requested:" not in history


def test_the_pay_page_has_no_site_links_and_no_log_out(placed):
    p = placed()
    page = p["api"].client.get(p["pay_url"]).get_data(as_text=True)
    assert "4242" in page
    assert "/logout" not in page and 'class="tabbar"' not in page and 'href="/orders"' not in page
