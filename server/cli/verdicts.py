"""`flask --app wsgi verdicts ...`: apply the current rules and network data to stored hits."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask import current_app

from server.cli.common import find_account
from server.extensions import db
from server.tracking import network_index
from server.tracking.verdicts.rerun import rerun
from server.tracking.writer import windows

group = click.Group("verdicts", help="Re-label stored hits.")


@group.command("rerun")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="Only hits on or after DATE.")
@click.option("--account", "account_name", help="Only this account's hits.")
def verdicts_rerun(since: datetime | None, account_name: str | None):
    """Re-label hits with the current rules and network data; summaries are rebuilt."""
    settings = current_app.config["LEADCAMP"]
    account_id = find_account(account_name).id if account_name else None
    since = since.replace(tzinfo=UTC) if since else None
    with db.engine.begin() as conn:
        report = rerun(conn, network_index(settings), windows(settings), since, account_id)
    click.echo(
        f"{report.hits} hits of {report.messages} messages looked at, {report.changed} relabelled"
    )
    for (old, new), count in sorted(report.moves.items()):
        click.echo(f"  {old} -> {new}: {count}")
