"""`flask --app wsgi purge`: retention, run now."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask import current_app

from server.extensions import db
from server.privacy import retention


@click.command("purge")
def purge():
    """Delete raw events and sender views older than each account's retention period, and every
    other kind of data older than its RETENTION_<KIND>_DAYS, now."""
    now = datetime.now(UTC)
    removed = retention.purge(db.session, now)
    periods = retention.Periods.from_settings(current_app.config["LEADCAMP"])
    kinds = retention.purge_kinds(db.session, now, periods)
    db.session.commit()
    total = sum(removed.values())
    click.echo(f"purged {total} events and sender views from {len(removed)} account(s)")
    for kind in retention.KINDS:
        count = sum(counts.get(kind, 0) for counts in kinds.values())
        if count:
            click.echo(f"purged {count} {kind.replace('_', ' ')} (older than their retention)")
