"""Settings pages for admins: account settings, team, sub-processors, data-subject requests,
audit log, breaches, termination. Server-rendered, CSRF on every form, session login."""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, current_app, render_template, request
from flask_login import current_user

from server.accounts.team import NotFound
from server.common import mail
from server.common.inputs import refuse_nul
from server.extensions import login_manager

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.before_request(refuse_nul)


@bp.before_request
def refuse_nul_characters():
    """A NUL character in a form or query value is malformed input: 400 here, rather than a
    server error when PostgreSQL (whose text cannot hold one) refuses to store it."""
    if any("\x00" in value for _, values in request.values.lists() for value in values):
        abort(400)


def admin_required(view):
    """Anonymous visitors go to sign-in; signed-in people who are not admins get 403."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def settings():
    """The app's settings."""
    return current_app.config["LEADCAMP"]


def mailer() -> mail.Mailer:
    """The configured mailer."""
    return mail.from_settings(settings())


@bp.errorhandler(NotFound)
def not_found(_exc):
    """Rows of other accounts do not exist for this admin."""
    return render_template("admin/error.html", title="Not found"), 404


@bp.errorhandler(403)
def forbidden(_exc):
    """A rep reached an admin page."""
    return render_template("admin/error.html", title="Admins only"), 403


from server.admin import contacts, jobs, privacy, registers, team, views, webhooks  # noqa: E402,F401
