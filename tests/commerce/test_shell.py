"""The app shell: which tabs a phone shows, which one a page lights, the Me and Create pages."""

from __future__ import annotations

import re

import pytest

from commerce.accounts.models import User
from commerce.extensions import db
from commerce.shell import active_tab, tabs_for


def keys(tabs):
    return [(tab.key, tab.endpoint) for tab in tabs]


@pytest.mark.parametrize(
    ("is_creator", "endpoints", "wanted"),
    [
        (
            False,
            set(),
            [
                ("home", "videos.feed_page"),
                ("shop", "catalog.product_list"),
                ("create", "accounts.create"),
                ("me", "accounts.me"),
            ],
        ),
        (
            True,
            {"notifications.inbox"},
            [
                ("home", "videos.feed_page"),
                ("shop", "catalog.product_list"),
                ("create", "videos.studio"),
                ("inbox", "notifications.inbox"),
                ("me", "accounts.me"),
            ],
        ),
    ],
)
def test_tabs_by_role_and_by_what_the_app_has(is_creator, endpoints, wanted):
    assert keys(tabs_for(is_creator=is_creator, endpoints=endpoints)) == wanted


@pytest.mark.parametrize(
    ("endpoint", "tab"),
    [
        ("videos.feed_page", "home"),
        ("videos.watch", "home"),
        ("live.room_page", "home"),
        ("catalog.product_list", "shop"),
        ("catalog.product_page", "shop"),
        ("catalog.my_products", "me"),
        ("catalog.edit_product", "me"),
        ("videos.studio", "create"),
        ("live.control", "create"),
        ("notifications.inbox", "inbox"),
        ("orders.my_orders", "me"),
        ("attribution.earnings", "me"),
        (None, ""),
    ],
)
def test_the_tab_a_page_lights(endpoint, tab):
    assert active_tab(endpoint) == tab


def tab_links(html: str) -> dict[str, str]:
    return dict(
        (key, href)
        for href, key in re.findall(r'<a class="tab tab-\w+" href="([^"]+)" data-tab="(\w+)"', html)
    )


def test_a_guest_has_five_tabs_and_me_offers_log_in_sign_up_and_language(client):
    page = client.get("/").get_data(as_text=True)
    assert tab_links(page) == {
        "home": "/",
        "shop": "/products",
        "create": "/create",
        "inbox": "/inbox",
        "me": "/me",
    }
    assert "data-inbox-badge" not in page  # a guest has no unread count
    me = client.get("/me").get_data(as_text=True)
    assert 'href="/login?next=/me"' in me and 'href="/signup?next=/me"' in me
    assert "/lang/zh_Hans" in me


def test_me_holds_each_role_s_pages_and_log_out(app, make_api, create_user):
    user = create_user(creator=True, merchant=True)
    with app.app_context():
        db.session.get(User, user.id).is_admin = True
        db.session.commit()
    me = make_api(user).client.get("/me").get_data(as_text=True)
    for path in (
        "/orders",
        "/earnings",
        "/studio",
        "/studio/live",
        "/merchant/products",
        "/merchant/orders",
        "/admin/commissions",
        "/admin/jobs",
        "/profile",
        "/logout",
    ):
        assert f'"{path}"' in me, path
    assert 'aria-current="page"' in me and 'data-tab="me"' in me


def test_a_buyer_sees_no_admin_or_merchant_links_on_me(make_api, create_user):
    me = make_api(create_user()).client.get("/me").get_data(as_text=True)
    assert '"/orders"' in me
    for path in ("/studio", "/merchant/orders", "/admin/jobs"):
        assert f'"{path}"' not in me


def test_create_sends_a_creator_to_the_upload_and_tells_others_how(make_api, create_user):
    creator = make_api(create_user(creator=True)).client
    response = creator.get("/create")
    assert response.status_code == 302 and response.location.endswith("/studio#upload")
    assert tab_links(creator.get("/").get_data(as_text=True))["create"] == "/studio#upload"
    buyer_page = make_api(create_user()).client.get("/create").get_data(as_text=True)
    assert "Become a creator" in buyer_page and 'href="/profile"' in buyer_page


def test_the_inbox_tab_appears_once_notifications_exist():
    without = tabs_for(is_creator=False, endpoints={"accounts.me"})
    assert "inbox" not in [tab.key for tab in without]
    with_inbox = tabs_for(is_creator=False, endpoints={"notifications.inbox"})
    assert [tab.key for tab in with_inbox] == ["home", "shop", "create", "inbox", "me"]


def test_a_signed_in_user_sees_the_unread_badge_on_both_bars(make_api, create_user):
    page = make_api(create_user()).client.get("/me").get_data(as_text=True)
    assert page.count("data-inbox-badge") == 2  # the phone's tab and the desktop's link
    assert "js/inbox-badge.js" in page


def test_tabs_are_translated(client):
    client.set_cookie("lang", "zh_Hans")
    page = client.get("/").get_data(as_text=True)
    assert (
        '<span class="tab-label">首页</span>' in page
        and '<span class="tab-label">我</span>' in page
    )
