"""Managing an account's endpoints (admins only, checked by the views), reading the delivery log,
and replaying deliveries: one, or every one of an endpoint in a time range."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from server.common import audit
from server.common.inputs import InputError
from server.models import User, WebhookDelivery, WebhookEndpoint, WebhookEvent
from server.models.base import iso, utcnow
from server.models.webhook import EVENT_TYPES
from server.webhooks import guard, signing

ROTATION_OVERLAP = timedelta(hours=24)  # the old secret still signs this long after a rotation
MAX_ENDPOINTS = 20
MAX_REPLAY = 10_000


class WebhookError(InputError):
    """A change the service refuses; the message says why."""


def clean(data: dict, allowed: tuple = ()) -> dict:
    """The checked fields of a create or update (only those given); raises WebhookError.

    `allowed`: the private ranges already allowed (the server's, the endpoint's own)."""
    out = {}
    if "url" in data:
        url = str(data["url"] or "").strip()
        try:
            guard.split(url)
        except guard.Refused as exc:
            raise WebhookError(f"The URL is refused: {exc}.", "url") from None
        if len(url) > 2000:
            raise WebhookError("The URL is longer than 2000 characters.", "url")
        out["url"] = url
    if "event_types" in data:
        types = sorted(set(data["event_types"] or []))
        unknown = [t for t in types if t not in EVENT_TYPES]
        if unknown:
            raise WebhookError(f"Unknown event types: {', '.join(unknown)}.", "event_types")
        out["event_types"] = ",".join(types)
    if "allow_private" in data:
        try:
            nets = guard.networks(str(data["allow_private"] or ""))
        except ValueError:
            raise WebhookError(
                "Private ranges must be addresses or CIDRs, comma-separated.", "allow_private"
            ) from None
        out["allow_private"] = ",".join(str(n) for n in nets)
    if "url" in out:
        _refuse_written(out["url"], allowed + guard.networks(out.get("allow_private", "")))
    if "description" in data:
        out["description"] = str(data["description"] or "").strip()[:200]
    if data.get("enabled") is not None:
        out["enabled"] = bool(data["enabled"])
    return out


def _refuse_written(url: str, allowed: tuple) -> None:
    # A host written as a refused address is refused now; a name is checked at each attempt
    # (its answers may change), where a refusal is logged and retried.
    reason = guard.written_refusal(url, allowed)
    if reason:
        raise WebhookError(f"The URL is refused: {reason}; allow its range to reach it.", "url")


def create(
    session: Session, secret_key: str, admin: User, data: dict, server_allowed: tuple = ()
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its signing secret (shown once); `server_allowed`: the private
    ranges the server allows every endpoint."""
    values = clean(data, server_allowed)
    if "url" not in values:
        raise WebhookError("An endpoint needs a URL.", "url")
    count = len(endpoints(session, admin.account_id))
    if count >= MAX_ENDPOINTS:
        raise WebhookError(f"An account has at most {MAX_ENDPOINTS} endpoints.")
    secret = signing.new_secret()
    values.pop("enabled", None)
    endpoint = WebhookEndpoint(
        account_id=admin.account_id, secret_encrypted=signing.seal(secret_key, secret), **values
    )
    session.add(endpoint)
    session.flush()
    _audit(session, admin, "webhook.create", endpoint)
    return endpoint, secret


def update_endpoint(
    session: Session, admin: User, endpoint: WebhookEndpoint, data: dict, server_allowed: tuple = ()
) -> None:
    """Change URL, types, description, private ranges or the enabled switch."""
    kept = () if "allow_private" in data else guard.networks(endpoint.allow_private or "")
    values = clean(data | ({} if "url" in data else {"url": endpoint.url}), server_allowed + kept)
    if "url" not in data:
        values.pop("url")
    for name, value in values.items():
        setattr(endpoint, name, value)
    if values.get("enabled"):
        endpoint.disabled_reason, endpoint.failing_since = "", None
    session.flush()
    _audit(session, admin, "webhook.update", endpoint, ",".join(sorted(values)))


def remove(session: Session, admin: User, endpoint: WebhookEndpoint) -> None:
    """Delete the endpoint and its delivery log (events other endpoints receive stay)."""
    session.execute(delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id))
    _audit(session, admin, "webhook.delete", endpoint)
    session.delete(endpoint)
    session.flush()


def rotate(session: Session, secret_key: str, admin: User, endpoint: WebhookEndpoint,
           now: datetime | None = None) -> str:  # fmt: skip
    """A new secret; the current one keeps signing alongside it for ROTATION_OVERLAP."""
    now = now or utcnow()
    secret = signing.new_secret()
    endpoint.previous_secret_encrypted = endpoint.secret_encrypted
    endpoint.previous_expires_at = now + ROTATION_OVERLAP
    endpoint.secret_encrypted = signing.seal(secret_key, secret)
    session.flush()
    _audit(session, admin, "webhook.rotate", endpoint)
    return secret


def endpoints(session: Session, account_id: int) -> list[WebhookEndpoint]:
    """The account's endpoints, oldest first."""
    query = select(WebhookEndpoint).where(WebhookEndpoint.account_id == account_id)
    return list(session.scalars(query.order_by(WebhookEndpoint.id)))


