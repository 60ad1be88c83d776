"""The `flask --app wsgi ...` commands: one module per command group."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Attach every command group to the app's CLI."""
    from server.cli import (
        accounts,
        audit,
        contacts,
        demo,
        gmail,
        network,
        predictions,
        privacy,
        serve,
        users,
        verdicts,
    )

    for command in (
        users.users,
        users.tokens,
        users.keys,
        users.bootstrap,
        accounts.accounts,
        contacts.contacts,
        gmail.gmail,
        privacy.purge,
        audit.group,
        privacy.privacy,
        network.group,
        verdicts.group,
        serve.serve,
        serve.jobs,
        serve.sink,
        predictions.insights,
        demo.demo,
    ):
        app.cli.add_command(command)
