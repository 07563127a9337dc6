"""`flask invites ...`: seed the programme's coupon templates, or point it at others."""

from __future__ import annotations

from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup

from commerce.extensions import db
from commerce.invites import programme, services
from commerce.timeutil import utcnow

invites_group = AppGroup("invites", help="Invite rewards: the welcome and reward coupons.")


def amounts_from_config(config: Any) -> programme.Amounts:
    return programme.Amounts(
        currency=config["DEFAULT_CURRENCY"],
        welcome_minor=config["INVITE_WELCOME_AMOUNT_MINOR"],
        welcome_min_spend_minor=config["INVITE_WELCOME_MIN_SPEND_MINOR"],
        welcome_valid_days=config["INVITE_WELCOME_VALID_DAYS"],
        reward_minor=config["INVITE_REWARD_AMOUNT_MINOR"],
        reward_min_spend_minor=config["INVITE_REWARD_MIN_SPEND_MINOR"],
        reward_valid_days=config["INVITE_REWARD_VALID_DAYS"],
    )


def seed_programme() -> str:
    """Create the two platform templates unless they exist (`flask setup` and `flask demo`)."""
    found = programme.do_ensure_programme(
        db.session, amounts_from_config(current_app.config), utcnow()
    )
    db.session.commit()
    return (
        f"invite programme: welcome coupon template {found.welcome_template_id}, "
        f"reward template {found.reward_template_id}"
    )


@invites_group.command("seed")
def seed_command() -> None:
    """Create the welcome and reward templates from INVITE_* settings (once)."""
    click.echo(seed_programme())


@invites_group.command("templates")
@click.option("--welcome", type=int, help="A platform-funded template for welcome coupons.")
@click.option("--reward", type=int, help="A platform-funded template for sharers' rewards.")
def templates_command(welcome: int | None, reward: int | None) -> None:
    """Show the programme's templates, or point it at other platform templates."""
    if welcome is not None or reward is not None:
        try:
            programme.do_set_templates(db.session, utcnow(), welcome_id=welcome, reward_id=reward)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from exc
        db.session.commit()
    found = services.programme(db.session)
    if found is None:
        click.echo("not set up: run `flask invites seed` (or `flask setup`)")
        return
    click.echo(f"welcome {found.welcome_template_id}, reward {found.reward_template_id}")
