"""Gmail: connection, sync, sending, and the push endpoint Pub/Sub posts Gmail's notices to."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.exceptions import NotFound, RequestEntityTooLarge

bp = Blueprint("gmail", __name__)
log = logging.getLogger(__name__)


@bp.record_once
def _certs_cache(state) -> None:
    """One cache of Google's signing certificates per app."""
    from server.gmail.push import GoogleCerts

    state.app.extensions["leadcamp.google_certs"] = GoogleCerts()


def _error(status: int, code: str, message: str) -> Response:
    response = jsonify({"error": code, "message": message})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="gmail-push"'
    return response


@bp.post("/gmail/push")
def receive_push():
    """A Gmail notice from Pub/Sub: its OIDC token checked, it queues the mailbox's sync."""
    from server.extensions import db
    from server.gmail import push as gmail_push

    settings = current_app.config["LEADCAMP"]
    if not settings.gmail_push:
        raise NotFound()
    if (request.content_length or 0) > gmail_push.MAX_BODY:
        return _error(413, "payload_too_large", "A Gmail notice is far smaller.")
    request.max_content_length = gmail_push.MAX_BODY  # a body sent without a length, too
    try:
        gmail_push.verify(
            request.headers.get("Authorization", ""),
            settings.gmail_push_audience,
            settings.gmail_push_service_account,
            current_app.extensions["leadcamp.google_certs"],
        )
    except gmail_push.PushRefused as exc:
        log.warning("gmail push refused: %s", exc)
        return _error(401, "unauthorized", "The push token was refused.")
    except gmail_push.CertsUnavailable as exc:
        log.warning("gmail push not checked: %s", exc)  # Pub/Sub sends it again later
        return _error(503, "unavailable", "Google's certificates could not be read.")
    try:
        notice = gmail_push.parse_envelope(request.get_data(cache=False))
    except RequestEntityTooLarge:
        return _error(413, "payload_too_large", "A Gmail notice is far smaller.")
    except gmail_push.BadEnvelope as exc:
        return _error(400, "bad_envelope", str(exc))
    # Only a sync is queued: it reads Gmail's history itself, whatever the notice says.
    mailbox_ids = gmail_push.syncing_mailboxes(db.session, notice.email)
    for mailbox_id in mailbox_ids:
        current_app.extensions["leadcamp.jobs"].submit("gmail_sync_mailbox", mailbox_id)
    log.info("gmail push (history %s): %d syncs queued", notice.history_id, len(mailbox_ids))
    return Response(status=204)
