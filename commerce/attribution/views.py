"""Attribution pages: the share landing /s/<token>, earnings, studio earnings, order credits."""

from __future__ import annotations

import secrets
from urllib.parse import urljoin

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from commerce.accounts.auth import current_user, login_required, require_creator, require_user
from commerce.attribution import charts, dashboard, explain, ledger, payouts, services
from commerce.attribution.crediting import policy_from_config
from commerce.attribution.explain import percent
from commerce.attribution.ledger_rules import AVAILABLE, payout_blocker
from commerce.attribution.links import (
    ASK,
    RECORD,
    Target,
    find_target,
    has_ad_click_id,
    is_confirmation,
    navigation_verdict,
    read_token,
)
from commerce.attribution.models import Share
from commerce.attribution.present import (
    credit_state_label,
    payout_blocker_text,
    payout_failure_reason,
    payout_state_label,
)
from commerce.attribution.rules import CREATOR
from commerce.errors import DomainError, NotFound, ValidationFailed
from commerce.extensions import db
from commerce.money import MoneyError, format_major, format_money, parse_major
from commerce.payments.webhooks import webhook_url
from commerce.security import forbid_framing
from commerce.timeutil import utcnow
from commerce.visitor import hash_ip, hash_user_agent, issue_visitor_id

bp = Blueprint("attribution", __name__)


def _shared(token: str) -> tuple[Share, Target]:
    share_id = read_token(current_app.config["SECRET_KEY"], token)
    if share_id is None:
        raise NotFound(_("This share link is not valid."))
    share = services.access_share(db.session, share_id)
    target = find_target(db.session, share.target_kind, share.target_key)
    if target is None:
        raise NotFound(_("What was shared here is no longer available."))
    return share, target


def _record_and_go(share: Share, target: Target) -> Response:
    """Record the click (unless this network is flooding), then send the person to the target."""
    now = utcnow()
    ip_hash = hash_ip(request.remote_addr)
    if not services.click_rate_exceeded(
        db.session, ip_hash=ip_hash, now=now, limit=current_app.config["CLICK_RATE_LIMIT"]
    ):
        click = services.do_record_click(
            db.session,
            share,
            visitor_id=issue_visitor_id(),
            user=current_user(),
            ip_hash=ip_hash,
            user_agent_hash=hash_user_agent(request.headers.get("User-Agent")),
            ad_click_id=has_ad_click_id(request.args),
            now=now,
        )
        db.session.commit()
        session["referral"] = click.id  # the session only points at the recorded click
    # The disclosure travels with the person: they never see this page, only the target.
    flash(
        _(
            "You opened %(name)s's link: they may earn a commission if you buy.",
            name=share.sharer.display_name,
        )
    )
    return redirect(target.path, code=302)


@bp.get("/s/<token>")
def share_landing(token: str) -> str | Response:
    """A person's own navigation is recorded, then redirected; see links.navigation_verdict.

    Unfurlers (chat apps fetching the preview), prefetches, iframes and images see the Open Graph
    page and nothing is written. A navigation nobody is known to have made (a third-party page
    redirecting the top window, or a browser without Fetch Metadata) sees the same page with a
    Continue button, and only that tap records the click.
    """
    share, target = _shared(token)
    verdict = navigation_verdict(request.method, request.headers, request.headers.get("User-Agent"))
    if verdict == RECORD:
        return _record_and_go(share, target)
    image = urljoin(request.host_url, target.image_url) if target.image_url else None
    forbid_framing()  # the Continue button must not be clickjacked from inside a frame
    return render_template(
        "attribution/landing.html",
        share=share,
        target=target,
        image_url=image,
        page_url=request.base_url,
        target_url=urljoin(request.host_url, target.path),
        ask=verdict == ASK,
        continue_url=request.full_path.rstrip("?"),
    )


@bp.post("/s/<token>")
def share_continue(token: str) -> Response:
    """The landing's Continue tap (a form with CSRF): the person chose to follow the link."""
    share, target = _shared(token)
    if not is_confirmation(request.headers, request.headers.get("User-Agent")):
        return redirect(target.path, code=303)
    return _record_and_go(share, target)


