"""API views: thin wrappers over the domain packages."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

from flask import current_app, g, request

from server.accounts import settings as account_settings
from server.accounts import users as accounts
from server.api import bp, schemas
from server.api.args import int_arg
from server.api.errors import ApiError
from server.api.openapi import document, operation
from server.common import signing
from server.extensions import db
from server.gmail import health as gmail_health
from server.messages import listing as message_list
from server.messages import service as messages
from server.models import MessageSummary
from server.tracking import self_views


def _settings():
    return current_app.config["LEADCAMP"]


def _base_url() -> str:
    """Where the rep's tracking links point: the account's tracking domain, else PUBLIC_URL."""
    return account_settings.tracking_base_url(g.user.account, _settings().public_url)


def _tracker() -> messages.Tracker:
    return messages.Tracker(_base_url(), _settings().link_secrets)


def user_view(user) -> dict:
    """A user as the API shows them (schemas.UserOut)."""
    return {"id": user.id, "email": user.email, "name": user.name, "role": user.role}


@operation(
    bp, "/me", "GET", "The signed-in rep, their account and tracking settings", schemas.MeOut
)
def me():
    """The signed-in rep, their account and tracking settings."""
    user = g.user
    return {
        "user": user_view(user),
        "account": {"id": user.account.id, "name": user.account.name},
        "tracking": {
            "enabled": user.tracks,
            "account_enabled": user.account.tracking_enabled,
            "track_by_default": user.account.track_by_default,
            "tracking_host": urlsplit(_base_url()).netloc,
        },
        "gmail": gmail_view(user),
    }


def gmail_view(user) -> dict:
    """The rep's Gmail connection and its health (schemas.GmailOut)."""
    return gmail_health.status_view(
        db.session,
        user,
        datetime.now(UTC),
        gmail_health.Sweep.of(_settings()),
        _settings().public_url + gmail_health.CONNECT_PATH,
    )


@operation(
    bp,
    "/signing-key",
    "GET",
    "The rep's link-signing key, for signing at send time",
    schemas.SigningKeyOut,
)
def signing_key():
    """The rep's current link-signing key."""
    key = accounts.current_signing_key(db.session, g.user)
    material = accounts.key_material(_settings().link_secrets, key.kid)
    db.session.commit()
    return {
        "kid": key.kid,
        "key": signing.b64encode(material),
        "algorithm": signing.ALGORITHM,
        "base_url": _base_url(),
    }


@operation(
    bp,
    "/messages",
    "POST",
    "Register a sent message; with `html`, answer it tracked",
    schemas.MessageCreatedOut,
    body=schemas.MessageIn,
    status=201,
    max_bytes=1024 * 1024,
)
def create_message(body: schemas.MessageIn):
    """Register a sent message; track its HTML when given."""
    try:
        message, tracked = messages.register(db.session, g.user, body.model_dump(), _tracker())
    except messages.MessageError as exc:
        raise ApiError(exc.status, exc.code, str(exc)) from exc
    db.session.commit()
    return messages.summary_of(message, db.session.get(MessageSummary, message.id)) | tracked


_FILTER = {"type": "string", "enum": list(message_list.FILTERS)}
_LIST_QUERY = (
    ("q", "text in the subject or a recipient's address or name", {"type": "string"}),
    ("filter", "opened_not_replied, clicked, bounced or no_activity", _FILTER),
    ("limit", "page size, 1 to 200 (default 50)", {"type": "integer"}),
    ("offset", "messages to skip (default 0)", {"type": "integer"}),
)


@operation(
    bp,
    "/messages",
    "GET",
    "Your tracked messages (an admin: the account's), newest first, searched and filtered",
    schemas.MessageListOut,
    query=_LIST_QUERY,
)
def list_messages():
    """A page of the messages the caller may see, with their status."""
    limit = int_arg("limit", 50, 1, message_list.MAX_LIMIT)
    offset = int_arg("offset", 0, 0, 10_000_000)
    name = request.args.get("filter", "")
    if name and name not in message_list.FILTERS:
        choices = ", ".join(message_list.FILTERS)
        raise ApiError(400, "invalid_request", f"filter must be one of {choices}.")
    q = request.args.get("q", "")[:200]
    return message_list.messages_page(db.session, g.user, q, name, limit, offset)


@operation(bp, "/messages/<mid>", "GET", "A message's status and events", schemas.MessageDetailOut)
def get_message(mid: str):
    """One message's status and events."""
    detail = messages.message_detail(db.session, g.user, mid)
    if detail is None:
        raise ApiError(404, "not_found", "No such message in your account.")
    return detail


@operation(
    bp,
    "/threads/status",
    "POST",
    "Status of the tracked messages in up to 500 Gmail threads",
    schemas.ThreadsOut,
    body=schemas.ThreadsIn,
)
def threads_status(body: schemas.ThreadsIn):
    """Status of the tracked messages in the given Gmail threads."""
    return {"threads": messages.threads_status(db.session, g.user, body.thread_ids)}


@operation(
    bp,
    "/messages/<mid>/self-view",
    "POST",
    "The sender is viewing their own message now",
    schemas.SelfViewOut,
    body=schemas.SelfViewIn,
)
def self_view(mid: str, body: schemas.SelfViewIn):
    """Record the sender's own view; it explains at most the one fetch it caused."""
    window = _settings().self_view_window_seconds
    count = self_views.record(db.session, g.user, mid, body.viewed_at, window)
    if count is None:
        raise ApiError(404, "not_found", "No such message of yours.")
    db.session.commit()
    return {"relabelled": count}


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI document of this API (public: it holds no data)."""
    return document("Leadcamp API", "1")
