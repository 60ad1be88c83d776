"""`flask --app wsgi purge` and `accounts terminate`: retention and termination."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask import Flask

from server.cli import _fail
from server.extensions import db
from server.services import accounts, personal_data, retention, termination


def register(app: Flask) -> None:
    """Add the commands; `terminate` joins the app's `accounts` group, made if there is none."""
    group = app.cli.commands.get("accounts")
    if not isinstance(group, click.Group):
        group = click.Group("accounts", help="Manage accounts.")
        app.cli.add_command(group)
    group.add_command(accounts_terminate)
    app.cli.add_command(purge)


@click.command("purge")
def purge():
    """Delete raw events and sender views older than each account's retention period now."""
    removed = retention.purge(db.session, datetime.now(UTC))
    db.session.commit()
    total = sum(removed.values())
    click.echo(f"purged {total} events and sender views from {len(removed)} account(s)")


@click.command("terminate")
@click.argument("name")
@click.option("--mode", type=click.Choice(personal_data.MODES), required=True)
@click.option("--yes", is_flag=True, help="Confirm: this cannot be undone.")
def accounts_terminate(name: str, mode: str, yes: bool):
    """Delete or anonymize all personal data of the account NAME; keep anonymous aggregates."""
    if not yes:
        raise click.ClickException("Terminating an account cannot be undone: add --yes.")
    try:
        account = accounts.find_account(db.session, name)
        result = termination.terminate(db.session, account, name, mode)
    except (accounts.AccountError, termination.TerminationError) as exc:
        _fail(exc)
    db.session.commit()
    click.echo(f"terminated {name!r} ({mode}): " + ", ".join(f"{n} {k}" for k, n in result.items()))
