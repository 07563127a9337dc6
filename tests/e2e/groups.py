"""What the group-buying browser tests share: a campaign with its buyers, paying a seat on the
sandbox page, and waiting for the group page to show a state."""

from __future__ import annotations

from typing import Any


def campaign_with_buyers(
    make_api: Any,
    create_user: Any,
    create_address: Any,
    merchant: Any,
    product: Any,
    *names: str,
    group_size: int = 2,
) -> list[Any]:
    """A group campaign on `merchant`'s `product` (¥19.90, 60 minutes) and buyers with an
    address each, named `names`."""
    made = make_api(merchant).post(
        f"/api/v1/products/{product.id}/group-campaigns",
        {"price_minor": 1990, "group_size": group_size, "window_minutes": 60},
    )
    assert made.status_code == 201, made.get_json()
    buyers = [create_user(name=name) for name in names]
    for buyer in buyers:
        create_address(buyer)
    return buyers


def pay_on_sandbox(page: Any, base: str) -> None:
    from playwright.sync_api import expect

    page.wait_for_url(f"{base}/pay/sandbox/**")
    page.fill("input[name=card_number]", "4242 4242 4242 4242")
    page.click("main form button[type=submit].primary")
    expect(page.locator("main")).to_contain_text("Payment succeeded", timeout=15_000)
    page.click("text=Return to the shop")
    page.wait_for_url(f"{base}/groups/**")


def wait_for_state(page: Any, state: str) -> None:
    """The group page shows `state` (live, or after the app's job applied a webhook: reload)."""
    from playwright.sync_api import expect

    for _ in range(40):
        if page.locator(f'.group-state[data-state="{state}"]').count():
            return
        page.wait_for_timeout(500)
        page.reload()
    expect(page.locator(".group-state")).to_have_attribute("data-state", state)
