"""The breach register: incidents (when, what, whose data), notices to the account's admins (and
PRIVACY_NOTICE_EMAIL), the 72-hour notification clock of GDPR Art. 33, and remedial actions
tracked to closure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.team import NotFound, admin_addresses, owned
from server.common import audit
from server.common.inputs import InputError
from server.common.mail import Mailer
from server.models import Breach, BreachAction, User

# GDPR Art. 33: the supervisory authority is told within 72 hours of becoming aware.
NOTIFY_WITHIN = timedelta(hours=72)


class BreachError(InputError):
    """A breach entry or action that cannot be saved."""


def deadline(breach: Breach) -> datetime:
    """When the supervisory authority must have been told: detection + 72 hours."""
    return breach.detected_at + NOTIFY_WITHIN


def overdue(breach: Breach, now: datetime | None = None) -> bool:
    """Whether the 72 hours passed without the authority being told."""
    return breach.authority_notified_at is None and (now or datetime.now(UTC)) > deadline(breach)


def _when(
    value, label: str, now: datetime, optional: bool = False, field: str = ""
) -> datetime | None:
    """A form's date and time (UTC unless it says otherwise), never in the future."""
    text = str(value or "").strip()
    if not text and optional:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError as exc:
        raise BreachError(f"Give {label} as a date and time.", field) from exc
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    if when > now:
        raise BreachError(f"{label.capitalize()} cannot be in the future.", field)
    return when


def listing(session: Session, account_id: int) -> list[Breach]:
    """The account's breaches, newest first."""
    query = select(Breach).where(Breach.account_id == account_id)
    return list(session.scalars(query.order_by(Breach.id.desc())))


def get(session: Session, account_id: int, breach_id: int) -> Breach:
    """One breach of the account, or NotFound."""
    return owned(session, Breach, account_id, breach_id)


def record(
    session: Session,
    mailer: Mailer,
    admin: User,
    data: dict,
    now: datetime | None = None,
    notice_email: str = "",
) -> tuple[Breach, bool]:
    """Record an incident and notify the account's admins and `notice_email` (the server's
    privacy contact, if set); returns it and whether mail went."""
    fields = ("description", "data_affected", "subjects_affected")
    values = {f: str(data.get(f, "")).strip() for f in fields}
    if not all(values.values()):
        missing = next(f for f, v in values.items() if not v)
        raise BreachError(
            "Describe what happened, which data and whose data were affected.", missing
        )
    now = now or datetime.now(UTC)
    occurred = _when(data.get("occurred_at"), "when it happened", now, field="occurred_at")
    breach = Breach(
        account_id=admin.account_id,
        occurred_at=occurred,
        detected_at=now,
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
    to = admin_addresses(admin.account) + ([notice_email] if notice_email else [])
    sent = mailer.send(to, f"Breach recorded: breach #{breach.id}", body)
    return breach, sent


def add_action(session: Session, admin: User, breach_id: int, description: str) -> BreachAction:
    """Add a remedial action to an open breach."""
    breach = get(session, admin.account_id, breach_id)
    if breach.status == "closed":
        raise BreachError("This breach is closed.")
    if not description.strip():
        raise BreachError("Describe the action.", "description")
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
    if not breach.actions:
        raise BreachError("Record at least one remedial action, and finish it, before closing.")
    if any(a.done_at is None for a in breach.actions):
        raise BreachError("Finish every remedial action before closing the breach.")
    breach.status, breach.closed_at = "closed", datetime.now(UTC)
    audit.record(
        session, admin.account_id, "breach.close", actor=admin, target=f"breach #{breach.id}"
    )


def notified(session: Session, admin: User, breach_id: int, data: dict) -> None:
    """Record when the supervisory authority and the people concerned were told, and a
    reference (the authority's case number); never in the future nor before detection."""
    breach = get(session, admin.account_id, breach_id)
    now = datetime.now(UTC)
    authority = _when(
        data.get("authority_notified_at"), "when the authority was told", now, True,
        "authority_notified_at",
    )  # fmt: skip
    subjects = _when(
        data.get("subjects_notified_at"), "when the people were told", now, True,
        "subjects_notified_at",
    )  # fmt: skip
    detected = breach.detected_at.replace(second=0, microsecond=0)  # forms give minutes
    for when, field in ((authority, "authority_notified_at"), (subjects, "subjects_notified_at")):
        if when is not None and when < detected:
            raise BreachError("A notification cannot come before the breach was detected.", field)
    breach.authority_notified_at, breach.subjects_notified_at = authority, subjects
    breach.notification_reference = str(data.get("notification_reference", "")).strip()[:200]
    audit.record(
        session, admin.account_id, "breach.notified", actor=admin, target=f"breach #{breach.id}"
    )
