"""One reward per person in the app (flags to review, an operator approves or rejects) and the
pages: Invite friends, the invite landing, the sign-up offer, the review list, in both languages."""

from __future__ import annotations

from sqlalchemy import select

from commerce.accounts.models import User
from commerce.attribution.models import FraudFlag
from commerce.coupons.models import Coupon
from commerce.extensions import db
from tests.commerce.invites.conftest import (
    invitation_of,
    link_of,
    open_link,
    settle_all,
    ship_and_deliver,
    sign_up,
)
from tests.commerce.orders.conftest import ADDRESS


def _flagged_invitation(app, sharer, invitee, shop, first_order, create_address):
    """Bo's first order goes to Ann's own saved flat (another name, another phone)."""
    ann = sharer("Ann")
    create_address(ann.user)
    api, bo_id = invitee(link_of(ann), "Bo")
    store = shop()
    order_id = first_order(
        api, bo_id, store, address={"name": "Bo", "phone": "13911112222", "line1": "1 Nanjing Rd."}
    )
    ship_and_deliver(store, order_id)
    assert settle_all(app) == ["flagged"]
    return ann, bo_id


def _admin(app, create_user, make_api):
    admin = create_user(name="Op")
    with app.app_context():
        db.session.get(User, admin.id).is_admin = True
        db.session.commit()
    return make_api(admin)


def test_same_address_as_the_sharer_is_flagged_then_approved(
    app, programme, sharer, invitee, shop, first_order, create_address, create_user, make_api
):
    ann, bo_id = _flagged_invitation(app, sharer, invitee, shop, first_order, create_address)
    invitation = invitation_of(app, bo_id)
    assert invitation.state == "flagged"
    with app.app_context():
        [flag] = db.session.scalars(select(FraudFlag)).all()
        assert (flag.kind, flag.subject, flag.user_id) == (
            "invite_same_address",
            f"invite:{invitation.id}",
            ann.user.id,
        )
    shown = ann.api.get("/api/v1/invites").get_json()["invitations"][0]
    assert shown["shown"] == "review"
    assert settle_all(app) == []  # flagged: the job leaves it to the operator

    # Anyone but an admin is refused.
    refused = ann.api.client.post(
        f"/admin/invites/{invitation.id}/approve", data={"csrf_token": ann.api.token()}
    )
    assert refused.status_code == 403
    admin = _admin(app, create_user, make_api)
    page = admin.client.get("/admin/invites").get_data(as_text=True)
    assert f'data-invitation-id="{invitation.id}"' in page and "invite_same_address" in page
    decided = admin.client.post(
        f"/admin/invites/{invitation.id}/approve", data={"csrf_token": admin.token()}
    )
    assert decided.status_code == 302
    after = invitation_of(app, bo_id)
    assert (after.state, after.review) == ("rewarded", "approved")
    with app.app_context():
        assert db.session.scalar(select(FraudFlag.state)) == "dismissed"
        assert db.session.scalar(select(Coupon).filter_by(user_id=ann.user.id, source="invite"))
    again = admin.client.post(
        f"/admin/invites/{invitation.id}/approve", data={"csrf_token": admin.token()}
    )
    assert again.status_code == 409  # decided once


def test_a_rejected_invitation_is_void_and_rewards_nobody(
    app, programme, sharer, invitee, shop, first_order, create_address, create_user, make_api
):
    ann, bo_id = _flagged_invitation(app, sharer, invitee, shop, first_order, create_address)
    invitation = invitation_of(app, bo_id)
    admin = _admin(app, create_user, make_api)
    admin.client.post(f"/admin/invites/{invitation.id}/reject", data={"csrf_token": admin.token()})
    after = invitation_of(app, bo_id)
    assert (after.state, after.reason) == ("void", "rejected")
    with app.app_context():
        assert db.session.scalar(select(FraudFlag.state)) == "confirmed"
        assert (
            db.session.scalar(select(Coupon).filter_by(user_id=ann.user.id, source="invite"))
            is None
        )
    assert (
        admin.client.post(
            f"/admin/invites/{invitation.id}/whatever", data={"csrf_token": admin.token()}
        ).status_code
        == 404
    )


def test_the_sharers_second_account_on_her_own_browser_is_flagged(
    app, programme, sharer, shop, first_order
):
    ann = sharer("Ann")
    link = link_of(ann)
    ann.api.post("/api/v1/auth/logout")
    ann.api._token = None
    open_link(ann.api, link)
    alt_id = sign_up(ann.api, "Ann 2")
    store = shop()
    ship_and_deliver(
        store, first_order(ann.api, alt_id, store, address={"line1": "9 Other St", "phone": "1"})
    )
    assert settle_all(app) == ["flagged"]
    with app.app_context():
        assert db.session.scalar(select(FraudFlag.kind)) == "invite_same_device"


