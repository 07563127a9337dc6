"""Points ready: when the release job credits held points, their owner is told once per run
(several holds credited together: one notice with the sum), in the inbox and on the badge after
the commit; a repeated or racing run tells nobody again."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from commerce.extensions import db, socketio
from commerce.jobs.models import Job, PeriodicTask
from commerce.jobs.registry import PERIODIC
from commerce.jobs.runner import run_periodic
from commerce.notifications.services import EMAIL_JOB
from commerce.points.models import PointsHold
from commerce.timeutil import utcnow
from tests.commerce.orders.conftest import buy_now, place
from tests.commerce.points.conftest import entries, pay, racing_release_runs, ship_and_deliver

RELEASE = "commerce.points.jobs.release_held_points"
NOTICES = "/api/v1/me/notifications"


def _bought_and_delivered(app, api, seller, product, address_id, quantity=1) -> str:
    [order] = place(api, buy_now(product.id, address_id, quantity)).get_json()["orders"]
    pay(app, api, order["id"])
    ship_and_deliver(seller, order["id"])
    return order["id"]


def _hold_over(app) -> None:
    """As if the deliveries were past the return window."""
    with app.app_context():
        db.session.execute(update(PointsHold).values(hold_until=utcnow() - timedelta(minutes=1)))
        db.session.commit()


def _run_release_job(app) -> bool:
    """One turn of the deployment's periodic task, as a worker runs it (claim, run, commit)."""
    [task] = [t for t in PERIODIC if t.name == RELEASE]
    with app.app_context():
        db.session.execute(update(PeriodicTask).values(next_run_at=utcnow() - timedelta(1)))
        db.session.commit()
        ran = run_periodic(db.session(), task, "test-worker", app.config)
        db.session.remove()
        return ran


def _points_notices(api, **headers):
    items = api.get(NOTICES, headers=headers).get_json()["items"]
    return [(n["text"], n["url"]) for n in items if n["type"] == "points"]


def test_one_notice_with_the_sum_after_the_job_commits_and_never_twice(
    app, buyer_setup, make_api, webhook_inbox
):
    api, product, address_id, buyer, merchant = buyer_setup(price_minor=10_000, stock=10)
    seller = make_api(merchant)
    _bought_and_delivered(app, api, seller, product, address_id)  # 100 points
    _bought_and_delivered(app, api, seller, product, address_id, quantity=2)  # 200 points
    socket = socketio.test_client(app, flask_test_client=make_api(buyer).client)
    socket.get_received()
    assert _points_notices(api) == []
    assert _run_release_job(app)
    assert _points_notices(api) == []  # still held: the window has not passed
    _hold_over(app)
    assert _run_release_job(app)
    assert entries(app, buyer) == [("purchase", 100), ("purchase", 200)]
    assert _points_notices(api) == [("300 points are ready to use.", "/me/points")]
    badge = [e["args"][0] for e in socket.get_received() if e["name"] == "notifications.unread"]
    assert badge and badge[-1]["latest"]["type"] == "points"
    assert badge[-1]["unread"] == api.get(f"{NOTICES}/unread").get_json()["unread"]
    zh = _points_notices(api, **{"Accept-Language": "zh-CN"})
    assert zh == [("300 积分已可使用。", "/me/points")]
    assert _run_release_job(app)  # the next turn: nothing left to credit, nobody told again
    assert len(_points_notices(api)) == 1
    assert [e for e in socket.get_received() if e["name"] == "notifications.unread"] == []


def test_a_second_credit_later_is_a_second_notice(app, buyer_setup, make_api, webhook_inbox):
    api, product, address_id, _buyer, merchant = buyer_setup(price_minor=10_000, stock=10)
    seller = make_api(merchant)
    _bought_and_delivered(app, api, seller, product, address_id)
    _hold_over(app)
    assert _run_release_job(app)
    _bought_and_delivered(app, api, seller, product, address_id)
    _hold_over(app)
    assert _run_release_job(app)
    assert [text for text, _url in _points_notices(api)] == [
        "100 points are ready to use.",
        "100 points are ready to use.",
    ]


def test_one_point_reads_in_the_singular(app, buyer_setup, make_api, webhook_inbox):
    api, product, address_id, _buyer, merchant = buyer_setup(price_minor=150, stock=10)
    _bought_and_delivered(app, api, make_api(merchant), product, address_id)
    _hold_over(app)
    assert _run_release_job(app)
    assert _points_notices(api) == [("1 point is ready to use.", "/me/points")]


def test_racing_release_runs_tell_once(app, buyer_setup, make_api, webhook_inbox):
    api, product, address_id, buyer, merchant = buyer_setup(price_minor=10_000, stock=10)
    seller = make_api(merchant)
    _bought_and_delivered(app, api, seller, product, address_id)
    _bought_and_delivered(app, api, seller, product, address_id)
    _hold_over(app)
    assert racing_release_runs(app) == 2
    assert entries(app, buyer) == [("purchase", 100), ("purchase", 100)]
    assert _points_notices(api) == [("200 points are ready to use.", "/me/points")]


def test_the_preferences_apply_in_app_off_and_email_on_with_consent(
    app, buyer_setup, make_api, webhook_inbox
):
    quiet_api, product, address_id, quiet, merchant = buyer_setup(price_minor=10_000, stock=10)
    off = {"items": [{"type": "points", "channel": "in_app", "enabled": False}]}
    assert quiet_api.put(f"{NOTICES}/preferences", off).status_code == 200
    _bought_and_delivered(app, quiet_api, make_api(merchant), product, address_id)
    mail_api, product, address_id, _mailed, merchant = buyer_setup(price_minor=20_000)
    email_on = {
        "items": [{"type": "points", "channel": "email", "enabled": True}],
        "email_consent": True,
    }
    assert mail_api.put(f"{NOTICES}/preferences", email_on).status_code == 200
    _bought_and_delivered(app, mail_api, make_api(merchant), product, address_id)
    _hold_over(app)
    assert _run_release_job(app)
    assert entries(app, quiet) == [("purchase", 100)]  # credited all the same, told nothing
    assert _points_notices(quiet_api) == []
    [(text, _url)] = _points_notices(mail_api)
    assert text == "200 points are ready to use."
    notice_id = mail_api.get(NOTICES).get_json()["items"][0]["id"]
    with app.app_context():
        mails = db.session.scalars(select(Job).where(Job.kind == EMAIL_JOB)).all()
        assert [m.payload for m in mails] == [{"notification_id": notice_id}]
