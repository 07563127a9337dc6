"""Comment use cases: post (rate, bans, mutes, keyword filter), list, like, remove, approve.

Staff of a video are its creator, the moderators of the creator's live rooms and platform
admins. The live chat's moderation follows the creator: a user banned from (or muted in) one
of the creator's rooms cannot comment on their videos, and the rooms' keyword filters hold a
comment for review instead of refusing it (the author sees it pending; staff approve it).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from flask_babel import format_datetime
from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from commerce.accounts.bans import may_post
from commerce.accounts.models import User
from commerce.comments import notices, rules
from commerce.comments.models import Comment, CommentLike, CommentMention
from commerce.errors import Conflict, Forbidden, NotFound, RateLimited
from commerce.live.models import LiveBan, LiveModerator, LiveMute, LiveRoom
from commerce.live.rules import blocked_keyword
from commerce.locking import lock_key, lock_row
from commerce.videos.engagement import do_count_comments
from commerce.videos.models import Video


def _creator_rooms(creator_id: int) -> Any:
    return select(LiveRoom.id).where(LiveRoom.creator_id == creator_id)


def is_staff(session: Session, video: Video, user: User | None) -> bool:
    if user is None:
        return False
    if user.is_admin or user.id == video.creator_id:
        return True
    found = session.scalar(
        select(LiveModerator.user_id)
        .where(
            LiveModerator.user_id == user.id,
            LiveModerator.room_id.in_(_creator_rooms(video.creator_id)),
        )
        .limit(1)
    )
    return found is not None


def viewer_of(session: Session, video: Video, user: User | None) -> rules.Viewer:
    return rules.Viewer(user.id if user else None, is_staff(session, video, user))


def _check_creator_moderation(session: Session, video: Video, user: User, now: datetime) -> None:
    rooms = _creator_rooms(video.creator_id)
    banned = session.scalar(
        select(LiveBan.user_id)
        .where(LiveBan.user_id == user.id, LiveBan.room_id.in_(rooms))
        .limit(1)
    )
    if banned is not None:
        raise Forbidden(_("This creator has banned you from commenting."), code="banned")
    until = session.scalar(
        select(func.max(LiveMute.until)).where(
            LiveMute.user_id == user.id, LiveMute.room_id.in_(rooms), LiveMute.until > now
        )
    )
    if until is not None:
        raise Forbidden(
            _("This creator has muted you until %(time)s.", time=format_datetime(until, "short")),
            code="muted",
        )


def _creator_keywords(session: Session, creator_id: int) -> list[str]:
    keywords: list[str] = []
    for words in session.scalars(
        select(LiveRoom.keyword_filter).where(LiveRoom.creator_id == creator_id)
    ):
        keywords.extend(words or [])
    return keywords


def _check_rate(session: Session, author: User, now: datetime) -> None:
    # One author's posts are judged one after another, so a burst of parallel posts cannot
    # all read the same "4 so far" and pass together.
    lock_key(session, Comment, f"comment-rate:{author.id}")
    recent = list(
        session.scalars(
            select(Comment.created_at).where(
                Comment.author_id == author.id,
                Comment.created_at > now - rules.HOURLY_WINDOW,
            )
        )
    )
    wait = rules.post_wait(recent, now)
    if wait is not None:
        seconds = max(1, int(-(-wait.total_seconds() // 1)))
        raise RateLimited(
            _("You are commenting too fast: wait %(n)d s.", n=seconds),
            retry_after=seconds,
        )


def _resolve_mentions(
    session: Session, text: str, mention_ids: Iterable[int], author: User
) -> list[User]:
    """Users named in text: ids the client picked (their @name must be in the text), then
    @names that match exactly one display name."""
    folded = text.casefold()
    found: dict[int, User] = {}
    ids = list(dict.fromkeys(mention_ids))[: rules.MAX_MENTIONS]
    if ids:
        for user in session.scalars(select(User).where(User.id.in_(ids))):
            if f"@{user.display_name}".casefold() in folded:
                found[user.id] = user
    for name in rules.mention_names(text):
        if any(u.display_name.casefold() == name.casefold() for u in found.values()):
            continue
        matches = list(
            session.scalars(
                select(User).where(func.lower(User.display_name) == name.lower()).limit(2)
            )
        )
        if len(matches) == 1:
            found[matches[0].id] = matches[0]
    found.pop(author.id, None)
    return list(found.values())[: rules.MAX_MENTIONS]


def access_comment(session: Session, comment_id: int, viewer: User | None) -> Comment:
    """A comment the viewer may see (held ones only by their author and staff), else a 404."""
    comment = session.get(Comment, comment_id)
    if comment is None:
        raise NotFound(_("This comment does not exist."))
    video = session.get(Video, comment.video_id)
    if video is None or not (video.is_published or (viewer and viewer.id == video.creator_id)):
        raise NotFound(_("This comment does not exist."))
    if not rules.shown_to(comment.state, comment.author_id, viewer_of(session, video, viewer)):
        raise NotFound(_("This comment does not exist."))
    return comment


def do_post_comment(
    session: Session,
    video: Video,
    author: User,
    text: str,
    *,
    parent_id: int | None,
    mention_ids: Iterable[int],
    now: datetime,
) -> Comment:
    if not may_post(session, author.id):
        raise Forbidden(_("Your account may not post comments."), code="suspended")
    staff = is_staff(session, video, author)
    if not staff:
        _check_creator_moderation(session, video, author, now)
        _check_rate(session, author, now)
    parent: Comment | None = None
    reply_to: int | None = None
    if parent_id is not None:
        parent = access_comment(session, parent_id, author)
        if parent.video_id != video.id:
            raise NotFound(_("This comment does not exist."))
        if not rules.text_shown(parent.state):
            raise Conflict(_("This comment was removed: it cannot be answered."), code="removed")
        if parent.parent_id is not None:  # a reply to a reply stays in the top comment's thread
            reply_to = parent.author_id
            parent = session.get(Comment, parent.parent_id)
            assert parent is not None
    held = None if staff else blocked_keyword(text, _creator_keywords(session, video.creator_id))
    comment = Comment(
        video_id=video.id,
        author_id=author.id,
        parent_id=parent.id if parent else None,
        reply_to_user_id=reply_to,
        text=text,
        state=rules.HELD if held else rules.VISIBLE,
        held_keyword=held,
        created_at=now,
    )
    comment.author = author
    session.add(comment)
    session.flush()
    mentioned = _resolve_mentions(session, text, mention_ids, author)
    for user in mentioned:
        session.add(CommentMention(comment_id=comment.id, user_id=user.id, created_at=now))
    answered = reply_to if reply_to is not None else (parent.author_id if parent else None)
    notices.comment_posted(
        session, comment, video, answered=answered, mentioned=[u.id for u in mentioned], now=now
    )
    if parent is not None and rules.counts_for_others(comment.state):
        _bump_replies(session, parent.id, +1)
    if rules.counts_for_others(comment.state):
        do_count_comments(session, video, +1)  # the For-you score counts visible comments
    session.flush()
    return comment


def _bump_replies(session: Session, comment_id: int, by: int) -> None:
    # One UPDATE: concurrent replies each add theirs, none is lost to a read-modify-write.
    session.execute(
        update(Comment)
        .where(Comment.id == comment_id)
        .values(reply_count=Comment.reply_count + by)
        .execution_options(synchronize_session=False)
    )


def _leave_visible(session: Session, comment: Comment, state: str, actor: User, now: datetime):
    was_counted = rules.counts_for_others(comment.state)
    comment.state, comment.removed_at, comment.removed_by_id = state, now, actor.id
    if was_counted and comment.parent_id is not None:
        _bump_replies(session, comment.parent_id, -1)
    if was_counted:
        video = session.get(Video, comment.video_id)
        assert video is not None
        do_count_comments(session, video, -1)
    session.flush()


def do_remove_comment(session: Session, comment: Comment, actor: User, now: datetime) -> Comment:
    """Soft delete by its author or the video's staff: "comment deleted" keeps the thread."""
    locked = lock_row(session, Comment, comment.id)
    assert locked is not None
    video = session.get(Video, locked.video_id)
    assert video is not None
    if not rules.may_remove(locked.state, locked.author_id, viewer_of(session, video, actor)):
        if not rules.text_shown(locked.state):
            raise Conflict(_("This comment was already removed."), code="removed")
        raise Forbidden(_("Only its author or the video's creator and moderators can delete it."))
    _leave_visible(session, locked, rules.DELETED, actor, now)
    return locked


