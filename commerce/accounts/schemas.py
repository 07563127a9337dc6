"""What the accounts endpoints accept and return."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from pydantic import ConfigDict, EmailStr, Field, field_validator

from commerce.validation import Schema


class SignupIn(Schema):
    model_config = ConfigDict(str_strip_whitespace=True)

    email: EmailStr
    password: str = Field(min_length=8, max_length=128)
    display_name: str = Field(min_length=1, max_length=60)


class LoginIn(Schema):
    model_config = ConfigDict(str_strip_whitespace=True)

    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=1, max_length=128)


class ProfileIn(Schema):
    model_config = ConfigDict(str_strip_whitespace=True)

    display_name: str = Field(min_length=1, max_length=60)
    bio: str = Field(default="", max_length=500)
    is_creator: bool = False
    is_merchant: bool = False
    locale: str | None = None

    @field_validator("locale")
    @classmethod
    def known_locale(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if value not in ("en", "zh_Hans"):
            raise ValueError(_l("The language must be en or zh_Hans."))
        return value


class UserOut(Schema):
    id: int
    display_name: str
    bio: str
    avatar_url: str | None
    is_creator: bool
    is_merchant: bool


class MeOut(UserOut):
    email: str
    locale: str | None


class CsrfOut(Schema):
    csrf_token: str
