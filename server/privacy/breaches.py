"""The breach register: incidents (when, what, whose data), notices to the account's admins, and
remedial actions tracked to closure."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.team import NotFound, admin_addresses, owned
from server.common import audit
from server.common.mail import Mailer
from server.models import Breach, BreachAction, User


class BreachError(ValueError):
    """A breach entry or action that cannot be saved."""


def listing(session: Session, account_id: int) -> list[Breach]:
    """The account's breaches, newest first."""
    query = select(Breach).where(Breach.account_id == account_id)
    return list(session.scalars(query.order_by(Breach.id.desc())))


def get(session: Session, account_id: int, breach_id: int) -> Breach:
    """One breach of the account, or NotFound."""
    return owned(session, Breach, account_id, breach_id)


def record(
    session: Session, mailer: Mailer, admin: User, data: dict, now: datetime | None = None
) -> tuple[Breach, bool]:
    """Record an incident and notify the account's admins; returns it and whether mail went."""
    fields = ("description", "data_affected", "subjects_affected")
    values = {f: str(data.get(f, "")).strip() for f in fields}
    if not all(values.values()):
        raise BreachError("Describe what happened, which data and whose data were affected.")
    try:
        occurred = datetime.fromisoformat(str(data.get("occurred_at", "")).strip())
    except ValueError as exc:
        raise BreachError("Give when it happened as a date and time.") from exc
    occurred = occurred if occurred.tzinfo else occurred.replace(tzinfo=UTC)
    breach = Breach(
        account_id=admin.account_id,
        occurred_at=occurred,
        detected_at=now or datetime.now(UTC),
        reported_by=admin.id,
        **values,
    )
    session.add(breach)
    session.flush()
    audit.record(
        session, admin.account_id, "breach.record", actor=admin, target=f"breach #{breach.id}"
    )
    body = (
        f"A personal-data breach was recorded for {admin.account.name}.\n\n"
        f"When: {occurred:%Y-%m-%d %H:%M} UTC\nWhat: {values['description']}\n"
        f"Data affected: {values['data_affected']}\nWhose data: {values['subjects_affected']}\n\n"
        "Assess whether the supervisory authority must be told within 72 hours of detection."
    )
    sent = mailer.send(
        admin_addresses(admin.account), f"Breach recorded: breach #{breach.id}", body
    )
    return breach, sent


def add_action(session: Session, admin: User, breach_id: int, description: str) -> BreachAction:
    """Add a remedial action to an open breach."""
    breach = get(session, admin.account_id, breach_id)
    if breach.status == "closed":
        raise BreachError("This breach is closed.")
    if not description.strip():
        raise BreachError("Describe the action.")
    action = BreachAction(breach=breach, description=description.strip())
    session.add(action)
    session.flush()
    audit.record(
        session, admin.account_id, "breach.action", actor=admin, target=f"breach #{breach.id}",
        detail=f"action #{action.id} added",
    )  # fmt: skip
    return action


def complete_action(session: Session, admin: User, breach_id: int, action_id: int) -> None:
    """Mark a remedial action done."""
    breach = get(session, admin.account_id, breach_id)
    action = next((a for a in breach.actions if a.id == action_id), None)
    if action is None:
        raise NotFound(action_id)
    action.done_at = action.done_at or datetime.now(UTC)
    audit.record(
        session, admin.account_id, "breach.action", actor=admin, target=f"breach #{breach.id}",
        detail=f"action #{action.id} done",
    )  # fmt: skip


def close(session: Session, admin: User, breach_id: int) -> None:
    """Close a breach once every remedial action is done."""
    breach = get(session, admin.account_id, breach_id)
    if any(a.done_at is None for a in breach.actions):
        raise BreachError("Finish every remedial action before closing the breach.")
    breach.status, breach.closed_at = "closed", datetime.now(UTC)
    audit.record(
        session, admin.account_id, "breach.close", actor=admin, target=f"breach #{breach.id}"
    )
