"""Notification fixtures: scheduled rooms, follows, running the queued jobs."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from commerce.extensions import db, socketio
from commerce.jobs.runner import run_pending
from commerce.live.models import LiveRoom
from commerce.notifications.models import Notification
from commerce.social.models import Follow
from tests.smtp_server import smtp_server  # noqa: F401  (fixture)


@pytest.fixture
def make_room(app):
    def make(creator, title: str = "Tea tasting") -> str:
        with app.app_context():
            room = LiveRoom(public_id=uuid.uuid4().hex[:12], creator_id=creator.id, title=title)
            db.session.add(room)
            db.session.commit()
            return room.public_id

    return make


@pytest.fixture
def follow(app):
    def make(follower, followee) -> None:
        with app.app_context():
            db.session.add(Follow(follower_id=follower.id, followee_id=followee.id))
            db.session.commit()

    return make


@pytest.fixture
def jobs(app):
    return lambda: run_pending(app, limit=1000)


@pytest.fixture
def told(app):
    """{recipient id: number of notifications}."""

    def read() -> dict[int, int]:
        with app.app_context():
            rows = db.session.execute(
                select(Notification.recipient_id, func.count()).group_by(Notification.recipient_id)
            )
            result = {int(uid): int(n) for uid, n in rows}
            db.session.remove()
            return result

    return read


@pytest.fixture
def connect(app, make_api):
    def make(user):
        return socketio.test_client(app, flask_test_client=make_api(user).client)

    return make
