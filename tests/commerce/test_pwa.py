"""Installable app: manifest, icons, the service worker's script and the offline page."""

from __future__ import annotations

import io

import pytest
from PIL import Image


def test_the_manifest_names_the_app_in_the_visitors_language_with_real_icons(client):
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response.mimetype == "application/manifest+json"
    manifest = response.get_json(force=True)
    assert manifest["start_url"] == "/" and manifest["scope"] == "/"
    assert manifest["display"] == "standalone" and manifest["lang"] == "en"
    assert {"192x192", "512x512"} <= {icon["sizes"] for icon in manifest["icons"]}
    assert any(icon.get("purpose") == "maskable" for icon in manifest["icons"])
    for icon in manifest["icons"]:
        image = client.get(icon["src"])
        assert image.status_code == 200, icon
        width, height = Image.open(io.BytesIO(image.data)).size
        assert f"{width}x{height}" == icon["sizes"]
        image.close()
    chinese = client.get("/manifest.webmanifest", headers={"Accept-Language": "zh-CN"})
    assert chinese.get_json(force=True)["lang"] == "zh-Hans"
    assert chinese.get_json(force=True)["short_name"] == "直播购"
    assert "边看" in chinese.get_json(force=True)["name"]


def test_every_page_links_the_manifest_and_installs_the_worker(client):
    html = client.get("/").get_data(as_text=True)
    assert 'rel="manifest" href="/manifest.webmanifest"' in html
    assert "/static/js/pwa.js" in html


def test_the_worker_is_served_from_the_root_never_cached_and_versioned(client):
    response = client.get("/sw.js")
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    source = response.get_data(as_text=True)
    assert "__VERSION__" not in source and "__PRECACHE__" not in source
    assert '["/offline", "/static/css/app.css"' in source
    # It stores no page: navigations only fall back to the offline page.
    assert 'request.mode === "navigate"' in source and "cache.put(request" in source
    assert "navigationPreload.enable()" in source  # navigations keep their Sec-Fetch headers
    assert 'url.pathname.startsWith("/static/")' in source


@pytest.mark.parametrize(("language", "title"), [("en", "You are offline"), ("zh-CN", "你已离线")])
def test_the_offline_page_holds_no_user_data(make_api, create_user, language, title):
    user = create_user(name="Ming Personal")
    api = make_api(user)
    html = api.client.get("/offline", headers={"Accept-Language": language}).get_data(as_text=True)
    assert title in html
    assert "Ming Personal" not in html and "Log out" not in html and "csrf" not in html
