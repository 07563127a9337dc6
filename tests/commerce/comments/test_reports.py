"""Reports, the admin's decisions, bans, and the append-only audit log."""

from __future__ import annotations

import pytest

from commerce.extensions import db
from commerce.moderation.models import AuditLogIsAppendOnly, ModerationAction
from commerce.videos.models import Video


def _report(api, kind, target, reason="spam", text=""):
    return api.post(
        "/api/v1/reports",
        {"target_type": kind, "target_id": str(target), "reason": reason, "text": text},
    )


def _decide(api, report_id, decision, reason="seen it"):
    return api.post(
        f"/api/v1/admin/reports/{report_id}/decision", {"decision": decision, "reason": reason}
    )


def test_one_open_report_per_reporter_and_target(create_user, make_api, create_video):
    creator = create_user(creator=True)
    video = create_video(creator)
    viewer = make_api(create_user())
    made = _report(viewer, "video", video, "fraud", "fake tea")
    assert made.status_code == 201 and made.get_json()["state"] == "open"
    again = _report(viewer, "video", video, "other")
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "duplicate"
    assert _report(make_api(create_user()), "video", video).status_code == 201
    assert _report(make_api(creator), "video", video).status_code == 400  # not oneself
    assert _report(viewer, "user", creator.id).status_code == 201
    assert _report(viewer, "user", 99999).status_code == 404
    assert _report(viewer, "comment", "abc").status_code == 404
    assert _report(viewer, "room", "nope").status_code == 404
    bad = viewer.post(
        "/api/v1/reports", {"target_type": "planet", "target_id": "1", "reason": "spam"}
    )
    assert bad.status_code == 400


def test_only_admins_see_the_queue(create_user, make_api, make_admin):
    user = make_api(create_user())
    assert user.get("/api/v1/admin/reports").status_code == 403
    assert user.get("/api/v1/admin/audit").status_code == 403
    assert user.get("/admin/reports").status_code == 403
    assert make_api(make_admin()).get("/admin/reports").status_code == 200


def test_hiding_each_kind_of_target(
    app, create_user, make_api, create_video, create_room, make_admin
):
    creator = create_user(creator=True)
    video = create_video(creator)
    room = create_room(creator, state="live")
    viewer = make_api(create_user())
    comment = viewer.post(f"/api/v1/videos/{video}/comments", {"text": "rude"}).get_json()
    reporter = make_api(create_user())
    ids = {
        kind: _report(reporter, kind, target).get_json()["id"]
        for kind, target in (("comment", comment["id"]), ("room", room.public_id), ("video", video))
    }
    admin = make_api(make_admin())
    for kind, report_id in ids.items():
        entry = _decide(admin, report_id, "hide", f"breaks rules ({kind})")
        assert entry.status_code == 200, entry.get_json()
        assert entry.get_json()["action"] == f"hide_{kind}"
    assert _decide(admin, ids["video"], "dismiss").status_code == 409  # already decided
    with app.app_context():
        assert (
            db.session.scalar(db.select(Video).where(Video.public_id == video)).published_at is None
        )
    assert (
        make_api(creator).get(f"/api/v1/videos/{video}/comments").get_json()["items"][0]["state"]
        == "hidden"
    )
    assert make_api().get(f"/api/v1/live/rooms/{room.public_id}").get_json()["state"] == "ended"
    log = admin.get("/api/v1/admin/audit").get_json()["items"]
    assert [e["action"] for e in log] == ["hide_video", "hide_room", "hide_comment"]
    assert log[0]["reason"] == "breaks rules (video)"
    assert admin.get("/api/v1/admin/reports").get_json()["items"] == []


def test_ban_from_login_ends_sessions_and_refuses_login(create_user, make_api, make_admin):
    target = create_user()
    session = make_api(target)
    report = _report(make_api(create_user()), "user", target.id, "harassment").get_json()
    admin = make_api(make_admin())
    assert _decide(admin, report["id"], "hide").status_code == 400  # users are banned, not hidden
    assert _decide(admin, report["id"], "ban_login", "threats").status_code == 200
    assert session.get("/api/v1/me").status_code == 401
    fresh = make_api()
    refused = fresh.post(
        "/api/v1/auth/login", {"email": target.email, "password": "correct-horse-9"}
    )
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "suspended"


def test_ban_from_posting_stops_comments_and_chat(
    create_user, make_api, create_video, create_room, make_admin
):
    video = create_video(create_user(creator=True))
    target = create_user()
    poster = make_api(target)
    comment = poster.post(f"/api/v1/videos/{video}/comments", {"text": "spam"}).get_json()
    report = _report(make_api(create_user()), "comment", comment["id"]).get_json()
    assert _decide(make_api(make_admin()), report["id"], "ban_post", "spammer").status_code == 200
    refused = poster.post(f"/api/v1/videos/{video}/comments", {"text": "more"})
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "suspended"
    room = create_room(create_user(creator=True), state="live")
    chat = poster.post(f"/api/v1/live/rooms/{room.public_id}/chat", {"text": "hello"})
    assert chat.status_code == 403 and chat.get_json()["error"]["code"] == "suspended"


def test_a_decision_settles_every_open_report_on_the_target(
    create_user, make_api, create_video, make_admin
):
    video = create_video(create_user(creator=True))
    first = _report(make_api(create_user()), "video", video).get_json()
    _report(make_api(create_user()), "video", video)
    admin = make_api(make_admin())
    assert _decide(admin, first["id"], "dismiss", "fine").status_code == 200
    assert admin.get("/api/v1/admin/reports").get_json()["items"] == []
    dismissed = admin.get("/api/v1/admin/reports?state=dismissed").get_json()["items"]
    assert len(dismissed) == 2
    assert _decide(admin, first["id"], "dismiss", "x").status_code == 400  # why: 3+ characters


def test_audit_log_is_append_only(app, create_user, make_api, create_video, make_admin):
    video = create_video(create_user(creator=True))
    report = _report(make_api(create_user()), "video", video).get_json()
    _decide(make_api(make_admin()), report["id"], "dismiss", "fine")
    with app.app_context():
        entry = db.session.scalar(db.select(ModerationAction))
        entry.reason = "rewritten"
        with pytest.raises(AuditLogIsAppendOnly):
            db.session.flush()
        db.session.rollback()
        db.session.delete(db.session.scalar(db.select(ModerationAction)))
        with pytest.raises(AuditLogIsAppendOnly):
            db.session.flush()
        db.session.rollback()


def test_console_decides_with_a_form_and_shows_the_log(
    create_user, make_api, create_video, make_admin
):
    video = create_video(create_user(creator=True))
    report = _report(make_api(create_user()), "video", video, "fraud", "<b>fake</b>").get_json()
    admin = make_api(make_admin(name="Root"))
    page = admin.get("/admin/reports").get_data(as_text=True)
    assert "&lt;b&gt;fake&lt;/b&gt;" in page and "<b>fake</b>" not in page
    token = admin.token()
    done = admin.client.post(
        f"/admin/reports/{report['id']}/decide",
        data={"decision": "hide", "reason": "counterfeit", "csrf_token": token},
    )
    assert done.status_code == 302
    page = admin.get("/admin/reports").get_data(as_text=True)
    assert "Video unpublished" in page and "counterfeit" in page and "Root" in page
