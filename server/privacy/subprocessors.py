"""The published sub-processor list: seeded with what the server really uses, editable by admins,
every change announced to the account's admins.

The list drives processing: an entry is in use from its `effective_at`, which an addition (or a
change of name, country, purpose or service) sets to the end of the notice period
(SUBPROCESSOR_NOTICE_DAYS) unless marked urgent. A removal applies at once: it can only reduce
processing. The enrichment lookups run only while an enrichment entry is in use.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from itsdangerous import BadSignature, Signer
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.team import admin_addresses, owned
from server.common import audit
from server.common.inputs import InputError
from server.common.mail import Mailer
from server.contacts.enrichment.listed import SUBPROCESSOR_SERVICE as ENRICHMENT_SERVICE
from server.models import SubProcessor, SubProcessorChange, User

UNSTATED = "Not stated yet"  # a configured entry without its country
NOTICE_DAYS = 30  # SUBPROCESSOR_NOTICE_DAYS' default
ACTIONS = {"added": "add", "changed": "change", "removed": "remove"}
FIELDS = ("name", "country", "purpose", "safeguard")
# The columns' sizes (the name is also the audit entry's target); purpose and safeguard are a line.
LIMITS = {"name": 200, "country": 100, "purpose": 1000, "safeguard": 1000}
# What an entry may stand for; only "enrichment" gates processing (the lookups), the others say
# which part of the product the entry covers.
SERVICES = {
    "": "Listed only",
    "hosting": "Hosting",
    ENRICHMENT_SERVICE: "Enrichment lookups",
    "google": "Google sign-in and Gmail",
    "smtp": "Outgoing mail (SMTP relay)",
}
# A change to one of these is a new processing: it waits out the notice period (unless urgent).
RESTARTS_NOTICE = ("name", "country", "purpose", "service")
ENRICHMENT = {
    "name": "Clearbit (HubSpot, Inc.)",
    "country": "United States",
    "purpose": "Enrichment: company and role details looked up from a contact's email address",
    "safeguard": "EU-U.S. Data Privacy Framework; Standard Contractual Clauses",
    "service": ENRICHMENT_SERVICE,
}
GOOGLE = {
    "name": "Google (Google LLC; Google Ireland Limited)",
    "country": "United States; Ireland",
    "purpose": "Sign-in with Google (OAuth) and the Gmail API: the rep's Google account and the "
    "metadata of the rep's tracked threads (replies, bounces)",
    "safeguard": "EU-U.S. Data Privacy Framework; Standard Contractual Clauses",
    "service": "google",
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


class SubProcessorError(InputError):
    """An entry that cannot be saved."""


def hosting_entry(provider: str, country: str) -> dict:
    """The hosting provider's entry, as configured for this server."""
    return {
        "name": provider or "Hosting provider of this server (name it here)",
        "country": country or UNSTATED,
        "purpose": "Hosting: runs this server and stores its database and backups",
        "safeguard": "Data processing agreement with the hosting provider",
        "service": "hosting",
    }


def smtp_entry(provider: str, country: str) -> dict:
    """The SMTP relay's entry, as configured for this server."""
    return {
        "name": provider or "SMTP relay of this server (name it here)",
        "country": country or UNSTATED,
        "purpose": "Outgoing mail: invitations, sign-in links and notices to admins",
        "safeguard": "Data processing agreement with the mail provider",
        "service": "smtp",
    }


def defaults(settings) -> list[dict]:
    """The sub-processors this server really uses, as its settings describe them."""
    entries = [hosting_entry(settings.hosting_provider, settings.hosting_country), ENRICHMENT]
    entries.append(GOOGLE)
    if settings.smtp_host:
        entries.append(smtp_entry(settings.smtp_provider, settings.smtp_country))
    return entries


def listing(session: Session, account_id: int, seed: list[dict]) -> list[SubProcessor]:
    """The account's list; seeded with `seed` (see `defaults`) the first time it is read."""
    query = select(SubProcessor).where(SubProcessor.account_id == account_id)
    rows = list(session.scalars(query.order_by(SubProcessor.id)))
    seeded = session.scalar(
        select(SubProcessorChange.id).where(SubProcessorChange.account_id == account_id).limit(1)
    )
    if rows or seeded:
        return rows
    for data in seed:  # in use already: the seed describes what the server does today
        session.add(SubProcessor(account_id=account_id, **data))
    session.flush()
    return list(session.scalars(query.order_by(SubProcessor.id)))


def changes(session: Session, account_id: int) -> list[SubProcessorChange]:
    """Announced changes, newest first."""
    query = select(SubProcessorChange).where(SubProcessorChange.account_id == account_id)
    return list(session.scalars(query.order_by(SubProcessorChange.id.desc())))


# The EEA's members, as admins write them; a country outside it means a third-country transfer.
EEA = {
    "austria", "belgium", "bulgaria", "croatia", "cyprus", "czechia", "czech republic",
    "denmark", "estonia", "finland", "france", "germany", "greece", "hungary", "iceland",
    "ireland", "italy", "latvia", "liechtenstein", "lithuania", "luxembourg", "malta",
    "netherlands", "the netherlands", "norway", "poland", "portugal", "romania", "slovakia",
    "slovenia", "spain", "sweden", "eu", "eea", "european union",
}  # fmt: skip


