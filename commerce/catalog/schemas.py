"""What the catalog endpoints accept and return."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from pydantic import ConfigDict, Field, model_validator

from commerce.validation import BigInt, Currency, Schema

MAX_PRICE_MINOR = 10**12
MAX_STOCK = 10_000_000


class ProductIn(Schema):
    model_config = ConfigDict(str_strip_whitespace=True)

    title: str = Field(min_length=1, max_length=120)
    description: str = Field(default="", max_length=5000)
    price_minor: BigInt = Field(ge=0, le=MAX_PRICE_MINOR, description="Price in minor units (fen).")
    currency: Currency = Field(default="CNY", min_length=3, max_length=3)
    stock: int = Field(default=0, ge=0, le=MAX_STOCK)
    per_buyer_limit: int | None = Field(default=None, ge=1, le=MAX_STOCK)
    creator_rate_bp: int = Field(default=0, ge=0, le=10000, description="Basis points.")
    sharer_rate_bp: int = Field(default=0, ge=0, le=10000, description="Basis points.")
    is_active: bool = True

    @model_validator(mode="after")
    def rates_fit_in_the_price(self) -> ProductIn:
        if self.creator_rate_bp + self.sharer_rate_bp > 10000:
            raise ValueError(_l("The creator and sharer rates together cannot exceed 100%."))
        return self


class MerchantOut(Schema):
    id: int
    display_name: str


class ProductOut(Schema):
    id: int
    title: str
    description: str
    price_minor: int
    currency: str
    price_display: str
    stock: int
    per_buyer_limit: int | None
    creator_rate_bp: int
    sharer_rate_bp: int
    is_active: bool
    image_urls: list[str]
    url: str
    merchant: MerchantOut


class ProductQuery(Schema):
    q: str = Field(default="", max_length=100)
    merchant_id: int | None = None
    mine: bool = False
    page: int = Field(default=1, ge=1, le=10000)
    per_page: int = Field(default=20, ge=1, le=50)


class ProductPage(Schema):
    items: list[ProductOut]
    page: int
    total: int


class ImageOut(Schema):
    id: int
    url: str
