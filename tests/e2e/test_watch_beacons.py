"""The feed's player sends watch time by itself: a viewer watches a video, swipes on (pauses),
and the server has the seconds that really played, no more than the video's length."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from commerce.extensions import db
from commerce.videos.models import Video, VideoWatch
from tests.e2e.test_checkout import publish_video_with_pin

pytestmark = pytest.mark.e2e


def _watched(app, public_id: str) -> int:
    with app.app_context():
        db.session.remove()
        return db.session.scalar(select(Video.watch_ms).where(Video.public_id == public_id)) or 0


def test_the_player_beacons_what_really_played(
    app, live_server, browser, create_user, create_product, tmp_path
):
    creator = create_user(creator=True, name="Mia")
    product = create_product(create_user(merchant=True), title="Jasmine tea")
    public_id = publish_video_with_pin(app, creator, product, tmp_path)
    with app.app_context():
        db.session.scalar(select(Video).where(Video.public_id == public_id)).duration_ms = 10_000
        db.session.commit()

    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True)
    page = context.new_page()  # anonymous: viewers need not sign in for their time to count
    beacons: list[str] = []
    page.on(
        "request",
        lambda request: (
            beacons.append(request.post_data or "") if "/watch" in request.url else None
        ),
    )
    page.goto(f"{live_server.url}/v/{public_id}")
    page.wait_for_function(
        "() => { const v = document.querySelector('video.feed-video');"
        " return v && v.currentTime > 1.5 && !v.paused; }",
        timeout=30_000,
    )
    page.evaluate("document.querySelector('video.feed-video').pause()")
    for _ in range(50):
        if _watched(app, public_id):
            break
        page.wait_for_timeout(100)
    watched = _watched(app, public_id)
    assert 1_000 <= watched <= 10_000, watched
    assert any("csrf_token=" in body and "view=" in body for body in beacons), beacons
    with app.app_context():
        viewing = db.session.scalar(select(VideoWatch))
        assert viewing.viewer_key.startswith("ip:") and viewing.credited_ms == watched
    context.close()
