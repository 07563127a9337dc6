"""Big rooms' viewer counts: sent less often, and each process tells only its own viewers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from commerce.extensions import db
from commerce.live.fanout import LiveFanout, channel
from commerce.live.rules import viewer_count_interval
from commerce.timeutil import utcnow


@pytest.mark.parametrize(
    ("viewers", "seconds"),
    [(0, 0.0), (1, 0.0), (100, 0.0), (101, 1.0), (1000, 1.0), (1001, 3.0), (50_000, 3.0)],
)
def test_the_viewer_count_cadence_follows_the_audience(viewers, seconds):
    assert viewer_count_interval(viewers) == seconds


class Sent:
    def __init__(self) -> None:
        self.everywhere: list[dict[str, Any]] = []
        self.here: list[dict[str, Any]] = []

    def counts(self, where: list[dict[str, Any]]) -> list[int]:
        return [payload["viewers"] for payload in where if "viewers" in payload]


def _hub(sent: Sent, *, local: bool) -> LiveFanout:
    def emit(event, payload, to):
        assert to == channel(payload["room"])
        if event == "live.counters":
            sent.everywhere.append(payload)

    def emit_here(event, payload, to):
        assert event == "live.counters" and to == channel(payload["room"])
        sent.here.append(payload)

    return LiveFanout(emit, 0, emit_local=emit_here if local else None)


def _flush(app, hub: LiveFanout, now) -> None:
    with app.app_context():
        hub.flush(db.session(), now)


def test_a_big_rooms_count_waits_for_its_cadence_and_a_small_rooms_does_not(app, make_room):
    _api, room = make_room()
    sent = Sent()
    hub = _hub(sent, local=False)
    start = utcnow()
    for n in range(150):
        hub.join(room, f"sid-{n}", None)
    _flush(app, hub, start)
    hub.join(room, "sid-late", None)
    _flush(app, hub, start + timedelta(seconds=0.5))  # 151 viewers: once a second at most
    assert sent.counts(sent.everywhere) == [150]
    _flush(app, hub, start + timedelta(seconds=1.0))
    assert sent.counts(sent.everywhere) == [150, 151]
    for n in range(60):
        hub.leave(room, f"sid-{n}")
    _flush(app, hub, start + timedelta(seconds=1.15))  # 91 viewers: every tick again
    assert sent.counts(sent.everywhere) == [150, 151, 91]


def test_with_a_message_queue_counts_go_to_this_process_viewers_and_hearts_to_everyone(
    app, make_room
):
    _api, room = make_room()
    sent = Sent()
    hub = _hub(sent, local=True)
    hub.join(room, "sid-1", None)
    hub.add_hearts(room, "sid-1", 3)
    _flush(app, hub, utcnow())
    assert sent.here == [{"room": room, "viewers": 1}]
    assert sent.everywhere == [{"room": room, "hearts": 3}]
