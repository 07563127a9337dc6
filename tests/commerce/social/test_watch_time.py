"""Watch time: the capping rule as a table, and beacons over HTTP (a served app, form bodies as
navigator.sendBeacon sends them) that move a video up the For you order."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from sqlalchemy import func, select

from commerce.extensions import db
from commerce.timeutil import utcnow
from commerce.videos import rules, watch
from commerce.videos.models import Video, VideoWatch
from tests.live import LiveServer


@pytest.mark.parametrize(
    ("reported", "credited", "duration", "elapsed", "expected"),
    [
        (3_000, 0, 15_000, 3_000, 3_000),  # what played, as reported
        (20_000, 0, 15_000, 60_000, 15_000),  # a viewing adds at most the video's length
        (5_000, 12_000, 15_000, 60_000, 3_000),  # ... counting what it added before
        (5_000, 15_000, 15_000, 60_000, 0),  # ... and nothing once it is full
        (3_600_000, 0, 600_000, 1_000, 6_000),  # never more than the clock allows (+5 s)
        (90_000, 0, 0, 600_000, 60_000),  # unknown length: a minute at most
        (-5, 0, 15_000, 10_000, 0),
        (1_000, 0, 15_000, -50, 1_000),  # a beacon racing the start: within the slack
    ],
)
def test_watch_credit(reported, credited, duration, elapsed, expected):
    assert rules.watch_credit(reported, credited, duration, elapsed) == expected


def test_watch_time_counts_in_the_score_with_the_same_decay():
    watched = rules.Engagement(views=1, watch_ms=60_000)
    assert watched.points() == pytest.approx(1 + 6.0)
    now = utcnow()
    a = rules.rank_score(rules.Engagement(watch_ms=60_000), now)
    b = rules.rank_score(rules.Engagement(likes=1), now)
    assert a > b  # a minute watched (6 points) outweighs a like (4)


@pytest.fixture
def server(app):
    app.config["SERVER_NAME"] = None
    with LiveServer(app) as served:
        yield served


def _browser(url: str) -> tuple[requests.Session, str]:
    """An anonymous viewer with the CSRF token its page would carry."""
    http = requests.Session()
    token = http.get(f"{url}/api/v1/auth/csrf", timeout=10).json()["csrf_token"]
    return http, token


def _beacon(http, url, video, view, ms, token):
    return http.post(
        f"{url}/api/v1/videos/{video}/watch",
        data={"view": view, "ms": str(ms), "csrf_token": token},
        headers={"Origin": url},
        timeout=10,
    )


def _for_you(url) -> list[str]:
    return [
        v["id"] for v in requests.get(f"{url}/api/v1/feed?tab=for_you", timeout=10).json()["items"]
    ]


def test_beacons_move_a_video_up_the_for_you_order(app, server, create_user, create_video):
    creator = create_user(creator=True)
    liked = create_video(creator, title="Liked", like_count=1, duration_ms=30_000)
    watched = create_video(creator, title="Watched", duration_ms=30_000)
    assert _for_you(server.url) == [liked, watched]

    http, token = _browser(server.url)
    # Without the page's token a beacon is refused and counts nothing.
    assert (
        http.post(
            f"{server.url}/api/v1/videos/{watched}/watch",
            data={"view": "a" * 16, "ms": "5000"},
            timeout=10,
        ).status_code
        == 400
    )
    # Ten viewers watch 5 s each: 50 s = 5 points, more than the other video's like (4).
    for n in range(10):
        response = _beacon(http, server.url, watched, f"viewing{n:08d}", 5_000, token)
        assert response.status_code == 200 and response.json() == {"credited_ms": 5_000}
    assert _for_you(server.url) == [watched, liked]
    with app.app_context():
        assert db.session.scalar(select(Video.watch_ms).where(Video.public_id == watched)) == 50_000
        assert db.session.scalar(select(func.count()).select_from(VideoWatch)) == 10


def test_one_viewing_counts_up_to_the_video_length(app, server, create_user, create_video):
    video = create_video(create_user(creator=True), duration_ms=15_000)
    http, token = _browser(server.url)
    assert (
        _beacon(http, server.url, video, "loopingviewer", 4_000, token).json()["credited_ms"]
        == 4_000
    )
    # It claims an hour at once, a second later: only the time that passed counts.
    assert (
        _beacon(http, server.url, video, "loopingviewer", 3_600_000, token).json()["credited_ms"]
        <= 6_000
    )
    with app.app_context():  # an hour later, still playing on a loop
        row = db.session.scalar(select(VideoWatch))
        row.started_at = row.started_at - timedelta(hours=1)
        db.session.commit()
    _beacon(http, server.url, video, "loopingviewer", 3_600_000, token)
    assert _beacon(http, server.url, video, "loopingviewer", 60_000, token).json() == {
        "credited_ms": 0
    }
    with app.app_context():
        assert db.session.scalar(select(Video.watch_ms).where(Video.public_id == video)) == 15_000
    bad = _beacon(http, server.url, video, "x", 1_000, token)
    assert bad.status_code == 400 and "view" in bad.json()["error"]["fields"]
    assert _beacon(http, server.url, "nosuchvideo", "loopingviewer", 1, token).status_code == 404


def test_anonymous_viewings_are_bounded_per_address(app, server, create_user, create_video):
    app.config["WATCH_VIEWS_PER_HOUR"] = 3
    video = create_video(create_user(creator=True), duration_ms=15_000)
    http, token = _browser(server.url)
    credited = [
        _beacon(http, server.url, video, f"viewing{n:08d}", 1_000, token).json()["credited_ms"]
        for n in range(5)
    ]
    assert credited == [1_000, 1_000, 1_000, 0, 0]
    # A viewing already counted keeps adding its own seconds.
    assert _beacon(http, server.url, video, "viewing00000000", 1_000, token).json() == {
        "credited_ms": 1_000
    }


def test_viewings_are_forgotten_after_a_day_their_seconds_stay(app, create_user, create_video):
    video_id = create_video(create_user(creator=True), duration_ms=15_000)
    with app.app_context():
        video = db.session.scalar(select(Video).where(Video.public_id == video_id))
        now = utcnow()
        for n in range(3):
            watch.do_record_watch(
                db.session,
                video,
                view_key=f"v{n:08d}",
                viewer_key="user:1",
                reported_ms=2_000,
                now=now - timedelta(days=2 - n, hours=1 if n < 2 else 0),
                viewings_per_hour=10,
            )
        db.session.commit()
        assert watch.do_prune_watches(db.session, now) == 2
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(VideoWatch)) == 1
        assert db.session.get(Video, video.id).watch_ms == 6_000


def test_racing_beacons_of_one_viewing_add_up_to_the_length_at_most(
    app, server, create_user, create_video
):
    import threading

    video = create_video(create_user(creator=True), duration_ms=15_000)
    http, token = _browser(server.url)
    assert _beacon(http, server.url, video, "racingviewing", 1_000, token).status_code == 200
    with app.app_context():  # the viewing started long ago: only the length caps it now
        row = db.session.scalar(select(VideoWatch))
        row.started_at = row.started_at - timedelta(hours=1)
        db.session.commit()
    racers = 8
    barrier = threading.Barrier(racers)
    credited = [0] * racers

    def send(n: int) -> None:
        barrier.wait()
        credited[n] = _beacon(http, server.url, video, "racingviewing", 15_000, token).json()[
            "credited_ms"
        ]

    threads = [threading.Thread(target=send, args=(n,)) for n in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(credited) == [0] * (racers - 1) + [14_000]  # one wins the rest of the length
    with app.app_context():
        total = db.session.scalar(select(Video.watch_ms).where(Video.public_id == video))
        viewing = db.session.scalar(select(VideoWatch.credited_ms))
    assert total == viewing == 15_000
