"""Helpers every command group shares."""

from __future__ import annotations

from typing import NoReturn

import click
from flask import current_app

from server.accounts import users as accounts
from server.extensions import db
from server.models import User


def fail(exc: Exception) -> NoReturn:
    """Roll back and stop the command with the error's message."""
    db.session.rollback()
    raise click.ClickException(str(exc)) from exc


def login_url(user: User) -> str:
    """A one-time sign-in link for `user` (valid 15 minutes)."""
    settings = current_app.config["LEADCAMP"]
    token = accounts.magic_link_token(settings.secret_key, user)
    return f"{settings.public_url}/auth/magic/{token}"


def find_account(name: str):
    """The account called `name`, or a clean command error."""
    try:
        return accounts.find_account(db.session, name)
    except accounts.AccountError as exc:
        fail(exc)
