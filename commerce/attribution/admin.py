"""Admin pages: held commissions with the flags that held them; approve, reject, ban the sharer."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from commerce.accounts.auth import login_required, require_user
from commerce.attribution import review
from commerce.errors import NotFound
from commerce.extensions import db
from commerce.orders.models import Order, OrderLine
from commerce.timeutil import utcnow

bp = Blueprint("attribution_admin", __name__, url_prefix="/admin")


@bp.get("/commissions")
@login_required
def commissions() -> str:
    review.check_admin(require_user())
    held = review.held_commissions(db.session)
    rows = []
    if held:
        lines = {
            line.id: (line, order)
            for line, order in db.session.execute(
                select(OrderLine, Order)
                .join(Order, Order.id == OrderLine.order_id)
                .where(OrderLine.id.in_([c.order_line_id for c in held]))
            )
        }
        rows = [(c, *lines[c.order_line_id]) for c in held]
    flags = review.flags_by_order(db.session, sorted({order.id for _, _, order in rows}))
    return render_template("attribution/admin_commissions.html", rows=rows, flags=flags)


@bp.post("/commissions/<int:commission_id>/<decision>")
@login_required
def decide(commission_id: int, decision: str) -> Response:
    if decision not in (review.APPROVE, review.REJECT):
        raise NotFound(_("Not found."))
    commission = review.do_review_commission(
        db.session, require_user(), commission_id, decision, utcnow()
    )
    db.session.commit()
    if commission.review == "approved":
        flash(_("Commission %(id)s approved.", id=commission.id))
    else:
        flash(_("Commission %(id)s rejected and cancelled.", id=commission.id))
    return redirect(url_for("attribution_admin.commissions"))


@bp.post("/sharers/<int:user_id>/ban")
@login_required
def ban(user_id: int) -> Response:
    cancelled = review.do_ban_sharer(db.session, require_user(), user_id, utcnow())
    db.session.commit()
    flash(_("Sharer banned; %(n)s pending commissions cancelled.", n=cancelled))
    return redirect(url_for("attribution_admin.commissions"))
