"""Catalog use cases: merchants create and edit products; everyone lists, searches and views."""

from __future__ import annotations

from typing import IO

from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from commerce.accounts.models import User
from commerce.catalog import rules
from commerce.catalog.models import Product, ProductImage
from commerce.catalog.schemas import ProductIn
from commerce.errors import NotFound, ValidationFailed
from commerce.files.services import store_image
from media.storage import Storage

MAX_IMAGES = 8


def check_flash_bounds(data: ProductIn) -> None:
    """Opening flash sales to creators takes a floor below the list price, units and a duration."""
    bounds = rules.CreatorFlashBounds(
        scope=data.creator_flash,
        min_price_minor=data.creator_flash_min_price_minor,
        max_quantity=data.creator_flash_max_quantity,
        max_seconds=data.creator_flash_max_seconds,
    )
    missing = rules.missing_bounds(bounds, data.price_minor)
    if not missing:
        return
    words = {
        rules.PRICE: _("Set a lowest flash price below the list price."),
        rules.QUANTITY: _("Set the most units a creator's flash sale may offer."),
        rules.DURATION: _("Set the longest a creator's flash sale may run."),
    }
    names = {
        rules.PRICE: "creator_flash_min_price_minor",
        rules.QUANTITY: "creator_flash_max_quantity",
        rules.DURATION: "creator_flash_max_seconds",
    }
    raise ValidationFailed(
        _("To let creators run flash sales, set the lowest price, the units and the duration."),
        fields={names[code]: words[code] for code in missing},
        code="creator_flash_bounds",
    )


def do_create_product(session: Session, merchant: User, data: ProductIn) -> Product:
    check_flash_bounds(data)
    product = Product(merchant_id=merchant.id, **data.model_dump())
    session.add(product)
    session.flush()
    return product


def do_update_product(product: Product, data: ProductIn) -> Product:
    check_flash_bounds(data)
    for name, value in data.model_dump().items():
        setattr(product, name, value)
    return product


def access_product_for_editing(session: Session, product_id: int, user: User) -> Product:
    """The merchant's own product; someone else's is a 404, like one that does not exist."""
    product = session.get(Product, product_id)
    if product is None or product.merchant_id != user.id:
        raise NotFound(_("This product does not exist or is not yours."))
    return product


def access_product_for_viewing(session: Session, product_id: int, user: User | None) -> Product:
    product = session.get(Product, product_id)
    if product is None or not (product.is_active or (user and user.id == product.merchant_id)):
        raise NotFound(_("This product does not exist."))
    return product


def do_add_product_image(
    session: Session, backend: Storage, product: Product, stream: IO[bytes]
) -> ProductImage:
    if len(product.images) >= MAX_IMAGES:
        raise ValidationFailed(_("A product can have at most 8 images."), code="too_many_images")
    obj = store_image(session, backend, stream, prefix=f"products/{product.id}/", max_side=1200)
    image = ProductImage(object=obj, position=len(product.images))
    product.images.append(image)
    session.flush()
    return image


def do_remove_product_image(
    session: Session, backend: Storage, product: Product, image_id: int
) -> None:
    image = next((i for i in product.images if i.id == image_id), None)
    if image is None:
        raise NotFound(_("This image does not exist."))
    key = image.object.key
    product.images.remove(image)
    session.delete(image.object)
    session.flush()
    # Bytes go last: a failed flush keeps the row and its file together.
    backend.delete(key)


def search_products(
    session: Session,
    *,
    q: str = "",
    merchant_id: int | None = None,
    include_inactive: bool = False,
    page: int = 1,
    per_page: int = 20,
) -> tuple[list[Product], int]:
    query = select(Product)
    if merchant_id is not None:
        query = query.where(Product.merchant_id == merchant_id)
    if not include_inactive:
        query = query.where(Product.is_active.is_(True))
    words = q.split()
    for word in words[:5]:
        pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(
            or_(
                Product.title.ilike(pattern, escape="\\"),
                Product.description.ilike(pattern, escape="\\"),
            )
        )
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(Product.created_at.desc(), Product.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return list(rows), total
