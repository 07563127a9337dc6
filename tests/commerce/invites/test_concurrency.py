"""Racing the invite limits, each racer with its own database session (threads) or its own
process: rewards, the sharer's cap, the welcome coupon's device, the first order."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from commerce.coupons.models import Coupon, CouponTemplate
from commerce.extensions import db
from commerce.invites import services, settle
from commerce.invites.models import Invitation, InviteReward, SharerRewardCount, WelcomeDevice
from commerce.invites.rewards import do_reward
from commerce.invites.rules import settings_from_config
from commerce.orders.models import Order
from commerce.timeutil import utcnow
from tests.commerce.invites.conftest import invitation_of, link_of, open_link, ship_and_deliver
from tests.commerce.orders.test_concurrency import race

ROOT = Path(__file__).resolve().parents[3]


def _delivered_invitations(sharer, invitee, shop, first_order, names) -> list[int]:
    ann = sharer("Ann")
    link = link_of(ann)
    store = shop()
    ids = []
    for n, name in enumerate(names):
        api, user_id = invitee(link, name)
        address = {"line1": f"{n} {name} Lane", "phone": f"1390000{n:04d}"}
        ship_and_deliver(store, first_order(api, user_id, store, address=address))
        ids.append(user_id)
    return ids


def _count(app, model, **where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).filter_by(**where))


def _settle_in_own_session(app, invitation_id: int):
    def run() -> str:
        with app.app_context():
            settings = settings_from_config(app.config)
            invitation = db.session.get(Invitation, invitation_id)
            try:
                outcome = settle.do_settle(
                    db.session,
                    invitation,
                    utcnow() + settings.hold + timedelta(seconds=1),
                    settings,
                )
                db.session.commit()
                return outcome
            finally:
                db.session.remove()

    return run


def test_eight_racing_settles_of_one_invitation_reward_once(
    app, programme, sharer, invitee, shop, first_order
):
    [bo_id] = _delivered_invitations(sharer, invitee, shop, first_order, ["Bo"])
    invitation_id = invitation_of(app, bo_id).id
    outcomes = race([_settle_in_own_session(app, invitation_id) for _ in range(8)])
    assert sorted(outcomes) == ["decided"] * 7 + ["ok"]
    assert _count(app, InviteReward) == 1
    assert _count(app, Coupon, source="invite") == 1
    with app.app_context():
        assert db.session.get(CouponTemplate, programme[1]).claimed == 1
        assert db.session.scalar(select(SharerRewardCount.count).limit(1)) == 1


def test_racing_rewards_never_pass_the_sharers_daily_cap(
    app, programme, sharer, invitee, shop, first_order
):
    app.config["INVITE_SHARER_DAILY_CAP"] = 2
    ids = _delivered_invitations(
        sharer, invitee, shop, first_order, ["Bo", "Cy", "Di", "Ed", "Flo"]
    )
    invitations = [invitation_of(app, user_id).id for user_id in ids]
    outcomes = race([_settle_in_own_session(app, i) for i in invitations])
    assert sorted(outcomes) == ["capped"] * 3 + ["ok"] * 2
    assert _count(app, InviteReward) == 2
    assert _count(app, Invitation, state="rewarded") == 2
    assert _count(app, Invitation, state="first_paid") == 3  # waiting for tomorrow


def test_an_approval_racing_the_job_rewards_once(
    app, programme, sharer, invitee, shop, first_order
):
    """The operator approves while a job run rewards the same invitation from first_paid."""
    [bo_id] = _delivered_invitations(sharer, invitee, shop, first_order, ["Bo"])
    invitation_id = invitation_of(app, bo_id).id

    def reward_from(state: str):
        def run() -> str:
            with app.app_context():
                try:
                    invitation = db.session.get(Invitation, invitation_id)
                    outcome = do_reward(
                        db.session,
                        invitation,
                        utcnow(),
                        settings_from_config(app.config),
                        from_state=state,
                    )
                    db.session.commit()
                    return outcome
                finally:
                    db.session.remove()

        return run

    outcomes = race([reward_from("first_paid") for _ in range(4)])
    assert sorted(outcomes) == ["decided"] * 3 + ["ok"]
    assert _count(app, InviteReward) == 1


def test_two_sign_ups_from_one_browser_at_once_get_one_welcome_coupon(
    app, programme, sharer, make_api
):
    ann = sharer("Ann")
    first = make_api()
    open_link(first, link_of(ann))
    vid = first.client.get_cookie("vid").value
    browsers = [make_api() for _ in range(4)]
    for browser in browsers:  # one browser's cookie, four tabs signing up four accounts
        browser.client.set_cookie("vid", vid, domain="localhost")

    def sign_up(api, n):
        body = {"email": f"tab{n}@example.com", "password": "correct-horse-9", "display_name": "T"}
        return lambda: api.post("/api/v1/auth/signup", body).status_code

    codes = race([sign_up(api, n) for n, api in enumerate(browsers)])
    assert codes == [201] * 4
    assert _count(app, Invitation) == 4  # each account is still an invitation...
    assert _count(app, Coupon, source="welcome") == 1  # ...but the device had one coupon
    assert _count(app, WelcomeDevice) == 1
    assert _count(app, Invitation, welcome="device_used") == 3


def test_two_first_orders_paid_at_once_make_one_first_order(
    app, programme, sharer, invitee, shop, create_address, make_api
):
    from tests.commerce.orders.conftest import buy_now, place

    ann = sharer("Ann")
    api, bo_id = invitee(link_of(ann))
    store = shop()
    with app.app_context():
        bo = db.session.get(type(store["merchant"]), bo_id)
        db.session.expunge(bo)
    address_id = create_address(bo)
    order_ids = []
    for _ in range(2):
        placed = place(api, buy_now(store["product"].id, address_id))
        order_ids.append(placed.get_json()["orders"][0]["id"])

    def paid(public_id: str):
        def run() -> bool:
            with app.app_context():
                try:
                    order = db.session.scalar(select(Order).filter_by(public_id=public_id))
                    order.paid_at = utcnow()
                    moved = services.do_first_paid(
                        db.session, order, utcnow(), settings_from_config(app.config)
                    )
                    db.session.commit()
                    return moved
                finally:
                    db.session.remove()

        return run

    assert sorted(race([paid(i) for i in order_ids])) == [False, True]
    invitation = invitation_of(app, bo_id)
    assert invitation.state == "first_paid" and invitation.first_order_id is not None


_JOB = """
import os, sys, time
sys.path.insert(0, ".")
from datetime import timedelta
from app import create_app
from commerce.extensions import db
from commerce.invites import settle
from commerce.invites.models import Invitation
from commerce.invites.rules import settings_from_config
from commerce.timeutil import utcnow
app = create_app({"SECRET_KEY": "test-secret"})
folder, me = sys.argv[1], sys.argv[2]
with app.app_context():
    settings = settings_from_config(app.config)
    later = utcnow() + settings.hold + timedelta(seconds=5)
    ids = settle.due_candidates(db.session, later, settings)
    db.session.rollback()
    open(f"{folder}/ready-{me}", "w").close()
    while not os.path.exists(f"{folder}/go"):  # both runs start at the same moment
        time.sleep(0.005)
    outcomes = []
    for invitation_id in ids:
        invitation = db.session.get(Invitation, invitation_id)
        outcome = settle.do_settle(db.session, invitation, later, settings)
        db.session.commit()
        outcomes.append(outcome)
    print("outcomes:" + ",".join(outcomes))
