"""A refund request answered in the running app: the buyer asks on a phone and is told it waits
for the seller; the seller, on a desktop, declines and says why; the buyer's open page shows the
decline with the reason at once and lets them ask again; the seller's refund then answers it."""

from __future__ import annotations

import pytest

from tests.commerce.payments.conftest import (  # noqa: F401  (fixtures)
    buy_now,
    buyer_setup,
    create_address,
    create_flash,
    create_video,
    deliver,
    pay_with,
    place,
    placed,
    webhook_inbox,
)
from tests.e2e.test_checkout import log_in

pytestmark = pytest.mark.e2e


def test_the_buyer_asks_the_seller_declines_with_a_reason_then_refunds(
    app, live_server, browser, request
):
    from playwright.sync_api import expect

    request.getfixturevalue("webhook_inbox")  # payment events reach this app
    p = request.getfixturevalue("placed")(price_minor=1000)
    pay_with(p["api"], p["pay_url"], "4242424242424242")
    deliver(app)
    url = f"{live_server.url}/orders/{p['order']['id']}"

    phone = browser.new_context(viewport={"width": 390, "height": 844})
    buyer = phone.new_page()
    log_in(buyer, live_server.url, p["buyer"].email)
    buyer.goto(url)
    ask = buyer.locator('form[data-action="refund-request"]')
    ask.locator("input[name=reason]").fill("Wrong colour <b>sent</b>")
    ask.locator("button[type=submit]").click()
    status = buyer.locator("#refund-request-status")
    expect(status).to_contain_text("You asked for a refund on")
    expect(status).to_contain_text("Wrong colour <b>sent</b>")  # shown as typed, not as markup
    expect(ask).to_be_hidden()

    desktop = browser.new_context(viewport={"width": 1366, "height": 900})
    seller = desktop.new_page()
    log_in(seller, live_server.url, p["merchant"].email)
    seller.goto(url)
    expect(seller.locator("#refund-request-status")).to_contain_text("The buyer asked for a refund")
    decline = seller.locator('form[data-action="refund-decline"]')
    decline.locator("input[name=reason]").fill("The colour is the one ordered")
    decline.locator("button[type=submit]").click()
    expect(seller.locator("#refund-request-status")).to_contain_text("You declined")
    expect(decline).to_be_hidden()

    # The buyer's page was left open: the decline arrives by itself, with the reason.
    expect(status).to_contain_text("The seller declined your refund request", timeout=10_000)
    expect(status).to_contain_text("The colour is the one ordered")
    expect(ask).to_be_visible()
    ask.locator("input[name=reason]").fill("It arrived scratched")
    ask.locator("button[type=submit]").click()
    expect(status).to_contain_text("It arrived scratched")

    refund = seller.locator('form[data-action="refund"]')
    expect(seller.locator("#refund-request-status")).to_contain_text(
        "It arrived scratched", timeout=10_000
    )
    refund.locator("input[name=amount]").fill("5.00")
    refund.locator("button[type=submit]").click()
    expect(seller.locator("#refund-request-status")).to_contain_text("answered the refund request")
    expect(status).to_contain_text("The seller refunded you", timeout=10_000)
    # Partly refunded before shipping: it still waits to be shipped, and says so to the seller.
    expect(seller.locator('form[data-action="ship"]')).to_be_visible()
    assert buyer.evaluate("() => document.scrollingElement.scrollWidth") <= 390
    phone.close()
    desktop.close()
