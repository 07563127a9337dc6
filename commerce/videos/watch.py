"""Watch time: the feed player's beacons add the seconds a viewing really played to its video.

A viewing is named by the player (a random key per play of a video in the feed); its row
remembers what it credited so far, which caps what it may still add (rules.watch_credit: the
video's length, and the time that passed since it started). The video keeps the running total
(Video.watch_ms, one atomic UPDATE) and its For-you score is refreshed with it. Viewings live a
day (prune_watches), so the table holds today's viewings, never a row per beacon.

Anyone may send beacons, signed in or not; how many new viewings count is bounded per account
or per (hashed) network address per hour. Beyond that, beacons are accepted and ignored: a
flood moves nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from commerce.jobs.runner import periodic
from commerce.locking import insert_ignore
from commerce.timeutil import utcnow
from commerce.videos import rules
from commerce.videos.engagement import refresh_rank
from commerce.videos.models import Video, VideoWatch

VIEWING_LIFETIME = timedelta(days=1)
NEW_VIEWING_WINDOW = timedelta(hours=1)


def _new_viewings(session: Session, viewer_key: str, now: datetime) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(VideoWatch)
            .where(
                VideoWatch.viewer_key == viewer_key,
                VideoWatch.started_at > now - NEW_VIEWING_WINDOW,
            )
        )
        or 0
    )


def do_record_watch(
    session: Session,
    video: Video,
    *,
    view_key: str,
    viewer_key: str,
    reported_ms: int,
    now: datetime,
    viewings_per_hour: int,
) -> int:
    """Credit a beacon's milliseconds to the viewing and its video; returns what was credited."""
    if reported_ms <= 0:
        return 0
    watch = session.get(VideoWatch, (video.id, view_key))
    if watch is None:
        if _new_viewings(session, viewer_key, now) >= viewings_per_hour:
            return 0
        values = {
            "video_id": video.id,
            "view_key": view_key,
            "viewer_key": viewer_key,
            "credited_ms": 0,
            "started_at": now,
            "last_at": now,
        }
        insert_ignore(session, VideoWatch, values)  # a racing twin beacon made it: fine
        watch = session.get(VideoWatch, (video.id, view_key), populate_existing=True)
        assert watch is not None
    if watch.viewer_key != viewer_key:
        return 0  # someone else's viewing key: not theirs to extend
    elapsed = int((now - watch.started_at).total_seconds() * 1000)
    credit = rules.watch_credit(reported_ms, watch.credited_ms, video.duration_ms, elapsed)
    if credit <= 0:
        return 0
    # Conditional on what was read: of two racing beacons of one viewing, the second re-reads.
    moved = session.execute(
        update(VideoWatch)
        .where(
            VideoWatch.video_id == video.id,
            VideoWatch.view_key == view_key,
            VideoWatch.credited_ms == watch.credited_ms,
        )
        .values(credited_ms=VideoWatch.credited_ms + credit, last_at=now)
        .execution_options(synchronize_session=False)
    )
    if not moved.rowcount:  # type: ignore[attr-defined]
        return 0
    session.execute(
        update(Video).where(Video.id == video.id).values(watch_ms=Video.watch_ms + credit)
    )
    refresh_rank(session, video)
    return credit


def do_prune_watches(session: Session, now: datetime) -> int:
    """Forget viewings older than a day (their seconds stay in Video.watch_ms)."""
    result = session.execute(
        delete(VideoWatch).where(VideoWatch.started_at < now - VIEWING_LIFETIME)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


@periodic(3600)
def prune_watches(session: Session) -> None:
    do_prune_watches(session, utcnow())
