"""Attribution objects as JSON."""

from __future__ import annotations

from flask import current_app, url_for
from flask_babel import gettext as _
from flask_babel import pgettext

from commerce.attribution import credit_state, ledger_rules, payout_rules
from commerce.attribution.credit_state import CreditState
from commerce.attribution.dashboard import LinkStats, TreeNode
from commerce.attribution.explain import LineExplanation
from commerce.attribution.links import make_token
from commerce.attribution.models import Commission, Payout, Share
from commerce.attribution.schemas import (
    CommissionOut,
    CreditOut,
    CreditStatusOut,
    LineCreditsOut,
    LinkOut,
    PayoutOut,
    ShareOut,
    TreeNodeOut,
)
from commerce.orders.models import Order, OrderLine


def share_url(share: Share) -> str:
    token = make_token(current_app.config["SECRET_KEY"], share.id)
    return url_for("attribution.share_landing", token=token, _external=True)


def share_out(share: Share, title: str) -> ShareOut:
    return ShareOut(
        id=share.id,
        url=share_url(share),
        qr_svg_url=url_for("attribution_api.share_qr", share_id=share.id),
        target_kind=share.target_kind,
        target_key=share.target_key,
        target_title=title,
        parent_id=share.parent_id,
        root_id=share.root_id,
        depth=share.depth,
        created_at=share.created_at,
    )


def link_out(link: LinkStats) -> LinkOut:
    return LinkOut(
        share=share_out(link.share, link.title),
        clicks=link.clicks,
        orders=link.orders,
        earned_minor=link.earned_minor,
    )


def credit_state_label(state: str) -> str:
    # A context of their own: a commission's "paid" means paid out to its payee.
    labels = {
        credit_state.PENDING: pgettext("commission state", "Pending"),
        credit_state.AVAILABLE: pgettext("commission state", "Available"),
        credit_state.PAID: pgettext("commission state", "Paid out"),
        credit_state.CANCELLED: pgettext("commission state", "Cancelled"),
        credit_state.CLAWED_BACK: pgettext("commission state", "Clawed back"),
        credit_state.NO_PAY: pgettext("commission state", "Credit only"),
    }
    return labels.get(state, state)


def status_out(state: CreditState) -> CreditStatusOut:
    return CreditStatusOut(
        state=state.state,  # type: ignore[arg-type]
        label=credit_state_label(state.state),
        amount_minor=state.amount_minor,
        accrued_at=state.accrued_at,
        released_at=state.released_at,
        reversed_at=state.reversed_at,
        paid_at=state.paid_at,
    )


def payout_blocker_text(blocker: str | None, available: str, minimum: str) -> str | None:
    """Why the earnings page offers no payout form, in the reader's language."""
    if blocker == ledger_rules.NEGATIVE_BALANCE:
        return _(
            "No payout for now: refunds after an earlier payout are being netted against your "
            "earnings, and your available balance (%(available)s) must be positive again first.",
            available=available,
        )
    if blocker == ledger_rules.BELOW_MINIMUM:
        return _(
            "Nothing to pay out yet: you have %(available)s available and the minimum payout is "
            "%(minimum)s. Pending commissions become available when the refund window after "
            "delivery has passed.",
            available=available,
            minimum=minimum,
        )
    return None


def commission_out(
    c: Commission, line: OrderLine, order: Order, state: CreditState
) -> CommissionOut:
    return CommissionOut(
        id=c.id,
        order_public_id=order.public_id,
        credits_url=url_for("attribution.order_credits", public_id=order.public_id),
        line_title=line.title,
        role=c.role,
        level=c.level,
        rate_bp=c.rate_bp,
        base_minor=c.base_minor,
        amount_minor=c.amount_minor,
        currency=c.currency,
        reason=c.reason,
        review=c.review,
        status=status_out(state),
        created_at=c.created_at,
    )


def tree_out(node: TreeNode) -> TreeNodeOut:
    return TreeNodeOut(
        share_id=node.share.id,
        sharer_id=node.share.sharer_id,
        sharer_name=node.sharer_name,
        depth=node.share.depth,
        clicks=node.clicks,
        orders=node.orders,
        children=[tree_out(child) for child in node.children],
    )


def payout_state_label(state: str) -> str:
    # A context of their own: a paid payout has reached the payee (not an order's "paid").
    labels = {
        payout_rules.REQUESTED: pgettext("payout state", "Requested"),
        payout_rules.PAID: pgettext("payout state", "Paid"),
        payout_rules.FAILED: pgettext("payout state", "Failed"),
    }
    return labels.get(state, state)


def payout_failure_reason(payout: Payout) -> str | None:
    """The provider's failure code in words; a code we do not know gets a general sentence."""
    if payout.state != payout_rules.FAILED:
        return None
    reasons = {
        "account_closed": _("The receiving account is closed."),
        "invalid_account": _("The receiving account does not exist or cannot receive payouts."),
    }
    return reasons.get(
        payout.failure_code or "", _("The payment provider could not send this payout.")
    )


def payout_out(payout: Payout) -> PayoutOut:
    return PayoutOut(
        id=payout.id,
        amount_minor=payout.amount_minor,
        currency=payout.currency,
        state=payout.state,
        state_label=payout_state_label(payout.state),
        provider_ref=payout.provider_ref,
        created_at=payout.created_at,
        paid_at=payout.paid_at,
        failed_at=payout.failed_at,
        failure_code=payout.failure_code,
        failure_reason=payout_failure_reason(payout),
    )


def line_credits_out(item: LineExplanation) -> LineCreditsOut:
    return LineCreditsOut(
        line_id=item.line.id,
        title=item.line.title,
        base_minor=item.line.commission_base_minor,
        coupon_notes=item.coupon_notes,
        creator_name=item.creator_name,
        chain=item.chain_names,
        credits=[
            CreditOut(
                user_id=row.commission.user_id,
                name=row.name,
                role=row.commission.role,
                level=row.commission.level,
                rate_bp=row.commission.rate_bp,
                amount_minor=row.commission.amount_minor,
                currency=row.commission.currency,
                reason=row.commission.reason,
                review=row.commission.review,
                status=status_out(row.state),
                explanation=" ".join(filter(None, [row.sentence, row.review_note])),
            )
            for row in item.credits
        ],
    )
