"""`flask --app wsgi network ...`: the network knowledge verdicts rest on."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import current_app

from server.tracking.verdicts import network, refresh

group = click.Group("network", help="Who owns which addresses: show or refresh the data.")


@group.command("show")
def network_show():
    """Print the data in force: its file, version, and each operator's ranges and sources."""
    settings = current_app.config["LEADCAMP"]
    path = network.data_path(settings.instance_path, settings.network_data)
    index = network.load(path, settings.asn_database)
    click.echo(f"{path} (version {index.version})")
    for key, entry in index.describe()["operators"].items():
        dates = sorted({s.get("date") or "?" for s in entry["sources"]})
        click.echo(
            f"  {key:24} {entry['category']:17} {entry['ranges']:6} ranges  {', '.join(dates)}"
        )


@group.command("update")
@click.option("--mirror", help="Fetch every list from this base URL instead (same paths).")
@click.option(
    "--source",
    type=click.Path(exists=True, dir_okay=False),
    help="Refresh this data file instead of the one in force.",
)
def network_update(mirror: str | None, source: str | None):
    """Fetch the operators' published lists again into the instance folder (takes effect at the
    next start of the web workers); lists that cannot be fetched keep their ranges."""
    settings = current_app.config["LEADCAMP"]
    current = source or network.data_path(settings.instance_path, settings.network_data)
    data = json.loads(Path(current).read_text())
    updated, report = refresh.update(data, mirror=mirror)
    target = settings.instance_path / "networks.json"
    refresh.write(target, updated)
    for key, (before, after) in report.counts.items():
        click.echo(f"  {key:24} {before:6} -> {after:6}")
    for source, reason in report.failures.items():
        click.echo(f"not refreshed: {source}: {reason}", err=True)
    click.echo(f"wrote {target} (version {updated['version']}); restart to use it")
    if settings.network_data:
        click.echo(
            f"note: NETWORK_DATA={settings.network_data} is set and takes precedence", err=True
        )
