"""Products as the API and pages show them."""

from __future__ import annotations

from flask import url_for

from commerce.catalog.models import Product
from commerce.catalog.schemas import MerchantOut, ProductOut
from commerce.files.services import object_url
from commerce.money import format_money


def product_out(product: Product) -> ProductOut:
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
    )
