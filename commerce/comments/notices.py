"""Replies and mentions tell the people concerned (a comment held for review tells nobody)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.orm import Session

from commerce.comments import rules
from commerce.comments.models import Comment
from commerce.notifications import rules as notify_rules
from commerce.notifications.services import do_notify
from commerce.videos.models import Video

EXCERPT = 80


def comment_posted(
    session: Session,
    comment: Comment,
    video: Video,
    *,
    answered: int | None,
    mentioned: Iterable[int],
    now: datetime,
) -> None:
    """answered: the author of the comment this one replies to (None for a top comment)."""
    if not rules.counts_for_others(comment.state):
        return
    params = {
        "title": comment.text[:EXCERPT],
        "endpoint": "videos.watch",
        "args": {"public_id": video.public_id},
    }
    if answered is not None:
        do_notify(
            session,
            kind=notify_rules.REPLY,
            event_key=f"reply:{comment.id}",
            now=now,
            actor_id=comment.author_id,
            users=[answered],
            params=params,
        )
    others = [uid for uid in mentioned if uid != answered]
    if others:
        do_notify(
            session,
            kind=notify_rules.MENTION,
            event_key=f"mention:{comment.id}",
            now=now,
            actor_id=comment.author_id,
            users=others,
            params=params,
        )
