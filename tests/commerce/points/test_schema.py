"""The points migration builds what the models say (tables, columns, constraints, indexes)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from commerce.extensions import db


def _touches_points(diff: object) -> bool:
    text = repr(diff)
    return "points_" in text


def test_the_points_tables_match_their_models(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diffs = [d for d in compare_metadata(context, db.metadata) if _touches_points(d)]
    assert diffs == []
