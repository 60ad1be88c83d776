"""Account settings and the verdict mix."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from server.accounts import settings as account_settings
from server.admin import admin_required, bp, settings
from server.extensions import db
from server.models.message import VERDICTS
from server.predictions import service as predictions
from server.tracking import mix
from server.webhooks import events as webhook_events

WEEKS = 12


@bp.get("/")
@admin_required
def index():
    """The admin area starts at the account settings."""
    return redirect(url_for("admin.account"))


def _render_settings(error: Exception | str = "", status: int = 200, form=None):
    account = current_user.account
    geo = account_settings.geo_status(settings().geoip_database, datetime.now(UTC))
    return render_template(
        "admin/settings.html",
        account=account,
        geo=geo,
        switches=account_settings.SWITCHES,
        public_url=settings().public_url,
        base_url=account_settings.tracking_base_url(account, settings().public_url),
        error=error,
        backtest=predictions.latest(db.session, account.id),
        form=form,
        name_limit=account_settings.MAX_NAME_LENGTH,
    ), status


@bp.get("/settings")
@admin_required
def account():
    """The account's settings form and the geo database's status."""
    return _render_settings()


@bp.post("/settings")
@admin_required
def account_save():
    """Save the account's settings."""
    account = current_user.account
    try:
        changes = account_settings.parse(request.form)
        changed = account_settings.update(db.session, account, current_user, changes)
    except account_settings.SettingsError as exc:
        db.session.rollback()
        return _render_settings(exc, 400, request.form)
    if "tracking_enabled" in changed and not account.tracking_enabled:
        # Opens and clicks still waiting to be sent to webhooks are not sent any more.
        webhook_events.scrub_tracking(db.session, account.id)
    db.session.commit()
    flash("Settings saved." if changed else "Nothing changed.")
    return redirect(url_for("admin.account"))


@bp.get("/verdicts")
@admin_required
def verdicts_page():
    """The verdict mix per week: real reads and what the rest of the hits were."""
    periods = mix.weekly(db.session, current_user.account_id, WEEKS, datetime.now(UTC))
    return render_template("admin/verdicts.html", periods=periods, verdicts=VERDICTS, weeks=WEEKS)
