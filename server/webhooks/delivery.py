"""Sending due deliveries: at least once, retried for about three days with backoff and jitter.

Each delivery is claimed (a short lease on its next attempt time) before its POST, so two
workers never send it at once and a worker that dies mid-attempt leaves it to be retried:
a receiver may see an event twice, and drops the copy by its `webhook-id`. Deliveries are
independent: no order is promised between events, even to one endpoint. An endpoint failing
without a success for `disable_after` is disabled and the account's admins are told by mail.
"""

from __future__ import annotations

import random
import ssl
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.accounts.team import admin_addresses
from server.common import audit
from server.common.mail import Mailer
from server.models import Account, WebhookDelivery, WebhookEndpoint, WebhookEvent
from server.models.base import utcnow
from server.webhooks import guard, signing, transport

# The wait after the n-th failed attempt (10 s … 20 h): eleven attempts over about 72 hours.
RETRY_DELAYS = tuple(
    timedelta(seconds=s) for s in (10, 60, 300, 1800, 7200, 18000, 36000, 50400, 72000, 72000)
)
JITTER = 0.2  # each wait is stretched or shortened by up to a fifth, so retries spread out
LEASE = timedelta(minutes=2)  # longer than one attempt can take (connect + read timeouts)
BATCH = 100
RUN_SECONDS = 50  # a run ends before the next one starts (the task runs every minute)


@dataclass(frozen=True)
class Config:
    """What sending needs from the settings, passed in explicitly."""

    secret_key: str
    allowed: tuple = ()  # WEBHOOK_ALLOW_PRIVATE: ranges every endpoint may reach
    timeout: float = 10.0
    disable_after: timedelta = timedelta(hours=72)
    mailer: Mailer = field(default_factory=Mailer)
    tls_context: ssl.SSLContext | None = None
    rand: Callable[[], float] = random.random

    @classmethod
    def from_settings(cls, settings, mailer: Mailer) -> Config:
        """The config the app's settings describe."""
        return cls(
            secret_key=settings.secret_key,
            allowed=settings.webhook_allow_private,
            timeout=settings.webhook_timeout_seconds,
            disable_after=timedelta(hours=settings.webhook_disable_after_hours),
            mailer=mailer,
        )


def retry_delay(attempts: int, rand: Callable[[], float] = random.random) -> timedelta | None:
    """The wait before the next attempt after `attempts` failed ones; None when none is left."""
    if attempts > len(RETRY_DELAYS):
        return None
    return RETRY_DELAYS[attempts - 1] * (1 + JITTER * (2 * rand() - 1))


def deliver_due(session: Session, config: Config, now: datetime | None = None) -> Counter:
    """Attempt the due deliveries, batch after batch, until none is due or RUN_SECONDS have
    passed (the next run takes over); counts of outcomes. Commits per delivery."""
    # Tests pass `now` to move through the schedule; a worker reads the clock per batch.
    clock = (lambda: now) if now else utcnow
    counts: Counter = Counter()
    started = time.monotonic()
    while time.monotonic() - started < RUN_SECONDS:
        done = _batch(session, config, clock())
        counts += done
        if sum(done.values()) < BATCH:
            break
    return counts


def _batch(session: Session, config: Config, now: datetime) -> Counter:
    due = session.scalars(
        select(WebhookDelivery.id)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(
            WebhookDelivery.status == "pending",
            WebhookDelivery.next_attempt_at <= now,
            WebhookEndpoint.enabled.is_(True),
        )
        .order_by(WebhookDelivery.next_attempt_at)
        .limit(BATCH)
    ).all()
    counts: Counter = Counter()
    for delivery_id in due:
        if not claim(session, delivery_id, now):
            continue
        session.commit()  # the lease holds before the slow POST
        counts[attempt(session, session.get(WebhookDelivery, delivery_id), config, now)] += 1
        session.commit()
    return counts


