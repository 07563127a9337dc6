"""Search results as the endpoint and the page show them."""

from __future__ import annotations

from typing import Any

from flask import url_for

from commerce.accounts.models import User
from commerce.catalog.models import Product
from commerce.files.services import object_url
from commerce.money import format_money
from commerce.search.schemas import SearchHitOut
from commerce.social.present import profile_url
from commerce.videos.models import Video

BIO_CHARS = 120


def hit_out(obj: Any) -> SearchHitOut:
    if isinstance(obj, Video):
        return SearchHitOut(
            kind="video",
            id=obj.public_id,
            title=obj.title,
            subtitle=obj.creator.display_name,
            url=url_for("videos.watch", public_id=obj.public_id),
            image_url=object_url(obj.poster),
        )
    if isinstance(obj, Product):
        return SearchHitOut(
            kind="product",
            id=str(obj.id),
            title=obj.title,
            subtitle=obj.merchant.display_name,
            url=url_for("catalog.product_page", product_id=obj.id),
            image_url=object_url(obj.images[0].object) if obj.images else None,
            price_minor=obj.price_minor,
            currency=obj.currency,
            price_display=format_money(obj.price_minor, obj.currency),
        )
    assert isinstance(obj, User)
    bio = obj.bio or ""
    return SearchHitOut(
        kind="creator",
        id=str(obj.id),
        title=obj.display_name,
        subtitle=bio if len(bio) <= BIO_CHARS else bio[: BIO_CHARS - 1] + "…",
        url=profile_url(obj),
        image_url=object_url(obj.avatar),
    )
