"""The privacy register's providers of the personal-data registry: breach entries that name the
person, and the audit trail and request records about a user.

The audit trail is append-only (the database refuses changes): its entries name users by id and
never by address, so they are exported, never erased; erasing a user anonymizes the user row the
id points to (server/accounts/personal_data.py), which leaves the trail naming nobody. Request
records name the subject by a keyed digest and the requester by id: kept alike.
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from server.accounts.personal_data import user_of
from server.common import mentions
from server.common.personal_data import Provider, addresses_of
from server.models import AuditEntry, Breach, BreachAction, DataRequest
from server.models.base import iso

# The breach fields an admin types freely, where a person may be named.
BREACH_TEXTS = ("description", "data_affected", "subjects_affected", "notification_reference")


def _naming(session: Session, account_id: int, email: str) -> tuple[list[Breach], set[str]]:
    """The account's breaches whose texts (or actions') name the person, and the forms."""
    found = mentions.forms(addresses_of(session, account_id, email))
    texts = [mentions.column_mentions(getattr(Breach, f), found) for f in BREACH_TEXTS]
    by_action = select(BreachAction.breach_id).where(
        mentions.column_mentions(BreachAction.description, found)
    )
    query = select(Breach).where(
        Breach.account_id == account_id, or_(*texts, Breach.id.in_(by_action))
    )
    return list(session.scalars(query.order_by(Breach.id))), found


def find_breaches(session: Session, account_id: int, email: str) -> dict:
    """The breach entries that name the person."""
    breaches, _ = _naming(session, account_id, email)
    return {
        "breaches": [
            {
                "id": b.id,
                "occurred_at": iso(b.occurred_at),
                **{f: getattr(b, f) for f in BREACH_TEXTS},
                "actions": [a.description for a in b.actions],
            }
            for b in breaches
        ]
    }


def erase_breaches(session: Session, account_id: int, email: str) -> int:
    """Redact the person's address, in every form, from the breach texts; the entries stay
    (the register must show what happened), naming nobody."""
    breaches, found = _naming(session, account_id, email)
    for breach in breaches:
        for field in BREACH_TEXTS:
            setattr(breach, field, mentions.redact(getattr(breach, field), found))
        for action in breach.actions:
            action.description = mentions.redact(action.description, found)
    session.flush()
    return len(breaches)


def find_audit(session: Session, account_id: int, email: str) -> dict:
    """The audit entries about the person's user (as actor or target), entries whose text
    mentions the address, and the requests the user made."""
    found = mentions.forms(addresses_of(session, account_id, email))
    about = [mentions.column_mentions(AuditEntry.target, found),
             mentions.column_mentions(AuditEntry.detail, found)]  # fmt: skip
    user = user_of(session, account_id, email)
    if user is not None:
        about += [AuditEntry.actor_id == user.id, AuditEntry.target == f"user #{user.id}"]
    entries = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.account_id == account_id, or_(*about))
        .order_by(AuditEntry.id)
    )
    requests = [] if user is None else session.scalars(
        select(DataRequest).where(DataRequest.account_id == account_id,
                                  DataRequest.requester_id == user.id))  # fmt: skip
    return {
        "audit_entries": [
            {
                "at": iso(e.at),
                "actor": e.actor,
                "action": e.action,
                "target": e.target,
                "detail": e.detail,
            }
            for e in entries
        ],
        "data_requests_made": [
            {"id": r.id, "kind": r.kind, "created_at": iso(r.created_at)} for r in requests
        ],
    }


def keep_audit(session: Session, account_id: int, email: str) -> int:
    """Nothing is erased: the trail is append-only and names users by id (module docstring)."""
    return 0


# Termination handles breaches itself (server/privacy/termination.py); the trail outlives it.
BREACHES = Provider(
    name="breaches", find=find_breaches, erase=erase_breaches,
    tables=("breaches", "breach_actions"),
)  # fmt: skip
AUDIT = Provider(
    name="audit", find=find_audit, erase=keep_audit, tables=("audit_entries", "data_requests")
)
