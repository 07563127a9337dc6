"""Comments JSON API: threads on a video, replies, likes, delete, approve held comments."""

from __future__ import annotations

from flask import Blueprint, Response
from flask_babel import gettext as _
from sqlalchemy import select

from commerce.accounts.auth import current_user, require_user
from commerce.apispec import endpoint
from commerce.comments import queries, rules, services
from commerce.comments.models import Comment
from commerce.comments.present import comments_out
from commerce.comments.schemas import (
    CommentIn,
    CommentOut,
    CommentPage,
    CommentsQuery,
    CountsOut,
    CountsQuery,
    LikeOut,
)
from commerce.errors import NotFound, ValidationFailed
from commerce.extensions import db
from commerce.timeutil import utcnow
from commerce.videos.access import access_video_for_viewing, can_view
from commerce.videos.models import Video

bp = Blueprint("comments_api", __name__, url_prefix="/api/v1")

MAX_COUNTED = 50


def _video_of(comment: Comment) -> Video:
    video = db.session.get(Video, comment.video_id)
    if video is None:  # pragma: no cover - a foreign key
        raise NotFound(_("This comment does not exist."))
    return video


@endpoint(
    bp,
    "/videos/<video_id>/comments",
    summary="A page of a video's top comments, newest first (keyset cursor)",
    query=CommentsQuery,
    response=CommentPage,
    auth=False,
    errors=(400, 404),
)
def list_comments(video_id: str, query: CommentsQuery) -> CommentPage:
    user = current_user()
    video = access_video_for_viewing(video_id, user)
    viewer = services.viewer_of(db.session, video, user)
    items, cursor = queries.top_comments(db.session, video, viewer, query.cursor, rules.PAGE_SIZE)
    total = None if query.cursor else queries.comment_counts(db.session, [video])[video.id]
    return CommentPage(
        items=comments_out(db.session, items, video, user), next_cursor=cursor, total=total
    )


@endpoint(
    bp,
    "/videos/<video_id>/comments",
    methods=("POST",),
    summary="Comment on a video or answer a comment (rate limit, bans, mutes, keyword filter)",
    body=CommentIn,
    response=CommentOut,
    status=201,
    errors=(400, 403, 404, 409, 429),
)
def post_comment(video_id: str, body: CommentIn) -> CommentOut:
    user = require_user()
    video = access_video_for_viewing(video_id, user)
    comment = services.do_post_comment(
        db.session,
        video,
        user,
        body.text,
        parent_id=body.parent_id,
        mention_ids=body.mention_ids,
        now=utcnow(),
    )
    db.session.commit()
    return comments_out(db.session, [comment], video, user)[0]


@endpoint(
    bp,
    "/comments/<int:comment_id>/replies",
    summary="A page of a comment's replies, oldest first (keyset cursor)",
    query=CommentsQuery,
    response=CommentPage,
    auth=False,
    errors=(400, 404),
)
def list_replies(comment_id: int, query: CommentsQuery) -> CommentPage:
    user = current_user()
    parent = services.access_comment(db.session, comment_id, user)
    video = _video_of(parent)
    viewer = services.viewer_of(db.session, video, user)
    items, cursor = queries.replies(db.session, parent, viewer, query.cursor, rules.PAGE_SIZE)
    return CommentPage(items=comments_out(db.session, items, video, user), next_cursor=cursor)


@endpoint(
    bp,
    "/comments/<int:comment_id>",
    methods=("DELETE",),
    summary="Delete a comment (its author, the video's creator, their moderators, admins)",
    status=204,
    errors=(403, 404, 409),
)
def delete_comment(comment_id: int) -> Response:
    user = require_user()
    comment = services.access_comment(db.session, comment_id, user)
    services.do_remove_comment(db.session, comment, user, utcnow())
    db.session.commit()
    return Response(status=204)


@endpoint(
    bp,
    "/comments/<int:comment_id>/approve",
    methods=("POST",),
    summary="Publish a comment held by the keyword filter (the video's staff)",
    response=CommentOut,
    errors=(403, 404, 409),
)
def approve_comment(comment_id: int) -> CommentOut:
    user = require_user()
    comment = services.access_comment(db.session, comment_id, user)
    services.do_approve_comment(db.session, comment, user)
    db.session.commit()
    return comments_out(db.session, [comment], _video_of(comment), user)[0]


@endpoint(
    bp,
    "/comments/<int:comment_id>/like",
    methods=("PUT",),
    summary="Like a comment (idempotent)",
    response=LikeOut,
    errors=(404, 409),
)
def like_comment(comment_id: int) -> LikeOut:
    user = require_user()
    comment = services.access_comment(db.session, comment_id, user)
    count = services.do_like(db.session, comment, user, utcnow())
    db.session.commit()
    return LikeOut(liked=True, like_count=count)


@endpoint(
    bp,
    "/comments/<int:comment_id>/like",
    methods=("DELETE",),
    summary="Take a like back (idempotent)",
    response=LikeOut,
    errors=(404,),
)
def unlike_comment(comment_id: int) -> LikeOut:
    user = require_user()
    comment = services.access_comment(db.session, comment_id, user)
    count = services.do_unlike(db.session, comment, user)
    db.session.commit()
    return LikeOut(liked=False, like_count=count)


@endpoint(
    bp,
    "/comments/counts",
    summary="Visible comment counts of up to 50 videos (the feed's rail)",
    query=CountsQuery,
    response=CountsOut,
    auth=False,
    errors=(400,),
)
def comment_counts(query: CountsQuery) -> CountsOut:
    ids = [part for part in query.videos.split(",") if part][:MAX_COUNTED]
    if not ids:
        raise ValidationFailed(_("Name at least one video."), fields={"videos": _("Required.")})
    user = current_user()
    videos = [
        v
        for v in db.session.scalars(select(Video).where(Video.public_id.in_(ids)))
        if can_view(v, user)
    ]
    counts = queries.comment_counts(db.session, videos)
    return CountsOut(counts={v.public_id: counts[v.id] for v in videos})
