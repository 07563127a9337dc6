"""Redis goes away and comes back: every open page shows the truth within 5 s, with no reload.

Two `flask serve` processes share a redis-server of the test's own (the Socket.IO message queue
and live presence). Pages are open in Chromium on each. While Redis is down the host pins a
product and chats on process A and the buyer cancels an order on process B: each process's own
pages hear their own events, the other process's pages cannot. Redis returns; the processes
listen again and tell their pages to resync, which re-read their snapshots from the JSON API.
"""

from __future__ import annotations

import time
import uuid

import pytest
import requests

from tests.commerce.orders.conftest import create_address  # noqa: F401  (fixture)
from tests.conftest import PASSWORD
from tests.live import log_in
from tests.redis_server import RedisServer, redis_server  # noqa: F401  (fixture)

pytestmark = [pytest.mark.e2e]

OUTAGE_SECONDS = 3
CONVERGE_SECONDS = 5  # issue 11 §2


def csrf(http: requests.Session, url: str) -> dict[str, str]:
    return {"X-CSRFToken": http.get(f"{url}/api/v1/auth/csrf", timeout=10).json()["csrf_token"]}


def timed_post(http: requests.Session, url: str, **kwargs) -> requests.Response:
    """A request made while Redis is down: it must succeed, and not wait on Redis."""
    started = time.monotonic()
    response = http.post(url, timeout=10, **kwargs)
    assert response.ok, response.text
    assert time.monotonic() - started < 1.0, "a request waited on the dead Redis"
    return response


# Does the element show the text (all of it, or as a part)?
SHOWS = """([selector, text, whole]) => {
  const node = document.querySelector(selector);
  const shown = node ? node.textContent.trim() : "";
  return whole ? shown === text : shown.includes(text);
}"""
# Note in window.shownAt[name] the wall-clock time (ms) the page first shows it, checking every
# 20 ms in the page itself: the test's own polling through the browser would add its delays.
WATCH = (
    """([name, selector, text, whole]) => {
  const shows = """
    + SHOWS
    + """;
  window.shownAt = window.shownAt || {};
  const check = () => {
    if (shows([selector, text, whole])) window.shownAt[name] = Date.now();
    else setTimeout(check, 20);
  };
  check();
}"""
)


