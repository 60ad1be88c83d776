"""Webhook endpoints, their delivery log and replays (admins only: receivers get the account's
engagement data), and their bodies' schemas; docs/webhooks.md has the events' payloads."""

from __future__ import annotations

from typing import Annotated, Literal

from flask import current_app, g
from pydantic import AwareDatetime, BaseModel, Field

from server.api import bp
from server.api.args import int_arg
from server.api.errors import ApiError
from server.api.openapi import operation
from server.api.schemas import Strict
from server.extensions import db
from server.models import WebhookEvent
from server.models.webhook import EVENT_TYPES
from server.webhooks import endpoints

EventType = Literal[EVENT_TYPES]  # the model's list: one place names the types
Url = Annotated[str, Field(min_length=1, max_length=2000, description="http(s) URL")]
Ranges = Annotated[
    str,
    Field(
        max_length=1000,
        description="Comma-separated CIDRs of private addresses this endpoint may reach",
    ),
]


class WebhookIn(Strict):
    url: Url
    event_types: Annotated[list[EventType], Field(max_length=20)] = Field(
        default_factory=list, description="Types to receive; empty: every type"
    )
    description: Annotated[str, Field(max_length=200)] = ""
    allow_private: Ranges = ""


class WebhookPatchIn(Strict):
    url: Url | None = None
    event_types: Annotated[list[EventType], Field(max_length=20)] | None = None
    description: Annotated[str, Field(max_length=200)] | None = None
    allow_private: Ranges | None = None
    enabled: bool | None = None


class ReplayIn(Strict):
    since: AwareDatetime
    until: AwareDatetime
    failed_only: bool = Field(
        default=True, description="Only events whose delivery to this endpoint never succeeded"
    )


class WebhookOut(BaseModel):
    id: int
    url: str
    description: str
    event_types: list[str]
    allow_private: list[str]
    enabled: bool
    disabled_reason: str
    failing_since: str | None
    previous_secret_expires_at: str | None = Field(
        description="Until when the previous secret still signs (after a rotation)"
    )
    created_at: str


class WebhookCreatedOut(WebhookOut):
    secret: str = Field(description="The signing secret (whsec_…): shown only now")


class WebhookListOut(BaseModel):
    endpoints: list[WebhookOut]
    event_types: list[str]


class SecretOut(BaseModel):
    secret: str = Field(description="The new signing secret: shown only now")
    previous_secret_expires_at: str


class DeliveryOut(BaseModel):
    id: int
    endpoint_id: int
    event_id: str = Field(description="The webhook-id header: the same on every retry and replay")
    event_type: str
    status: str = Field(description="pending, succeeded, failed or cancelled")
    attempts: int
    response_code: int | None
    latency_ms: int | None
    error: str
    created_at: str
    last_attempt_at: str | None
    next_attempt_at: str | None


class DeliveryListOut(BaseModel):
    deliveries: list[DeliveryOut]


class ReplayOut(BaseModel):
    queued: int


class DeletedOut(BaseModel):
    deleted: bool


def _admin():
    if not g.user.is_admin:
        raise ApiError(403, "forbidden", "Only an admin may manage the account's webhooks.")
    return g.user


def _endpoint(endpoint_id: int):
    found = endpoints.endpoint_of(db.session, _admin().account_id, endpoint_id)
    if found is None:
        raise ApiError(404, "not_found", "No such webhook endpoint in your account.")
    return found


def _secret_key() -> str:
    return current_app.config["LEADCAMP"].secret_key


def _server_allowed() -> tuple:
    return current_app.config["LEADCAMP"].webhook_allow_private


def _refused(exc: endpoints.WebhookError):
    db.session.rollback()
    return ApiError(400, "invalid_request", str(exc))


@operation(bp, "/webhooks", "GET", "The account's webhook endpoints", WebhookListOut)
def list_webhooks():
    """Every endpoint of the account and the event types there are."""
    found = endpoints.endpoints(db.session, _admin().account_id)
    return {"endpoints": [endpoints.view(e) for e in found], "event_types": list(EVENT_TYPES)}


