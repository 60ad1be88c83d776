"""`flask --app wsgi audit verify`: walk the audit log's hash chain."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup

from server.common import audit_chain
from server.extensions import db

group = AppGroup("audit", help="The audit log's tamper evidence.")


@group.command("verify")
@click.option("--head", "print_head", is_flag=True, help="Print only the head hash, to record.")
@click.option(
    "--recorded",
    multiple=True,
    metavar="HASH",
    help="A head written down earlier: it must still be in the chain (repeatable).",
)
def verify(print_head: bool, recorded: tuple[str, ...]):
    """Check every entry's link; exit 1 at the first broken one or a lost recorded head."""
    verdict = audit_chain.verify(db.session, current_app.config["LEADCAMP"].audit_chain_secrets)
    if not verdict.ok:
        click.echo(f"BROKEN at entry #{verdict.broken_id}: {verdict.reason} "
                   f"({verdict.count} entries before it hold)", err=True)  # fmt: skip
        sys.exit(1)
    lost = [h for h in recorded if not audit_chain.contains(db.session, h)]
    if lost:
        for h in lost:
            click.echo(f"BROKEN: recorded head {h} is no longer in the chain: entries after "
                       "it were removed, or the chain was rewritten", err=True)  # fmt: skip
        sys.exit(1)
    if print_head:
        click.echo(verdict.head)
        return
    click.echo(f"OK: {verdict.count} entries, head {verdict.head}")
