"""`flask --app wsgi ...` commands: users, tokens, keys, bootstrap, serve, jobs, sink."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import NoReturn

import click
from flask import Flask, current_app
from sqlalchemy import func, select

from server.extensions import db
from server.models import User
from server.services import accounts

users = click.Group("users", help="Manage users.")
tokens = click.Group("tokens", help="Manage the extension's API tokens.")
keys = click.Group("keys", help="Manage link-signing keys.")
jobs = click.Group("jobs", help="Run background jobs.")
sink = click.Group("sink", help="Event ingestion.")


def register(app: Flask) -> None:
    """Attach the command groups to the app's CLI."""
    from server.cli_contacts import contacts
    from server.cli_gmail import register as register_gmail
    from server.cli_privacy import register as register_privacy

    for group in (users, tokens, keys, jobs, sink, contacts):
        app.cli.add_command(group)
    app.cli.add_command(bootstrap)
    app.cli.add_command(serve)
    register_gmail(app)
    register_privacy(app)  # last: it joins the `accounts` group the Gmail commands made


def _fail(exc: Exception) -> NoReturn:
    db.session.rollback()
    raise click.ClickException(str(exc)) from exc


def _login_url(user: User) -> str:
    settings = current_app.config["LEADCAMP"]
    token = accounts.magic_link_token(settings.secret_key, user)
    return f"{settings.public_url}/auth/magic/{token}"


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
        _fail(exc)
    db.session.commit()
    click.echo(f"created {user.role} {user.email} in account {user.account.name!r}")


@users.command("login-link")
@click.argument("email")
def users_login_link(email: str):
    """Print a one-time sign-in link (valid 15 minutes)."""
    try:
        user = accounts.find_user(db.session, email)
    except accounts.AccountError as exc:
        _fail(exc)
    click.echo(_login_url(user))


@tokens.command("create")
@click.argument("email")
@click.option("--label", default="", help="What the token is for.")
def tokens_create(email: str, label: str):
    """Create an API token and print it once."""
    try:
        token = accounts.create_api_token(db.session, accounts.find_user(db.session, email), label)
    except accounts.AccountError as exc:
        _fail(exc)
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
        _fail(exc)
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
    click.echo(f"  {_login_url(user)}")


def web_command(port: int, workers: int, access_log: bool, env=os.environ) -> list[str]:
    """The production web server's command line (server/webserver.py); HOST and
    WEB_GRACEFUL_TIMEOUT come from `env`."""
    command = [
        sys.executable,
        "-m",
        "server.webserver",
        "--host",
        env.get("HOST", "127.0.0.1"),
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--graceful-timeout",
        env.get("WEB_GRACEFUL_TIMEOUT", "5"),
    ]
    if access_log:
        command.append("--access-log")
    return [*command, "wsgi:app"]


@click.command("serve")
@click.option("--port", envvar="PORT", default=5000, show_default=True)
@click.option("--workers", envvar="WEB_WORKERS", default=2, show_default=True)
@click.option("--access-log/--no-access-log", envvar="ACCESS_LOG", default=False, show_default=True)
def serve(port: int, workers: int, access_log: bool):
    """Run the web server and the job worker (and the Redis drainer) until Ctrl-C."""
    settings = current_app.config["LEADCAMP"]
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    commands = {
        "web": web_command(port, workers, access_log),
        "jobs": [*flask, "jobs", "worker"],
    }
    if settings.event_sink != "embedded":
        commands["drain"] = [*flask, "sink", "drain"]
    # Own sessions: a terminal's Ctrl-C reaches only this process, which then stops each child
    # exactly once, in order.
    children = {
        name: subprocess.Popen(cmd, start_new_session=True) for name, cmd in commands.items()
    }
    click.echo(f"Leadcamp is running on http://127.0.0.1:{port} (Ctrl-C stops it)")
    stopping = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.append(True))
    while not stopping and all(c.poll() is None for c in children.values()):
        time.sleep(0.2)
    # The web server first: its workers hand their last batches to the sink as they exit, and
    # the drainer then writes them before it stops.
    for name in ("web", "jobs", "drain"):
        if name in children:
            _stop(name, children[name])


def _stop(name: str, child: subprocess.Popen) -> None:
    if child.poll() is None:
        child.send_signal(signal.SIGINT)
    try:
        child.wait(timeout=60)
    except subprocess.TimeoutExpired:
        click.echo(f"{name} did not stop in time; killing it", err=True)
        child.kill()


@jobs.command("worker")
@click.option("--workers", default=2, show_default=True)
def jobs_worker(workers: int):
    """Run the job consumer (periodic tasks included) until interrupted."""
    from server.jobs import build_huey, register_tasks

    huey = build_huey(current_app.config["LEADCAMP"])
    register_tasks(huey, current_app._get_current_object())
    huey.create_consumer(workers=workers, worker_type="thread", periodic=True).run()


@sink.command("drain")
def sink_drain():
    """Write the journal (or the Redis stream) into the database until interrupted."""
    from server.services.sinks import JournalDrainer, StreamDrainer
    from server.tracking.sink import event_writer

    settings = current_app.config["LEADCAMP"]
    write = event_writer(current_app._get_current_object(), settings)
    stop = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.append(True))
    if settings.event_sink == "redis":
        import redis

        client = redis.Redis.from_url(settings.redis_url)
        StreamDrainer(client, settings.redis_stream, write, settings.sink_batch_size).run(
            lambda: bool(stop)
        )
    else:
        JournalDrainer(settings.journal_dir, write).run(lambda: bool(stop))


@sink.command("replay")
def sink_replay():
    """Replay spool files left by stopped web workers now."""
    from server.jobs.ingestion import replay_spools

    click.echo(f"replayed {replay_spools(current_app._get_current_object())()} events")
