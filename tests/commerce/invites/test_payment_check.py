"""The payment check of one reward per person, through the app: orders placed and paid on the
sandbox's page with a card, the webhook delivered, the first order delivered, the reward job.
The invitee paying with the sharer's card (or with another invitee's) is held for review; the
same story with cards of their own is rewarded."""

from __future__ import annotations

from sqlalchemy import select

from commerce.accounts.models import User
from commerce.attribution.models import FraudFlag
from commerce.extensions import db
from commerce.payments.models import Payment
from tests.commerce.invites.conftest import (
    invitation_of,
    link_of,
    settle_all,
    ship_and_deliver,
)

VISA, MASTERCARD, UNIONPAY, JCB = (
    "4242424242424242",
    "5555555555554444",
    "6200000000000005",
    "3566002020360505",
)


def _buy(first_order, api, user_id, store, card: str, n: int) -> str:
    """A paid order to an address and phone of this person's own (only the card may match)."""
    return first_order(
        api,
        user_id,
        store,
        card=card,
        address={"line1": f"{n} Own Street", "phone": f"1390000{n:04d}"},
    )


def _flags(app) -> list[tuple[str, str]]:
    with app.app_context():
        return [
            (f.kind, f.detail) for f in db.session.scalars(select(FraudFlag).order_by(FraudFlag.id))
        ]


def _ann_bought_with(card, app, sharer, shop, first_order):
    ann = sharer("Ann")
    store = shop()
    ship_and_deliver(store, _buy(first_order, ann.api, ann.user.id, store, card, 1))
    return ann, store


def test_the_invitee_paying_with_the_sharers_card_is_held_for_review(
    app, programme, sharer, invitee, shop, first_order, create_user, make_api
):
    ann, store = _ann_bought_with(MASTERCARD, app, sharer, shop, first_order)
    api, bo_id = invitee(link_of(ann), "Bo")
    ship_and_deliver(store, _buy(first_order, api, bo_id, store, "5555 5555 5555 4444", 2))

    assert settle_all(app) == ["flagged"]
    invitation = invitation_of(app, bo_id)
    assert invitation.state == "flagged"
    [(kind, detail)] = _flags(app)
    assert kind == "invite_same_payment" and detail.startswith("invitee and sharer")
    assert ann.api.get("/api/v1/invites").get_json()["invitations"][0]["shown"] == "review"

    admin = create_user(name="Op")
    with app.app_context():
        db.session.get(User, admin.id).is_admin = True
        db.session.commit()
        fingerprint = db.session.scalar(select(Payment.instrument_fingerprint).limit(1))
    op = make_api(admin)
    english = op.client.get("/admin/invites").get_data(as_text=True)
    assert f'data-invitation-id="{invitation.id}"' in english
    assert "Same payment card" in english and 'data-kind="invite_same_payment"' in english
    op.client.set_cookie("lang", "zh_Hans", domain="localhost")
    chinese = op.client.get("/admin/invites").get_data(as_text=True)
    assert "相同支付卡" in chinese and "Same payment card" not in chinese
    assert fingerprint and fingerprint not in english + chinese  # the reason, never the card
    decided = op.client.post(
        f"/admin/invites/{invitation.id}/approve", data={"csrf_token": op.token()}
    )
    assert decided.status_code == 302
    assert invitation_of(app, bo_id).state == "rewarded"


def test_the_same_story_with_cards_of_their_own_is_rewarded(
    app, programme, sharer, invitee, shop, first_order
):
    ann, store = _ann_bought_with(MASTERCARD, app, sharer, shop, first_order)
    api, bo_id = invitee(link_of(ann), "Bo")
    ship_and_deliver(store, _buy(first_order, api, bo_id, store, VISA, 2))

    assert settle_all(app) == ["ok"]
    assert invitation_of(app, bo_id).state == "rewarded"
    assert _flags(app) == []


def test_two_invitees_paying_with_one_card_are_both_held_the_third_is_rewarded(
    app, programme, sharer, invitee, shop, first_order
):
    ann = sharer("Ann")
    link, store = link_of(ann), shop()
    people = {}
    for n, (name, card) in enumerate((("Bo", UNIONPAY), ("Cy", UNIONPAY), ("Di", JCB)), start=2):
        api, user_id = invitee(link, name)
        ship_and_deliver(store, _buy(first_order, api, user_id, store, card, n))
        people[name] = user_id

    assert sorted(settle_all(app)) == ["flagged", "flagged", "ok"]
    assert {name: invitation_of(app, i).state for name, i in people.items()} == {
        "Bo": "flagged",
        "Cy": "flagged",
        "Di": "rewarded",
    }
    flags = _flags(app)
    assert [kind for kind, _detail in flags] == ["invite_same_payment"] * 2
    assert all(detail.startswith("another invitee of this sharer") for _kind, detail in flags)


def test_a_void_invitees_card_no_longer_counts(app, programme, sharer, invitee, shop, first_order):
    """Bo's first order was refunded (his invitation void): Cy paying with the same card is not
    compared with a person who is no longer an invitee."""
    ann = sharer("Ann")
    link, store = link_of(ann), shop()
    bo_api, bo_id = invitee(link, "Bo")
    bo_order = _buy(first_order, bo_api, bo_id, store, JCB, 2)
    whole = {"amount_minor": 4000, "reason": "out of stock", "restock": True}  # ¥50 - ¥10 welcome
    refunded = store["api"].post(
        f"/api/v1/orders/{bo_order}/refund", whole, headers={"Idempotency-Key": "r1"}
    )
    assert refunded.status_code == 200, refunded.get_json()
    assert invitation_of(app, bo_id).state == "void"
    cy_api, cy_id = invitee(link, "Cy")
    ship_and_deliver(store, _buy(first_order, cy_api, cy_id, store, JCB, 3))
    assert settle_all(app) == ["ok"]
    assert invitation_of(app, cy_id).state == "rewarded"
