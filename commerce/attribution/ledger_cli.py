"""`flask ledger verify` and `flask ledger rebuild`: the stored projection against the ledger."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from commerce.attribution import projection
from commerce.extensions import db

ledger_group = AppGroup(
    "ledger", help="Check or rebuild the commission states kept with the ledger."
)


def _payees(values: tuple[int, ...]) -> list[int] | None:
    return list(values) or None


@ledger_group.command("verify")
@click.option("--payee", "payees", type=int, multiple=True, help="Only this payee (repeatable).")
def verify_command(payees: tuple[int, ...]) -> None:
    """Replay the ledger and compare with the stored rows; exit 1 on any difference."""
    with db.engine.connect() as conn:
        problems = projection.verify(conn, _payees(payees))
    for problem in problems[:100]:
        click.echo(problem)
    if problems:
        click.echo(f"{len(problems)} difference(s) between the ledger and its projection")
        sys.exit(1)
    click.echo("the projection matches the ledger")


@ledger_group.command("rebuild")
@click.option("--payee", "payees", type=int, multiple=True, help="Only this payee (repeatable).")
def rebuild_command(payees: tuple[int, ...]) -> None:
    """Rewrite the stored rows from the ledger (after a bulk import, or a failed verify).

    Stop the app first: appends while this runs would be lost from the rewritten rows.
    """
    with db.engine.begin() as conn:
        done = projection.rebuild(conn, _payees(payees))
    click.echo(f"rebuilt the projection of {done} payee(s)")
