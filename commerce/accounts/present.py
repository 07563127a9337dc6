"""Users as the API shows them."""

from commerce.accounts.models import User
from commerce.accounts.schemas import MeOut, UserOut
from commerce.files.services import object_url


def user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        display_name=user.display_name,
        bio=user.bio,
        avatar_url=object_url(user.avatar),
        is_creator=user.is_creator,
        is_merchant=user.is_merchant,
    )


def me_out(user: User) -> MeOut:
    return MeOut(**user_out(user).model_dump(), email=user.email, locale=user.locale)
