"""API views for server-side sending through the rep's Gmail."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app, g

from server.accounts import settings as account_settings
from server.api import bp, schemas
from server.api.errors import ApiError
from server.api.openapi import operation
from server.extensions import db
from server.gmail import auth as gmail_auth
from server.gmail import client as gmail_client
from server.gmail import send as gmail_send
from server.messages import service as messages
from server.models import MessageSummary


@operation(
    bp,
    "/messages/send",
    "POST",
    "Send through the rep's Gmail: one tracked copy per recipient (when the admin allows it)",
    schemas.SendOut,
    body=schemas.SendIn,
    status=201,
    max_bytes=1024 * 1024,
)
def send_message(body: schemas.SendIn):
    """Send one tracked copy per recipient from the rep's Gmail."""
    settings = current_app.config["LEADCAMP"]
    user = g.user
    google = gmail_auth.GoogleClient.from_settings(settings)
    if google is None:
        raise ApiError(409, "google_not_configured", "Google is not configured on this server.")
    base_url = account_settings.tracking_base_url(user.account, settings.public_url)
    try:
        mailbox = gmail_send.check_allowed(user, gmail_auth.mailbox_of(db.session, user))
        sent = gmail_send.send(
            db.session,
            user,
            mailbox,
            gmail_client.for_mailbox(google, mailbox),
            body.model_dump(),
            messages.Tracker(base_url, settings.link_secrets),
            datetime.now(UTC),
        )
    except gmail_send.SendError as exc:
        raise ApiError(exc.status, exc.code, str(exc), exc.details) from exc
    return {
        "messages": [messages.summary_of(m, db.session.get(MessageSummary, m.id)) for m in sent]
    }
