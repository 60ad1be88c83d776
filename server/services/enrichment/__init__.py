"""Lead enrichment: requests, the background lookups behind them, and what the API shows.

An `Enrichment` row is both the stored answer and the work item: `request` marks it due, the job
calls `run_due`, which claims due rows (compare-and-set, so two workers never ask twice), asks the
provider outside any transaction, and records the outcome. Nothing is asked while the account's
tracking-and-enrichment switch is off, for a do-not-enrich contact, or without an API key.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from server.models import Account, Contact, Enrichment
from server.models.base import utcnow
from server.services.enrichment.base import Lookup, Provider

log = logging.getLogger(__name__)

PROVIDER = "clearbit"
MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=10)  # a claimed row whose worker died becomes due again after this
RATE_WINDOW = timedelta(minutes=1)


@dataclass(frozen=True)
class Policy:
    """The enrichment settings: provider key, cache lifetime, per-account rate."""

    api_key: str = ""
    ttl: timedelta = timedelta(days=30)
    rate_per_minute: int = 60

    @classmethod
    def from_settings(cls, settings) -> Policy:
        """The policy the server's settings describe."""
        return cls(
            settings.enrichment_api_key,
            timedelta(days=settings.enrichment_ttl_days),
            settings.enrichment_rate_per_minute,
        )

    @property
    def configured(self) -> bool:
        """Whether a provider key is set (without one, enrichment is off)."""
        return bool(self.api_key)


def off_reason(policy: Policy, account: Account, contact: Contact | None = None) -> str | None:
    """Why enrichment is off for this account (and contact), or None when it is on."""
    if not policy.configured:
        return "no_api_key"
    if not account.tracking_enabled:
        return "tracking_off"
    if contact is not None and contact.do_not_enrich:
        return "do_not_enrich"
    return None


def request(session: Session, contact: Contact, now: datetime, *, force: bool = False):
    """Make the contact's lookup due now; `force` (a manual refresh) bypasses the cache.

    A non-forced request on a fresh answer costs no call: the job sees the cache and stops.
    """
    if contact.do_not_enrich:
        return None
    row = contact.enrichment
    if row is None:
        row = Enrichment(account_id=contact.account_id, provider=PROVIDER, status="pending")
        contact.enrichment = row
        force = True
    elif row.next_attempt_at is not None and not force:
        return row  # under way already
    if force:
        row.requested_at, row.attempts, row.error = now, 0, None
    row.next_attempt_at = now
    session.flush()
    return row


def run_due(
    session: Session,
    provider: Provider,
    policy: Policy,
    clock: Callable[[], datetime] = utcnow,
    limit: int = 100,
) -> Counter:
    """Look up the due contacts of accounts with enrichment on; outcomes counted. Commits."""
    outcomes: Counter = Counter()
    if not policy.configured:
        return outcomes
    for row_id in _due_ids(session, clock(), limit):
        row, state = _claim(session, row_id, clock(), policy)
        session.commit()  # the claim is visible before the (slow) call; no transaction held
        if row is None:
            outcomes[state] += 1
            continue
        result = _safe_lookup(provider, row.contact.email)
        record(session, row, result, clock())
        session.commit()
        outcomes[result.outcome] += 1
    return outcomes


def _due_ids(session: Session, now: datetime, limit: int) -> list[int]:
    query = (
        select(Enrichment.id)
        .join(Contact, Contact.id == Enrichment.contact_id)
        .join(Account, Account.id == Enrichment.account_id)
        .where(
            Enrichment.next_attempt_at <= now,
            Account.tracking_enabled.is_(True),
            Contact.do_not_enrich.is_(False),
        )
        .order_by(Enrichment.next_attempt_at)
        .limit(limit)
    )
    return list(session.scalars(query))


def _cached(row: Enrichment, now: datetime, ttl: timedelta) -> bool:
    """A fresh answer that nobody asked to refresh since it came."""
    fetched = row.fetched_at
    return fetched is not None and fetched > now - ttl and row.requested_at <= fetched


