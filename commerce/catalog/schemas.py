"""What the catalog endpoints accept and return."""

from __future__ import annotations

from typing import Literal

from flask_babel import lazy_gettext as _l
from pydantic import ConfigDict, Field, model_validator

from commerce.validation import BigInt, Currency, Schema

MAX_PRICE_MINOR = 10**12
MAX_STOCK = 10_000_000
MAX_FLASH_SECONDS = 24 * 3600


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
    creator_flash: Literal["none", "all"] = Field(
        default="none",
        description="Which creators may start flash sales of it from their lives: none or all.",
    )
    creator_flash_min_price_minor: BigInt | None = Field(
        default=None,
        ge=0,
        le=MAX_PRICE_MINOR,
        description="Lowest flash price a creator may set, minor units (required with 'all').",
    )
    creator_flash_max_quantity: int | None = Field(
        default=None,
        ge=1,
        le=MAX_STOCK,
        description="Most units a creator's flash sale may offer (required with 'all').",
    )
    creator_flash_max_seconds: int | None = Field(
        default=None,
        ge=10,
        le=MAX_FLASH_SECONDS,
        description="Longest a creator's flash sale may run, seconds (required with 'all').",
    )

    @model_validator(mode="after")
    def rates_fit_in_the_price(self) -> ProductIn:
        if self.creator_rate_bp + self.sharer_rate_bp > 10000:
            raise ValueError(_l("The creator and sharer rates together cannot exceed 100%."))
        return self


class MerchantOut(Schema):
    id: int
    display_name: str


class CreatorFlashOut(Schema):
    """The bounds within which creators may run flash sales of a product."""

    scope: str
    min_price_minor: int | None
    min_price_display: str | None
    max_quantity: int | None
    max_seconds: int | None


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
    # To its merchant always; to creators when they may use it; to buyers never (the floor).
    creator_flash: CreatorFlashOut | None = None


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
