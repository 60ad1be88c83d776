"""The webhooks page: endpoints with their types and private ranges, the secret shown once,
rotation, the delivery log, and replays of one delivery or a time range."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from server.admin import admin_required, bp, settings
from server.extensions import db
from server.models.webhook import EVENT_TYPES
from server.webhooks import endpoints

LOG_LINES = 100


def _form() -> dict:
    return {
        "url": request.form.get("url", ""),
        "description": request.form.get("description", ""),
        "event_types": request.form.getlist("event_types"),
        "allow_private": request.form.get("allow_private", ""),
    }


def _endpoint(endpoint_id: int):
    found = endpoints.endpoint_of(db.session, current_user.account_id, endpoint_id)
    if found is None:
        abort(404)
    return found


def _render_list(error: Exception | str = "", status: int = 200, form=None):
    rows = endpoints.endpoints(db.session, current_user.account_id)
    return render_template(
        "admin/webhooks.html", endpoints=rows, types=EVENT_TYPES, error=error, form=form or {}
    ), status


def _render_one(
    endpoint, error: Exception | str = "", status: int = 200, secret: str = "", **typed
):
    """One endpoint's page; `typed` keeps what a refused form held: `form` (the endpoint's
    fields) or `replay` (the range)."""
    return render_template(
        "admin/webhook.html",
        endpoint=endpoint,
        types=EVENT_TYPES,
        log=endpoints.log(db.session, endpoint, LOG_LINES),
        error=error,
        secret=secret,
        form=typed.get("form") or {},
        replay=typed.get("replay") or {},
    ), status


@bp.get("/webhooks")
@admin_required
def webhooks_page():
    """The account's endpoints and the form to add one."""
    return _render_list()


@bp.post("/webhooks")
@admin_required
def webhooks_add():
    """Add an endpoint; its secret is shown on the answer, once."""
    try:
        endpoint, secret = endpoints.create(
            db.session, settings().secret_key, current_user, _form(),
            settings().webhook_allow_private,
        )  # fmt: skip
    except endpoints.WebhookError as exc:
        db.session.rollback()
        return _render_list(exc, 400, _form())
    db.session.commit()
    return _render_one(endpoint, secret=secret)


@bp.get("/webhooks/<int:endpoint_id>")
@admin_required
def webhook_page(endpoint_id: int):
    """One endpoint: its settings and its delivery log."""
    return _render_one(_endpoint(endpoint_id))


@bp.post("/webhooks/<int:endpoint_id>")
@admin_required
def webhook_save(endpoint_id: int):
    """Save an endpoint's URL, types, ranges and switch."""
    endpoint = _endpoint(endpoint_id)
    data = _form() | {"enabled": request.form.get("enabled") == "on"}
    try:
        endpoints.update_endpoint(
            db.session, current_user, endpoint, data, settings().webhook_allow_private
        )
    except endpoints.WebhookError as exc:
        db.session.rollback()
        return _render_one(_endpoint(endpoint_id), exc, 400, form=data)
    db.session.commit()
    flash("Endpoint saved.")
    return redirect(url_for("admin.webhook_page", endpoint_id=endpoint_id))


@bp.post("/webhooks/<int:endpoint_id>/rotate")
@admin_required
def webhook_rotate(endpoint_id: int):
    """A new secret; the old one keeps signing for a day."""
    endpoint = _endpoint(endpoint_id)
    secret = endpoints.rotate(db.session, settings().secret_key, current_user, endpoint)
    db.session.commit()
    return _render_one(endpoint, secret=secret)


@bp.post("/webhooks/<int:endpoint_id>/delete")
@admin_required
def webhook_delete(endpoint_id: int):
    """Delete an endpoint and its log."""
    endpoints.remove(db.session, current_user, _endpoint(endpoint_id))
    db.session.commit()
    flash("Endpoint deleted.")
    return redirect(url_for("admin.webhooks_page"))


@bp.post("/webhooks/<int:endpoint_id>/replay")
@admin_required
def webhook_replay_range(endpoint_id: int):
    """Replay the deliveries of a time range that never succeeded."""
    endpoint = _endpoint(endpoint_id)
    try:
        since, until = (_when(request.form.get(name, ""), name) for name in ("since", "until"))
        queued = endpoints.replay_range(db.session, current_user, endpoint, since, until)
    except endpoints.WebhookError as exc:
        db.session.rollback()
        return _render_one(endpoint, exc, 400, replay=request.form)
    db.session.commit()
    flash(f"{queued} deliveries queued again.")
    return redirect(url_for("admin.webhook_page", endpoint_id=endpoint_id))


@bp.post("/webhooks/deliveries/<int:delivery_id>/replay")
@admin_required
def webhook_replay_one(delivery_id: int):
    """Replay one delivery."""
    delivery = endpoints.delivery_of(db.session, current_user.account_id, delivery_id)
    if delivery is None:
        abort(404)
    try:
        endpoints.replay(db.session, current_user, delivery)
    except endpoints.WebhookError as exc:
        db.session.rollback()
        return _render_one(_endpoint(delivery.endpoint_id), exc, 400)
    db.session.commit()
    flash("Delivery queued again.")
    return redirect(url_for("admin.webhook_page", endpoint_id=delivery.endpoint_id))


def _when(text: str, field: str) -> datetime:
    """A form's `YYYY-MM-DDTHH:MM` (UTC) as a datetime; WebhookError when it is not one."""
    try:
        return datetime.strptime(text.strip(), "%Y-%m-%dT%H:%M").replace(tzinfo=UTC)
    except ValueError:
        message = "Give the range as dates and times (UTC)."
        raise endpoints.WebhookError(message, field) from None
