"""Live-room fixtures: the fan-out ticks only when a test says so; a host with a shelf."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from app import create_app
from commerce.extensions import db, socketio
from commerce.timeutil import utcnow
from tests.conftest import _empty_tables, app_settings, empty_and_dispose


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    # Interval 0: no background loop; tests call `tick()` for a deterministic batch.
    app = create_app({**app_settings(database_url, tmp_path), "LIVE_FANOUT_INTERVAL_MS": 0})
    with app.app_context():
        _empty_tables()
    yield app
    empty_and_dispose(app)


@pytest.fixture
def redis_url() -> str:
    """A Redis for presence tests (REDIS_TEST_URL, as CI sets it); skipped without one."""
    import redis

    url = os.environ.get("REDIS_TEST_URL")
    if not url:
        pytest.skip("REDIS_TEST_URL is not set")
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no Redis at {url}")
    finally:
        client.close()
    return url


@pytest.fixture
def tick(app):
    """Run one fan-out tick, as the background task would."""

    def run(now=None) -> None:
        with app.app_context():
            app.extensions["live_fanout"].flush(db.session(), now or utcnow())

    return run


@pytest.fixture
def host(create_user):
    return create_user(creator=True, merchant=True, name="Host")


@pytest.fixture
def shelf(host, create_product):
    return [
        create_product(host, title=f"Product {n}", price_minor=1000 * n, stock=20)
        for n in range(1, 6)
    ]


@pytest.fixture
def make_room(make_api, host, shelf):
    """Schedule a room through the API; returns (host's api, room public id)."""

    def make(*, live: bool = True, owner=None, products=None) -> tuple:
        api = make_api(owner or host)
        ids = [p.id for p in (products if products is not None else shelf)]
        response = api.post(
            "/api/v1/live/rooms", {"title": "Tea tasting", "featured_product_ids": ids}
        )
        assert response.status_code == 201, response.get_json()
        room_id = response.get_json()["id"]
        if live:
            assert api.post(f"/api/v1/live/rooms/{room_id}/start").status_code == 200
        return api, room_id

    return make


@pytest.fixture
def connect(app, make_api):
    """A Socket.IO test client signed in as user (anonymous without one)."""

    def make(user=None):
        browser = make_api(user).client if user is not None else app.test_client()
        return socketio.test_client(app, flask_test_client=browser)

    return make


def received(client, name: str) -> list[dict]:
    return [event["args"][0] for event in client.get_received() if event["name"] == name]


def events(client) -> list[tuple[str, dict]]:
    return [(event["name"], event["args"][0]) for event in client.get_received()]
