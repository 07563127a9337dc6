"""Catalog pages: browse and search products; merchants create and edit theirs."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from commerce.accounts.auth import current_user, login_required, require_merchant
from commerce.accounts.models import User
from commerce.apispec import parse
from commerce.catalog import services
from commerce.catalog.models import Product
from commerce.catalog.rates import RateError, bp_to_percent, percent_to_bp
from commerce.catalog.schemas import ProductIn
from commerce.errors import DomainError, NotFound, ValidationFailed
from commerce.extensions import db
from commerce.files.services import storage
from commerce.inputs import page_arg
from commerce.money import MoneyError, format_major, parse_major
from commerce.social.present import profile_card

bp = Blueprint("catalog", __name__)


def product_from_form(form: MultiDict[str, str]) -> ProductIn:
    """The form takes the price in major units ('12.30'); the API and the model use minor units."""
    rates = {"creator_rate_pct": "creator_rate_bp", "sharer_rate_pct": "sharer_rate_bp"}
    typed = {"price", *rates, *FLASH_FORM_FIELDS}
    data: dict[str, object] = {k: v for k, v in form.items() if k not in typed}
    data["is_active"] = form.get("is_active") == "on"
    for field, column in rates.items():
        try:
            data[column] = percent_to_bp(form.get(field, ""))
        except RateError as exc:
            raise ValidationFailed(
                _("Some fields are not valid."),
                fields={field: _("Enter a percentage from 0 to 100, like 12.5.")},
            ) from exc
    if not data.get("per_buyer_limit"):
        data["per_buyer_limit"] = None
    currency = form.get("currency", "CNY")
    try:
        data["price_minor"] = parse_major(form.get("price", ""), currency)
    except (MoneyError, KeyError) as exc:
        raise ValidationFailed(
            _("Some fields are not valid."), fields={"price": _("Enter a price like 12.30.")}
        ) from exc
    data.update(flash_bounds_from_form(form, currency))
    return parse(ProductIn, data)  # type: ignore[return-value]


FLASH_FORM_FIELDS = (
    "creator_flash_min_price",
    "creator_flash_max_quantity",
    "creator_flash_max_minutes",
)


def flash_bounds_from_form(form: MultiDict[str, str], currency: str) -> dict[str, object]:
    """The creator flash-sale bounds as typed: a floor in major units, a duration in minutes."""
    out: dict[str, object] = {
        "creator_flash_min_price_minor": None,
        "creator_flash_max_quantity": form.get("creator_flash_max_quantity") or None,
        "creator_flash_max_seconds": None,
    }
    floor = form.get("creator_flash_min_price", "").strip()
    if floor:
        try:
            out["creator_flash_min_price_minor"] = parse_major(floor, currency)
        except (MoneyError, KeyError) as exc:
            raise ValidationFailed(
                _("Some fields are not valid."),
                fields={"creator_flash_min_price": _("Enter a price like 12.30.")},
            ) from exc
    minutes = form.get("creator_flash_max_minutes", "").strip()
    if minutes:
        if not minutes.isdigit() or not 1 <= int(minutes) <= 1440:
            raise ValidationFailed(
                _("Some fields are not valid."),
                fields={"creator_flash_max_minutes": _("Enter whole minutes from 1 to 1440.")},
            )
        out["creator_flash_max_seconds"] = int(minutes) * 60
    return out


def form_values(product: Product | None) -> dict[str, object]:
    if product is None:
        return {"currency": "CNY", "stock": 0, "is_active": True}
    values = {c: getattr(product, c) for c in ProductIn.model_fields if c != "price_minor"}
    values["price"] = format_major(product.price_minor, product.currency)
    floor, seconds = product.creator_flash_min_price_minor, product.creator_flash_max_seconds
    values["creator_flash_min_price"] = (
        format_major(floor, product.currency) if floor is not None else ""
    )
    values["creator_flash_max_minutes"] = seconds // 60 if seconds else ""
    values["creator_rate_pct"] = bp_to_percent(product.creator_rate_bp)
    values["sharer_rate_pct"] = bp_to_percent(product.sharer_rate_bp)
    return values


@bp.get("/products")
def product_list() -> str:
    q = request.args.get("q", "")[:100]
    page = page_arg()
    items, total = services.search_products(db.session, q=q, page=page, per_page=24)
    return render_template("catalog/list.html", items=items, total=total, q=q, page=page)


@bp.get("/products/<int:product_id>")
def product_page(product_id: int) -> str:
    product = services.access_product_for_viewing(db.session, product_id, current_user())
    return render_template("catalog/product.html", product=product)


@bp.get("/shop/<int:user_id>")
def shop_page(user_id: int) -> str:
    """A shop: the merchant's profile, follow button, and products on sale."""
    merchant = db.session.get(User, user_id)
    if merchant is None or not merchant.is_merchant:
        raise NotFound(_("There is no shop with this id."))
    page = page_arg()
    items, total = services.search_products(
        db.session, merchant_id=merchant.id, page=page, per_page=24
    )
    return render_template(
        "catalog/shop.html",
        merchant=merchant,
        profile=profile_card(db.session, merchant, current_user()),
        items=items,
        total=total,
        page=page,
    )


