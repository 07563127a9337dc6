"""Comment reads: keyset pages of top comments and replies, likes, mentions, counts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, selectinload

from commerce.accounts.models import User
from commerce.comments import rules
from commerce.comments.models import Comment, CommentLike, CommentMention
from commerce.pagination import decode_cursor, encode_cursor
from commerce.videos.models import Video

# Authors, whom replies answer, and their avatars in a few queries per page, not per comment.
_PEOPLE = (
    selectinload(Comment.author).selectinload(User.avatar),
    selectinload(Comment.reply_to_user).selectinload(User.avatar),
)


def _seen_by(viewer: rules.Viewer) -> Any:
    if viewer.is_staff:
        return True
    if viewer.user_id is None:
        return Comment.state != rules.HELD
    return or_(Comment.state != rules.HELD, Comment.author_id == viewer.user_id)


def top_comments(
    session: Session, video: Video, viewer: rules.Viewer, cursor: str | None, limit: int
) -> tuple[list[Comment], str | None]:
    """A page of top comments, newest first (keyset on (created_at, id))."""
    query = (
        select(Comment)
        .options(*_PEOPLE)
        .where(Comment.video_id == video.id, Comment.parent_id.is_(None), _seen_by(viewer))
    )
    if cursor:
        when, ident = decode_cursor(cursor)
        query = query.where(
            or_(Comment.created_at < when, and_(Comment.created_at == when, Comment.id < ident))
        )
    rows = list(
        session.scalars(
            query.order_by(Comment.created_at.desc(), Comment.id.desc()).limit(limit + 1)
        )
    )
    return _page(rows, limit)


def replies(
    session: Session, parent: Comment, viewer: rules.Viewer, cursor: str | None, limit: int
) -> tuple[list[Comment], str | None]:
    """A page of a thread's replies, oldest first, as they were written."""
    query = (
        select(Comment).options(*_PEOPLE).where(Comment.parent_id == parent.id, _seen_by(viewer))
    )
    if cursor:
        when, ident = decode_cursor(cursor)
        query = query.where(
            or_(Comment.created_at > when, and_(Comment.created_at == when, Comment.id > ident))
        )
    rows = list(session.scalars(query.order_by(Comment.created_at, Comment.id).limit(limit + 1)))
    return _page(rows, limit)


def _page(rows: list[Comment], limit: int) -> tuple[list[Comment], str | None]:
    if len(rows) > limit:
        rows = rows[:limit]
        return rows, encode_cursor(rows[-1].created_at, rows[-1].id)
    return rows, None


def liked_ids(session: Session, comment_ids: list[int], user: User | None) -> set[int]:
    if user is None or not comment_ids:
        return set()
    return set(
        session.scalars(
            select(CommentLike.comment_id).where(
                CommentLike.user_id == user.id, CommentLike.comment_id.in_(comment_ids)
            )
        )
    )


def mentions_of(session: Session, comment_ids: list[int]) -> dict[int, list[tuple[int, str]]]:
    out: dict[int, list[tuple[int, str]]] = {}
    if not comment_ids:
        return out
    rows = session.execute(
        select(CommentMention.comment_id, User.id, User.display_name)
        .join(User, User.id == CommentMention.user_id)
        .where(CommentMention.comment_id.in_(comment_ids))
    )
    for comment_id, user_id, name in rows:
        out.setdefault(comment_id, []).append((user_id, name))
    return out


def comment_counts(session: Session, videos: list[Video]) -> dict[int, int]:
    """Comments others can see, per video (top comments and replies)."""
    if not videos:
        return {}
    rows = session.execute(
        select(Comment.video_id, func.count())
        .where(Comment.video_id.in_([v.id for v in videos]), Comment.state == rules.VISIBLE)
        .group_by(Comment.video_id)
    )
    counts = {video_id: int(n) for video_id, n in rows}
    return {v.id: counts.get(v.id, 0) for v in videos}
