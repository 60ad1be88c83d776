"""Data-subject requests: search, export (signed, expiring download links), rectify, erase.

Each request is recorded with requester, time, scope and outcome. The record names the person by
a keyed digest only, so an erasure leaves no trace of the address, yet a repeated request by the
same person can still be matched to earlier ones. An export's download links name only the
request; the address they need is kept encrypted server-side for the hour they are valid.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import io
import json
from datetime import UTC, datetime, timedelta

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from server.accounts.users import AccountError, checked_email, load_signed, normalize_email
from server.common import audit, personal_data
from server.models import DataExport, DataRequest, User

EXPORT_MAX_AGE = 60 * 60
FORMATS = ("json", "csv")


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
        raise AccountError("Enter one email address.") from exc
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


def export(
    session: Session, secret_key: str, admin: User, email: str, now: datetime | None = None
) -> dict[str, str]:
    """Record an export and return a signed, expiring download token per format.

    The tokens name the request only; the address stays here, encrypted, until they expire."""
    (email, digest), now = _subject(secret_key, admin, email), now or datetime.now(UTC)
    found = personal_data.find_all(session, admin.account_id, email)
    request = _record(session, admin, "export", digest, ",".join(found), "download links issued")
    forget_expired_exports(session, now)
    session.add(
        DataExport(
            request_id=request.id,
            account_id=admin.account_id,
            address_encrypted=_cipher(secret_key).encrypt(email.encode()).decode("ascii"),
            expires_at=now + timedelta(seconds=EXPORT_MAX_AGE),
        )
    )
    session.flush()
    serializer = _serializer(secret_key)
    return {
        fmt: serializer.dumps({"a": admin.account_id, "f": fmt, "r": request.id}) for fmt in FORMATS
    }


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt="leadcamp.dsr-export")


def _cipher(secret_key: str) -> Fernet:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"leadcamp dsr export")
    return Fernet(base64.urlsafe_b64encode(hkdf.derive(secret_key.encode())))


def open_download(
    session: Session, secret_key: str, token: str, account_id: int, now: datetime | None = None
) -> tuple[str, str, int]:
    """The address, format and request id a download token stands for; AccountError when
    expired, forged, foreign, or the person has been erased since."""
    data = load_signed(_serializer(secret_key), token, EXPORT_MAX_AGE, "download link")
    if data.get("a") != account_id or data.get("f") not in FORMATS:
        raise AccountError("This download link is not valid.")
    row = session.scalar(
        select(DataExport).where(
            DataExport.request_id == data.get("r"), DataExport.account_id == account_id
        )
    )
    if row is None or row.expires_at <= (now or datetime.now(UTC)):
        raise AccountError("This download link has expired. Export again.")
    email = _cipher(secret_key).decrypt(row.address_encrypted.encode("ascii")).decode()
    return email, data["f"], row.request_id


def forget_expired_exports(session: Session, now: datetime) -> int:
    """Delete the server-side halves of export links that have expired; how many."""
    return session.execute(delete(DataExport).where(DataExport.expires_at <= now)).rowcount


def _forget_exports_of(session: Session, account_id: int, digest: str) -> int:
    requests = select(DataRequest.id).where(
        DataRequest.account_id == account_id, DataRequest.subject_digest == digest
    )
    return session.execute(delete(DataExport).where(DataExport.request_id.in_(requests))).rowcount


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
    # Open download links for the person die with the data they would have exported.
    result["exports"] = _forget_exports_of(session, admin.account_id, digest)
    outcome = ", ".join(f"{n} {name}" for name, n in result.items())
    _record(session, admin, "erase", digest, ",".join(result), outcome)
    return result


def history(session: Session, account_id: int, limit: int = 100) -> list[DataRequest]:
    """The account's recorded requests, newest first."""
    query = select(DataRequest).where(DataRequest.account_id == account_id)
    return list(session.scalars(query.order_by(DataRequest.id.desc()).limit(limit)))