@operation(
    bp, "/webhooks", "POST", "Add an endpoint (its secret is shown only in this answer)",
    WebhookCreatedOut, body=WebhookIn, status=201,
)  # fmt: skip
def create_webhook(body: WebhookIn):
    """A new endpoint and its signing secret."""
    try:
        endpoint, secret = endpoints.create(
            db.session, _secret_key(), _admin(), body.model_dump(), _server_allowed()
        )
    except endpoints.WebhookError as exc:
        raise _refused(exc) from None
    db.session.commit()
    return endpoints.view(endpoint) | {"secret": secret}


@operation(bp, "/webhooks/<int:endpoint_id>", "GET", "An endpoint", WebhookOut)
def get_webhook(endpoint_id: int):
    """One endpoint (never its secret)."""
    return endpoints.view(_endpoint(endpoint_id))


@operation(
    bp, "/webhooks/<int:endpoint_id>", "PATCH", "Change an endpoint (enabled: true revives it)",
    WebhookOut, body=WebhookPatchIn,
)  # fmt: skip
def patch_webhook(endpoint_id: int, body: WebhookPatchIn):
    """Change URL, types, description, private ranges or the enabled switch."""
    endpoint = _endpoint(endpoint_id)
    try:
        endpoints.update_endpoint(
            db.session, g.user, endpoint, body.model_dump(exclude_unset=True), _server_allowed()
        )
    except endpoints.WebhookError as exc:
        raise _refused(exc) from None
    db.session.commit()
    return endpoints.view(endpoint)


@operation(bp, "/webhooks/<int:endpoint_id>", "DELETE", "Delete an endpoint", DeletedOut)
def delete_webhook(endpoint_id: int):
    """Delete the endpoint and its delivery log."""
    endpoints.remove(db.session, g.user, _endpoint(endpoint_id))
    db.session.commit()
    return {"deleted": True}


@operation(
    bp, "/webhooks/<int:endpoint_id>/rotate-secret", "POST",
    "A new signing secret; the old one keeps signing for 24 hours", SecretOut,
)  # fmt: skip
def rotate_webhook_secret(endpoint_id: int):
    """Rotate the secret with an overlap, so receivers can switch without a gap."""
    endpoint = _endpoint(endpoint_id)
    secret = endpoints.rotate(db.session, _secret_key(), g.user, endpoint)
    db.session.commit()
    view = endpoints.view(endpoint)
    return {"secret": secret, "previous_secret_expires_at": view["previous_secret_expires_at"]}


@operation(
    bp, "/webhooks/<int:endpoint_id>/deliveries", "GET",
    "The endpoint's delivery log, newest first (?limit=, ?offset=)", DeliveryListOut,
)  # fmt: skip
def webhook_deliveries(endpoint_id: int):
    """Status, attempts, response code and latency of each delivery; no bodies."""
    endpoint = _endpoint(endpoint_id)
    limit, offset = int_arg("limit", 100, 1, 500), int_arg("offset", 0, 0, 10_000_000)
    return {"deliveries": endpoints.log(db.session, endpoint, limit, offset)}


@operation(
    bp, "/webhooks/<int:endpoint_id>/replay", "POST",
    "Replay the endpoint's deliveries of a time range", ReplayOut, body=ReplayIn,
)  # fmt: skip
def replay_webhooks(endpoint_id: int, body: ReplayIn):
    """Queue the range's events again for this endpoint."""
    endpoint = _endpoint(endpoint_id)
    try:
        queued = endpoints.replay_range(
            db.session, g.user, endpoint, body.since, body.until, body.failed_only
        )
    except endpoints.WebhookError as exc:
        raise _refused(exc) from None
    db.session.commit()
    return {"queued": queued}


@operation(
    bp, "/webhooks/deliveries/<int:delivery_id>/replay", "POST",
    "Replay one delivery (same webhook-id, a new log line)", DeliveryOut, status=201,
)  # fmt: skip
def replay_webhook_delivery(delivery_id: int):
    """Queue one delivery's event again for its endpoint."""
    delivery = endpoints.delivery_of(db.session, _admin().account_id, delivery_id)
    if delivery is None:
        raise ApiError(404, "not_found", "No such webhook delivery in your account.")
    try:
        again = endpoints.replay(db.session, g.user, delivery)
    except endpoints.WebhookError as exc:
        raise ApiError(409, "gone", str(exc)) from None
    db.session.commit()
    return endpoints.delivery_view(again, db.session.get(WebhookEvent, again.event_id).type)