def transfer_note(row) -> str:
    """For an entry outside the EEA, the note naming its transfer mechanism; else ""."""
    countries = [c.strip().lower() for c in re.split(r"[;,/]| and ", row.country) if c.strip()]
    outside = [c for c in countries if c not in EEA and c != UNSTATED.lower()]
    if not outside:
        return ""
    return "Transfer outside the EEA (third country); transfer mechanism: " + row.safeguard + "."


def in_use(row, now: datetime) -> bool:
    """Whether the entry's notice period is over (it may process data now)."""
    return row.effective_at <= now


def _clean(data: dict) -> dict:
    values = {f: str(data.get(f, "")).strip() for f in FIELDS}
    missing = [f for f, v in values.items() if not v]
    if missing:
        raise SubProcessorError(f"Please fill in: {', '.join(missing)}.", missing[0])
    for field, limit in LIMITS.items():
        if len(values[field]) > limit:
            raise SubProcessorError(f"The {field} is longer than {limit} characters.", field)
    service = str(data.get("service", "")).strip()
    if service not in SERVICES:
        raise SubProcessorError(
            "Please choose what the sub-processor is used for from the list.", "service"
        )
    return values | {"service": service}


def _urgent(data: dict) -> bool:
    return str(data.get("urgent", "")).strip().lower() in ("on", "1", "true", "yes")


def _announce(session, mailer: Mailer, admin: User, change: str, name: str, summary: str,
              now, effective, notice_days: int) -> bool:  # fmt: skip
    """List the change with its notice period and mail the admins; whether mail went out."""
    until = now + timedelta(days=notice_days)
    row = SubProcessorChange(
        account_id=admin.account_id,
        change=change,
        name=name,
        summary=summary,
        announced_at=now,
        objection_until=until,
        effective_at=effective,
    )
    session.add(row)
    audit.record(
        session, admin.account_id, f"subprocessor.{ACTIONS[change]}",
        actor=admin, target=name, detail=f"{summary}; effective {effective:%Y-%m-%d %H:%M} UTC",
    )  # fmt: skip
    when = "at once" if effective <= now else f"on {effective:%Y-%m-%d}"
    body = (
        f"The sub-processor list of {admin.account.name} changed: {change} {name}.\n"
        f"{summary}\n\nThe change takes effect {when}. "
        f"You may object until {until:%Y-%m-%d} ({notice_days} days)."
    )
    return mailer.send(admin_addresses(admin.account), f"Sub-processor {change}: {name}", body)


def _effective(now: datetime, notice_days: int, urgent: bool) -> datetime:
    """When a change announced now applies: at once when urgent, else after the notice."""
    return now if urgent else now + timedelta(days=notice_days)


def add(
    session: Session,
    mailer: Mailer,
    admin: User,
    data: dict,
    now=None,
    notice_days: int = NOTICE_DAYS,
) -> tuple[SubProcessor, bool]:
    """Add an entry, in use after the notice period (at once when `data` marks it urgent) and
    announce it; the entry, and whether the admins were mailed."""
    values = _clean(data)
    at = now or datetime.now(UTC)
    effective = _effective(at, notice_days, _urgent(data))
    row = SubProcessor(account_id=admin.account_id, effective_at=effective, **values)
    session.add(row)
    session.flush()
    summary = f"{values['purpose']} ({values['country']}; {values['safeguard']})"
    sent = _announce(
        session, mailer, admin, "added", values["name"], summary, at, effective, notice_days
    )
    return row, sent


def edit(
    session: Session,
    mailer: Mailer,
    admin: User,
    entry_id: int,
    data: dict,
    now=None,
    notice_days: int = NOTICE_DAYS,
):
    """Change an entry and announce what changed; the entry, and whether the admins were mailed
    (None when nothing changed). A new name, country, purpose or service is a new processing:
    the entry waits out the notice period again unless the change is urgent."""
    row = owned(session, SubProcessor, admin.account_id, entry_id)
    values = _clean(data)
    diff = [f"{f}: {getattr(row, f)} -> {v}" for f, v in values.items() if getattr(row, f) != v]
    if not diff:
        return row, None
    at = now or datetime.now(UTC)
    effective = row.effective_at
    if any(getattr(row, f) != values[f] for f in RESTARTS_NOTICE):
        effective = max(effective, _effective(at, notice_days, _urgent(data)))
    for f, v in values.items():
        setattr(row, f, v)
    row.effective_at = effective
    sent = _announce(
        session,
        mailer,
        admin,
        "changed",
        row.name,
        "; ".join(diff),
        at,
        max(effective, at),
        notice_days,
    )
    return row, sent


def remove(
    session: Session,
    mailer: Mailer,
    admin: User,
    entry_id: int,
    now=None,
    notice_days: int = NOTICE_DAYS,
) -> tuple[SubProcessor, bool]:
    """Remove an entry and announce it; its use stops at once (removing only ever reduces
    processing, so it needs no notice). The removed entry, and whether the admins were mailed."""
    row = owned(session, SubProcessor, admin.account_id, entry_id)
    session.delete(row)
    at = now or datetime.now(UTC)
    sent = _announce(session, mailer, admin, "removed", row.name, row.purpose, at, at, notice_days)
    return row, sent
