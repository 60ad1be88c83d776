"""The audit log's keyed hash chain: each entry stores
`chain_hash = HMAC(key, previous chain_hash + canonical form of the entry)`, so changing, removing
or reordering an entry breaks every later link.

One chain for the whole server, not one per account: one lock serializes writers, one head is
all an operator writes down, and entries without an account (the CLI, the system) are covered
too. Each entry names its key by a fingerprint (`chain_key_id`), so old entries still verify
after the key changes, as long as their secret stays in AUDIT_CHAIN_KEYS.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from server.models import AuditEntry

# The link before the first entry.
GENESIS = "0" * 64
# Any constant: the PostgreSQL advisory lock that serializes audit writers.
_PG_LOCK = 0x6C636175  # "lcau"


def derive(secret: str) -> bytes:
    """The chain key of a configured secret (AUDIT_CHAIN_KEYS item, or SECRET_KEY)."""
    return hmac.new(secret.encode(), b"leadcamp audit chain v1", hashlib.sha256).digest()


def key_id(key: bytes) -> str:
    """A fingerprint naming the key an entry was chained with; reveals nothing of the key."""
    return hashlib.sha256(b"leadcamp audit key id " + key).hexdigest()[:12]


def keyring(secrets: tuple[str, ...]) -> dict[str, bytes]:
    """Keys by id, the signing one (the first secret's) first."""
    keys = [derive(s) for s in secrets]
    return {key_id(k): k for k in keys}


def canonical(entry) -> bytes:
    """The entry's recorded fields in a fixed form (the id is not part of it: the chain orders)."""
    fields = [
        entry.account_id,
        entry.at.astimezone(UTC).isoformat(timespec="microseconds"),
        entry.actor_id,
        entry.actor,
        entry.action,
        entry.target,
        entry.detail,
        entry.chain_key_id,
    ]
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode()


def link(key: bytes, previous: str, entry) -> str:
    """The chain hash of `entry` after the entry whose chain hash is `previous`."""
    return hmac.new(key, previous.encode() + b"\n" + canonical(entry), hashlib.sha256).hexdigest()


def locked_head(session: Session) -> str:
    """Take the chain's write lock for this transaction and return the current head.

    PostgreSQL: an advisory lock held until commit. SQLite: a write that changes nothing takes
    the database's write lock (one writer at a time), so no one else appends meanwhile.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK})
    else:
        session.execute(text("UPDATE audit_entries SET id = id WHERE 0"))
    return head(session)


def head(session: Session) -> str:
    """The chain hash of the newest entry (GENESIS when there is none)."""
    newest = select(AuditEntry.chain_hash).order_by(AuditEntry.id.desc()).limit(1)
    return session.scalar(newest) or GENESIS


@dataclass
class Verdict:
    """The outcome of a walk: entries checked, the head, and the first broken entry if any."""

    count: int
    head: str
    broken_id: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        """Whether every link held."""
        return self.broken_id is None


def verify(session: Session, secrets: tuple[str, ...]) -> Verdict:
    """Walk the chain in id order; stop at the first entry whose link does not hold."""
    keys = keyring(secrets)
    previous, count = GENESIS, 0
    rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).yield_per(1000)
    for entry in rows:
        key = keys.get(entry.chain_key_id or "")
        if key is None:
            reason = f"chained with key {entry.chain_key_id!r}, which no configured key matches"
            return Verdict(count, previous, entry.id, reason)
        if not hmac.compare_digest(entry.chain_hash or "", link(key, previous, entry)):
            return Verdict(count, previous, entry.id, "its chain hash does not match")
        previous, count = entry.chain_hash, count + 1
    return Verdict(count, previous)


def contains(session: Session, chain_hash: str) -> bool:
    """Whether some entry carries `chain_hash` (a head written down earlier is still there)."""
    found = select(AuditEntry.id).where(AuditEntry.chain_hash == chain_hash.strip().lower())
    return session.scalar(found.limit(1)) is not None
