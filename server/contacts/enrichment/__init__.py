"""Lead enrichment: requests, the background lookups behind them, and what the API shows.

An `Enrichment` row is both the stored answer and the work item: `request` marks it due (not while
a fresh answer is cached), the job calls `run_due`, which claims due rows (compare-and-set, so two
workers never ask twice), asks the provider outside any transaction, and records the outcome.
Nothing is asked while the account's tracking-and-enrichment switch is off, for a do-not-enrich
contact, without an API key, or while the provider is not in use on the account's sub-processor
list (removed, or its notice period still running); the claim checks these in its UPDATE and
`record` reads them again, so a change during a batch counts.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from server.contacts.enrichment import fill
from server.contacts.enrichment.base import Lookup, Provider
from server.contacts.enrichment.listed import listed as _listed
from server.models import Account, Contact, Enrichment
from server.models.base import iso, utcnow

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


def current_policy() -> Policy:
    """The policy of the running app's settings."""
    return Policy.from_settings(current_app.config["LEADCAMP"])


def off_reason(policy: Policy, account: Account, contact: Contact | None = None) -> str | None:
    """Why enrichment is off for this account (and contact), or None when it is on."""
    if not policy.configured:
        return "no_api_key"
    return _refused(account, contact)


def _refused(account: Account, contact: Contact | None) -> str | None:
    """The account's switch or the contact's flag that forbids lookups, else None."""
    if not account.tracking_enabled:
        return "tracking_off"
    if contact is not None and contact.do_not_enrich:
        return "do_not_enrich"
    return None


def request(
    session: Session, contact: Contact, now: datetime, *, force: bool = False, flush: bool = True
) -> Enrichment | None:
    """Make the contact's lookup due now; `force` (a manual refresh) bypasses the cache.

    None (nothing written) while the account's switch is off or the contact opted out. Without
    `force`, a lookup under way or a fresh answer (by the app's cache lifetime) is left alone.
    Rows are still queued without an API key: the job asks once a key is configured.
    """
    if _refused(session.get(Account, contact.account_id), contact) is not None:
        return None
    row = contact.enrichment
    if row is None:
        row = Enrichment(account_id=contact.account_id, provider=PROVIDER, status="pending")
        contact.enrichment = row
        force = True
    elif not force and (row.next_attempt_at is not None or _fresh(row, now)):
        return row  # under way already, or the job would only find the cached answer
    if force:
        row.requested_at, row.attempts, row.error = now, 0, None
    row.next_attempt_at = now
    if flush:  # an import's chunk flushes its rows together
        session.flush()
    return row


def request_new(session: Session, account: Account, contacts: list[Contact], now: datetime) -> int:
    """Make the first lookup of contacts just stored (an import's new ones) due now, in one
    INSERT: what `request` does for a contact without a row, for many. How many were queued."""
    rows = [
        {"account_id": c.account_id, "contact_id": c.id, "provider": PROVIDER,
         "status": "pending", "requested_at": now, "next_attempt_at": now, "attempts": 0}
        for c in contacts
        if _refused(account, c) is None
    ]  # fmt: skip
    if rows:
        session.execute(insert(Enrichment), rows)
    return len(rows)


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
    for row_id in _due_ids(session, clock(), limit):  # rows of unlisted providers wait
        try:
            outcomes[run_one(session, provider, policy, clock, row_id)] += 1
        except Exception:  # one row's failure must never stop the others
            session.rollback()
            log.exception("enrichment of row %s failed", row_id)
            outcomes["failed"] += 1
    return outcomes


def run_one(session: Session, provider: Provider, policy: Policy, clock, row_id: int) -> str:
    """Claim, look up and record one row; the outcome's name. Commits."""
    row, state = _claim(session, row_id, clock(), policy)
    session.commit()  # the claim is visible before the (slow) call; no transaction held
    if row is None:
        return state
    result = _safe_lookup(provider, row.contact.email)
    outcome = record(session, row_id, result, clock())
    session.commit()
    return outcome


def _due_ids(session: Session, now: datetime, limit: int) -> list[int]:
    query = (
        select(Enrichment.id)
        .join(Contact, Contact.id == Enrichment.contact_id)
        .join(Account, Account.id == Enrichment.account_id)
        .where(
            Enrichment.next_attempt_at <= now,
            Account.tracking_enabled.is_(True),
            Contact.do_not_enrich.is_(False),
            _listed(Enrichment.account_id, now),
        )
        .order_by(Enrichment.next_attempt_at)
        .limit(limit)
    )
    return list(session.scalars(query))


def _cached(row: Enrichment, now: datetime, ttl: timedelta) -> bool:
    """A fresh answer that nobody asked to refresh since it came."""
    fetched = row.fetched_at
    return fetched is not None and fetched > now - ttl and row.requested_at <= fetched