def test_a_burst_of_sign_ups_from_one_network_is_flagged(
    app, programme, sharer, invitee, shop, first_order
):
    app.config["INVITE_IP_SIGNUPS"] = 1
    ann = sharer("Ann")
    link = link_of(ann)
    store = shop()
    for name, phone in (("Bo", "13900000001"), ("Cy", "13900000002")):
        api, user_id = invitee(link, name, ip="192.0.2.7")
        ship_and_deliver(
            store,
            first_order(api, user_id, store, address={"line1": f"{name} Lane", "phone": phone}),
        )
    assert sorted(settle_all(app)) == ["flagged", "flagged"]


def test_the_api_needs_a_login_and_shows_no_personal_data(
    app, programme, sharer, invitee, make_api
):
    assert make_api().get("/api/v1/invites").status_code == 401
    ann = sharer("Ann")
    _api, bo_id = invitee(link_of(ann), "Bo")
    with app.app_context():
        email = db.session.get(User, bo_id).email
    body = ann.api.get("/api/v1/invites")
    assert body.status_code == 200
    data = body.get_json()
    assert email not in body.get_data(as_text=True)
    assert data["share"] == {"target_kind": "invite", "target_key": "join"}
    assert data["counts"]["joined"] == 1 and data["invited_by"] is None
    assert any("never cash" in line for line in data["rules"]["lines"])
    assert data["rules"]["welcome_headline"] == "¥10.00 off on orders over ¥30.00"


def test_invite_friends_page_in_both_languages(app, programme, sharer, invitee):
    ann = sharer("Ann")
    invitee(link_of(ann), "Bo")
    page = ann.api.client.get("/me/invites").get_data(as_text=True)
    assert "Invite friends" in page and 'data-shown="joined"' in page and "Bo" in page
    assert 'data-target-kind="invite"' in page and "Rewards are coupons, never cash" in page
    ann.api.client.set_cookie("lang", "zh_Hans", domain="localhost")
    page = ann.api.client.get("/me/invites").get_data(as_text=True)
    assert "邀请好友" in page and "奖励是优惠券，绝不是现金" in page


def test_the_link_lands_on_the_offer_and_the_sign_up_page_shows_it(
    app, programme, sharer, make_api
):
    ann = sharer("Ann")
    visitor = make_api()
    landed = open_link(visitor, link_of(ann))
    assert landed.headers["Location"].endswith("/invite")
    page = visitor.client.get("/invite").get_data(as_text=True)
    assert "Ann invited you." in page and "¥10.00 off on orders over ¥30.00" in page
    signup = visitor.client.get("/signup").get_data(as_text=True)
    assert 'id="invite-signup-offer"' in signup and "Ann invited you" in signup
    # Without a link there is no offer.
    assert 'id="invite-signup-offer"' not in make_api().client.get("/signup").get_data(as_text=True)


def test_the_sign_up_form_lands_with_the_welcome_banner(app, programme, sharer, make_api):
    ann = sharer("Ann")
    visitor = make_api()
    open_link(visitor, link_of(ann))
    made = visitor.client.post(
        "/signup?next=/me/invites",
        data={
            "email": "bo@example.com",
            "display_name": "Bo",
            "password": "correct-horse-9",
            "csrf_token": visitor.token(),
        },
    )
    assert made.status_code == 302 and made.headers["Location"].endswith("/me/invites")
    page = visitor.client.get("/me/invites").get_data(as_text=True)
    assert "Ann invited you: your welcome coupon (¥10.00 off on orders over ¥30.00)" in page
    assert 'id="invite-welcome"' in page and 'data-welcome="given"' in page


def test_the_me_page_links_to_invite_friends(app, sharer):
    ann = sharer("Ann")
    assert "/me/invites" in ann.api.client.get("/me").get_data(as_text=True)


def test_seeding_twice_keeps_one_programme(app, programme):
    from commerce.invites import programme as programmes
    from commerce.timeutil import utcnow

    with app.app_context():
        again = programmes.do_ensure_programme(db.session, programmes.Amounts(), utcnow())
        assert (again.welcome_template_id, again.reward_template_id) == programme


ADDRESS_USED = ADDRESS  # the factory's default flat: what the sharer saved in these tests
