"""Products as the API and pages show them."""

from __future__ import annotations

from flask import url_for

from commerce.accounts.models import User
from commerce.catalog import rules
from commerce.catalog.models import Product
from commerce.catalog.schemas import CreatorFlashOut, MerchantOut, ProductOut
from commerce.files.services import object_url
from commerce.money import format_money


def flash_bounds(product: Product) -> rules.CreatorFlashBounds:
    return rules.CreatorFlashBounds(
        scope=product.creator_flash,
        min_price_minor=product.creator_flash_min_price_minor,
        max_quantity=product.creator_flash_max_quantity,
        max_seconds=product.creator_flash_max_seconds,
    )


def creator_flash_out(product: Product) -> CreatorFlashOut:
    floor = product.creator_flash_min_price_minor
    return CreatorFlashOut(
        scope=product.creator_flash,
        min_price_minor=floor,
        min_price_display=format_money(floor, product.currency) if floor is not None else None,
        max_quantity=product.creator_flash_max_quantity,
        max_seconds=product.creator_flash_max_seconds,
    )


def may_see_flash_bounds(product: Product, viewer: User | None) -> bool:
    if viewer is None:
        return False
    if viewer.id == product.merchant_id:
        return True
    return viewer.is_creator and product.creator_flash == rules.ALL


def product_out(product: Product, viewer: User | None = None) -> ProductOut:
    return ProductOut(
        id=product.id,
        title=product.title,
        description=product.description,
        price_minor=product.price_minor,
        currency=product.currency,
        price_display=format_money(product.price_minor, product.currency),
        stock=product.stock,
        per_buyer_limit=product.per_buyer_limit,
        creator_rate_bp=product.creator_rate_bp,
        sharer_rate_bp=product.sharer_rate_bp,
        is_active=product.is_active,
        image_urls=[object_url(image.object) or "" for image in product.images],
        url=url_for("catalog.product_page", product_id=product.id),
        merchant=MerchantOut(id=product.merchant.id, display_name=product.merchant.display_name),
        creator_flash=creator_flash_out(product) if may_see_flash_bounds(product, viewer) else None,
    )
