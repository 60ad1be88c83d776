"""`flask --app wsgi demo seed|clear`: clearly fake demo data in a named account, on request."""

from __future__ import annotations

import click

from server.cli.common import fail, find_account
from server.extensions import db
from server.predictions import seeding

demo = click.Group("demo", help="Demo data (fake, on reserved domains) for trying the product.")


@demo.command("seed")
@click.argument("account")
@click.option("--contacts", default=5000, show_default=True)
@click.option("--months", default=6, show_default=True)
@click.option("--seed", "seed_value", default=7, show_default=True, help="Random seed.")
@click.option("--force", is_flag=True, help="Seed even though the account has real data.")
def seed(account: str, contacts: int, months: int, seed_value: int, force: bool):
    """Create demo reps, companies, contacts and months of mail in ACCOUNT (created if missing)."""
    if contacts < 1 or months < 1:
        raise click.ClickException("--contacts and --months must be at least 1.")
    try:
        counts = seeding.seed(
            db.session, account, contacts, months, force=force, seed_value=seed_value
        )
    except seeding.SeedError as exc:
        fail(exc)
    db.session.commit()
    click.echo(f"seeded {account!r}: " + ", ".join(f"{n} {k}" for k, n in counts.items()))


@demo.command("clear")
@click.argument("account")
def clear(account: str):
    """Remove the demo rows (and the backtest made from them) from ACCOUNT."""
    found = find_account(account)
    counts = seeding.clear(db.session, found.id)
    db.session.commit()
    click.echo(f"cleared {account!r}: " + ", ".join(f"{n} {k}" for k, n in counts.items()))
