"""The privacy commands join an `accounts` group another part registered, or make their own."""

from __future__ import annotations

import click
from flask import Flask

from server.cli_privacy import register


def test_terminate_joins_an_existing_accounts_group():
    app = Flask(__name__)
    existing = click.Group("accounts")
    existing.add_command(click.Command("sending", callback=lambda: None))
    app.cli.add_command(existing)
    register(app)
    assert set(app.cli.commands["accounts"].commands) == {"sending", "terminate"}
    assert "purge" in app.cli.commands


def test_terminate_makes_the_group_when_alone():
    app = Flask(__name__)
    register(app)
    assert set(app.cli.commands["accounts"].commands) == {"terminate"}
