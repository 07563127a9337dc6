"""Social fixtures: published videos with a given age and engagement."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask

from commerce.accounts.models import User
from commerce.extensions import db
from commerce.timeutil import utcnow
from commerce.videos.models import Video, VideoPin
from tests.commerce.orders.conftest import create_address  # noqa: F401  (fixture)


@pytest.fixture
def create_video(app: Flask):
    def create(
        creator: User,
        *,
        published: bool = True,
        age: timedelta = timedelta(0),
        pins: tuple[int, ...] = (),
        title: str = "Tea time",
        **counters: Any,
    ) -> str:
        with app.app_context():
            video = Video(
                public_id=uuid.uuid4().hex[:12],
                creator_id=creator.id,
                title=title,
                state="ready",
                playable=True,
                published_at=utcnow() - age if published else None,
                **counters,
            )
            video.pins = [VideoPin(product_id=p, start_ms=0) for p in pins]
            db.session.add(video)
            db.session.commit()
            return video.public_id

    return create
