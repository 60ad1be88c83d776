"""Every command group is defined once, in its own module, and registered by create_app."""

from __future__ import annotations

import click

from server.cli import accounts, contacts, gmail, privacy, serve, users

GROUPS = {
    "users": users,
    "tokens": users,
    "keys": users,
    "accounts": accounts,
    "contacts": contacts,
    "gmail": gmail,
    "jobs": serve,
    "sink": serve,
}


def test_each_group_is_defined_in_one_module(app):
    commands = app.cli.list_commands(app.app_context())
    for name, module in GROUPS.items():
        defined = [
            m.__name__
            for m in (users, accounts, contacts, gmail, privacy, serve)
            if isinstance(getattr(m, name, None), click.Group)
        ]
        assert defined == [module.__name__], name
        assert name in commands


def test_the_accounts_group_holds_sending_and_terminate(app):
    group = app.cli.get_command(app.app_context(), "accounts")
    assert set(group.commands) == {"sending", "terminate"}


def test_single_commands_are_registered(app):
    commands = app.cli.list_commands(app.app_context())
    assert {"bootstrap", "purge", "serve"} <= set(commands)
