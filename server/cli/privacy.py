"""`flask --app wsgi purge` (retention, run now) and `privacy` (the erasure ledger)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click
from flask import current_app

from server.extensions import db
from server.privacy import erasure_ledger, retention


@click.command("purge")
def purge():
    """Delete raw events and sender views older than each account's retention period, every
    other kind of data older than its RETENTION_<KIND>_DAYS, and the address-hash keys of ended
    periods, now."""
    now = datetime.now(UTC)
    settings = current_app.config["LEADCAMP"]
    removed = retention.purge(db.session, now, settings.ip_hash_rotation_hours)
    periods = retention.Periods.from_settings(settings)
    kinds = retention.purge_kinds(db.session, now, periods)
    db.session.commit()
    total = sum(removed.values())
    click.echo(f"purged {total} events and sender views from {len(removed)} account(s)")
    for kind in retention.KINDS:
        count = sum(counts.get(kind, 0) for counts in kinds.values())
        if count:
            click.echo(f"purged {count} {kind.replace('_', ' ')} (older than their retention)")


@click.group("privacy")
def privacy():
    """The erasure ledger: keep it outside the backups, re-apply it after a restore."""


@privacy.command("export-ledger")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
def export_ledger(path: str):
    """Write the erasure ledger (keyed digests only) to PATH, to keep apart from the backups."""
    document = erasure_ledger.export(db.session)
    Path(path).write_text(json.dumps(document, indent=1), encoding="utf-8")
    click.echo(f"wrote {len(document['entries'])} erasure(s) to {path}")


@privacy.command("reapply-erasures")
@click.option("--ledger", "ledger_file", type=click.Path(exists=True, dir_okay=False),
              help="A ledger written by export-ledger, read in first (a restore lost newer "
              "entries).")  # fmt: skip
def reapply_erasures(ledger_file: str | None):
    """Erase again everyone the ledger names (run after restoring a backup)."""
    if ledger_file:
        try:
            document = json.loads(Path(ledger_file).read_text(encoding="utf-8"))
            added = erasure_ledger.load(db.session, document)
        except (ValueError, erasure_ledger.LedgerError) as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"read {added} erasure(s) the database lacked from {ledger_file}")
    key = erasure_ledger.ledger_key(current_app.config["LEADCAMP"])
    done = erasure_ledger.reapply(db.session, key)
    db.session.commit()
    click.echo(f"erased {sum(done.values())} address(es) again in {len(done)} account(s)")