def _claim(session: Session, row_id: int, now: datetime, policy: Policy):
    """Take a due row for this worker: (row, "claimed"), or (None, why not)."""
    row = session.get(Enrichment, row_id)
    if row is None or row.next_attempt_at is None:
        return None, "gone"
    if _cached(row, now, policy.ttl):
        row.next_attempt_at = None
        return None, "cached"
    recent = session.scalar(
        select(func.count()).where(
            Enrichment.account_id == row.account_id, Enrichment.last_attempt_at > now - RATE_WINDOW
        )
    )
    if recent >= policy.rate_per_minute:
        row.next_attempt_at = now + RATE_WINDOW
        return None, "deferred"
    # Compare-and-set on the attempt count: of two workers, only one takes the row.
    claimed = session.execute(
        update(Enrichment)
        .where(
            Enrichment.id == row_id,
            Enrichment.attempts == row.attempts,
            Enrichment.next_attempt_at <= now,
        )
        .values(next_attempt_at=now + LEASE, last_attempt_at=now, attempts=row.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        return None, "gone"
    session.refresh(row)
    return row, "claimed"


def _safe_lookup(provider: Provider, email: str) -> Lookup:
    try:
        return provider.lookup(email)
    except Exception as exc:  # a provider bug must not stop the other lookups
        log.exception("enrichment provider failed")
        return Lookup("error", detail=f"provider failure: {type(exc).__name__}")


def backoff(attempts: int) -> timedelta:
    """Wait before the next try: one minute, doubling, at most six hours."""
    return timedelta(seconds=min(60 * 2 ** max(attempts - 1, 0), 6 * 3600))


def record(session: Session, row: Enrichment, result: Lookup, now: datetime) -> None:
    """Store a lookup's outcome on the row and decide when (if ever) to ask again."""
    row.error = result.detail[:200] or None
    if result.outcome in ("found", "not_found", "invalid"):
        _settle(row, result, now)
        if result.outcome == "found":
            _fill_blanks(row.contact, result)
        return
    retry_in = backoff(row.attempts)
    if result.retry_after:
        retry_in = max(retry_in, timedelta(seconds=result.retry_after))
    if result.outcome == "queued":
        row.status = "queued"
    elif result.outcome == "error":
        row.status = "error"
    row.next_attempt_at = now + retry_in if row.attempts < MAX_ATTEMPTS else None
    if row.next_attempt_at is None and row.status != "found":
        row.status = "error"
    session.flush()


def _settle(row: Enrichment, result: Lookup, now: datetime) -> None:
    stamp = {"provider": row.provider, "fetched_at": now.isoformat().replace("+00:00", "Z")}
    row.status = {"found": "found", "not_found": "not_found"}.get(result.outcome, "error")
    row.person = result.person and result.person | stamp
    row.company = result.company and result.company | stamp
    row.fetched_at, row.next_attempt_at, row.attempts = now, None, 0
    if result.outcome == "found":
        row.error = None


def _fill_blanks(contact: Contact, result: Lookup) -> None:
    """Use the answer where nobody has typed anything better."""
    person, company = result.person or {}, result.company or {}
    if not contact.name and (person.get("name") or {}).get("full"):
        contact.name = person["name"]["full"][:200]
    if not contact.title and (person.get("employment") or {}).get("title"):
        contact.title = person["employment"]["title"][:200]
    firm = contact.company
    if firm is None or firm.name_source != "domain" or not company.get("name"):
        return
    if company.get("domain") in (None, firm.domain):
        firm.name, firm.name_source = company["name"][:200], "enrichment"


def view(policy: Policy, account: Account, contact: Contact) -> dict:
    """The enrichment block of a contact as the API and pages show it."""
    reason = off_reason(policy, account, contact)
    row = contact.enrichment
    if reason is not None or row is None:
        return {
            "status": "off" if reason else "pending",
            "reason": reason,
            "provider": PROVIDER,
            "fetched_at": None,
            "person": None,
            "company": None,
        }
    return {
        "status": row.status,
        "reason": row.error if row.status == "error" else None,
        "provider": row.provider,
        "fetched_at": row.fetched_at.isoformat().replace("+00:00", "Z") if row.fetched_at else None,
        "person": row.person,
        "company": row.company,
    }
