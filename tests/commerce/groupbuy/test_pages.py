"""The pages: the product page's group offer, a group, my groups, the seller's campaigns, and
the seller's order list saying an order waits for its group."""

from __future__ import annotations

from tests.commerce.groupbuy.conftest import group_order, pay


def test_the_pages_show_the_offer_the_group_and_the_campaigns(
    app, campaign, shopper, webhook_inbox
):
    made = campaign(group_size=3, leader_free=True, free_quota=2, free_budget_minor=2000)
    product, seller = made["product"], made["seller"]
    leader, viewer = shopper("Ann"), shopper("Bo")
    opened = group_order(leader, product.id).get_json()
    pay(app, leader, opened["order_id"])

    page = viewer["api"].client.get(f"/products/{product.id}").get_data(as_text=True)
    assert "Open a group" in page and "Groups you can join" in page and "Leader rides free" in page
    group_page = viewer["api"].client.get(f"/groups/{opened['group_id']}")
    assert group_page.status_code == 200
    text = group_page.get_data(as_text=True)
    assert "Join this group" in text and "Ann" in text and 'data-seconds-left="' in text
    assert 'data-target-kind="group"' in text  # the share sheet makes a signed group link
    assert 'href="/me/groups"' in leader["api"].client.get("/me").get_data(as_text=True)
    assert 'href="/studio/groups"' in seller.client.get("/me").get_data(as_text=True)
    mine = leader["api"].client.get("/me/groups").get_data(as_text=True)
    assert "You lead this group." in mine
    studio = seller.client.get("/studio/groups").get_data(as_text=True)
    assert "Group campaigns" in studio and product.title in studio
    orders = seller.client.get("/merchant/orders").get_data(as_text=True)
    assert "Waiting for the group" in orders


def test_a_group_page_in_chinese(app, campaign, shopper, webhook_inbox):
    made = campaign(group_size=2)
    leader = shopper("Ann")
    opened = group_order(leader, made["product"].id).get_json()
    pay(app, leader, opened["order_id"])
    page = (
        leader["api"]
        .client.get(f"/groups/{opened['group_id']}", headers={"Accept-Language": "zh-CN"})
        .get_data(as_text=True)
    )
    assert "拼团" in page


def test_the_group_page_carries_what_its_live_updates_need(app, campaign, shopper, webhook_inbox):
    """group-live.js redraws from events with the page's own strings (both languages)."""
    import json
    import re

    made = campaign(group_size=3)
    leader = shopper("Ann")
    opened = group_order(leader, made["product"].id).get_json()
    pay(app, leader, opened["order_id"])
    url = f"/groups/{opened['group_id']}"
    for language, seats, state in (
        ("en", "2 seats left", "succeeded"),
        ("zh-CN", "剩余 2 个名额", "拼团成功"),
    ):
        page = (
            leader["api"]
            .client.get(url, headers={"Accept-Language": language})
            .get_data(as_text=True)
        )
        assert "js/group-live.js" in page and "vendor/socket.io.min.js" in page
        found = re.search(r'<script type="application/json" id="group-i18n">(.*?)</script>', page)
        strings = json.loads(found.group(1))
        assert strings["seats_left"]["2"] == seats and set(strings["seats_left"]) == {
            "0",
            "1",
            "2",
            "3",
        }
        assert strings["states"]["succeeded"] == state
        assert f'<span class="group-seats-left">{seats}</span>' in page
        assert re.search(r'data-outcome="succeeded" hidden>', page)  # shown when it fills