def _fresh(row: Enrichment, now: datetime) -> bool:
    """`_cached` by the app's cache lifetime (its settings read only when there is an answer)."""
    return row.fetched_at is not None and _cached(row, now, current_policy().ttl)


def _allowed(now: datetime):
    """Conditions on an Enrichment row: its account's switch on, its contact not opted out, its
    provider in use on the sub-processor list."""
    account_on = (
        select(Account.id)
        .where(Account.id == Enrichment.account_id, Account.tracking_enabled.is_(True))
        .exists()
    )
    contact_ok = (
        select(Contact.id)
        .where(Contact.id == Enrichment.contact_id, Contact.do_not_enrich.is_(False))
        .exists()
    )
    return account_on, contact_ok, _listed(Enrichment.account_id, now)


def _still_allowed(session: Session, row_id: int, now: datetime) -> bool:
    """Read from the database (not the session's cache): may this row be looked up now?"""
    query = select(Enrichment.id).where(Enrichment.id == row_id, *_allowed(now))
    return session.scalar(query) is not None


def _claim(session: Session, row_id: int, now: datetime, policy: Policy):
    """Take a due row for this worker: (row, "claimed"), or (None, why not)."""
    row = session.get(Enrichment, row_id, populate_existing=True)
    if row is None or row.next_attempt_at is None:
        return None, "gone"
    if not _still_allowed(session, row_id, now):
        return None, "off"  # switched off (or the provider delisted) since the rows were listed
    if _cached(row, now, policy.ttl) or _gave_up_lately(row, now, policy.ttl):
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
    # A row that ran out of attempts (and waited a cache lifetime) starts a fresh round.
    spent = 0 if row.attempts >= MAX_ATTEMPTS else row.attempts
    # Compare-and-set on the attempt count (of two workers, only one takes the row), with the
    # switch and the flag checked in the same statement.
    claimed = session.execute(
        update(Enrichment)
        .where(
            Enrichment.id == row_id,
            Enrichment.attempts == row.attempts,
            Enrichment.next_attempt_at <= now,
            *_allowed(now),
        )
        .values(next_attempt_at=now + LEASE, last_attempt_at=now, attempts=spent + 1)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        return None, "gone"
    session.refresh(row)
    return row, "claimed"


def _gave_up_lately(row: Enrichment, now: datetime, ttl: timedelta) -> bool:
    """Out of attempts within the cache lifetime: new mail does not ask again until it ends."""
    last = row.last_attempt_at
    return row.attempts >= MAX_ATTEMPTS and last is not None and last > now - ttl


def _safe_lookup(provider: Provider, email: str) -> Lookup:
    try:
        return provider.lookup(email)
    except Exception as exc:  # a provider bug must not stop the other lookups
        log.exception("enrichment provider failed")
        return Lookup("error", detail=f"provider failure: {type(exc).__name__}")


def backoff(attempts: int) -> timedelta:
    """Wait before the next try: one minute, doubling, at most six hours."""
    return timedelta(seconds=min(60 * 2 ** max(attempts - 1, 0), 6 * 3600))


def record(session: Session, row_id: int, result: Lookup, now: datetime) -> str:
    """Store a lookup's outcome unless enrichment went off meanwhile; the outcome's name.

    The row, contact and account are read again: the switch or the do-not-enrich flag may have
    changed (or the row been deleted) while the provider was being asked.
    """
    row = session.get(Enrichment, row_id, populate_existing=True)
    if row is None:
        return "off"  # deleted: the contact was marked do-not-enrich or erased
    if not _still_allowed(session, row_id, now):
        row.next_attempt_at = now  # asked again (only) once enrichment is back on
        session.flush()
        return "off"
    _store(session, row, result, now)
    return result.outcome


def _store(session: Session, row: Enrichment, result: Lookup, now: datetime) -> None:
    """Put the outcome on the row and decide when (if ever) to ask again."""
    row.error = result.detail[:200] or None
    if result.outcome in ("found", "not_found", "invalid"):
        _settle(row, result, now)
        if result.outcome == "found":
            fill.fill_blanks(row, result)
        session.flush()
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
    stamp = {"provider": row.provider, "fetched_at": iso(now)}
    row.status = {"found": "found", "not_found": "not_found"}.get(result.outcome, "error")
    if result.outcome != "invalid":  # a refused address keeps the earlier answer visible
        row.person = result.person and result.person | stamp
        row.company = result.company and result.company | stamp
    row.fetched_at, row.next_attempt_at, row.attempts = now, None, 0
    if result.outcome == "found":
        row.error = None


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
        "fetched_at": iso(row.fetched_at),
        "person": row.person,
        "company": row.company,
    }
