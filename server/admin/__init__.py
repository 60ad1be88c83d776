"""Settings pages for admins: account settings, team, sub-processors, data-subject requests,
audit log, breaches, termination. Server-rendered, CSRF on every form, session login."""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, current_app
from flask_login import current_user

from server.accounts.team import NotFound
from server.common import errors, mail
from server.common.inputs import refuse_nul
from server.extensions import login_manager

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.before_request(refuse_nul)


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
    return errors.page(404)


@bp.errorhandler(403)
def forbidden(_exc):
    """A rep reached an admin page."""
    return errors.page(403, "Admins only", "This page is for the account's administrators.")


from server.admin import contacts, jobs, privacy, registers, team, views, webhooks  # noqa: E402,F401
