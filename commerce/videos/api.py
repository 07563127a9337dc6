"""Videos JSON API: resumable uploads, studio editing, pins, publishing, the feed."""

from __future__ import annotations

from flask import Blueprint, Response, after_this_request, current_app, request
from flask_babel import gettext as _

from commerce.accounts.auth import current_user, require_creator
from commerce.apispec import endpoint
from commerce.errors import ValidationFailed
from commerce.extensions import db
from commerce.files.services import storage
from commerce.flashsales.services import card_flashes
from commerce.timeutil import utcnow
from commerce.videos import services, uploads
from commerce.videos.access import access_video_for_editing, access_video_for_viewing
from commerce.videos.models import Upload
from commerce.videos.present import pin_out, pin_product_ids, video_out, videos_for_viewer
from commerce.videos.schemas import (
    CoverIn,
    FeedQuery,
    MyVideosQuery,
    PinIn,
    PinOut,
    UploadIn,
    UploadOut,
    VideoEditIn,
    VideoOut,
    VideoPage,
    ViewCountOut,
)

bp = Blueprint("videos_api", __name__, url_prefix="/api/v1")


def upload_out(upload: Upload) -> UploadOut:
    video_id = None
    if upload.video_id is not None:
        video = db.session.get(uploads.Video, upload.video_id)
        video_id = video.public_id if video else None
    return UploadOut(
        id=upload.public_id,
        filename=upload.filename,
        size=upload.size,
        received=upload.received,
        chunk_size=current_app.config["UPLOAD_CHUNK_BYTES"],
        video_id=video_id,
    )


@endpoint(
    bp,
    "/uploads",
    methods=("POST",),
    summary="Start a resumable video upload",
    body=UploadIn,
    response=UploadOut,
    status=201,
    errors=(403, 413),
)
def start_upload(body: UploadIn) -> UploadOut:
    upload = uploads.do_start_upload(
        db.session,
        require_creator(),
        body,
        max_bytes=current_app.config["MAX_UPLOAD_BYTES"],
        tmp_dir=current_app.config["UPLOAD_TMP_DIR"],
    )
    db.session.commit()
    return upload_out(upload)


@endpoint(
    bp,
    "/uploads/<upload_id>",
    summary="Where an upload stands (to resume it)",
    response=UploadOut,
    errors=(404,),
)
def get_upload(upload_id: str) -> UploadOut:
    return upload_out(uploads.access_upload(db.session, upload_id, require_creator()))


@endpoint(
    bp,
    "/uploads/<upload_id>",
    methods=("PUT",),
    summary="Send the next chunk (header Upload-Offset: byte offset of this chunk)",
    response=UploadOut,
    raw_body="application/octet-stream",
    errors=(404, 409, 507),
)
def put_chunk(upload_id: str) -> UploadOut:
    upload = uploads.access_upload(db.session, upload_id, require_creator())
    try:
        offset = int(request.headers.get("Upload-Offset", ""))
    except ValueError as exc:
        raise ValidationFailed(_("The Upload-Offset header must be a byte offset.")) from exc
    length = request.content_length
    if length is None:
        raise ValidationFailed(_("The chunk needs a Content-Length."))
    uploads.do_append_chunk(
        upload,
        offset=offset,
        stream=request.stream,
        length=length,
        tmp_dir=current_app.config["UPLOAD_TMP_DIR"],
    )
    db.session.commit()
    return upload_out(upload)


@endpoint(
    bp,
    "/uploads/<upload_id>/complete",
    methods=("POST",),
    summary="Finish the upload: validate the video and start processing",
    response=VideoOut,
    status=201,
    errors=(404, 409, 507),
)
def complete_upload(upload_id: str) -> VideoOut:
    upload = uploads.access_upload(db.session, upload_id, require_creator())
    try:
        video = uploads.do_finish_upload(
            db.session,
            upload,
            storage(),
            tmp_dir=current_app.config["UPLOAD_TMP_DIR"],
            max_seconds=current_app.config["MAX_VIDEO_SECONDS"],
            max_attempts=current_app.config["JOB_MAX_ATTEMPTS"],
        )
    except uploads.UploadRejected:
        db.session.commit()  # the rejected upload's row is gone for good, like its bytes
        raise
    db.session.commit()
    return video_out(video, for_owner=True)


@endpoint(
    bp,
    "/uploads/<upload_id>",
    methods=("DELETE",),
    summary="Abandon an upload",
    status=204,
    errors=(404,),
)
def abandon_upload(upload_id: str) -> Response:
    upload = uploads.access_upload(db.session, upload_id, require_creator())
    if upload.video_id is None:
        uploads.discard_upload(db.session, upload, current_app.config["UPLOAD_TMP_DIR"])
        db.session.commit()
    return Response(status=204)


@endpoint(
    bp,
    "/feed",
    summary="Published videos: newest, For you (ranked), or from the accounts you follow",
    query=FeedQuery,
    response=VideoPage,
    auth=False,
    errors=(401,),
)
def feed(query: FeedQuery) -> VideoPage:
    user = current_user()
    items, cursor = services.feed_tab(
        db.session,
        query.tab,
        user,
        cursor=query.cursor,
        limit=query.limit,
        creator_id=query.creator_id,
    )
    flashes = card_flashes(db.session, pin_product_ids(items), utcnow())
    return VideoPage(
        items=videos_for_viewer(db.session, items, user, flashes=flashes), next_cursor=cursor
    )