"""


def test_two_processes_running_the_reward_job_at_once_reward_each_invitation_once(
    app, database_url, programme, sharer, invitee, shop, first_order, tmp_path
):
    """Two job runs in two processes (two `flask worker`s whose turns overlap), same moment."""
    ids = _delivered_invitations(sharer, invitee, shop, first_order, ["Bo", "Cy", "Di"])
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "test-secret"}
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", _JOB, str(tmp_path), str(n)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(2)
    ]
    deadline = time.monotonic() + 120
    while not all((tmp_path / f"ready-{n}").exists() for n in range(2)):
        assert time.monotonic() < deadline and all(r.poll() is None for r in runs)
        time.sleep(0.05)
    (tmp_path / "go").touch()
    results = [run.communicate(timeout=120) for run in runs]
    assert all(run.returncode == 0 for run in runs), results
    printed = [line for out, _err in results for line in out.splitlines()]
    outcomes = sorted(
        o for line in printed if line.startswith("outcomes:") for o in line[9:].split(",") if o
    )
    assert len(outcomes) == 6 and outcomes.count("ok") == 3, (outcomes, results)
    assert set(outcomes) <= {"ok", "decided"}
    assert _count(app, InviteReward) == 3 == _count(app, Invitation, state="rewarded")
    assert _count(app, Coupon, source="invite") == 3
    assert len(ids) == 3
