"""Coupon pages: the merchant's (or platform operator's) coupons, and My coupons."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from commerce.accounts.auth import login_required, require_user
from commerce.apispec import parse
from commerce.coupons import choices, claims, live, services
from commerce.coupons.present import coupon_out, stats_out
from commerce.coupons.schemas import TemplateIn
from commerce.errors import DomainError, Forbidden, ValidationFailed
from commerce.extensions import db
from commerce.money import MoneyError, parse_major
from commerce.timeutil import utcnow

bp = Blueprint("coupons", __name__)
MONEY_FIELDS = {"amount": "amount_minor", "cap": "cap_minor", "min_spend": "min_spend_minor"}
MONEY_FIELDS |= {"budget": "budget_minor"}
STATES = ("valid", "used", "expired")


def template_from_form(form: MultiDict[str, str]) -> TemplateIn:
    """The form takes amounts in major units ('12.30') and dates as local datetime inputs."""
    currency = form.get("currency", "CNY") or "CNY"
    data: dict[str, object] = {
        k: v for k, v in form.items() if k not in MONEY_FIELDS and k != "csrf_token" and v != ""
    }
    data["live_only"] = form.get("live_only") == "on"
    data["currency"] = currency
    for field, column in MONEY_FIELDS.items():
        text = form.get(field, "").strip()
        if not text:
            continue
        try:
            data[column] = parse_major(text, currency)
        except (MoneyError, KeyError) as exc:
            raise ValidationFailed(
                _("Some fields are not valid."), fields={field: _("Enter an amount like 12.30.")}
            ) from exc
    # Ticked products (one value each) and, for operators, typed ids ("12, 15").
    ids = [
        part.strip()
        for value in form.getlist("product_ids")
        for part in value.replace("，", ",").split(",")
    ]
    if any(ids):
        data["product_ids"] = [part for part in ids if part]
    return parse(TemplateIn, data)  # type: ignore[return-value]


def _defaults() -> dict[str, object]:
    now = utcnow()
    return {
        "kind": "amount",
        "scope": "shop",
        "claim_ends_at": (now + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M"),
        "valid_days": "7",
        "total": "100",
        "per_person": "1",
        "funded_by": "merchant",
        "audience": "anyone",
        "task": "none",
    }


def _page(values: object, error: DomainError | None) -> str:
    user = require_user()
    if not (user.is_merchant or user.is_admin):
        raise Forbidden(_("Turn on merchant mode in your profile to sell products."))
    templates = services.merchant_templates(db.session, user)
    gmv = live.gmv_by_template(db.session, [t.id for t in templates])
    return render_template(
        "coupons/manage.html",
        items=stats_out(db.session, templates, gmv),
        coupon_templates=templates,  # the figures panel's too (seller_coupon_panel)
        values=values,
        chosen_products={str(v) for v in _getlist(values, "product_ids")},
        products=choices.shop_products(db.session, user.id) if user.is_merchant else [],
        creators=choices.shop_creators(db.session, user.id),
        error=error,
        is_admin=user.is_admin,
    )


def _getlist(values: object, name: str) -> list[object]:
    if isinstance(values, MultiDict):
        return list(values.getlist(name))
    found = values.get(name) if isinstance(values, dict) else None
    return list(found) if isinstance(found, list) else []


@bp.route("/merchant/coupons", methods=["GET", "POST"])
@login_required
def manage() -> str | Response | tuple[str, int]:
    if request.method == "POST":
        try:
            services.do_create_template(
                db.session, require_user(), template_from_form(request.form), utcnow()
            )
        except DomainError as error:
            db.session.rollback()
            return _page(request.form, error), error.status
        db.session.commit()
        flash(_("Coupon created."))
        return redirect(url_for("coupons.manage"))
    return _page(_defaults(), None)


@bp.post("/merchant/coupons/<int:template_id>/<any(pause, resume):action>")
@login_required
def set_state(template_id: int, action: str) -> Response:
    template = services.access_own_template(db.session, template_id, require_user())
    services.do_set_state(template, action == "pause", utcnow())
    db.session.commit()
    flash(_("Coupon paused.") if action == "pause" else _("Coupon resumed."))
    return redirect(url_for("coupons.manage"))


@bp.get("/me/coupons")
@login_required
def my_coupons() -> str:
    state = request.args.get("state", "valid")
    state = state if state in STATES else "valid"
    now = utcnow()
    coupons = claims.my_coupons(db.session, require_user(), state, now)
    return render_template(
        "coupons/mine.html",
        items=[coupon_out(db.session, c, now) for c in coupons],
        state=state,
    )
