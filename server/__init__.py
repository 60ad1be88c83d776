"""The Flask application factory."""

from __future__ import annotations

import logging

from flask import Flask

from config import Settings


def create_app(settings: Settings | None = None) -> Flask:
    """Build the app: configuration, extensions, blueprints, the tracking fast path, the job
    queue, the personal-data providers, commands."""
    settings = settings or Settings.from_env()
    app = Flask(__name__, instance_path=str(settings.instance_path))
    app.config.from_mapping(settings.flask_config())
    register_logging(app)
    register_files(settings)
    register_extensions(app)
    register_blueprints(app)
    register_limits(app)
    register_errors(app)
    register_headers(app)
    register_tracking(app, settings)
    register_jobs(app, settings)
    register_personal_data()
    register_commands(app)
    return app


def register_logging(app: Flask) -> None:
    """Plain log lines on stderr; no request logging here (it would carry addresses)."""
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
    # Alembic announces each of its plugins at INFO on every command; that is noise here.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


def register_files(settings: Settings) -> None:
    """Local state private to the service's user: the instance folder 0700, and what an older
    version left readable (folders, SQLite databases) tightened."""
    from server.common import files
    from server.jobs import sqlite_storage

    files.private_dir(settings.instance_path)
    for folder in (settings.journal_dir, settings.spool_dir):
        files.tighten(folder)
    files.tighten_sqlite(files.sqlite_path(settings.database_url))
    files.tighten_sqlite(sqlite_storage(settings))


def register_extensions(app: Flask) -> None:
    """Bind the unbound extensions to this app."""
    from server.auth.sessions import load_user
    from server.extensions import csrf, db, login_manager, migrate

    db.init_app(app)
    csrf.init_app(app)
    migrate.init_app(app, db, directory=str(app.root_path + "/../migrations"))
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.user_loader(load_user)


def register_limits(app: Flask) -> None:
    """Rate limits on sign-in, connect codes and refused API tokens (never the pixel)."""
    from server.auth import throttle

    throttle.init_app(app)


def register_errors(app: Flask) -> None:
    """Styled error pages for browsers; the JSON API keeps its JSON errors."""
    from server.api.errors import API_PREFIX, http_json
    from server.common import errors

    errors.init_app(app, {API_PREFIX: http_json})


def register_headers(app: Flask) -> None:
    """Security headers (CSP, no-store, referrer policy) on every answer Flask gives."""
    from server import headers

    headers.init_app(app)


def register_blueprints(app: Flask) -> None:
    """One blueprint per package; `<int:...>` in their routes takes ids the database can hold."""
    from server.admin import bp as admin_bp
    from server.api import bp as api_bp
    from server.auth import bp as auth_bp
    from server.common.inputs import IdConverter
    from server.extensions import csrf
    from server.gmail import bp as gmail_bp
    from server.insights import bp as insights_bp
    from server.predictions import bp as predictions_bp
    from server.tracking import bp as tracking_bp
    from server.workspace import bp as workspace_bp

    app.url_map.converters["int"] = IdConverter  # before any route is added
    app.register_blueprint(tracking_bp)
    app.register_blueprint(api_bp)
    csrf.exempt(api_bp)  # bearer tokens, not cookies: nothing to forge
    app.register_blueprint(auth_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(workspace_bp)
    app.register_blueprint(insights_bp)
    app.register_blueprint(gmail_bp)
    csrf.exempt(gmail_bp)  # Pub/Sub's signed OIDC token, not cookies: nothing to forge
    app.register_blueprint(predictions_bp)


def register_tracking(app: Flask, settings: Settings) -> None:
    """Put the pixel and redirect fast path in front of Flask, with its event sink."""
    from server.tracking import install_fast_path

    install_fast_path(app, settings)


def register_jobs(app: Flask, settings: Settings) -> None:
    """The queue views hand slow work to (and the worker consumes), opened on first use."""
    from server.jobs import HueyQueue

    app.extensions["leadcamp.jobs"] = HueyQueue(app, settings)


def register_personal_data() -> None:
    """Every holder of a person's data, in erasure order: messages, job runs and breaches first,
    so an erasure finds them under every spelling the contact knows before the contact itself
    goes; the user row last, since the rep's mailbox, tokens and views are found through it."""
    from server.accounts import personal_data as accounts
    from server.common import personal_data
    from server.contacts import personal_data as contacts
    from server.gmail import personal_data as gmail
    from server.messages import personal_data as messages
    from server.privacy import job_runs
    from server.privacy import personal_data as privacy
    from server.webhooks import personal_data as webhooks

    personal_data.register(webhooks.PROVIDER)  # finds bodies naming the person's messages
    personal_data.register(messages.FOLLOW_UPS)
    personal_data.register(messages.PROVIDER)
    personal_data.register(messages.SELF_VIEWS)
    personal_data.register(job_runs.PROVIDER)
    personal_data.register(accounts.INVITATIONS)
    personal_data.register(privacy.BREACHES)
    personal_data.register(privacy.AUDIT)
    personal_data.register(gmail.PROVIDER)
    personal_data.register(accounts.TOKENS)
    personal_data.register_aliases(contacts.aliases)
    personal_data.register(contacts.PROVIDER)
    personal_data.register(accounts.USERS)


def register_commands(app: Flask) -> None:
    """The `flask --app wsgi ...` commands."""
    from server.cli import register

    register(app)
