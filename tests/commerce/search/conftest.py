"""Search fixtures: published videos (the social area's factory)."""

from __future__ import annotations

from tests.commerce.social.conftest import create_address, create_video  # noqa: F401  (fixtures)
