"""The job-runs provider of the personal-data registry: what runs hold about a person (the copy
sent to them, their CSV row's report, an export of their data, a refresh of their enrichment).

Runs file the addresses their items name (`JobRunAddress`); a run not yet under way may hold a
person only in its input (a queued import's file), so unfinished runs' input is searched too,
for every spelling the account knows. Registered after the messages provider and before the
contacts one (server/__init__.py), so the contact's spellings are still known.
"""

from __future__ import annotations

import json

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from server.common import job_runs, mentions
from server.common.personal_data import Provider, addresses_of
from server.models import JobRun, JobRunAddress
from server.models.base import iso, utcnow
from server.privacy.data_requests import KIND as EXPORT

CANCELLED = "Cancelled: a person it concerned was erased."
SCRUBBED = ("email", "name", "errors", "error", "cells")  # item fields that may name the person


def _spellings(session: Session, account_id: int, email: str) -> set[str]:
    """The person's addresses as given, lower-cased, and as runs file them."""
    known = {e.strip().lower() for e in addresses_of(session, account_id, email)}
    return known | {job_runs.address_key(e) for e in known}


def _runs(session: Session, account_id: int, spellings: set[str]) -> list[JobRun]:
    """The account's runs holding data about the person, oldest first."""
    filed = select(JobRunAddress.run_id).where(
        JobRunAddress.account_id == account_id, JobRunAddress.email.in_(spellings)
    )
    mine = select(JobRun).where(JobRun.account_id == account_id)
    runs = list(session.scalars(mine.where(JobRun.id.in_(filed))))
    unfinished = mine.where(JobRun.status.in_(("queued", "running")), JobRun.input.is_not(None))
    for run in session.scalars(unfinished):
        text = json.dumps(run.input, ensure_ascii=False).lower()
        if run not in runs and any(s in text for s in spellings):
            runs.append(run)
    return sorted(runs, key=lambda r: r.created_at)


def _concerns(item: dict, spellings: set[str]) -> bool:
    return bool(item.get("email")) and job_runs.address_key(item["email"]) in spellings


def find(session: Session, account_id: int, email: str) -> dict:
    """The runs holding data about the address and their items about it (an export's files are
    not repeated: they are a copy of what the other providers hold)."""
    spellings = _spellings(session, account_id, email)
    return {
        "job_runs": [
            {
                "id": run.id,
                "kind": run.kind,
                "status": run.status,
                "created_at": iso(run.created_at),
                "finished_at": iso(run.finished_at),
                "items": [i for i in run.items if _concerns(i, spellings)],
            }
            for run in _runs(session, account_id, spellings)
        ]
    }


def erase(session: Session, account_id: int, email: str) -> int:
    """Delete the person's exports; strip the person from other runs' items and errors; cancel
    runs not yet done that would act on them. Runs affected."""
    spellings = _spellings(session, account_id, email)
    runs = _runs(session, account_id, spellings)
    for run in runs:
        if run.kind == EXPORT:
            session.delete(run)
            continue
        if run.status in ("queued", "running"):
            run.status, run.error, run.input = "failed", CANCELLED, None
            run.finished_at = run.updated_at = utcnow()
        run.items = [_scrub(i) if _concerns(i, spellings) else i for i in run.items]
        run.error = _without(run.error, spellings)
        session.execute(
            delete(JobRunAddress).where(
                JobRunAddress.run_id == run.id, JobRunAddress.email.in_(spellings)
            )
        )
    session.flush()
    return len(runs)


def _scrub(item: dict) -> dict:
    """An item with nothing left that names its person."""
    return {k: v for k, v in item.items() if k not in SCRUBBED} | {"email": None, "erased": True}


def _without(text: str | None, spellings: set[str]) -> str | None:
    """`text` with every spelling of the person, in every encoding, blanked out."""
    return mentions.redact(text, mentions.forms(spellings))


def erase_account(session: Session, account_id: int, mode: str) -> int:
    """Runs are working records: deleted in both modes."""
    session.execute(delete(JobRunAddress).where(JobRunAddress.account_id == account_id))
    return session.execute(delete(JobRun).where(JobRun.account_id == account_id)).rowcount


PROVIDER = Provider(
    name="job_runs", find=find, erase=erase, erase_account=erase_account,
    tables=("job_runs", "job_run_addresses"),
)  # fmt: skip
