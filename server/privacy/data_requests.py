"""Data-subject requests: search, export (a job writing files downloadable for an hour),
rectify, erase.

Each request is recorded with requester, time, scope and outcome. The record names the person by
a keyed digest only, so an erasure leaves no trace of the address, yet a repeated request by the
same person can still be matched to earlier ones. An export is a job run: the worker gathers
everything held and writes it as JSON and CSV into the run, where the account's admins download
it for an hour (its link names the run only); then, or when the person is erased, the files go.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.accounts.users import AccountError, checked_email, normalize_email
from server.common import audit, csv_safe, job_runs, personal_data
from server.models import DataRequest, JobRun, User
from server.models.base import utcnow
from server.privacy import erasure_ledger
from server.webhooks import hits as webhooks

EXPORT_MAX_AGE = 60 * 60
FORMATS = {"json": "application/json", "csv": "text/csv"}
KIND = "dsr_export"


def subject_digest(secret_key: str, account_id: int, email: str) -> str:
    """The keyed digest a request record names its subject by."""
    message = f"{account_id}:{normalize_email(email)}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


def _subject(secret_key: str, admin: User, email: str) -> tuple[str, str]:
    """The request's address, normalised, and the digest its record names it by."""
    try:
        email = checked_email(email)
    except AccountError as exc:
        # The privacy page's own wording: its field takes exactly one address.
        raise AccountError("Enter one email address.", "email") from exc
    return email, subject_digest(secret_key, admin.account_id, email)


def _record(session, admin: User, kind, digest, scope, outcome) -> DataRequest:
    row = DataRequest(
        account_id=admin.account_id,
        requester_id=admin.id,
        kind=kind,
        subject_digest=digest,
        scope=scope,
        outcome=outcome,
    )
    session.add(row)
    session.flush()
    if kind in ("rectify", "erase"):  # an export completes when its files are written
        webhooks.emit_data_request(session, row)
    audit.record(
        session, admin.account_id, f"dsr.{kind}", actor=admin, target=f"request #{row.id}",
        detail=f"{scope}: {outcome}",
    )  # fmt: skip
    return row


def _counts(found: dict) -> str:
    sizes = [f"{len(rows)} {name}" for part in found.values() for name, rows in part.items()]
    return ", ".join(sizes)


def search(session: Session, secret_key: str, admin: User, email: str) -> tuple[dict, DataRequest]:
    """Everything held about the address in the admin's account."""
    email, digest = _subject(secret_key, admin, email)
    found = personal_data.find_all(session, admin.account_id, email)
    scope = ",".join(found)
    return found, _record(session, admin, "search", digest, scope, _counts(found))


def export(session: Session, secret_key: str, admin: User, email: str) -> JobRun:
    """Record an export request and a queued run to write its files; the caller submits it."""
    email, digest = _subject(secret_key, admin, email)
    request = _record(session, admin, "export", digest, "", "queued")
    forget_expired_exports(session, utcnow())
    item = {"email": email, "status": "queued"}
    return job_runs.create(session, KIND, admin, {"request_id": request.id}, [item])


def write_export(session: Session, run: JobRun) -> None:
    """Gather everything held about the run's person and keep it in the run as JSON and CSV."""
    email = run.items[0]["email"]
    found = personal_data.find_all(session, run.account_id, email)
    run.files = {fmt: render(email, found, fmt) for fmt in FORMATS}
    request = session.get(DataRequest, run.input["request_id"])
    if request is not None:
        request.scope, request.outcome = ",".join(found), "files written"
        webhooks.emit_data_request(session, request)
    item = run.items[0] | {"status": "written"}
    job_runs.progress(session, run, [item], utcnow(), replace=True)
    run.result = {"formats": list(FORMATS), "request_id": run.input["request_id"]}
    session.commit()


def export_file(run: JobRun, fmt: str, now: datetime | None = None) -> tuple[str, str]:
    """An export run's file in `fmt` and its media type; AccountError when there is none (any
    more): not an export, not written, expired, or the person erased since."""
    if run.kind != KIND or fmt not in FORMATS or run.status != "succeeded":
        raise AccountError("There is no such export.")
    if not run.files or run.finished_at + _max_age() <= (now or datetime.now(UTC)):
        raise AccountError("This download link has expired. Export again.")
    return run.files[fmt], FORMATS[fmt]


def _max_age() -> timedelta:
    return timedelta(seconds=EXPORT_MAX_AGE)


def forget_expired_exports(session: Session, now: datetime) -> int:
    """Drop the files of exports whose download time is over; how many."""
    return session.execute(
        update(JobRun)
        .where(JobRun.kind == KIND, JobRun.files.is_not(None))
        .where(JobRun.finished_at <= now - _max_age())
        .values(files=None)
        .execution_options(synchronize_session=False)
    ).rowcount


def render(email: str, found: dict, fmt: str) -> str:
    """What the providers found about `email`, as an export file in `fmt` (json or csv)."""
    if fmt == "json":
        document = {
            "subject": email,
            "generated_at": datetime.now(UTC).isoformat(),
            "data": found,
        }
        return json.dumps(document, indent=2, default=str)
    out = io.StringIO()
    writer = csv_safe.writer(out)
    writer.writerow(["source", "kind", "row", "field", "value"])
    for source, parts in found.items():
        for kind, rows in parts.items():
            for i, row in enumerate(rows):
                for key, value in row.items():
                    text = value if isinstance(value, str) else json.dumps(value, default=str)
                    writer.writerow([source, kind, i, key, text])
    return out.getvalue()


def rectify(
    session: Session, secret_key: str, admin: User, email: str, changes: dict
) -> dict[str, int]:
    """Correct the person's fields wherever a provider holds them."""
    email, digest = _subject(secret_key, admin, email)
    allowed = personal_data.rectifiable_fields()
    changes = {k: v for k, v in changes.items() if k in allowed}
    if not changes:
        raise AccountError("Nothing to correct.")
    result = personal_data.rectify_all(session, admin.account_id, email, changes)
    outcome = ", ".join(f"{n} {name}" for name, n in result.items())
    _record(session, admin, "rectify", digest, ",".join(sorted(changes)), outcome)
    return result


def erase(session: Session, secret_key: str, admin: User, email: str) -> dict[str, int]:
    """Erase the person everywhere in the admin's account."""
    email, digest = _subject(secret_key, admin, email)
    result = personal_data.erase_all(session, admin.account_id, email)
    erasure_ledger.write(session, admin.account_id, email)  # kept for re-applying after a restore
    outcome = ", ".join(f"{n} {name}" for name, n in result.items())
    _record(session, admin, "erase", digest, ",".join(result), outcome)
    return result


def history(session: Session, account_id: int, limit: int = 100) -> list[DataRequest]:
    """The account's recorded requests, newest first."""
    query = select(DataRequest).where(DataRequest.account_id == account_id)
    return list(session.scalars(query.order_by(DataRequest.id.desc()).limit(limit)))
