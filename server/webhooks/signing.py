"""Standard Webhooks signatures (standardwebhooks.com): `webhook-id`, `webhook-timestamp` and
`webhook-signature` headers, HMAC-SHA256 over "id.timestamp.body" with a "whsec_" secret.

During a secret rotation the delivery carries one signature per live secret (space-separated,
as the specification allows), so a receiver verifies with either the old or the new secret.
Secrets are stored encrypted with a key derived from SECRET_KEY.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "whsec_"
USER_AGENT = "Leadcamp-Webhooks/1"


def new_secret() -> str:
    """A fresh signing secret: "whsec_" and 32 random bytes in base64."""
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def new_event_id() -> str:
    """A `webhook-id`: unique per event, the same on every retry and replay."""
    return "msg_" + secrets.token_hex(16)


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The versioned signature ("v1,<base64>") of one delivery attempt."""
    key = base64.b64decode(secret.removeprefix(PREFIX))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def headers(live_secrets: list[str], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The request headers of one attempt, signed with every live secret."""
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(sign(s, msg_id, timestamp, body) for s in live_secrets),
    }


def _fernet(secret_key: str) -> Fernet:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"leadcamp webhook secrets"
    ).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def seal(secret_key: str, secret: str) -> str:
    """The signing secret encrypted for storage."""
    return _fernet(secret_key).encrypt(secret.encode()).decode("ascii")


def unseal(secret_key: str, blob: str) -> str:
    """A stored signing secret in the clear."""
    return _fernet(secret_key).decrypt(blob.encode()).decode()
