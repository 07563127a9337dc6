"""The dashboards' figures as JSON: the numbers each page shows (its table row, its 30-day
headline figures and every bar of its plots), for the same people only."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest

from commerce.money import format_money

COUPON = "/api/v1/coupons/templates/{}/figures"
CAMPAIGN = "/api/v1/group-campaigns/{}/figures"


def _json(response) -> dict:
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _page(api, url: str) -> str:
    response = api.client.get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _row(page: str, attribute: str, ident: int) -> list[str]:
    row = re.search(rf'data-{attribute}-id="{ident}">(.*?)</tr>', page, re.S)
    assert row is not None
    return [html.unescape(c) for c in re.findall(r'<td class="num">([^<]*)</td>', row.group(1))]


def _stats(page: str) -> list[tuple[str, str]]:
    found = re.findall(r'<span class="muted small">([^<]*)</span><strong>([^<]*)</strong>', page)
    return [(html.unescape(label), html.unescape(value)) for label, value in found]


def _plots(page: str) -> list[list[str]]:
    """Each plot's bar titles, in order."""
    return [
        [html.unescape(t) for t in re.findall(r"<title>([^<]*)</title>", svg)]
        for svg in re.findall(r'<svg class="chart".*?</svg>', page, re.S)
    ]


def _back(days: list[dict], key: str, today: date) -> dict[int, int]:
    """{days back: value} of the non-zero points."""
    return {(today - date.fromisoformat(d["date"])).days: d[key] for d in days if d[key]}


def _yuan(minor: int) -> str:
    return format_money(minor, "CNY")


def test_a_coupons_figures_are_the_pages_numbers(make_api, seeded):
    merchant = make_api(seeded.merchant)
    got = _json(merchant.get(COUPON.format(seeded.shop_coupon)))
    today = seeded.now.date()
    assert (got["template_id"], got["title"]) == (seeded.shop_coupon, "Spring tea")
    # All time: 5 claims; 3 used by paid orders; 900 of discounts; 1000 + 1500 + 700 paid.
    assert got["totals"] == {
        "claims": 5,
        "redemptions": 3,
        "redemption_rate_bp": 6000,
        "cost_minor": 900,
        "gmv_minor": 3200,
        "currency": "CNY",
    }
    window = got["last_30_days"]
    assert (window["since"], window["until"]) == (
        (today - timedelta(days=29)).isoformat(),
        today.isoformat(),
    )
    assert (window["claims"], window["redemptions"], window["redemption_rate_bp"]) == (4, 2, 5000)
    assert len(window["days"]) == 30
    assert _back(window["days"], "claims", today) == {2: 2, 1: 1, 0: 1}
    assert _back(window["days"], "redemptions", today) == {1: 1, 0: 1}
    [money] = window["money"]
    assert money["currency"] == "CNY"
    assert (money["merchant_cost_minor"], money["platform_cost_minor"], money["gmv_minor"]) == (
        600,
        0,
        2500,
    )
    assert _back(money["days"], "merchant_cost_minor", today) == {1: 300, 0: 300}
    assert _back(money["days"], "gmv_minor", today) == {1: 1000, 0: 1500}

    page = _page(merchant, f"/merchant/coupons/{seeded.shop_coupon}/figures")
    totals = got["totals"]
    assert _row(page, "template", seeded.shop_coupon) == [
        str(totals["claims"]),
        str(totals["redemptions"]),
        "60.0 %",
        _yuan(totals["cost_minor"]),
        _yuan(totals["gmv_minor"]),
    ]
    assert _stats(page) == [
        ("Claims", str(window["claims"])),
        ("Redemptions", str(window["redemptions"])),
        ("Redemption rate", "50.0 %"),
        ("Shop-funded cost", _yuan(money["merchant_cost_minor"])),
        ("Platform-funded cost", _yuan(money["platform_cost_minor"])),
        ("GMV", _yuan(money["gmv_minor"])),
    ]
    claims, redemptions, cost, gmv = _plots(page)
    assert claims == [f"{d['date']}: {d['claims']}" for d in window["days"]]
    assert redemptions == [f"{d['date']}: {d['redemptions']}" for d in window["days"]]
    assert cost == [
        f"{d['date']} Shop-funded: {_yuan(d['merchant_cost_minor'])}"
        for d in money["days"]
        if d["merchant_cost_minor"]
    ]
    assert gmv == [f"{d['date']}: {_yuan(d['gmv_minor'])}" for d in money["days"]]