def claim(session: Session, delivery_id: int, now: datetime) -> bool:
    """Take the delivery for one attempt (False when another worker took it first)."""
    return bool(
        session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id == delivery_id,
                WebhookDelivery.status == "pending",
                WebhookDelivery.next_attempt_at <= now,
            )
            .values(next_attempt_at=now + LEASE)
        ).rowcount
    )


def attempt(session: Session, delivery: WebhookDelivery, config: Config, now: datetime) -> str:
    """One signed POST of the delivery's event; records the outcome and returns the status."""
    endpoint = session.get(WebhookEndpoint, delivery.endpoint_id)
    event = session.get(WebhookEvent, delivery.event_id)
    if event.payload is None:
        delivery.status, delivery.next_attempt_at = "cancelled", None
        delivery.error = "the body is no longer kept"
        return delivery.status
    body = event.payload.encode()
    try:
        target = guard.check(endpoint.url, config.allowed + guard.networks(endpoint.allow_private))
    except guard.Refused as exc:
        outcome = transport.Outcome(None, 0, f"refused: {exc}")
    else:
        # The real clock, not `now`: receivers reject timestamps more than minutes away.
        secrets = live_secrets(endpoint, config.secret_key, now)
        headers = signing.headers(secrets, event.id, int(time.time()), body)
        outcome = transport.post(target, headers, body, config.timeout, config.tls_context)
    record(session, delivery, endpoint, outcome, config, now)
    return delivery.status


def live_secrets(endpoint: WebhookEndpoint, secret_key: str, now: datetime) -> list[str]:
    """The secrets to sign with: the current one, and the previous one during its overlap."""
    found = [signing.unseal(secret_key, endpoint.secret_encrypted)]
    previous, until = endpoint.previous_secret_encrypted, endpoint.previous_expires_at
    if previous and until and until > now:
        found.append(signing.unseal(secret_key, previous))
    return found


def record(session, delivery, endpoint, outcome: transport.Outcome, config, now) -> None:
    """Log the attempt on the delivery; schedule a retry, give up, or disable the endpoint."""
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.response_code, delivery.latency_ms = outcome.status, outcome.latency_ms
    delivery.error = outcome.error[:200] or ("" if outcome.ok else f"HTTP {outcome.status}")
    if outcome.ok:
        delivery.status, delivery.next_attempt_at = "succeeded", None
        endpoint.failing_since = None
        return
    endpoint.failing_since = endpoint.failing_since or now
    delay = retry_delay(delivery.attempts, config.rand)
    if delay is None:
        delivery.status, delivery.next_attempt_at = "failed", None
    else:
        delivery.next_attempt_at = now + delay
    if endpoint.enabled and now - endpoint.failing_since >= config.disable_after:
        disable(session, endpoint, config.mailer, now)


def disable(session: Session, endpoint: WebhookEndpoint, mailer: Mailer, now: datetime) -> bool:
    """Turn off an endpoint that kept failing: its pending deliveries fail (they can be replayed
    once it works again) and the admins get a mail. Returns whether the mail went."""
    hours = int((now - endpoint.failing_since).total_seconds() // 3600)
    endpoint.enabled = False
    endpoint.disabled_reason = f"every attempt failed for {hours} hours"
    session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.status == "pending")
        .values(status="failed", next_attempt_at=None, error="the endpoint was disabled")
    )
    audit.record(
        session, endpoint.account_id, "webhook.disable", actor_label="system",
        target=f"webhook endpoint #{endpoint.id}", detail=endpoint.disabled_reason,
    )  # fmt: skip
    account = session.get(Account, endpoint.account_id)
    body = (
        f"Leadcamp disabled the webhook endpoint #{endpoint.id} of {account.name}:\n"
        f"{endpoint.url}\n\nNo delivery to it succeeded for {hours} hours. Fix the receiver, "
        "enable the endpoint again in the webhook settings, and replay the deliveries it missed."
    )
    return mailer.send(admin_addresses(account), f"Webhook endpoint #{endpoint.id} disabled", body)
