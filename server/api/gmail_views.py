"""API views for server-side sending through the rep's Gmail: checked at once, sent by a job."""

from __future__ import annotations

from flask import current_app, g

from server.api import bp, schemas
from server.api.errors import ApiError
from server.api.jobs import accepted
from server.api.openapi import operation
from server.extensions import db
from server.gmail import auth as gmail_auth
from server.gmail import outbox
from server.gmail import send as gmail_send


@operation(
    bp,
    "/messages/send",
    "POST",
    "Send through the rep's Gmail, one tracked copy per recipient (a job: poll its status_url)",
    schemas.JobAcceptedOut,
    body=schemas.SendIn,
    status=202,
    max_bytes=1024 * 1024,
)
def send_message(body: schemas.SendIn):
    """Check the send and queue it; each copy goes out at most once."""
    if gmail_auth.GoogleClient.from_settings(current_app.config["LEADCAMP"]) is None:
        raise ApiError(409, "google_not_configured", "Google is not configured on this server.")
    user = g.user
    try:
        gmail_send.check_allowed(user, gmail_auth.mailbox_of(db.session, user))
        secrets_ = current_app.config["LEADCAMP"].link_secrets
        run = outbox.plan(db.session, user, body.model_dump(), secrets_)
    except gmail_send.SendError as exc:
        raise ApiError(exc.status, exc.code, str(exc)) from exc
    return accepted(run)
