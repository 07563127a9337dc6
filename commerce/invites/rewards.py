"""The sharer's reward: one idempotent step behind one function.

`do_reward` moves the invitation to rewarded with a conditional UPDATE, takes the sharer's
caps, writes the one `invite_rewards` row the invitation may ever have (unique invitation id)
and calls the configured rewarder, all in one savepoint: a refused step undoes all of it and the
invitation waits for the next run. Two jobs or processes racing reward once.

The hook for points: a rewarder is `(session, invitation, sharer, now) -> Given`. The coupon
rewarder is registered here; a points area registers its own at start-up,

    from commerce.invites.rewards import REWARDERS, Given
    REWARDERS["points"] = lambda session, invitation, sharer, now: Given(
        "points", ref=str(do_credit_points(session, sharer, ..., key=f"invite:{invitation.id}").id))

and INVITE_SHARER_REWARD=points chooses it. It must be idempotent by its own unique key too
(the invitation id), raise a DomainError to refuse (the invitation then waits), and pay no cash.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from flask_babel import lazy_gettext as _l
from sqlalchemy import CursorResult, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from commerce.accounts.models import User
from commerce.coupons.claims import do_grant
from commerce.errors import Conflict, DomainError
from commerce.invites import rules
from commerce.invites.models import Invitation, InviteReward, SharerRewardCount
from commerce.invites.programme import programme, template_of
from commerce.invites.services import do_move, tell
from commerce.locking import insert_ignore


@dataclass(frozen=True)
class Given:
    kind: str
    coupon_id: int | None = None
    ref: str = ""


Rewarder = Callable[[Session, Invitation, User, datetime], Given]


def coupon_rewarder(session: Session, invitation: Invitation, sharer: User, now: datetime) -> Given:
    """A coupon from the programme's platform-funded reward template (its limits hold)."""
    found = programme(session)
    template = template_of(session, found.reward_template_id) if found else None
    if template is None:
        raise Conflict(_l("The invite reward is not set up."), code="no_reward_template")
    coupon = do_grant(session, template, sharer, now, source="invite")
    return Given("coupon", coupon_id=coupon.id)


REWARDERS: dict[str, Rewarder] = {"coupon": coupon_rewarder}


class Capped(DomainError):
    status = 409
    code = "capped"


def _rows(result: Any) -> int:
    return cast(CursorResult[Any], result).rowcount


def _take_caps(session: Session, sharer_id: int, now: datetime, settings: rules.Settings) -> None:
    """SET count = count + 1 WHERE count < cap, for the day and the month (raises when full)."""
    for period, cap in rules.cap_periods(now, settings):
        insert_ignore(
            session, SharerRewardCount, {"sharer_id": sharer_id, "period": period, "count": 0}
        )
        taken = session.execute(
            update(SharerRewardCount)
            .where(
                SharerRewardCount.sharer_id == sharer_id,
                SharerRewardCount.period == period,
                SharerRewardCount.count < cap,
            )
            .values(count=SharerRewardCount.count + 1)
            .execution_options(synchronize_session=False)
        )
        if _rows(taken) != 1:
            raise Capped(_l("This sharer has had as many rewards as the cap allows for now."))


def do_reward(
    session: Session,
    invitation: Invitation,
    now: datetime,
    settings: rules.Settings,
    *,
    from_state: str = rules.FIRST_PAID,
) -> str:
    """'ok', 'decided' (someone else moved it first) or why it waits (capped, a refused step)."""
    rewarder = REWARDERS.get(settings.reward_kind)
    if rewarder is None:
        raise RuntimeError(f"no invite rewarder {settings.reward_kind!r}")
    sharer = session.get(User, invitation.sharer_id)
    assert sharer is not None
    try:
        with session.begin_nested():
            if not do_move(
                session, invitation, (from_state,), rules.REWARDED, now, rewarded_at=now
            ):
                return "decided"
            _take_caps(session, sharer.id, now, settings)
            reward = InviteReward(
                invitation_id=invitation.id, sharer_id=sharer.id, kind="", created_at=now
            )
            session.add(reward)
            session.flush()
            given = rewarder(session, invitation, sharer, now)
            reward.kind, reward.coupon_id, reward.ref = given.kind, given.coupon_id, given.ref
            session.flush()
    except IntegrityError:
        session.refresh(invitation)
        return "decided"
    except DomainError as refused:
        session.refresh(invitation)
        invitation.reason = str(refused.code)[:24]
        return str(refused.code)
    tell(session, invitation, "rewarded", sharer.id, now)
    return "ok"