@endpoint(
    bp,
    "/studio/videos",
    summary="Your videos, drafts included",
    query=MyVideosQuery,
    response=VideoPage,
    errors=(403,),
)
def my_videos(query: MyVideosQuery) -> VideoPage:
    items = services.my_videos(db.session, require_creator(), query.limit)
    return VideoPage(items=[video_out(v, for_owner=True) for v in items], next_cursor=None)


@endpoint(
    bp,
    "/videos/<public_id>",
    summary="A video (drafts only to their creator)",
    response=VideoOut,
    auth=False,
    errors=(404,),
)
def get_video(public_id: str) -> VideoOut:
    user = current_user()
    video = access_video_for_viewing(public_id, user)
    flashes = card_flashes(db.session, pin_product_ids([video]), utcnow())
    return video_out(
        video, for_owner=user is not None and user.id == video.creator_id, flashes=flashes
    )


@endpoint(
    bp,
    "/videos/<public_id>",
    methods=("PATCH",),
    summary="Edit title and description",
    body=VideoEditIn,
    response=VideoOut,
    errors=(403, 404),
)
def edit_video(public_id: str, body: VideoEditIn) -> VideoOut:
    video = access_video_for_editing(public_id, require_creator())
    services.do_edit_video(video, body)
    db.session.commit()
    return video_out(video, for_owner=True)


@endpoint(
    bp,
    "/videos/<public_id>/cover",
    methods=("PUT",),
    summary="Choose the cover frame",
    body=CoverIn,
    response=VideoOut,
    errors=(403, 404, 409),
)
def set_cover(public_id: str, body: CoverIn) -> VideoOut:
    video = access_video_for_editing(public_id, require_creator())
    services.do_set_cover(db.session, video, body.cover_ms)
    db.session.commit()
    return video_out(video, for_owner=True)


@endpoint(
    bp,
    "/videos/<public_id>/pins",
    methods=("POST",),
    summary="Pin a product at a moment of the video",
    body=PinIn,
    response=PinOut,
    status=201,
    errors=(403, 404),
)
def add_pin(public_id: str, body: PinIn) -> PinOut:
    video = access_video_for_editing(public_id, require_creator())
    pin = services.do_add_pin(db.session, video, body)
    db.session.commit()
    return pin_out(pin)


@endpoint(
    bp,
    "/videos/<public_id>/pins/<int:pin_id>",
    methods=("DELETE",),
    summary="Remove a pin",
    status=204,
    errors=(403, 404),
)
def remove_pin(public_id: str, pin_id: int) -> Response:
    video = access_video_for_editing(public_id, require_creator())
    services.do_remove_pin(db.session, video, pin_id)
    db.session.commit()
    return Response(status=204)


@endpoint(
    bp,
    "/videos/<public_id>/publish",
    methods=("POST",),
    summary="Publish to the feed",
    response=VideoOut,
    errors=(403, 404, 409),
)
def publish(public_id: str) -> VideoOut:
    video = access_video_for_editing(public_id, require_creator())
    services.do_publish(db.session, video, utcnow())
    db.session.commit()
    return video_out(video, for_owner=True)


@endpoint(
    bp,
    "/videos/<public_id>/unpublish",
    methods=("POST",),
    summary="Take back to drafts",
    response=VideoOut,
    errors=(403, 404),
)
def unpublish(public_id: str) -> VideoOut:
    video = access_video_for_editing(public_id, require_creator())
    services.do_unpublish(db.session, video)
    db.session.commit()
    return video_out(video, for_owner=True)


@endpoint(
    bp,
    "/videos/<public_id>",
    methods=("DELETE",),
    summary="Delete a video and its media",
    status=204,
    errors=(403, 404),
)
def delete_video(public_id: str) -> Response:
    video = access_video_for_editing(public_id, require_creator())
    prefix = services.do_delete_video(db.session, video)
    db.session.commit()
    storage().delete_prefix(prefix)
    return Response(status=204)


VIEWED_COOKIE = "viewed"  # the videos this browser session has counted, dot-separated ids


@endpoint(
    bp,
    "/videos/<public_id>/views",
    methods=("POST",),
    summary="Count a view (once per video per browser session)",
    response=ViewCountOut,
    auth=False,
    errors=(404,),
)
def count_view(public_id: str) -> ViewCountOut:
    video = access_video_for_viewing(public_id, current_user())
    # Its own cookie, not the session: the feed pings this while the viewer browses, and a
    # session written here could overwrite one another request has just set (a share link's
    # commission disclosure, a login).
    seen = [v for v in request.cookies.get(VIEWED_COOKIE, "").split(".") if v]
    if public_id in seen:
        return ViewCountOut(view_count=video.view_count)
    count = services.do_count_view(db.session, video)
    db.session.commit()
    kept = ".".join([*seen, public_id][-50:])

    @after_this_request
    def remember(response: Response) -> Response:
        response.set_cookie(
            VIEWED_COOKIE, kept, httponly=True, samesite="Lax", secure=request.is_secure
        )
        return response

    return ViewCountOut(view_count=count)
