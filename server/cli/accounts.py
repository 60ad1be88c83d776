"""`flask --app wsgi accounts ...`: the sending switch and termination of a customer account."""

from __future__ import annotations

import click

from server.accounts import settings as account_settings
from server.cli.common import fail, find_account
from server.common import personal_data
from server.extensions import db
from server.privacy import termination

accounts = click.Group("accounts", help="Manage accounts.")


@accounts.command("sending")
@click.argument("state", type=click.Choice(["on", "off"]))
@click.argument("name")
def accounts_sending(state: str, name: str):
    """Allow (on) or forbid (off) server-side sending through Gmail for the account NAME."""
    account = find_account(name)
    # Through the settings service, so the change is audited as the settings page's would be.
    account_settings.update(db.session, account, None, {"sending_enabled": state == "on"})
    db.session.commit()
    click.echo(f"server-side sending is {state} for {name!r}")
    if state == "on":
        click.echo("Reps connect Gmail again (/auth/google/connect) to grant the send scope.")


@accounts.command("terminate")
@click.argument("name")
@click.option("--mode", type=click.Choice(personal_data.MODES), required=True)
@click.option("--yes", is_flag=True, help="Confirm: this cannot be undone.")
def accounts_terminate(name: str, mode: str, yes: bool):
    """Delete or anonymize all personal data of the account NAME; keep anonymous aggregates."""
    if not yes:
        raise click.ClickException("Terminating an account cannot be undone: add --yes.")
    account = find_account(name)
    try:
        result = termination.terminate(db.session, account, name, mode)
    except termination.TerminationError as exc:
        fail(exc)
    db.session.commit()
    click.echo(f"terminated {name!r} ({mode}): " + ", ".join(f"{n} {k}" for k, n in result.items()))
