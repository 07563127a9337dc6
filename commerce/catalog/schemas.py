"""What the catalog endpoints accept and return."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from commerce.money import CURRENCY_EXPONENT

MAX_PRICE_MINOR = 10**12
MAX_STOCK = 10_000_000


class ProductIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    title: str = Field(min_length=1, max_length=120)
    description: str = Field(default="", max_length=5000)
    price_minor: int = Field(ge=0, le=MAX_PRICE_MINOR, description="Price in minor units (fen).")
    currency: str = Field(default="CNY", min_length=3, max_length=3)
    stock: int = Field(default=0, ge=0, le=MAX_STOCK)
    per_buyer_limit: int | None = Field(default=None, ge=1, le=MAX_STOCK)
    creator_rate_bp: int = Field(default=0, ge=0, le=10000, description="Basis points.")
    sharer_rate_bp: int = Field(default=0, ge=0, le=10000, description="Basis points.")
    is_active: bool = True

    @field_validator("currency")
    @classmethod
    def supported_currency(cls, value: str) -> str:
        upper = value.upper()
        if upper not in CURRENCY_EXPONENT:
            raise ValueError(f"currency must be one of {', '.join(sorted(CURRENCY_EXPONENT))}")
        return upper

    @model_validator(mode="after")
    def rates_fit_in_the_price(self) -> ProductIn:
        if self.creator_rate_bp + self.sharer_rate_bp > 10000:
            raise ValueError("creator and sharer rates together cannot exceed 100%")
        return self


class MerchantOut(BaseModel):
    id: int
    display_name: str


class ProductOut(BaseModel):
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


class ProductQuery(BaseModel):
    q: str = Field(default="", max_length=100)
    merchant_id: int | None = None
    mine: bool = False
    page: int = Field(default=1, ge=1, le=10000)
    per_page: int = Field(default=20, ge=1, le=50)


class ProductPage(BaseModel):
    items: list[ProductOut]
    page: int
    total: int


class ImageOut(BaseModel):
    id: int
    url: str