@bp.get("/merchant/products")
@login_required
def my_products() -> str:
    merchant = require_merchant()
    items, total = services.search_products(
        db.session, merchant_id=merchant.id, include_inactive=True, per_page=50
    )
    return render_template("catalog/mine.html", items=items, total=total)


@bp.route("/merchant/products/new", methods=["GET", "POST"])
@login_required
def new_product() -> str | Response:
    merchant = require_merchant()
    if request.method == "POST":
        try:
            product = services.do_create_product(
                db.session, merchant, product_from_form(request.form)
            )
        except DomainError as error:
            return render_template(
                "catalog/edit.html", product=None, values=request.form, error=error
            ), error.status
        db.session.commit()
        flash(_("Product created."))
        return redirect(url_for("catalog.edit_product", product_id=product.id))
    return render_template("catalog/edit.html", product=None, values=form_values(None), error=None)


@bp.route("/merchant/products/<int:product_id>/edit", methods=["GET", "POST"])
@login_required
def edit_product(product_id: int) -> str | Response:
    product = services.access_product_for_editing(db.session, product_id, require_merchant())
    if request.method == "POST":
        try:
            services.do_update_product(product, product_from_form(request.form))
        except DomainError as error:
            return render_template(
                "catalog/edit.html", product=product, values=request.form, error=error
            ), error.status
        db.session.commit()
        flash(_("Product saved."))
        return redirect(url_for("catalog.edit_product", product_id=product.id))
    return render_template(
        "catalog/edit.html", product=product, values=form_values(product), error=None
    )


@bp.post("/merchant/products/<int:product_id>/images")
@login_required
def add_image(product_id: int) -> str | Response:
    product = services.access_product_for_editing(db.session, product_id, require_merchant())
    upload = request.files.get("image")
    try:
        if upload is None or not upload.filename:
            raise ValidationFailed(_("Choose an image to upload."))
        services.do_add_product_image(db.session, storage(), product, upload.stream)
    except DomainError as error:
        return render_template(
            "catalog/edit.html", product=product, values=form_values(product), error=error
        ), error.status
    db.session.commit()
    return redirect(url_for("catalog.edit_product", product_id=product.id))


@bp.post("/merchant/products/<int:product_id>/images/<int:image_id>/delete")
@login_required
def remove_image(product_id: int, image_id: int) -> Response:
    product = services.access_product_for_editing(db.session, product_id, require_merchant())
    services.do_remove_product_image(db.session, storage(), product, image_id)
    db.session.commit()
    return redirect(url_for("catalog.edit_product", product_id=product.id))
