"""Who may see or change a video: drafts belong to their creator alone."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from commerce.accounts.models import User
from commerce.errors import NotFound
from commerce.extensions import db
from commerce.videos.models import Video


def can_view(video: Video, user: User | None) -> bool:
    return video.is_published or (user is not None and user.id == video.creator_id)


def access_video_for_viewing(public_id: str, user: User | None) -> Video:
    """A published video, or the viewer's own draft; anything else looks like it does not exist."""
    video = db.session.scalar(select(Video).where(Video.public_id == public_id))
    if video is None or not can_view(video, user):
        raise NotFound(_("This video does not exist or is not published."))
    return video


def access_video_for_editing(public_id: str, user: User) -> Video:
    """The creator's own video; another creator's is a 404 so drafts don't leak by existence."""
    video = db.session.scalar(select(Video).where(Video.public_id == public_id))
    if video is None or video.creator_id != user.id:
        raise NotFound(_("This video does not exist or is not yours."))
    return video


def can_view_media_prefix(key: str, user: User | None) -> bool:
    """Media under videos/<public_id>/ follows the video's visibility; other media is public."""
    parts = key.split("/")
    if parts[0] != "videos":
        # live: room covers; reviews: photos of reviews (keys are unguessable), all public
        return parts[0] in {"avatars", "products", "live", "reviews"}
    if len(parts) < 3 or parts[2] == "source":
        # The original upload is never served: only the transcoded outputs are.
        return False
    video = db.session.scalar(select(Video).where(Video.public_id == parts[1]))
    return video is not None and can_view(video, user)