def endpoint_of(session: Session, account_id: int, endpoint_id: int) -> WebhookEndpoint | None:
    """The account's endpoint with this id, or None (another account's is None too)."""
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    return endpoint if endpoint and endpoint.account_id == account_id else None


def receivers(session: Session, account_id: int) -> list[dict]:
    """The account's enabled endpoints as the sub-processor pages list them: the customer's own
    recipients of personal data, by host (a URL's path and query may hold a credential)."""
    found = []
    for endpoint in endpoints(session, account_id):
        if endpoint.enabled:
            host = guard.split(endpoint.url)[1]
            found.append({"host": host, "types": ", ".join(endpoint.types) or "every event type"})
    return found


def view(endpoint: WebhookEndpoint) -> dict:
    """An endpoint as the API and pages show it (never its secret)."""
    return {
        "id": endpoint.id,
        "url": endpoint.url,
        "description": endpoint.description,
        "event_types": endpoint.types,
        "allow_private": [n for n in endpoint.allow_private.split(",") if n],
        "enabled": endpoint.enabled,
        "disabled_reason": endpoint.disabled_reason,
        "failing_since": iso(endpoint.failing_since),
        "previous_secret_expires_at": iso(endpoint.previous_expires_at),
        "created_at": iso(endpoint.created_at),
    }


def log(session: Session, endpoint: WebhookEndpoint, limit: int = 100, offset: int = 0) -> list:
    """The endpoint's deliveries, newest first, with their event's id and type."""
    rows = session.execute(
        select(WebhookDelivery, WebhookEvent.type)
        .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.endpoint_id == endpoint.id)
        .order_by(WebhookDelivery.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return [delivery_view(d, type_) for d, type_ in rows]


def delivery_view(d: WebhookDelivery, type_: str) -> dict:
    """One delivery's log line: status, attempts, last response code and latency."""
    return {
        "id": d.id,
        "endpoint_id": d.endpoint_id,
        "event_id": d.event_id,
        "event_type": type_,
        "status": d.status,
        "attempts": d.attempts,
        "response_code": d.response_code,
        "latency_ms": d.latency_ms,
        "error": d.error,
        "created_at": iso(d.created_at),
        "last_attempt_at": iso(d.last_attempt_at),
        "next_attempt_at": iso(d.next_attempt_at),
    }


def delivery_of(session: Session, account_id: int, delivery_id: int) -> WebhookDelivery | None:
    """The account's delivery with this id, or None."""
    delivery = session.get(WebhookDelivery, delivery_id)
    return delivery if delivery and delivery.account_id == account_id else None


def replay(session: Session, admin: User, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send the delivery's event to its endpoint again, as a new delivery with the same
    `webhook-id` (a receiver that has it already drops it); the old log line stays."""
    event = session.get(WebhookEvent, delivery.event_id)
    if event is None or event.payload is None:
        raise WebhookError("The event's body is no longer kept: it cannot be replayed.")
    again = _requeue(session, delivery.account_id, delivery.endpoint_id, event.id, utcnow())
    audit.record(session, admin.account_id, "webhook.replay", actor=admin,
                 target=f"webhook delivery #{delivery.id}")  # fmt: skip
    return again


def replay_range(session: Session, admin: User, endpoint: WebhookEndpoint, since: datetime,
                 until: datetime, failed_only: bool = True) -> int:  # fmt: skip
    """Replay the endpoint's deliveries created in [since, until) (by default only those that
    did not succeed and are not pending), once per event; how many were queued."""
    if until <= since:
        raise WebhookError("The range must end after it starts.", "until")
    query = (
        select(WebhookDelivery.event_id)
        .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
        .where(
            WebhookDelivery.endpoint_id == endpoint.id,
            WebhookDelivery.created_at >= since,
            WebhookDelivery.created_at < until,
            WebhookEvent.payload.is_not(None),
            WebhookDelivery.status.not_in(("pending", "cancelled")),
        )
    )
    if failed_only:
        done = select(WebhookDelivery.event_id).where(
            WebhookDelivery.endpoint_id == endpoint.id,
            WebhookDelivery.status.in_(("succeeded", "pending")),
        )
        query = query.where(WebhookDelivery.event_id.not_in(done))
    ids = list(dict.fromkeys(session.scalars(query.order_by(WebhookDelivery.id))))[:MAX_REPLAY]
    now = utcnow()
    for event_id in ids:
        _requeue(session, endpoint.account_id, endpoint.id, event_id, now)
    _audit(session, admin, "webhook.replay", endpoint, f"{len(ids)} deliveries")
    return len(ids)


def _requeue(session, account_id: int, endpoint_id: int, event_id: str, now) -> WebhookDelivery:
    delivery = WebhookDelivery(
        account_id=account_id, endpoint_id=endpoint_id, event_id=event_id,
        status="pending", attempts=0, next_attempt_at=now, error="", created_at=now,
    )  # fmt: skip
    session.add(delivery)
    session.flush()
    return delivery


def _audit(session, admin: User, action: str, endpoint: WebhookEndpoint, detail: str = "") -> None:
    audit.record(session, admin.account_id, action, actor=admin,
                 target=f"webhook endpoint #{endpoint.id}", detail=detail)  # fmt: skip
