"""Any sequence of credits, spends, refunds' take-backs and expiry runs over a moving clock: the
balance always equals the sum of the entries, each entry's balance_after is the running sum,
nothing is ever negative, and what expires never exceeds what was credited with that date."""

from __future__ import annotations

import contextlib
import uuid
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from commerce.extensions import db
from commerce.points import ledger, rules, services
from commerce.points.models import EXPIRE, GRANT, SPEND, PointsAccount, PointsEntry
from commerce.timeutil import utcnow

steps = st.lists(
    st.one_of(
        st.tuples(st.just("credit"), st.integers(1, 500), st.integers(1, 40)),
        st.tuples(st.just("spend"), st.integers(1, 800), st.just(0)),
        st.tuples(st.just("take_back"), st.integers(1, 300), st.just(0)),
        st.tuples(st.just("expire"), st.integers(0, 30), st.just(0)),
        st.tuples(st.just("replay"), st.just(0), st.just(0)),
    ),
    min_size=1,
    max_size=25,
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=steps)
def test_the_ledger_never_goes_negative_and_always_adds_up(app, create_user, steps):
    user = create_user()
    clock = utcnow()
    keys: list[str] = []
    with app.app_context():
        session = db.session
        for op, n, days in steps:
            key = f"{op}:{uuid.uuid4().hex}"
            if op == "credit":
                ledger.post(
                    session,
                    user_id=user.id,
                    kind=GRANT,
                    amount=n,
                    key=key,
                    now=clock,
                    expires_at=clock + timedelta(days=days),
                )
                keys.append(key)
            elif op == "spend":
                with contextlib.suppress(ledger.InsufficientPoints):  # refused: nothing written
                    ledger.post(session, user_id=user.id, kind=SPEND, amount=-n, key=key, now=clock)
            elif op == "take_back":
                account = ledger.lock_account(session, user.id)
                taken, short = rules.take_back(n, account.balance)
                ledger.post(
                    session,
                    user_id=user.id,
                    kind="purchase_back",
                    amount=-taken,
                    key=key,
                    now=clock,
                    shortfall=short,
                )
            elif op == "expire":
                clock += timedelta(days=n)
                services.do_expire_due(session, clock)
            elif keys:  # a replayed credit appends nothing
                assert (
                    ledger.post(
                        session, user_id=user.id, kind=GRANT, amount=1, key=keys[-1], now=clock
                    )
                    is None
                )
            session.commit()

            stored = session.scalar(
                select(PointsAccount.balance).where(PointsAccount.user_id == user.id)
            )
            rows = session.scalars(
                select(PointsEntry).where(PointsEntry.user_id == user.id).order_by(PointsEntry.id)
            ).all()
            running = 0
            for row in rows:
                running += row.amount
                assert row.balance_after == running >= 0
            assert (stored or 0) == running >= 0
            expired = -sum(r.amount for r in rows if r.kind == EXPIRE)
            credited_due = sum(
                r.amount
                for r in rows
                if r.amount > 0 and r.expires_at is not None and r.expires_at <= clock
            )
            assert 0 <= expired <= credited_due
        # After a final run far ahead every dated point has expired.
        services.do_expire_due(session, clock + timedelta(days=365))
        session.commit()
        left = session.scalar(
            select(func.coalesce(func.sum(PointsEntry.amount), 0)).where(
                PointsEntry.user_id == user.id
            )
        )
        assert left == 0


def test_a_credit_older_by_id_but_dated_later_still_expires(app, create_user):
    """The example the property test found: the later-dated credit came first."""
    user = create_user()
    clock = utcnow()
    with app.app_context():
        session = db.session
        for n, days in ((1, 40), (5, 5)):
            ledger.post(
                session,
                user_id=user.id,
                kind=GRANT,
                amount=n,
                key=f"credit:{uuid.uuid4().hex}",
                now=clock,
                expires_at=clock + timedelta(days=days),
            )
        session.commit()
        services.do_expire_due(session, clock + timedelta(days=6))
        session.commit()
        assert ledger.balance_of(session, user.id) == 1
        services.do_expire_due(session, clock + timedelta(days=41))
        session.commit()
        assert ledger.balance_of(session, user.id) == 0
