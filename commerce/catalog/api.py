"""Catalog JSON API."""

from __future__ import annotations

from flask import Blueprint, Response, request
from flask_babel import gettext as _

from commerce.accounts.auth import current_user, require_merchant, require_user
from commerce.apispec import endpoint
from commerce.catalog import services
from commerce.catalog.present import product_out
from commerce.catalog.schemas import ImageOut, ProductIn, ProductOut, ProductPage, ProductQuery
from commerce.errors import ValidationFailed
from commerce.extensions import db
from commerce.files.services import object_url, storage

bp = Blueprint("catalog_api", __name__, url_prefix="/api/v1")


@endpoint(
    bp,
    "/products",
    summary="List and search products",
    query=ProductQuery,
    response=ProductPage,
    auth=False,
)
def list_products(query: ProductQuery) -> ProductPage:
    merchant_id = query.merchant_id
    include_inactive = False
    if query.mine:
        merchant_id = require_user().id
        include_inactive = True
    items, total = services.search_products(
        db.session,
        q=query.q,
        merchant_id=merchant_id,
        include_inactive=include_inactive,
        page=query.page,
        per_page=query.per_page,
    )
    viewer = current_user()
    return ProductPage(items=[product_out(p, viewer) for p in items], page=query.page, total=total)


@endpoint(
    bp,
    "/products",
    methods=("POST",),
    summary="Create a product (merchant)",
    body=ProductIn,
    response=ProductOut,
    status=201,
    errors=(400, 403),
)
def create_product(body: ProductIn) -> ProductOut:
    merchant = require_merchant()
    product = services.do_create_product(db.session, merchant, body)
    db.session.commit()
    return product_out(product, merchant)


@endpoint(
    bp,
    "/products/<int:product_id>",
    summary="View a product",
    response=ProductOut,
    auth=False,
    errors=(404,),
)
def get_product(product_id: int) -> ProductOut:
    viewer = current_user()
    return product_out(services.access_product_for_viewing(db.session, product_id, viewer), viewer)


@endpoint(
    bp,
    "/products/<int:product_id>",
    methods=("PUT",),
    summary="Edit your product",
    body=ProductIn,
    response=ProductOut,
    errors=(400, 403, 404),
)
def update_product(product_id: int, body: ProductIn) -> ProductOut:
    merchant = require_merchant()
    product = services.access_product_for_editing(db.session, product_id, merchant)
    services.do_update_product(product, body)
    db.session.commit()
    return product_out(product, merchant)


@endpoint(
    bp,
    "/products/<int:product_id>/images",
    methods=("POST",),
    summary="Add an image (multipart field 'image')",
    response=ImageOut,
    status=201,
    raw_body="multipart/form-data",
    errors=(403, 404),
)
def add_product_image(product_id: int) -> ImageOut:
    product = services.access_product_for_editing(db.session, product_id, require_merchant())
    upload = request.files.get("image")
    if upload is None:
        raise ValidationFailed(_("Choose an image to upload."), fields={"image": _("Required.")})
    image = services.do_add_product_image(db.session, storage(), product, upload.stream)
    db.session.commit()
    return ImageOut(id=image.id, url=object_url(image.object) or "")


@endpoint(
    bp,
    "/products/<int:product_id>/images/<int:image_id>",
    methods=("DELETE",),
    summary="Remove an image",
    status=204,
    errors=(403, 404),
)
def remove_product_image(product_id: int, image_id: int) -> Response:
    product = services.access_product_for_editing(db.session, product_id, require_merchant())
    services.do_remove_product_image(db.session, storage(), product, image_id)
    db.session.commit()
    return Response(status=204)
