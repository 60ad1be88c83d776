"""`flask --app wsgi users|tokens|keys ...` and `bootstrap`: people, API tokens, signing keys."""

from __future__ import annotations

import click
from sqlalchemy import func, select

from server.accounts import team
from server.accounts import users as accounts
from server.cli.common import fail, login_url
from server.extensions import db
from server.models import User

users = click.Group("users", help="Manage users.")
tokens = click.Group("tokens", help="Manage the extension's API tokens.")
keys = click.Group("keys", help="Manage link-signing keys.")


@users.command("create")
@click.argument("email")
@click.option("--account", "account_name", required=True, help="Account (customer) name.")
@click.option("--admin", is_flag=True, help="Make the user an administrator.")
@click.option("--name", default="", help="Display name.")
def users_create(email: str, account_name: str, admin: bool, name: str):
    """Create a user (and the account, if new)."""
    try:
        user = accounts.create_user(db.session, email, account_name, admin=admin, name=name)
    except accounts.AccountError as exc:
        fail(exc)
    db.session.commit()
    click.echo(f"created {user.role} {user.email} in account {user.account.name!r}")


@users.command("login-link")
@click.argument("email")
def users_login_link(email: str):
    """Print a one-time sign-in link (valid 15 minutes)."""
    try:
        user = accounts.find_user(db.session, email)
    except accounts.AccountError as exc:
        fail(exc)
    click.echo(login_url(user))


@users.command("admit")
@click.argument("email")
@click.option("--account", "account_name", default="", help="When invited to several accounts.")
@click.option("--name", default="", help="Display name.")
def users_admit(email: str, account_name: str, name: str):
    """Accept an open invitation on the person's behalf and print their sign-in link."""
    try:
        user = team.admit(db.session, email, account_name, name)
    except accounts.AccountError as exc:
        db.session.rollback()
        fail(exc)
    db.session.commit()
    click.echo(login_url(user))


@tokens.command("create")
@click.argument("email")
@click.option("--label", default="", help="What the token is for.")
def tokens_create(email: str, label: str):
    """Create an API token and print it once."""
    try:
        token = accounts.create_api_token(db.session, accounts.find_user(db.session, email), label)
    except accounts.AccountError as exc:
        fail(exc)
    db.session.commit()
    click.echo(token)


@tokens.command("revoke")
@click.argument("token")
def tokens_revoke(token: str):
    """Revoke an API token."""
    if not accounts.revoke_api_token(db.session, token):
        raise click.ClickException("no live token matches")
    db.session.commit()
    click.echo("revoked")


@keys.command("rotate")
@click.argument("email")
def keys_rotate(email: str):
    """Issue a new link-signing key id for a user; links signed earlier keep working."""
    try:
        key = accounts.rotate_signing_key(db.session, accounts.find_user(db.session, email))
    except accounts.AccountError as exc:
        fail(exc)
    db.session.commit()
    click.echo(f"new key id {key.kid}")


@click.command("bootstrap")
@click.option("--email", envvar="ADMIN_EMAIL", default="admin@example.com", show_default=True)
@click.option(
    "--account", "account_name", envvar="ACCOUNT_NAME", default="My team", show_default=True
)
def bootstrap(email: str, account_name: str):
    """Create the first account and admin when there are no users, and print a sign-in link."""
    if db.session.scalar(select(func.count()).select_from(User)):
        click.echo("Users exist. A sign-in link: flask --app wsgi users login-link EMAIL")
        return
    user = accounts.create_user(db.session, email, account_name, admin=True)
    db.session.commit()
    click.echo(f"Created admin {user.email}. Sign in within 15 minutes (the link works once):")
    click.echo(f"  {login_url(user)}")
