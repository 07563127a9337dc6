"""Comments as the API shows them to one viewer."""

from __future__ import annotations

from flask import url_for
from sqlalchemy.orm import Session

from commerce.accounts.models import User
from commerce.comments import queries, rules, services
from commerce.comments.models import Comment
from commerce.comments.schemas import CommentOut, PersonOut, Segment
from commerce.files.services import object_url
from commerce.videos.models import Video


def person_out(user: User) -> PersonOut:
    return PersonOut(
        id=user.id,
        display_name=user.display_name,
        avatar_url=object_url(user.avatar),
        url=url_for("videos.creator_page", user_id=user.id),
    )


def comments_out(
    session: Session, comments: list[Comment], video: Video, user: User | None
) -> list[CommentOut]:
    """One query each for the viewer's likes and the mentions, whatever the page size."""
    viewer = services.viewer_of(session, video, user)
    ids = [c.id for c in comments]
    liked = queries.liked_ids(session, ids, user)
    mentions = queries.mentions_of(session, ids)
    return [_one(c, video, viewer, c.id in liked, mentions.get(c.id, [])) for c in comments]


def _one(
    comment: Comment,
    video: Video,
    viewer: rules.Viewer,
    liked: bool,
    mentioned: list[tuple[int, str]],
) -> CommentOut:
    shown = rules.text_shown(comment.state)
    text = comment.text if shown else ""
    return CommentOut(
        id=comment.id,
        video_id=video.public_id,
        parent_id=comment.parent_id,
        author=person_out(comment.author) if shown else None,
        reply_to=(person_out(comment.reply_to_user) if shown and comment.reply_to_user else None),
        state=comment.state,
        text=text,
        segments=[Segment.model_validate(s) for s in rules.segments(text, mentioned)],
        like_count=comment.like_count,
        liked=liked,
        reply_count=comment.reply_count,
        created_at=comment.created_at,
        mine=viewer.user_id == comment.author_id,
        can_delete=rules.may_remove(comment.state, comment.author_id, viewer),
        can_approve=viewer.is_staff and comment.state == rules.HELD,
    )
