"""The audit trail: record what happened, search it, export it. Append-only: there is no
function here (or anywhere in the app) that changes or removes an entry, and each entry is
chained to the one before by a keyed hash (server/common/audit_chain.py)."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from server.common import audit_chain, csv_safe
from server.models import AuditEntry, User

# What the audit log page offers to filter on.
ACTIONS = (
    "sign_in",
    "token.create",
    "token.revoke",
    "key.create",
    "key.retire",
    "key.revoke",
    "settings.change",
    "team.invite",
    "team.accept",
    "team.deactivate",
    "team.reactivate",
    "team.role",
    "team.tracking",
    "subprocessor.add",
    "subprocessor.change",
    "subprocessor.remove",
    "dsr.search",
    "dsr.export",
    "dsr.download",
    "dsr.rectify",
    "dsr.erase",
    "breach.record",
    "breach.action",
    "breach.notified",
    "breach.close",
    "account.terminate",
    "retention.purge",
    "audit.export",
    "contacts.edit",
    "contacts.import",
    "contacts.export",
    "gmail.connect",
    "gmail.disconnect",
    "gmail.revoke",
)


def record(
    session: Session,
    account_id: int | None,
    action: str,
    *,
    actor: User | None = None,
    actor_label: str = "",
    target: str = "",
    detail: str = "",
    at: datetime | None = None,
) -> AuditEntry:
    """Append one entry. Targets name ids, never addresses, so the trail never needs erasing."""
    entry = AuditEntry(
        account_id=account_id,
        at=at or datetime.now(UTC),
        actor_id=actor.id if actor else None,
        actor=actor_label or (f"user #{actor.id}" if actor else "system"),
        action=action,
        target=target,
        detail=detail,
    )
    _chain(session, entry)
    session.add(entry)
    session.flush()
    return entry


def _chain(session: Session, entry: AuditEntry) -> None:
    """Link the entry to the chain's head, under the chain's lock (held until commit)."""
    secret = current_app.config["LEADCAMP"].audit_chain_secrets[0]
    key = audit_chain.derive(secret)
    entry.chain_key_id = audit_chain.key_id(key)
    entry.at = entry.at.astimezone(UTC)
    entry.chain_hash = audit_chain.link(key, audit_chain.locked_head(session), entry)


def search(
    session: Session, account_id: int, text: str = "", action: str = "", limit: int = 500
) -> list[AuditEntry]:
    """The account's entries, newest first, filtered by action and by text in any field."""
    query = select(AuditEntry).where(AuditEntry.account_id == account_id)
    if action:
        query = query.where(AuditEntry.action == action)
    if text:
        like = f"%{text}%"
        query = query.where(
            or_(
                AuditEntry.action.ilike(like),
                AuditEntry.actor.ilike(like),
                AuditEntry.target.ilike(like),
                AuditEntry.detail.ilike(like),
            )
        )
    return list(session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit)))


def to_csv(entries: list[AuditEntry]) -> str:
    """Entries as CSV text with a header row."""
    out = io.StringIO()
    writer = csv_safe.writer(out)
    writer.writerow(["id", "at", "actor", "action", "target", "detail"])
    for e in entries:
        writer.writerow([e.id, e.at.isoformat(), e.actor, e.action, e.target, e.detail])
    return out.getvalue()
