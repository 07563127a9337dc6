"""The sandbox provider's hosted pay page: a card form, the second step, and the result.

It stands for the provider's own site: it changes only the sandbox's books; the order learns
the outcome through the signed webhook, as it would from a real provider.
"""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from commerce.extensions import db
from commerce.money import format_money
from commerce.payments.sandbox import CARD_SUCCEEDS, SUCCEEDING_CARDS, CardError
from commerce.payments.webhooks import provider
from commerce.security_rules import safe_path

bp = Blueprint("payments", __name__)


def card_message(code: str) -> str:
    return {
        "card_format": _("Enter the 16 digits of the card number."),
        "not_test_card": _("The sandbox accepts only its test cards."),
        "not_payable": _("This payment cannot be paid now."),
        "no_intent": _("This payment does not exist."),
    }.get(code, _("The payment failed."))


def other_cards() -> list[tuple[str, str]]:
    """(the number in groups of four, brand · funding) of the other cards that succeed."""
    funding = {
        "credit": _("credit card"),
        "debit": _("debit card"),
        "prepaid": _("prepaid card"),
    }
    brands = {"UnionPay": _("UnionPay")}  # the others are written the same in Chinese
    return [
        (
            " ".join(number[i : i + 4] for i in range(0, 16, 4)),
            f"{brands.get(brand, brand)} · {funding[kind]}",
        )
        for number, (brand, kind) in SUCCEEDING_CARDS.items()
        if number != CARD_SUCCEEDS
    ]


def _page(intent_id: str, error: str | None = None, status: int = 200) -> tuple[str, int]:
    obj = provider().get_intent(intent_id)
    if obj is None:
        abort(404)
    return render_template(
        "payments/sandbox.html",
        intent=obj,
        amount=format_money(obj.amount_minor, obj.currency),
        return_url=safe_path(obj.data.get("return_url"), "/"),
        last_error=obj.data.get("last_error"),
        error=error,
        other_cards=other_cards(),
    ), status


@bp.get("/pay/sandbox/<intent_id>")
def pay_page(intent_id: str) -> tuple[str, int]:
    return _page(intent_id)


@bp.post("/pay/sandbox/<intent_id>")
def pay(intent_id: str) -> Response | tuple[str, int]:
    try:
        provider().confirm(intent_id, card_number=request.form.get("card_number", ""))
    except CardError as error:
        db.session.rollback()
        return _page(intent_id, card_message(error.code), 400)
    db.session.commit()
    return redirect(url_for("payments.pay_page", intent_id=intent_id))


@bp.post("/pay/sandbox/<intent_id>/authenticate")
def authenticate(intent_id: str) -> Response | tuple[str, int]:
    try:
        provider().authenticate(intent_id, approve=request.form.get("outcome") == "complete")
    except CardError as error:
        db.session.rollback()
        return _page(intent_id, card_message(error.code), 400)
    db.session.commit()
    return redirect(url_for("payments.pay_page", intent_id=intent_id))
