"""The dashboard pages: who sees what (authorization), and the figures and plots they show."""

from __future__ import annotations

import re

import pytest


def _cells(html: str, attribute: str, ident: int) -> list[str]:
    """The number cells of one table row."""
    row = re.search(rf'data-{attribute}-id="{ident}">(.*?)</tr>', html, re.S)
    assert row is not None, (attribute, ident)
    return re.findall(r'<td class="num">([^<]*)</td>', row.group(1))


def _text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_the_coupons_page_shows_the_sellers_own_figures_and_plots(make_api, seeded):
    page = _text(make_api(seeded.merchant).client.get("/merchant/coupons"))
    panel = page[page.index('id="coupon-figures"') :]
    assert "Spring tea" in panel and "Other coupon" not in page and "Platform treat" not in page
    cells = _cells(panel, "template", seeded.shop_coupon)
    assert cells == ["5", "3", "60.0 %", "¥9.00", "¥32.00"]
    assert f'href="/merchant/coupons/{seeded.shop_coupon}/figures"' in panel
    # 30 days: 4 claims (the 40-day-old one is out), 2 redemptions; the plots are SVG bars.
    assert panel.count('<svg class="chart"') == 4
    today = seeded.now.date().isoformat()
    assert f"<title>{today}: 1</title>" in panel  # claims today
    assert "Shop-funded" in panel and "Platform-funded" in panel


def test_an_admin_sees_the_platform_coupons_figures(make_api, seeded):
    page = _text(make_api(seeded.admin).client.get("/merchant/coupons"))
    assert f'data-template-id="{seeded.platform_coupon}"' in page
    assert f'data-template-id="{seeded.shop_coupon}"' not in page


def test_one_coupons_figures_only_for_its_owner(make_api, seeded, client):
    url = f"/merchant/coupons/{seeded.shop_coupon}/figures"
    page = _text(make_api(seeded.merchant).client.get(url))
    assert "Spring tea" in page and "60.0 %" in page and page.count('<svg class="chart"') == 4
    assert make_api(seeded.other_merchant).client.get(url).status_code == 404
    assert make_api(seeded.creator).client.get(url).status_code == 404
    assert client.get(url).status_code == 302  # to the login page
    assert (
        make_api(seeded.merchant).client.get("/merchant/coupons/999999/figures").status_code == 404
    )


def test_the_campaign_page_shows_group_figures(make_api, seeded):
    page = _text(make_api(seeded.merchant).client.get("/studio/groups"))
    panel = page[page.index('id="campaign-figures"') :]
    cells = _cells(panel, "campaign", seeded.campaign)
    assert cells == ["3", "1", "1", "50.0 %", "¥14.00", "1 · ¥7.00"]
    assert f'data-campaign-id="{seeded.other_campaign}"' not in page
    assert panel.count('<svg class="chart"') == 4  # opened, closed, GMV, rebates


def test_one_campaigns_figures_only_for_its_merchant(make_api, seeded):
    url = f"/studio/groups/{seeded.campaign}/figures"
    page = _text(make_api(seeded.merchant).client.get(url))
    assert "Jasmine tea" in page and "50.0 %" in page
    assert make_api(seeded.other_merchant).client.get(url).status_code == 404
    other = f"/studio/groups/{seeded.other_campaign}/figures"
    assert make_api(seeded.merchant).client.get(other).status_code == 404


def test_the_creator_sees_promotions_on_her_content_only(make_api, seeded):
    page = _text(make_api(seeded.creator).client.get("/studio/promotions"))
    coupons = page[page.index('id="creator-coupons"') : page.index('id="creator-groups"')]
    groups = page[page.index('id="creator-groups"') :]
    cells = _cells(coupons, "template", seeded.shop_coupon)
    assert cells == ["1", "1", "100.0 %", "¥3.00", "¥10.00"]
    assert "Other coupon" not in page
    assert 'href="/merchant/coupons/' not in page  # no links into the seller's pages
    cells = _cells(groups, "campaign", seeded.campaign)
    assert cells == ["1", "1", "0", "100.0 %", "¥7.00", "1 · ¥7.00"]
    assert 'href="/studio/promotions"' in _text(make_api(seeded.creator).client.get("/me"))


@pytest.mark.parametrize("who", ["merchant", "admin"])
def test_the_creator_page_needs_creator_mode(make_api, seeded, who):
    assert make_api(getattr(seeded, who)).client.get("/studio/promotions").status_code == 403


def test_the_dashboards_in_chinese(make_api, seeded):
    zh = {"Accept-Language": "zh-CN"}
    seller = make_api(seeded.merchant).client
    coupons = _text(seller.get("/merchant/coupons", headers=zh))
    assert "核销率" in coupons and "平台出资" in coupons
    groups = _text(seller.get("/studio/groups", headers=zh))
    assert "成团率" in groups and "团长免单返还" in groups
    creator = _text(make_api(seeded.creator).client.get("/studio/promotions", headers=zh))
    assert "你的内容上的促销" in creator