def test_a_platform_coupon_is_its_operators(make_api, seeded):
    got = _json(make_api(seeded.admin).get(COUPON.format(seeded.platform_coupon)))
    today = seeded.now.date()
    assert got["totals"]["claims"] == 1 and got["totals"]["cost_minor"] == 100
    [money] = got["last_30_days"]["money"]
    assert _back(money["days"], "platform_cost_minor", today) == {1: 100}
    assert money["merchant_cost_minor"] == 0
    # the operator does not see a merchant's own coupon
    assert make_api(seeded.admin).get(COUPON.format(seeded.shop_coupon)).status_code == 404


def test_a_campaigns_figures_are_the_pages_numbers(make_api, seeded):
    merchant = make_api(seeded.merchant)
    got = _json(merchant.get(CAMPAIGN.format(seeded.campaign)))
    today = seeded.now.date()
    assert (got["campaign_id"], got["title"]) == (seeded.campaign, "Jasmine tea")
    assert got["totals"] == {
        "opened": 3,
        "open": 1,
        "succeeded": 1,
        "failed": 1,
        "fill_rate_bp": 5000,
        "gmv_minor": 1400,
        "rebates": 1,
        "rebate_minor": 700,
        "currency": "CNY",
    }
    window = got["last_30_days"]
    assert (window["opened"], window["succeeded"], window["failed"]) == (3, 1, 1)
    assert window["fill_rate_bp"] == 5000
    assert _back(window["days"], "opened", today) == {3: 1, 1: 1, 0: 1}
    assert _back(window["days"], "succeeded", today) == {2: 1}
    assert _back(window["days"], "failed", today) == {0: 1}
    [money] = window["money"]
    assert (money["currency"], money["gmv_minor"], money["rebate_minor"]) == ("CNY", 1400, 700)
    assert _back(money["days"], "gmv_minor", today) == {2: 700, 0: 700}
    assert _back(money["days"], "rebate_minor", today) == {1: 700}

    page = _page(merchant, f"/studio/groups/{seeded.campaign}/figures")
    totals = got["totals"]
    assert _row(page, "campaign", seeded.campaign) == [
        str(totals["opened"]),
        str(totals["succeeded"]),
        str(totals["failed"]),
        "50.0 %",
        _yuan(totals["gmv_minor"]),
        f"{totals['rebates']} · {_yuan(totals['rebate_minor'])}",
    ]
    assert _stats(page) == [
        ("Groups opened", str(window["opened"])),
        ("Succeeded", str(window["succeeded"])),
        ("Failed (refunded)", str(window["failed"])),
        ("Fill rate", "50.0 %"),
        ("GMV", _yuan(money["gmv_minor"])),
        ("Leader-free rebates", _yuan(money["rebate_minor"])),
    ]
    opened, closed, gmv, rebates = _plots(page)
    assert opened == [f"{d['date']}: {d['opened']}" for d in window["days"]]
    assert closed == [
        f"{d['date']} {name}: {d[key]}"
        for d in window["days"]
        for key, name in (("succeeded", "Succeeded"), ("failed", "Failed (refunded)"))
        if d[key]
    ]
    assert gmv == [f"{d['date']}: {_yuan(d['gmv_minor'])}" for d in money["days"]]
    assert rebates == [f"{d['date']}: {_yuan(d['rebate_minor'])}" for d in money["days"]]


@pytest.mark.parametrize("who", ["other_merchant", "creator", "admin"])
def test_only_the_owner_gets_a_coupons_or_campaigns_figures(make_api, seeded, who):
    api = make_api(getattr(seeded, who))
    assert api.get(COUPON.format(seeded.shop_coupon)).status_code == 404
    assert api.get(CAMPAIGN.format(seeded.campaign)).status_code == 404


def test_unknown_ids_and_strangers(make_api, seeded):
    merchant = make_api(seeded.merchant)
    assert merchant.get(COUPON.format(999_999)).status_code == 404
    assert merchant.get(CAMPAIGN.format(999_999)).status_code == 404
    assert merchant.get(COUPON.format(seeded.other_coupon)).status_code == 404
    assert merchant.get(CAMPAIGN.format(seeded.other_campaign)).status_code == 404
    assert make_api().get(COUPON.format(seeded.shop_coupon)).status_code == 401
    assert make_api().get(CAMPAIGN.format(seeded.campaign)).status_code == 401


def test_the_openapi_document_lists_them(client):
    spec = client.get("/api/openapi.json").get_json()
    coupon = spec["paths"]["/api/v1/coupons/templates/{template_id}/figures"]["get"]
    campaign = spec["paths"]["/api/v1/group-campaigns/{campaign_id}/figures"]["get"]
    assert coupon["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/CouponFiguresOut"
    )
    assert "404" in coupon["responses"] and "401" in coupon["responses"]
    assert campaign["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/CampaignFiguresOut"
    )
    days = spec["components"]["schemas"]["CouponWindowOut"]["properties"]["days"]
    assert days["items"]["$ref"].endswith("/CouponDayOut")
