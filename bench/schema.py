"""A bench's database from scratch: PostgreSQL's public schema dropped, then every migration."""

from __future__ import annotations

from flask_migrate import upgrade
from sqlalchemy import text

from commerce.extensions import db


def fresh_schema() -> None:
    """In an app context: empty the bench's database (it owns it) and migrate it."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        db.session.commit()
    upgrade()