def test_pages_on_both_processes_converge_within_5_s_of_redis_returning(
    processes,
    redis_server: RedisServer,  # noqa: F811
    browser,
    create_user,
    create_product,
    create_address,  # noqa: F811
    screenshots,
):
    from playwright.sync_api import expect

    host = create_user(creator=True, merchant=True, name="Mia")
    products = [
        create_product(host, title=title, price_minor=1990, stock=20)
        for title in ("Jasmine tea", "Oolong tea", "Tea cups")
    ]
    buyer = create_user(name="Bo")
    address_id = create_address(buyer)
    queue = {"SOCKETIO_MESSAGE_QUEUE": redis_server.url, "JOBS_MODE": "worker"}
    a, b = processes.serve(**queue), processes.serve(**queue)

    # The host's live room (through A); two orders of the buyer (through B).
    host_http = log_in(a, host.email)
    host_headers = csrf(host_http, a)
    rooms = f"{a}/api/v1/live/rooms"
    room = {"title": "Tea", "featured_product_ids": [p.id for p in products]}
    room_id = host_http.post(rooms, json=room, headers=host_headers, timeout=10).json()["id"]
    assert host_http.post(f"{rooms}/{room_id}/start", headers=host_headers, timeout=10).ok
    buyer_http = log_in(b, buyer.email)
    buyer_headers = csrf(buyer_http, b)
    order_ids = []
    for product in products[:2]:
        placed = buyer_http.post(
            f"{b}/api/v1/orders",
            json={"items": [{"product_id": product.id, "quantity": 1}], "address_id": address_id},
            headers={**buyer_headers, "Idempotency-Key": uuid.uuid4().hex},
            timeout=10,
        )
        assert placed.status_code == 201, placed.text
        order_ids.append(placed.json()["orders"][0]["id"])

    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        login = context.new_page()
        login.goto(f"{a}/login")  # one cookie for 127.0.0.1 serves both ports
        login.fill("input[name=email]", buyer.email)
        login.fill("input[name=password]", PASSWORD)
        login.click("form button[type=submit].primary")
        login.wait_for_load_state()
        login.close()
        pages = {name: context.new_page() for name in ("room_a", "list_a", "room_b", "order_b")}
        pages["room_a"].goto(f"{a}/live/{room_id}")
        pages["list_a"].goto(f"{a}/orders")
        pages["room_b"].goto(f"{b}/live/{room_id}")
        pages["order_b"].goto(f"{b}/orders/{order_ids[1]}")

        # What each page must show in the end: (page, selector, text, whole text or a part).
        truth = {
            "room_b pin": ("room_b", "#live-pins", "Oolong tea", False),
            "room_b chat": ("room_b", "#chat-list", "Brewing the oolong", False),
            "list_a order": (
                "list_a",
                f'tr[data-order="{order_ids[1]}"] .order-state',
                "cancelled",
                True,
            ),
            "room_a pin": ("room_a", "#live-pins", "Oolong tea", False),
            "room_a chat": ("room_a", "#chat-list", "Brewing the oolong", False),
            "order_b order": ("order_b", "#order-state", "cancelled", True),
        }

        def shows(name: str) -> bool:
            page, selector, text, whole = truth[name]
            return pages[page].evaluate(SHOWS, [selector, text, whole])

        # Before the outage events cross between the processes (every page is listening).
        pin = {"product_id": products[0].id}
        assert host_http.post(f"{rooms}/{room_id}/pins", json=pin, headers=host_headers).ok
        cancel = f"{b}/api/v1/orders/{order_ids[0]}/cancel"
        assert buyer_http.post(cancel, headers=buyer_headers, timeout=10).ok
        first = pages["list_a"].locator(f'tr[data-order="{order_ids[0]}"] .order-state')
        expect(first).to_have_text("cancelled", timeout=10_000)
        for name in ("room_a", "room_b"):
            expect(pages[name].locator("#live-pins")).to_contain_text("Jasmine tea")

        redis_server.kill()
        pin = {"product_id": products[1].id}
        timed_post(host_http, f"{rooms}/{room_id}/pins", json=pin, headers=host_headers)
        chat = {"text": "Brewing the oolong now"}
        timed_post(host_http, f"{rooms}/{room_id}/chat", json=chat, headers=host_headers)
        timed_post(buyer_http, f"{b}/api/v1/orders/{order_ids[1]}/cancel", headers=buyer_headers)
        # Each page notes, on its own clock, when it first shows the truth (gone if it reloads).
        for name, (page, selector, text, whole) in truth.items():
            pages[page].evaluate(WATCH, [name, selector, text, whole])
        time.sleep(OUTAGE_SECONDS)
        # The process that made a change told its own pages; the other process's pages missed it.
        assert all(shows(name) for name in ("room_a pin", "room_a chat", "order_b order"))
        assert not any(shows(name) for name in ("room_b pin", "room_b chat", "list_a order"))

        redis_server.start()
        back_ms = time.time() * 1000
        deadline = time.monotonic() + CONVERGE_SECONDS + 5  # past the limit: report how late
        seen: dict[str, float] = {}
        while len(seen) < len(truth) and time.monotonic() < deadline:
            for name, (page, *_rest) in truth.items():
                at = pages[page].evaluate("(name) => (window.shownAt || {})[name] ?? null", name)
                if at is not None:
                    seen[name] = max(0.0, (at - back_ms) / 1000)
            time.sleep(0.1)
        for name, page in pages.items():
            page.screenshot(path=str(screenshots / f"redis-outage-{name}.png"))
        print(f"converged after Redis returned (s): {seen}")
        assert set(seen) == set(truth), (seen, processes.logs())
        assert max(seen.values()) < CONVERGE_SECONDS, seen
        # No page reloaded: the watchers set before Redis returned are still there.
        for page in pages.values():
            assert page.evaluate("typeof window.shownAt") == "object"
    finally:
        context.close()
