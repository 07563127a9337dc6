"""Invitations through the app: joining at sign-up, the welcome coupon, the first order, the
sharer's reward after the return window, voids, caps, and what the API and pages show."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from commerce.coupons.models import Coupon
from commerce.extensions import db
from commerce.invites.models import Invitation, InviteReward
from commerce.notifications.models import Notification, NotificationEvent
from commerce.timeutil import utcnow
from tests.commerce.invites.conftest import (
    invitation_of,
    link_of,
    open_link,
    settle_all,
    ship_and_deliver,
    sign_up,
)


def _coupons(app, user_id: int, source: str) -> list[Coupon]:
    with app.app_context():
        rows = list(db.session.scalars(select(Coupon).filter_by(user_id=user_id, source=source)))
        for row in rows:
            db.session.expunge(row)
        return rows


def test_sign_up_through_a_share_link_joins_and_gets_the_welcome_coupon(
    app, programme, sharer, invitee
):
    ann = sharer("Ann")
    api, bo_id = invitee(link_of(ann), "Bo")
    invitation = invitation_of(app, bo_id)
    assert (invitation.sharer_id, invitation.state, invitation.welcome) == (
        ann.user.id,
        "joined",
        "given",
    )
    [welcome] = _coupons(app, bo_id, "welcome")
    assert welcome.template_id == programme[0] and invitation.welcome_coupon_id == welcome.id
    mine = api.get("/api/v1/invites").get_json()
    assert mine["invited_by"]["sharer_name"] == "Ann"
    assert mine["invited_by"]["coupon_headline"] == "¥10.00 off on orders over ¥30.00"
    assert api.get("/api/v1/coupons/mine").get_json()["items"][0]["id"] == welcome.id
    with app.app_context():
        told = db.session.scalar(
            select(NotificationEvent.params)
            .join(Notification, Notification.event_id == NotificationEvent.id)
            .where(Notification.recipient_id == bo_id)
        )
        assert told["state"] == "welcome"


def test_any_share_link_of_the_sharer_counts(app, programme, sharer, invitee, shop):
    ann = sharer("Ann")
    product = shop()["product"]
    _api, bo_id = invitee(link_of(ann, "product", str(product.id)))
    assert invitation_of(app, bo_id).sharer_id == ann.user.id


def test_without_a_link_or_after_the_window_nobody_is_invited(app, programme, sharer, make_api):
    api = make_api()
    api.client.get("/")
    assert invitation_of(app, sign_up(api)) is None
    ann = sharer("Ann")
    late = make_api()
    open_link(late, link_of(ann))
    app.config["ATTRIBUTION_WINDOW_DAYS"] = 0  # the click is older than the window now
    assert invitation_of(app, sign_up(late)) is None


def test_logging_in_through_a_link_is_not_joining(app, programme, sharer, create_user, make_api):
    ann = sharer("Ann")
    old = create_user(name="Cy")
    api = make_api()
    open_link(api, link_of(ann))
    api.login(old)
    assert invitation_of(app, old.id) is None


def test_one_welcome_coupon_per_device(app, programme, sharer, invitee, make_api):
    ann = sharer("Ann")
    api, bo_id = invitee(link_of(ann), "Bo")
    api.post("/api/v1/auth/logout")
    api._token = None
    _same_browser, cy_id = invitee(link_of(ann), "Cy", api=api)
    cy = invitation_of(app, cy_id)
    assert cy.state == "joined" and cy.welcome == "device_used" and cy.welcome_coupon_id is None
    assert _coupons(app, cy_id, "welcome") == []
    assert len(_coupons(app, bo_id, "welcome")) == 1


def test_the_sharers_own_browser_gets_no_welcome_coupon(app, programme, sharer, make_api):
    ann = sharer("Ann")
    link = link_of(ann)
    ann.api.post("/api/v1/auth/logout")
    ann.api._token = None
    open_link(ann.api, link)
    second = invitation_of(app, sign_up(ann.api, "Ann again"))
    assert second.sharer_id == ann.user.id and second.welcome == "own_device"


def test_a_paused_welcome_template_still_records_the_invitation(app, programme, sharer, invitee):
    from commerce.coupons.models import CouponTemplate

    with app.app_context():
        db.session.get(CouponTemplate, programme[0]).state = "paused"
        db.session.commit()
    _api, bo_id = invitee(link_of(sharer("Ann")))
    invitation = invitation_of(app, bo_id)
    assert invitation.state == "joined" and invitation.welcome == "unavailable"


def test_first_order_then_return_window_rewards_the_sharer_once(
    app, programme, sharer, invitee, shop, first_order
):
    ann = sharer("Ann")
    api, bo_id = invitee(link_of(ann), "Bo")
    store = shop()
    order_id = first_order(api, bo_id, store)
    invitation = invitation_of(app, bo_id)
    assert invitation.state == "first_paid" and invitation.address_key
    listed = ann.api.get("/api/v1/invites").get_json()["invitations"]
    assert [(i["invitee_name"], i["shown"]) for i in listed] == [("Bo", "ordered")]

    assert settle_all(app) == []  # not delivered: not even a candidate
    ship_and_deliver(store, order_id)
    listed = ann.api.get("/api/v1/invites").get_json()["invitations"]
    assert listed[0]["shown"] == "reward_on" and listed[0]["date"]
    assert settle_all(app, utcnow()) == []  # the return window is still open
    assert settle_all(app) == ["ok"]
    assert settle_all(app) == []  # once
    [reward] = _coupons(app, ann.user.id, "invite")
    assert reward.template_id == programme[1]
    with app.app_context():
        row = db.session.scalar(select(InviteReward))
        assert (row.sharer_id, row.kind, row.coupon_id) == (ann.user.id, "coupon", reward.id)
        assert db.session.scalar(select(func.count()).select_from(InviteReward)) == 1
    listed = ann.api.get("/api/v1/invites").get_json()["invitations"]
    assert listed[0]["shown"] == "rewarded" and listed[0]["state"] == "rewarded"


def test_a_later_order_never_counts_after_the_first_was_refunded(
    app, programme, sharer, invitee, shop, first_order
):
    ann = sharer("Ann")
    api, bo_id = invitee(link_of(ann))
    store = shop()
    order_id = first_order(api, bo_id, store)
    refunded = store["api"].post(
        f"/api/v1/orders/{order_id}/refund",
        {"amount_minor": 4000, "reason": "changed mind", "restock": True},
        headers={"Idempotency-Key": "r1"},
    )
    assert refunded.status_code in (200, 201), refunded.get_json()
    invitation = invitation_of(app, bo_id)
    assert (invitation.state, invitation.reason) == ("void", "refunded")
    second = first_order(api, bo_id, store)
    ship_and_deliver(store, second)
    assert settle_all(app) == []
    assert invitation_of(app, bo_id).state == "void"
    assert _coupons(app, ann.user.id, "invite") == []


def test_an_order_below_the_minimum_is_not_the_first_order(
    app, programme, sharer, invitee, shop, first_order
):
    ann = sharer("Ann")
    api, bo_id = invitee(link_of(ann))
    first_order(api, bo_id, shop(price_minor=500))
    assert invitation_of(app, bo_id).state == "joined"
    first_order(api, bo_id, shop(price_minor=5000))
    assert invitation_of(app, bo_id).state == "first_paid"


def test_joined_invitations_expire_by_the_job_and_on_read(app, programme, sharer, invitee):
    from commerce.invites import services

    ann = sharer("Ann")
    _api, bo_id = invitee(link_of(ann))
    with app.app_context():
        row = db.session.scalar(select(Invitation).filter_by(invitee_id=bo_id))
        row.order_by_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    listed = ann.api.get("/api/v1/invites").get_json()["invitations"]
    assert (listed[0]["state"], listed[0]["reason"]) == ("void", "expired")  # on read
    assert invitation_of(app, bo_id).state == "joined"
    with app.app_context():
        assert services.do_expire_joined(db.session, utcnow()) == 1
        db.session.commit()
    assert (invitation_of(app, bo_id).state, invitation_of(app, bo_id).reason) == (
        "void",
        "expired",
    )


def test_the_daily_cap_makes_the_next_reward_wait(
    app, programme, sharer, invitee, shop, first_order
):
    app.config["INVITE_SHARER_DAILY_CAP"] = 1
    ann = sharer("Ann")
    link = link_of(ann)
    store = shop()
    for name in ("Bo", "Cyd"):
        api, user_id = invitee(link, name)
        ship_and_deliver(
            store,
            first_order(
                api, user_id, store, address={"line1": name, "phone": f"139{len(name)}0000000"}
            ),
        )
    assert sorted(settle_all(app)) == ["capped", "ok"]
    assert len(_coupons(app, ann.user.id, "invite")) == 1
    with app.app_context():
        waiting = db.session.scalar(select(Invitation).filter_by(state="first_paid"))
        assert waiting.reason == "capped"
    app.config["INVITE_SHARER_DAILY_CAP"] = 2
    assert settle_all(app) == ["ok"]


def test_the_programmes_coupons_are_given_never_claimed(
    app, programme, shop, create_user, make_api
):
    product = shop()["product"]
    api = make_api(create_user(name="Cy"))
    offered = api.get(f"/api/v1/coupons/available?product_id={product.id}").get_json()["items"]
    assert [t["id"] for t in offered if t["id"] in programme] == []
    for template_id in programme:
        claimed = api.post(f"/api/v1/coupons/templates/{template_id}/claim", {})
        assert claimed.status_code == 409 and claimed.get_json()["error"]["code"] == "granted"
    rules = api.get(f"/api/v1/coupons/templates/{programme[1]}").get_json()["rules_text"]
    assert "Given by the platform (invite rewards), never claimed." in rules


def test_a_merchant_cannot_make_a_given_coupon(app, create_user, make_api):
    from tests.commerce.coupons.conftest import template_body

    merchant = make_api(create_user(merchant=True))
    made = merchant.post("/api/v1/coupons/templates", template_body(audience="granted"))
    assert made.status_code == 400 and "audience" in made.get_json()["error"]["fields"]
