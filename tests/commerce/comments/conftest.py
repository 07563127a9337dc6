"""Comment and report fixtures: a published video, an admin, a live room of a creator."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask import Flask

from commerce.accounts.models import User
from commerce.extensions import db
from commerce.live.models import LiveRoom
from commerce.timeutil import utcnow
from commerce.videos.models import Video


@pytest.fixture
def create_video(app: Flask):
    def create(creator: User, *, published: bool = True) -> str:
        with app.app_context():
            video = Video(
                public_id=uuid.uuid4().hex[:12],
                creator_id=creator.id,
                title="Tea time",
                state="ready",
                playable=True,
                published_at=utcnow() if published else None,
            )
            db.session.add(video)
            db.session.commit()
            return video.public_id

    return create


@pytest.fixture
def create_room(app: Flask):
    def create(creator: User, **fields: Any) -> LiveRoom:
        with app.app_context():
            room = LiveRoom(
                public_id=uuid.uuid4().hex[:12], creator_id=creator.id, title="Show", **fields
            )
            db.session.add(room)
            db.session.commit()
            db.session.refresh(room)
            db.session.expunge(room)
            return room

    return create


@pytest.fixture
def make_admin(app: Flask, create_user):
    def make(**kwargs: Any) -> User:
        user = create_user(**kwargs)
        with app.app_context():
            db.session.get(User, user.id).is_admin = True
            db.session.commit()
        user.is_admin = True
        return user

    return make
