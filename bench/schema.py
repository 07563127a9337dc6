"""A bench's database from scratch: PostgreSQL's public schema dropped, then every migration."""

from __future__ import annotations

from sqlalchemy import text


def fresh_schema() -> None:
    """In an app context: empty the bench's database (it owns it) and migrate it."""
    from flask_migrate import upgrade

    from commerce.extensions import db

    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        db.session.commit()
    upgrade()


def ensure_database(url: str) -> None:
    """Create the bench's database if it is missing (it is emptied by fresh_schema anyway)."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        found = conn.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database}
        )
        if not found:
            conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()
