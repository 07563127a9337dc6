"""Installable app in Chromium: the worker installs, a page opened offline gets the offline page
(in the visitor's language), and what the worker stored is static files and that page only."""

from __future__ import annotations

import pytest

from tests.e2e.test_checkout import log_in

pytestmark = pytest.mark.e2e

WORKER_READY = """async () => {
  const registration = await navigator.serviceWorker.ready;
  return registration.active && registration.active.scriptURL;
}"""

STORED = """async () => {
  const urls = [];
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    for (const request of await cache.keys()) urls.push(new URL(request.url).pathname);
  }
  return urls;
}"""


@pytest.mark.parametrize(
    ("viewport", "language", "title"),
    [((390, 844), "en-US", "You are offline"), ((1366, 900), "zh-CN", "你已离线")],
)
def test_offline_pages_come_from_the_worker_and_nothing_personal_is_stored(
    live_server, browser, create_user, viewport, language, title
):
    buyer = create_user(name="Private Buyer")
    context = browser.new_context(
        viewport={"width": viewport[0], "height": viewport[1]},
        locale=language,
        service_workers="allow",
    )
    page = context.new_page()
    log_in(page, live_server.url, buyer.email)
    page.goto(f"{live_server.url}/orders")
    assert page.evaluate(WORKER_READY).endswith("/sw.js")
    page.goto(f"{live_server.url}/orders")  # now under the worker's control
    assert page.evaluate("() => !!navigator.serviceWorker.controller")

    context.set_offline(True)
    page.goto(f"{live_server.url}/orders")
    assert page.locator("#offline h1").inner_text() == title
    assert page.evaluate("() => document.scrollingElement.scrollWidth") <= viewport[0]
    assert page.locator("#offline-retry").is_visible()

    stored = page.evaluate(STORED)
    assert "/offline" in stored and "/static/css/app.css" in stored
    assert all(path == "/offline" or path.startswith("/static/") for path in stored), stored
    context.set_offline(False)
    page.goto(f"{live_server.url}/orders")  # back online: the real page again
    assert page.locator("#offline").count() == 0
    context.close()
