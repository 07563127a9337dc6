"""The promotion dashboards in a browser, with known data behind them: at a phone's and a
laptop's size, in English and Chinese, nothing overflows, no English is left on a Chinese page,
and the plots are drawn (bars with their day and value)."""

from __future__ import annotations

import os
import re

import pytest

from tests.commerce.promostats.conftest import seeded  # noqa: F401  (fixture)
from tests.conftest import PASSWORD
from tests.e2e.test_every_page import CHECKS, IMPORTANT, VIEWPORTS, english_strings

pytestmark = [pytest.mark.e2e]


def _login_state(browser, base: str, user) -> dict:
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("input[name=email]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit].primary")
    page.wait_for_load_state()
    state = context.storage_state()
    context.close()
    return state


def test_the_dashboards_fit_both_viewports_in_both_languages(
    app,
    live_server,
    browser,
    seeded,  # noqa: F811
    screenshots,
):
    base = live_server.url
    walks = {
        seeded.merchant: [
            "/merchant/coupons",
            f"/merchant/coupons/{seeded.shop_coupon}/figures",
            "/studio/groups",
            f"/studio/groups/{seeded.campaign}/figures",
        ],
        seeded.creator: ["/studio/promotions"],
        seeded.admin: ["/merchant/coupons", f"/merchant/coupons/{seeded.platform_coupon}/figures"],
    }
    english = english_strings()
    problems: list[str] = []
    errors: list[str] = []
    for user, paths in walks.items():
        state = _login_state(browser, base, user)
        for size, (width, height) in VIEWPORTS.items():
            for lang in ("en", "zh_Hans"):
                context = browser.new_context(
                    viewport={"width": width, "height": height},
                    has_touch=size == "phone",
                    storage_state=state,
                    locale="en-US",
                )
                context.add_cookies([{"name": "lang", "value": lang, "url": base}])
                page = context.new_page()
                page.on("pageerror", lambda error: errors.append(str(error)))
                for path in paths:
                    response = page.goto(f"{base}{path}")
                    assert response is not None and response.status == 200, (path, lang)
                    page.wait_for_load_state()
                    plots = page.locator(".promo-plot svg.chart")
                    assert plots.count() >= 4, path
                    # Each plot is as wide as its column, never wider than the window.
                    for box in (plots.nth(i).bounding_box() for i in range(plots.count())):
                        assert (
                            box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width
                        )
                    found = page.evaluate(
                        CHECKS, [IMPORTANT[size], english if lang == "zh_Hans" else None]
                    )
                    if found or os.environ.get("E2E_SHOOT_ALL"):
                        name = re.sub(r"\W+", "_", f"{user.display_name}-{size}-{lang}-{path}")
                        page.screenshot(path=str(screenshots / f"{name[:80]}.png"), full_page=True)
                        problems.extend(f"{size} {lang} {path}: {p}" for p in found)
                context.close()
    assert problems == [], "\n".join(problems)
    assert errors == []


def test_a_bar_tells_its_day_and_value(app, live_server, browser, seeded):  # noqa: F811
    base = live_server.url
    context = browser.new_context(storage_state=_login_state(browser, base, seeded.merchant))
    page = context.new_page()
    page.goto(f"{base}/studio/groups/{seeded.campaign}/figures")
    today = seeded.now.date().isoformat()
    titles = page.locator(".promo-plot svg.chart rect.bar title").all_text_contents()
    # Opened today: 1 group; closed today: the failed one (the second layer, in its colour).
    assert f"{today}: 1" in titles
    failed = page.locator(".promo-plot svg.chart rect.bar.layer-1")
    assert failed.count() == 1 and today in failed.locator("title").text_content()
    colours = {
        page.locator(".promo-plot svg.chart rect.bar.layer-0").first.evaluate(
            "el => getComputedStyle(el).fill"
        ),
        failed.evaluate("el => getComputedStyle(el).fill"),
    }
    assert len(colours) == 2  # the two layers are told apart
    context.close()
