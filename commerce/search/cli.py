"""`flask search rebuild`: write every search document afresh."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from commerce.extensions import db
from commerce.search import indexing


@click.group("search")
def search_group() -> None:
    """Search documents of videos, creators and products."""


@search_group.command("rebuild")
@with_appcontext
def rebuild_command() -> None:
    """Rewrite every search document from the videos, products and creators in the database."""
    counts = indexing.rebuild(db.session)
    db.session.commit()
    click.echo(
        f"indexed {counts['video']} videos, {counts['creator']} creators,"
        f" {counts['product']} products"
    )


def index_if_empty() -> None:
    """After migrating an existing database: its content gets its documents once."""
    if indexing.is_empty(db.session):
        counts = indexing.rebuild(db.session)
        db.session.commit()
        if any(counts.values()):
            click.echo(f"search: indexed {sum(counts.values())} documents")
