"""`flask --app wsgi gmail ...`: sync now, renew or stop push watches, token key rotation."""

from __future__ import annotations

import click
from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts import users as accounts
from server.cli.common import fail
from server.extensions import db
from server.gmail import auth as gmail_auth
from server.gmail.client import GmailApiError
from server.models import GmailMailbox, User

gmail = click.Group("gmail", help="Gmail connections.")


@gmail.command("sync")
@click.argument("email", required=False)
def gmail_sync(email: str | None):
    """Sync every connected mailbox now (or the one of the user with EMAIL), in the foreground."""
    from server.gmail.jobs import mailbox_lock, sync_now
    from server.jobs import build_huey

    settings = current_app.config["LEADCAMP"]
    if not settings.google_configured:
        raise click.ClickException("Google is not configured (GOOGLE_CLIENT_ID/SECRET).")
    query = select(GmailMailbox.id, GmailMailbox.email).order_by(GmailMailbox.id)
    if email:
        query = query.join(User, User.id == GmailMailbox.user_id).where(
            User.email == accounts.normalize_email(email)
        )
    mailboxes = db.session.execute(query).all()
    db.session.remove()
    if email and not mailboxes:
        raise click.ClickException(f"no connected Gmail for {email}")
    app, huey = current_app._get_current_object(), build_huey(settings)
    failed = 0
    for mailbox_id, address in mailboxes:
        try:
            with mailbox_lock(huey, mailbox_id) as acquired:  # the worker's lock: never both
                result = sync_now(app, mailbox_id) if acquired else {"mode": "locked"}
        except (GmailApiError, gmail_auth.GoogleAuthError) as exc:
            failed += 1
            click.echo(f"{address}: failed: {exc}", err=True)
            continue
        click.echo(f"{address}: {_describe(result)}")
    if failed:
        raise click.ClickException(f"{failed} of {len(mailboxes)} syncs failed")


def _describe(result: dict | None) -> str:
    if result is None:
        return "skipped (reconnect needed)"
    if result["mode"] == "locked":
        return "skipped (another sync is running)"
    if result["mode"] == "reconnect_needed":
        return "reconnect needed: Google refused the token; sync is paused"
    return (
        f"{result['mode']} sync, {result['fetched']} messages, {result['confirmed']} confirmed, "
        f"{result['adopted']} adopted, {result['replies']} replies, {result['bounces']} bounces, "
        f"{result['quota_units']} quota units"
    )


@gmail.command("watch")
@click.argument("email", required=False)
@click.option("--stop", "stopping", is_flag=True, help="Stop the watches (push switched off).")
def gmail_watch(email: str | None, stopping: bool):
    """Renew the Gmail push watch of every syncing mailbox now (or of the user with EMAIL)."""
    from server.gmail import push

    settings = current_app.config["LEADCAMP"]
    google = gmail_auth.GoogleClient.from_settings(settings)
    if google is None:
        raise click.ClickException("Google is not configured (GOOGLE_CLIENT_ID/SECRET).")
    if not stopping and not settings.gmail_push:
        raise click.ClickException("Gmail push is off (GMAIL_PUSH_TOPIC is not set).")
    mailboxes = _mailboxes(db.session, email, watched_only=stopping)
    if stopping:
        results = push.stop(db.session, google, mailboxes)
    else:
        results = push.renew(db.session, google, mailboxes, settings.gmail_push_topic)
    db.session.remove()
    for result in results:
        if result.error:
            click.echo(f"{result.email}: refused: {result.error}", err=True)
        elif result.expires_at is None:
            click.echo(f"{result.email}: stopped")
        else:
            click.echo(f"{result.email}: watched until {result.expires_at:%Y-%m-%d %H:%M} UTC")
    failed = sum(bool(r.error) for r in results)
    if failed:
        raise click.ClickException(f"{failed} of {len(results)} watches failed")


def _mailboxes(session: Session, email: str | None, watched_only: bool) -> list[GmailMailbox]:
    """The syncing mailboxes (with a watch, when `watched_only`), or the one of EMAIL's user."""
    query = select(GmailMailbox).where(GmailMailbox.status == "ok").order_by(GmailMailbox.id)
    if watched_only:
        query = query.where(GmailMailbox.watch_expires_at.is_not(None))
    if email:
        query = query.join(User, User.id == GmailMailbox.user_id).where(
            User.email == accounts.normalize_email(email)
        )
    mailboxes = list(session.scalars(query))
    if email and not mailboxes:
        raise click.ClickException(f"no syncing Gmail for {email}")
    return mailboxes


@gmail.command("rotate-key")
def gmail_rotate_key():
    """Re-encrypt every stored Google token under the first TOKEN_ENCRYPTION_KEYS key."""
    keys = current_app.config["LEADCAMP"].token_encryption_keys
    if not keys:
        raise click.ClickException("TOKEN_ENCRYPTION_KEYS is not set.")
    try:
        count = gmail_auth.rotate_keys(db.session, gmail_auth.TokenCipher(keys))
    except gmail_auth.GoogleAuthError as exc:
        fail(exc)
    db.session.commit()
    click.echo(f"re-encrypted the tokens of {count} mailboxes with the first key")
