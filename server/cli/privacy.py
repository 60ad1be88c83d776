"""`flask --app wsgi purge`: retention, run now."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask import current_app

from server.extensions import db
from server.privacy import retention


@click.command("purge")
def purge():
    """Delete raw events and sender views older than each account's retention period now (and
    the address-hash keys of ended periods)."""
    hours = current_app.config["LEADCAMP"].ip_hash_rotation_hours
    removed = retention.purge(db.session, datetime.now(UTC), hours)
    db.session.commit()
    total = sum(removed.values())
    click.echo(f"purged {total} events and sender views from {len(removed)} account(s)")
