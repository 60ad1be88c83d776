"""`flask --app wsgi contacts ...`: CSV import and export from the command line."""

from __future__ import annotations

import sys

import click

from server.cli.common import fail, find_account
from server.contacts import csv_io as contacts_csv
from server.contacts import import_rows
from server.extensions import db

contacts = click.Group("contacts", help="Import and export contacts (CSV).")


@contacts.command("import")
@click.argument("file", type=click.File("rb"))
@click.option("--account", "account_name", required=True, help="Account (customer) name.")
def contacts_import(file, account_name: str):
    """Create or update contacts from a CSV file; prints each rejected row."""
    account = find_account(account_name)
    try:
        report = import_rows.import_csv(db.session, account, file.read())
    except contacts_csv.CsvError as exc:
        fail(exc)
    db.session.commit()
    summary = report.as_dict()
    for notice in summary["notices"]:
        click.echo(f"note: {notice}", err=True)
    for row in report.rows:
        if row.status == "error":
            click.echo(f"line {row.row}: {'; '.join(row.errors)}", err=True)
    click.echo(
        f"{summary['created']} created, {summary['updated']} updated, {summary['failed']} rejected"
    )
    if summary["failed"]:
        sys.exit(1)


@contacts.command("export")
@click.option("--account", "account_name", required=True, help="Account (customer) name.")
@click.option("--output", "-o", type=click.File("w", encoding="utf-8"), default="-")
def contacts_export(account_name: str, output):
    """Write every contact of the account as CSV (to stdout unless -o FILE)."""
    output.write(contacts_csv.export_csv(db.session, find_account(account_name).id))
    db.session.commit()  # the export's audit entry
