"""Data-subject requests: search, export (signed, expiring download links), rectify, erase.

Each request is recorded with requester, time, scope and outcome. The record names the person by
a keyed digest only, so an erasure leaves no trace of the address, yet a repeated request by the
same person can still be matched to earlier ones.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
from datetime import UTC, datetime

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import DataRequest, User
from server.services import audit, personal_data
from server.services.accounts import AccountError, normalize_email

EXPORT_MAX_AGE = 60 * 60
FORMATS = ("json", "csv")


def subject_digest(secret_key: str, account_id: int, email: str) -> str:
    """The keyed digest a request record names its subject by."""
    message = f"{account_id}:{normalize_email(email)}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


def _address(email: str) -> str:
    email = normalize_email(email)
    if "@" not in email or " " in email or len(email) > 320:
        raise AccountError("Enter one email address.")
    return email


def _record(session, secret_key, admin: User, kind, email, scope, outcome) -> DataRequest:
    row = DataRequest(
        account_id=admin.account_id,
        requester_id=admin.id,
        kind=kind,
        subject_digest=subject_digest(secret_key, admin.account_id, email),
        scope=scope,
        outcome=outcome,
    )
    session.add(row)
    session.flush()
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
    email = _address(email)
    found = personal_data.find_all(session, admin.account_id, email)
    scope = ",".join(found)
    return found, _record(session, secret_key, admin, "search", email, scope, _counts(found))


def export(session: Session, secret_key: str, admin: User, email: str) -> dict[str, str]:
    """Record an export and return a signed, expiring download token per format."""
    email = _address(email)
    found = personal_data.find_all(session, admin.account_id, email)
    request = _record(
        session, secret_key, admin, "export", email, ",".join(found), "download links issued"
    )
    serializer = _serializer(secret_key)
    return {
        fmt: serializer.dumps({"a": admin.account_id, "e": email, "f": fmt, "r": request.id})
        for fmt in FORMATS
    }


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt="leadcamp.dsr-export")


def open_download(secret_key: str, token: str, account_id: int) -> dict:
    """The export a download token stands for; AccountError when expired, forged or foreign."""
    try:
        data = _serializer(secret_key).loads(token, max_age=EXPORT_MAX_AGE)
    except SignatureExpired as exc:
        raise AccountError("This download link has expired. Export again.") from exc
    except BadSignature as exc:
        raise AccountError("This download link is not valid.") from exc
    if data.get("a") != account_id or data.get("f") not in FORMATS:
        raise AccountError("This download link is not valid.")
    return data


def render(session: Session, account_id: int, email: str, fmt: str) -> tuple[str, str]:
    """The export file's text and media type."""
    found = personal_data.find_all(session, account_id, email)
    if fmt == "json":
        document = {
            "subject": email,
            "generated_at": datetime.now(UTC).isoformat(),
            "data": found,
        }
        return json.dumps(document, indent=2, default=str), "application/json"
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["source", "kind", "row", "field", "value"])
    for source, parts in found.items():
        for kind, rows in parts.items():
            for i, row in enumerate(rows):
                for key, value in row.items():
                    text = value if isinstance(value, str) else json.dumps(value, default=str)
                    writer.writerow([source, kind, i, key, text])
    return out.getvalue(), "text/csv"


def rectify(
    session: Session, secret_key: str, admin: User, email: str, changes: dict
) -> dict[str, int]:
    """Correct the person's fields wherever a provider holds them."""
    email = _address(email)
    allowed = personal_data.rectifiable_fields()
    changes = {k: v for k, v in changes.items() if k in allowed}
    if not changes:
        raise AccountError("Nothing to correct.")
    result = personal_data.rectify_all(session, admin.account_id, email, changes)
    outcome = ", ".join(f"{n} {name}" for name, n in result.items())
    _record(session, secret_key, admin, "rectify", email, ",".join(sorted(changes)), outcome)
    return result


def erase(session: Session, secret_key: str, admin: User, email: str) -> dict[str, int]:
    """Erase the person everywhere in the admin's account."""
    email = _address(email)
    result = personal_data.erase_all(session, admin.account_id, email)
    outcome = ", ".join(f"{n} {name}" for name, n in result.items())
    _record(session, secret_key, admin, "erase", email, ",".join(result), outcome)
    return result


def history(session: Session, account_id: int, limit: int = 100) -> list[DataRequest]:
    """The account's recorded requests, newest first."""
    query = select(DataRequest).where(DataRequest.account_id == account_id)
    return list(session.scalars(query.order_by(DataRequest.id.desc()).limit(limit)))
