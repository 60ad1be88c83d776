"""The published sub-processor list: seeded, editable by admins, every change announced to the
account's admins with a 30-day objection window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from itsdangerous import BadSignature, Signer
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.team import admin_addresses, owned
from server.common import audit
from server.common.mail import Mailer
from server.models import SubProcessor, SubProcessorChange, User

OBJECTION_DAYS = 30
ACTIONS = {"added": "add", "changed": "change", "removed": "remove"}
FIELDS = ("name", "country", "purpose", "safeguard")
# The columns' sizes (the name is also the audit entry's target); purpose and safeguard are a line.
LIMITS = {"name": 200, "country": 100, "purpose": 1000, "safeguard": 1000}
ENRICHMENT = {
    "name": "Clearbit (HubSpot, Inc.)",
    "country": "United States",
    "purpose": "Enrichment: company and role details looked up from a contact's email address",
    "safeguard": "EU-U.S. Data Privacy Framework; Standard Contractual Clauses",
}


def public_token(secret_key: str, account_id: int) -> str:
    """The unguessable, permanent token of the account's published list."""
    return Signer(secret_key, salt="leadcamp.subprocessors").sign(str(account_id)).decode()


def account_for_token(secret_key: str, token: str) -> int | None:
    """The account a published-list token stands for, or None when it is not genuine."""
    try:
        return int(Signer(secret_key, salt="leadcamp.subprocessors").unsign(token))
    except (BadSignature, ValueError):
        return None


class SubProcessorError(ValueError):
    """An entry that cannot be saved."""


def hosting_entry(provider: str, country: str) -> dict:
    """The hosting provider's entry, as configured for this server."""
    return {
        "name": provider or "Hosting provider of this server (name it here)",
        "country": country or "Not stated yet",
        "purpose": "Hosting: runs this server and stores its database and backups",
        "safeguard": "Data processing agreement with the hosting provider",
    }


def listing(session: Session, account_id: int, hosting: dict) -> list[SubProcessor]:
    """The account's list; seeded with hosting and enrichment the first time it is read."""
    query = select(SubProcessor).where(SubProcessor.account_id == account_id)
    rows = list(session.scalars(query.order_by(SubProcessor.id)))
    seeded = session.scalar(
        select(SubProcessorChange.id).where(SubProcessorChange.account_id == account_id).limit(1)
    )
    if rows or seeded:
        return rows
    for data in (hosting, ENRICHMENT):
        session.add(SubProcessor(account_id=account_id, **data))
    session.flush()
    return list(session.scalars(query.order_by(SubProcessor.id)))


def changes(session: Session, account_id: int) -> list[SubProcessorChange]:
    """Announced changes, newest first."""
    query = select(SubProcessorChange).where(SubProcessorChange.account_id == account_id)
    return list(session.scalars(query.order_by(SubProcessorChange.id.desc())))


def _clean(data: dict) -> dict:
    values = {f: str(data.get(f, "")).strip() for f in FIELDS}
    missing = [f for f, v in values.items() if not v]
    if missing:
        raise SubProcessorError(f"Please fill in: {', '.join(missing)}.")
    for field, limit in LIMITS.items():
        if len(values[field]) > limit:
            raise SubProcessorError(f"The {field} is longer than {limit} characters.")
    return values


def _announce(
    session, mailer: Mailer, admin: User, change: str, name: str, summary: str, now
) -> bool:
    """List the change with its objection window and mail the admins; whether mail went out."""
    until = now + timedelta(days=OBJECTION_DAYS)
    row = SubProcessorChange(
        account_id=admin.account_id,
        change=change,
        name=name,
        summary=summary,
        announced_at=now,
        objection_until=until,
    )
    session.add(row)
    audit.record(
        session, admin.account_id, f"subprocessor.{ACTIONS[change]}",
        actor=admin, target=name, detail=summary,
    )  # fmt: skip
    body = (
        f"The sub-processor list of {admin.account.name} changed: {change} {name}.\n"
        f"{summary}\n\nYou may object until {until:%Y-%m-%d} ({OBJECTION_DAYS} days)."
    )
    return mailer.send(admin_addresses(admin.account), f"Sub-processor {change}: {name}", body)


def add(
    session: Session, mailer: Mailer, admin: User, data: dict, now=None
) -> tuple[SubProcessor, bool]:
    """Add an entry and announce it; the entry, and whether the admins were mailed."""
    values = _clean(data)
    row = SubProcessor(account_id=admin.account_id, **values)
    session.add(row)
    session.flush()
    summary = f"{values['purpose']} ({values['country']}; {values['safeguard']})"
    at = now or datetime.now(UTC)
    return row, _announce(session, mailer, admin, "added", values["name"], summary, at)


def edit(session: Session, mailer: Mailer, admin: User, entry_id: int, data: dict, now=None):
    """Change an entry and announce what changed; the entry, and whether the admins were mailed
    (None when nothing changed)."""
    row = owned(session, SubProcessor, admin.account_id, entry_id)
    values = _clean(data)
    diff = [f"{f}: {getattr(row, f)} -> {v}" for f, v in values.items() if getattr(row, f) != v]
    if not diff:
        return row, None
    for f, v in values.items():
        setattr(row, f, v)
    at = now or datetime.now(UTC)
    return row, _announce(session, mailer, admin, "changed", row.name, "; ".join(diff), at)


def remove(
    session: Session, mailer: Mailer, admin: User, entry_id: int, now=None
) -> tuple[SubProcessor, bool]:
    """Remove an entry and announce it; the removed entry, and whether the admins were mailed."""
    row = owned(session, SubProcessor, admin.account_id, entry_id)
    session.delete(row)
    at = now or datetime.now(UTC)
    return row, _announce(session, mailer, admin, "removed", row.name, row.purpose, at)
