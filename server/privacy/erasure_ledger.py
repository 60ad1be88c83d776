"""The erasure ledger: every done erasure kept as a keyed digest of the erased address, so the
erasures can be applied again after a backup taken before them is restored.

The digest is HMAC-SHA256 over the account and the normalised address (every spelling the
data-request code accepts gives one digest), keyed with ERASURE_LEDGER_KEY (else a key derived
from SECRET_KEY): without the key nobody can test an address against it, and losing the key makes
the ledger useless. A restored database holds the ledger as it was at backup time, so the ledger
is also exported to a file kept apart from the database backups (`privacy export-ledger`), and
`privacy reapply-erasures --ledger FILE` reads it back in before erasing again.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.users import normalize_email
from server.common import audit, personal_data
from server.models import (
    Contact,
    ContactAddress,
    ErasureLedgerEntry,
    Invitation,
    JobRunAddress,
    Message,
    Recipient,
)
from server.models.base import iso, utcnow

FORMAT = "leadcamp-erasure-ledger"


class LedgerError(ValueError):
    """A ledger file that cannot be read."""


def ledger_key(settings) -> bytes:
    """The ledger's HMAC key: ERASURE_LEDGER_KEY, else one derived from SECRET_KEY."""
    if settings.erasure_ledger_key:
        return settings.erasure_ledger_key.encode()
    return hmac.new(settings.secret_key.encode(), b"leadcamp.erasure-ledger", "sha256").digest()


def digest(key: bytes, account_id: int, email: str) -> str:
    """The keyed digest the ledger names an erased address by (normalised first)."""
    message = f"{account_id}:{normalize_email(email)}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def write(session: Session, account_id: int, email: str, key: bytes | None = None):
    """Keep the erasure of `email` in the account (the running app's key unless given)."""
    key = key or ledger_key(current_app.config["LEADCAMP"])
    entry = ErasureLedgerEntry(account_id=account_id, digest=digest(key, account_id, email))
    session.add(entry)
    return entry


def export(session: Session) -> dict:
    """The whole ledger as a document to keep outside the database backups."""
    rows = session.scalars(select(ErasureLedgerEntry).order_by(ErasureLedgerEntry.id))
    entries = [
        {"account_id": r.account_id, "digest": r.digest, "erased_at": iso(r.erased_at)}
        for r in rows
    ]
    return {"format": FORMAT, "version": 1, "entries": entries}


def load(session: Session, document: dict) -> int:
    """Add the document's entries the database lacks (a restore lost them); how many."""
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise LedgerError("This is not an erasure ledger file.")
    known = set(session.execute(select(ErasureLedgerEntry.account_id, ErasureLedgerEntry.digest)))
    added = 0
    for item in document.get("entries", []):
        try:
            pair = (int(item["account_id"]), str(item["digest"]))
            erased = datetime.fromisoformat(item["erased_at"])
        except (KeyError, TypeError, ValueError) as exc:
            raise LedgerError(f"An entry of the ledger file is unreadable: {item!r}") from exc
        if pair not in known:
            known.add(pair)
            session.add(ErasureLedgerEntry(account_id=pair[0], digest=pair[1], erased_at=erased))
            added += 1
    session.flush()
    return added


def addresses_held(session: Session, account_id: int) -> set[str]:
    """Every address the account holds data under: contacts and their spellings, recipients,
    invitations, job runs."""
    queries = (
        select(Contact.email).where(Contact.account_id == account_id),
        select(ContactAddress.email).where(ContactAddress.account_id == account_id),
        select(Recipient.email)
        .join(Message, Message.id == Recipient.message_id)
        .where(Message.account_id == account_id),
        select(Invitation.email).where(Invitation.account_id == account_id),
        select(JobRunAddress.email).where(JobRunAddress.account_id == account_id),
    )
    return {email for query in queries for email in session.scalars(query) if email}


def reapply(session: Session, key: bytes, now: datetime | None = None) -> dict[int, int]:
    """Erase again, through the erasure registry, every address whose digest is in the ledger;
    addresses erased per account (audited)."""
    ledger: dict[int, set[str]] = {}
    for account_id, value in session.execute(
        select(ErasureLedgerEntry.account_id, ErasureLedgerEntry.digest)
    ):
        ledger.setdefault(account_id, set()).add(value)
    done = {}
    for account_id, digests in ledger.items():
        held = addresses_held(session, account_id)
        matched = sorted(e for e in held if digest(key, account_id, e) in digests)
        for email in matched:
            personal_data.erase_all(session, account_id, email)
            session.flush()
        if matched:
            done[account_id] = len(matched)
            audit.record(
                session, account_id, "dsr.erase", actor_label="cli", target="erasure ledger",
                detail=f"re-applied after a restore: {len(matched)} address(es)",
                at=now or utcnow(),
            )  # fmt: skip
    return done
