"""The invite programme's two platform coupon templates: the welcome coupon and the sharer's
reward. Seeded once by `flask setup` / `flask demo` (`flask invites seed`), owned by a platform
account that never logs in, pointed elsewhere with `flask invites templates`."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from commerce.accounts.models import User
from commerce.coupons.models import GRANTED, CouponTemplate
from commerce.coupons.rules import PLATFORM, SHOP
from commerce.invites.models import InviteProgramme

PROGRAMME_ID = 1
OPERATOR_EMAIL = "invites@liveshop.invalid"  # owns the platform's templates; never logs in


@dataclass(frozen=True)
class Amounts:
    """What `flask setup` seeds the two platform templates with (config: INVITE_WELCOME_*,
    INVITE_REWARD_*); operators change them later on the platform coupons page."""

    currency: str = "CNY"
    welcome_minor: int = 1000
    welcome_min_spend_minor: int = 3000
    welcome_valid_days: int = 14
    reward_minor: int = 1000
    reward_min_spend_minor: int = 3000
    reward_valid_days: int = 30


def programme(session: Session) -> InviteProgramme | None:
    return session.get(InviteProgramme, PROGRAMME_ID)


def template_of(session: Session, template_id: int | None) -> CouponTemplate | None:
    return session.get(CouponTemplate, template_id) if template_id is not None else None


def _operator(session: Session) -> User:
    user = session.scalar(select(User).where(User.email == OPERATOR_EMAIL))
    if user is None:
        user = User(email=OPERATOR_EMAIL, display_name="LiveShop", bio="")
        user.password_hash = generate_password_hash(secrets.token_urlsafe(32))
        session.add(user)
        session.flush()
    return user


def _template(owner: User, now: datetime, **values: Any) -> CouponTemplate:
    return CouponTemplate(
        owner_id=owner.id,
        funded_by=PLATFORM,
        merchant_id=None,
        kind="amount",
        scope=SHOP,
        claim_starts_at=now,
        claim_ends_at=now + timedelta(days=3650),
        total=10_000_000,
        created_at=now,
        **values,
    )


def do_ensure_programme(session: Session, amounts: Amounts, now: datetime) -> InviteProgramme:
    """The welcome and reward templates, created once (a second run changes nothing)."""
    found = programme(session)
    if found is not None and found.welcome_template_id and found.reward_template_id:
        return found
    owner = _operator(session)
    welcome = _template(
        owner,
        now,
        title="Welcome coupon · 新人券",
        currency=amounts.currency,
        amount_minor=amounts.welcome_minor,
        min_spend_minor=amounts.welcome_min_spend_minor,
        valid_days=amounts.welcome_valid_days,
        per_person=1,
        audience=GRANTED,
    )
    reward = _template(
        owner,
        now,
        title="Invite reward · 邀请奖励",
        currency=amounts.currency,
        amount_minor=amounts.reward_minor,
        min_spend_minor=amounts.reward_min_spend_minor,
        valid_days=amounts.reward_valid_days,
        per_person=1,  # granted: one per invitation (the programme's rule), not per holder
        audience=GRANTED,
    )
    session.add_all([welcome, reward])
    session.flush()
    if found is None:
        found = InviteProgramme(id=PROGRAMME_ID)
        session.add(found)
    found.welcome_template_id, found.reward_template_id = welcome.id, reward.id
    found.owner_id, found.updated_at = owner.id, now
    session.flush()
    return found


def do_set_templates(
    session: Session, now: datetime, *, welcome_id: int | None, reward_id: int | None
) -> InviteProgramme:
    """Point the programme at other platform templates (`flask invites templates`)."""
    found = programme(session) or InviteProgramme(id=PROGRAMME_ID)
    session.add(found)
    for template_id in (welcome_id, reward_id):
        template = template_of(session, template_id)
        if template_id is not None and (template is None or template.funded_by != PLATFORM):
            raise ValueError(f"template {template_id} is not a platform-funded template")
    if welcome_id is not None:
        found.welcome_template_id = welcome_id
    if reward_id is not None:
        found.reward_template_id = reward_id
    found.updated_at = now
    session.flush()
    return found


def programme_templates(
    session: Session,
) -> tuple[CouponTemplate | None, CouponTemplate | None]:
    found = programme(session)
    if found is None:
        return None, None
    return (
        template_of(session, found.welcome_template_id),
        template_of(session, found.reward_template_id),
    )