def do_hide_comment(session: Session, comment: Comment, admin: User, now: datetime) -> Comment:
    """An admin's decision on a report: the thread keeps a "comment hidden" placeholder."""
    locked = lock_row(session, Comment, comment.id)
    assert locked is not None
    if locked.state != rules.HIDDEN:
        _leave_visible(session, locked, rules.HIDDEN, admin, now)
    return locked


def do_approve_comment(session: Session, comment: Comment, actor: User) -> Comment:
    locked = lock_row(session, Comment, comment.id)
    assert locked is not None
    video = session.get(Video, locked.video_id)
    assert video is not None
    if not is_staff(session, video, actor):
        raise Forbidden(_("Only the video's creator and moderators can approve comments."))
    if locked.state != rules.HELD:
        raise Conflict(_("This comment is not waiting for review."), code="not_held")
    locked.state, locked.held_keyword = rules.VISIBLE, None
    if locked.parent_id is not None:
        _bump_replies(session, locked.parent_id, +1)
    do_count_comments(session, video, +1)
    session.flush()
    return locked


def do_like(session: Session, comment: Comment, user: User, now: datetime) -> int:
    """Like once however often asked; the count moves only when a row was really added."""
    if not rules.text_shown(comment.state):
        raise Conflict(_("This comment was removed."), code="removed")
    if _insert_like(session, comment.id, user.id, now):
        _bump_likes(session, comment.id, +1)
    return _like_count(session, comment.id)


def _insert_like(session: Session, comment_id: int, user_id: int, now: datetime) -> bool:
    """Insert unless present; True when this call added the row.

    ON CONFLICT DO NOTHING: of two racing likes by one user, exactly one inserts (on PostgreSQL
    the other waits for its commit, then does nothing), and only that one bumps the count.
    """
    values = {"comment_id": comment_id, "user_id": user_id, "created_at": now}
    make = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = make(CommentLike).values(values).on_conflict_do_nothing()
    # RETURNING says whether a row went in; rowcount is not reliable across drivers here.
    return session.execute(statement.returning(CommentLike.user_id)).first() is not None


def do_unlike(session: Session, comment: Comment, user: User) -> int:
    result = session.execute(
        CommentLike.__table__.delete().where(
            CommentLike.__table__.c.comment_id == comment.id,
            CommentLike.__table__.c.user_id == user.id,
        )
    )
    if result.rowcount:  # type: ignore[attr-defined]
        _bump_likes(session, comment.id, -1)
    return _like_count(session, comment.id)


def _bump_likes(session: Session, comment_id: int, by: int) -> None:
    session.execute(
        update(Comment)
        .where(Comment.id == comment_id)
        .values(like_count=Comment.like_count + by)
        .execution_options(synchronize_session=False)
    )


def _like_count(session: Session, comment_id: int) -> int:
    return int(session.scalar(select(Comment.like_count).where(Comment.id == comment_id)) or 0)
