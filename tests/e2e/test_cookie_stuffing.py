"""Cookie stuffing: a third-party page that sends the top window to a share link on load records
nothing and its sharer earns nothing; a person's own click on a link on that page counts."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import select

from commerce.attribution.links import make_token
from commerce.attribution.models import Share, ShareClick
from commerce.extensions import db
from commerce.orders.models import Order
from tests.commerce.orders.conftest import create_address  # noqa: F401  (fixture)
from tests.e2e.test_checkout import log_in, pay_in_drawer

pytestmark = [pytest.mark.e2e]


class ThirdParty:
    """Another site (localhost vs the app's 127.0.0.1: another origin and site) serving pages."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        pages = self.pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = pages.get(self.path, "not found").encode()
                self.send_response(200 if self.path in pages else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://localhost:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)


@pytest.fixture
def third_party() -> Iterator[ThirdParty]:
    site = ThirdParty()
    try:
        yield site
    finally:
        site.close()


def _buy_and_pay(page, base: str, product_id: int) -> None:
    from playwright.sync_api import expect

    page.goto(f"{base}/products/{product_id}")
    page.click(f'[data-checkout-product="{product_id}"]')
    drawer = page.locator("#checkout-drawer")
    expect(drawer).to_be_visible()
    drawer.locator(".drawer-pay").click()
    pay_in_drawer(page, drawer)


def _chains(app) -> list[list[int]]:
    with app.app_context():
        orders = db.session.scalars(select(Order).order_by(Order.id))
        return [list(order.lines[0].chain or []) for order in orders]


def _clicks(app) -> int:
    with app.app_context():
        return len(list(db.session.scalars(select(ShareClick))))


def test_a_redirect_without_a_gesture_records_nothing_and_a_click_does(
    app,
    live_server,
    browser,
    third_party,
    create_user,
    create_product,
    create_address,  # noqa: F811
    screenshots: Path,
):
    from playwright.sync_api import expect

    base = live_server.url
    merchant = create_user(merchant=True, name="Tea House")
    product = create_product(merchant, title="Jasmine tea", price_minor=10_000, sharer_rate_bp=800)
    stuffer, victim = create_user(name="Sly"), create_user(name="Vic")
    create_address(victim)
    with app.app_context():
        share = Share(sharer_id=stuffer.id, target_kind="product", target_key=str(product.id))
        db.session.add(share)
        db.session.commit()
        link = f"{base}/s/{make_token(app.config['SECRET_KEY'], share.id)}"
    third_party.pages["/stuff"] = (
        f"<!doctype html><title>Free gifts</title><script>top.location = {link!r};</script>"
    )
    third_party.pages["/links"] = (
        f'<!doctype html><title>Tea blog</title><p><a id="tea" href="{link}">Nice tea</a></p>'
    )
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in(page, base, victim.email)

    # The third party sends the top window to the link on load: the one-tap landing, no click.
    page.goto(f"{third_party.url}/stuff")
    page.wait_for_url(link)
    continue_button = page.locator(".landing-continue button[type=submit]")
    expect(continue_button).to_be_visible()
    expect(page.locator(".disclosure")).to_contain_text("Sly")
    page.screenshot(path=str(screenshots / "stuffed-landing.png"))
    assert _clicks(app) == 0
    _buy_and_pay(page, base, product.id)
    assert _chains(app) == [[]]  # the stuffer is not credited

    # The person clicks a link on that site: recorded, and the next purchase credits the sharer.
    page.goto(f"{third_party.url}/links")
    page.click("#tea")
    page.wait_for_url(f"{base}/products/{product.id}")
    assert _clicks(app) == 1
    _buy_and_pay(page, base, product.id)
    assert _chains(app) == [[], [stuffer.id]]

    # Tapping Continue on the landing is a person's choice too: it records.
    page.goto(f"{third_party.url}/stuff")
    page.wait_for_url(link)
    page.locator(".landing-continue button[type=submit]").click()
    page.wait_for_url(f"{base}/products/{product.id}")
    assert _clicks(app) == 2
    assert errors == []
    context.close()