@bp.get("/earnings")
@login_required
def earnings() -> str:
    user = require_user()
    now = utcnow()
    clicks = dashboard.clicks_per_day(db.session, user, now)
    balances = ledger.balances_for(db.session, user.id)
    currency = current_app.config["DEFAULT_CURRENCY"]
    minimum = current_app.config["PAYOUT_MINIMUM_MINOR"]
    available = balances.get(currency, {}).get(AVAILABLE, 0)
    links = dashboard.my_links(db.session, user, cursor=request.args.get("links_cursor") or None)
    return render_template(
        "attribution/earnings.html",
        balances=balances,
        payout_blocked=payout_blocker_text(
            payout_blocker(available, minimum),
            available=format_money(available, currency),
            minimum=format_money(minimum, currency),
        ),
        minimum=minimum,
        minimum_major=format_major(minimum, currency),
        links=links.links,
        older_links=(
            url_for("attribution.earnings", links_cursor=links.next_cursor)
            if links.next_cursor
            else None
        ),
        clicks_chart=charts.bar_chart(clicks, label=_("Clicks per day, last 30 days")),
        clicks_total=sum(n for _, n in clicks),
        commissions=dashboard.my_commissions(db.session, user),
        tree=dashboard.downstream_tree(db.session, user),
        payouts=payouts.payouts_of(db.session, user.id),
        payout_label=payout_state_label,
        payout_reason=payout_failure_reason,
        idempotency_key=secrets.token_urlsafe(16),
        currency=currency,
        state_label=credit_state_label,
    )


@bp.post("/earnings/payouts")
@login_required
def request_payout() -> Response:
    user = require_user()
    form = request.form
    currency = (form.get("currency") or current_app.config["DEFAULT_CURRENCY"]).upper()
    try:
        try:
            amount = parse_major(form.get("amount", ""), currency)
        except (MoneyError, KeyError) as exc:
            raise ValidationFailed(_("Enter an amount like 12.30.")) from exc
        payout = payouts.do_request_payout(
            db.session,
            user,
            amount_minor=amount,
            currency=currency,
            idempotency_key=(form.get("idempotency_key") or "")[:80] or secrets.token_urlsafe(16),
            minimum_minor=current_app.config["PAYOUT_MINIMUM_MINOR"],
            webhook_url=webhook_url(),
            now=utcnow(),
        )
    except DomainError as error:
        db.session.rollback()
        flash(error.message)
        return redirect(url_for("attribution.earnings"))
    db.session.commit()
    flash(
        _(
            "Payout of %(amount)s requested: it shows as paid when the payment provider confirms.",
            amount=format_money(payout.amount_minor, payout.currency),
        )
    )
    return redirect(url_for("attribution.earnings"))


@bp.get("/studio/earnings")
@login_required
def studio_earnings() -> str:
    user = require_creator()
    series = dashboard.commissions_per_day(db.session, user, utcnow(), role=CREATOR)
    charts_by_currency = {
        currency: charts.bar_chart(
            points,
            label=_("Creator commissions per day, last 30 days"),
            value_text=lambda v, c=currency: format_money(v, c),
        )
        for currency, points in series.items()
    }
    return render_template(
        "attribution/studio_earnings.html",
        balances=ledger.balances_for(db.session, user.id),
        charts=charts_by_currency,
        totals={c: sum(v for _, v in points) for c, points in series.items()},
        commissions=dashboard.my_commissions(db.session, user, role=CREATOR),
        state_label=credit_state_label,
    )


@bp.get("/orders/<public_id>/credits")
@login_required
def order_credits(public_id: str) -> str:
    order = explain.access_order_credits(db.session, public_id, require_user())
    policy = policy_from_config(current_app.config)
    return render_template(
        "attribution/credits.html",
        order=order,
        lines=explain.explain_order(db.session, order, policy),
        policy=policy,
        percent=percent,
        state_label=credit_state_label,
        window_days=current_app.config["ATTRIBUTION_WINDOW_DAYS"],
        hold_days=current_app.config["COMMISSION_HOLD_DAYS"],
    )
