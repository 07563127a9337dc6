"""In Chromium, two browsers: the leader watches her open group's page; a second buyer joins
and pays in his own browser. Without reloading, the leader's page shows the seat taken, then
filled by him, the group succeeded, and its countdown gone."""

from __future__ import annotations

import pytest

from tests.commerce.orders.conftest import create_address  # noqa: F401  (fixture)
from tests.e2e.groups import campaign_with_buyers, pay_on_sandbox, wait_for_state
from tests.e2e.test_checkout import log_in

pytestmark = [pytest.mark.e2e]


def test_the_watcher_sees_the_seat_fill_and_the_group_succeed_without_reloading(
    app, live_server, browser, create_user, create_product, make_api, screenshots,
    create_address,  # noqa: F811
):  # fmt: skip
    from playwright.sync_api import expect

    base = live_server.url
    merchant = create_user(merchant=True, name="Tea House")
    product = create_product(merchant, title="Jasmine tea", price_minor=2990, stock=5)
    ann, bo = campaign_with_buyers(
        make_api, create_user, create_address, merchant, product, "Ann", "Bo"
    )
    errors: list[str] = []

    def new_page():
        page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        return page

    leader = new_page()
    log_in(leader, base, ann.email)
    leader.goto(f"{base}/products/{product.id}")
    leader.click(".group-open")
    pay_on_sandbox(leader, base)
    wait_for_state(leader, "open")  # the webhook is applied by the app's job
    group_url = leader.url
    expect(leader.locator(".group-member.empty")).to_have_count(1)
    expect(leader.locator(".group-page-countdown")).to_contain_text("Ends in")
    # From here on the leader's page is never reloaded: a reload would clear this mark.
    leader.evaluate("window.__watching = 'same page'")

    member = new_page()
    log_in(member, base, bo.email)
    member.goto(group_url)
    member.click(".group-join")
    member.wait_for_url(f"{base}/pay/sandbox/**")
    # Bo holds the last seat while he pays: no empty seat left on Ann's page.
    expect(leader.locator(".group-member.empty")).to_have_count(0, timeout=10_000)
    expect(leader.locator(".group-seats-left")).to_have_text("0 seats left")
    expect(leader.locator(".group-state")).to_have_attribute("data-state", "open")

    member.fill("input[name=card_number]", "4242 4242 4242 4242")
    member.click("main form button[type=submit].primary")
    expect(member.locator("main")).to_contain_text("Payment succeeded", timeout=15_000)

    expect(leader.locator(".group-state")).to_have_attribute(
        "data-state", "succeeded", timeout=15_000
    )
    expect(leader.locator(".group-state-label")).to_have_text("succeeded")
    expect(leader.locator(".group-members")).to_contain_text("Bo")
    expect(leader.locator(".group-member")).to_have_count(2)
    expect(leader.locator('.group-outcome[data-outcome="succeeded"]')).to_be_visible()
    expect(leader.locator(".group-open-info")).to_be_hidden()
    countdown = leader.locator(".group-page-countdown").text_content()
    leader.wait_for_timeout(1_500)
    assert leader.locator(".group-page-countdown").text_content() == countdown == ""  # stopped
    assert leader.evaluate("window.__watching") == "same page"
    leader.screenshot(path=str(screenshots / "group-live-succeeded.png"))
    assert errors == []


def test_the_group_page_is_live_in_chinese(
    app, live_server, browser, create_user, create_product, make_api,
    create_address,  # noqa: F811
):  # fmt: skip
    """The strings the page redraws with come from the server in the page's language."""
    from playwright.sync_api import expect

    base = live_server.url
    merchant = create_user(merchant=True, name="Tea House")
    product = create_product(merchant, title="Jasmine tea", price_minor=2990, stock=5)
    ann, bo = campaign_with_buyers(
        make_api, create_user, create_address, merchant, product, "Ann", "Bo", group_size=3
    )
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    leader = context.new_page()
    log_in(leader, base, ann.email)
    leader.goto(f"{base}/products/{product.id}")
    leader.click(".group-open")
    leader.wait_for_url(f"{base}/pay/sandbox/**")
    leader.fill("input[name=card_number]", "4242 4242 4242 4242")
    leader.click("main form button[type=submit].primary")
    leader.click("main a.button[target=_top]")
    leader.wait_for_url(f"{base}/groups/**")
    wait_for_state(leader, "open")
    expect(leader.locator(".group-seats-left")).to_have_text("剩余 2 个名额")
    leader.evaluate("window.__watching = 'same page'")
    member = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    log_in(member, base, bo.email)
    member.goto(leader.url)
    member.click(".group-join")
    member.wait_for_url(f"{base}/pay/sandbox/**")
    expect(leader.locator(".group-seats-left")).to_have_text("剩余 1 个名额", timeout=10_000)
    expect(leader.locator(".group-member.empty")).to_have_count(1)
    assert leader.evaluate("window.__watching") == "same page"
