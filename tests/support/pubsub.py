"""Pub/Sub's push side, faked: Google's OIDC signing keys (their certificates served, through
`responses`, where google.auth fetches them) and push requests as a push subscription with
authentication sends them: an RS256 token naming its key, and the JSON envelope around a Gmail
notice."""

from __future__ import annotations

import base64
import json
import secrets
import time
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import responses
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from google.auth import crypt, jwt

CERTS_URL = "https://www.googleapis.com/oauth2/v1/certs"
TOPIC = "projects/leadcamp-test/topics/gmail"
SUBSCRIPTION = "projects/leadcamp-test/subscriptions/gmail-push"
AUDIENCE = "https://leadcamp.example.com/gmail/push"
SERVICE_ACCOUNT = "gmail-push@leadcamp-test.iam.gserviceaccount.com"


def with_push(settings, fallback_minutes: int = 60):
    """Settings (Google configured already) with Gmail push on, checked against this fake."""
    return settings.replace(
        gmail_push_topic=TOPIC,
        gmail_push_audience=AUDIENCE,
        gmail_push_service_account=SERVICE_ACCOUNT,
        gmail_push_fallback_minutes=fallback_minutes,
    )


@lru_cache(maxsize=4)
def _key(number: int) -> tuple[str, str]:
    """An RSA key (PEM) and its self-signed certificate (PEM), as Google publishes them; made
    once per test run, they take a moment."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "accounts.google.com")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=14))
        .sign(key, hashes.SHA256())
    )
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return private, cert.public_bytes(serialization.Encoding.PEM).decode()


class FakePubSub:
    """Google's published signing keys and the push requests Pub/Sub signs with them."""

    def __init__(self, rsps: responses.RequestsMock):
        self.published: dict[str, int] = {}  # key id -> which key, as Google lists them
        self.cert_fetches = 0
        self.down = False  # Google's certificate endpoint failing
        self.kid = self.rotate()
        rsps.add_callback(responses.GET, CERTS_URL, self._certs)

    def rotate(self) -> str:
        """Google starts signing with a new key (published from now on); its key id."""
        kid = secrets.token_hex(20)
        self.published[kid] = len(self.published) % 2
        self.kid = kid
        return kid

    def _certs(self, request):
        self.cert_fetches += 1
        if self.down:
            return 503, {"Content-Type": "text/html; charset=UTF-8"}, "<p>Service Unavailable</p>"
        body = {kid: _key(number)[1] for kid, number in self.published.items()}
        headers = {
            "Content-Type": "application/json; charset=UTF-8",
            "Cache-Control": "public, max-age=21600, must-revalidate, no-transform",
        }
        return 200, headers, json.dumps(body)

    def token(self, kid: str | None = None, key: int | None = None, **claims) -> str:
        """An OIDC token as Pub/Sub signs it for the push subscription; `claims` override
        (audience, email, email_verified, iat, exp...), `key` signs with another key."""
        kid = kid or self.kid
        now = int(time.time())
        payload = {
            "aud": AUDIENCE,
            "azp": "113774264463038321964",
            "email": SERVICE_ACCOUNT,
            "email_verified": True,
            "exp": now + 3600,
            "iat": now,
            "iss": "https://accounts.google.com",
            "sub": "113774264463038321964",
        } | claims
        number = self.published.get(kid, 0) if key is None else key
        signer = crypt.RSASigner.from_string(_key(number)[0], key_id=kid)
        return jwt.encode(signer, payload).decode()

    @staticmethod
    def envelope(email: str, history_id: int = 9876543210) -> dict:
        """The body Pub/Sub posts for a Gmail notice about `email`."""
        notice = json.dumps({"emailAddress": email, "historyId": history_id}).encode()
        return {
            "message": {
                "data": base64.b64encode(notice).decode(),
                "messageId": "2070443601311540",
                "message_id": "2070443601311540",
                "publishTime": "2026-12-05T21:40:00.123Z",
                "publish_time": "2026-12-05T21:40:00.123Z",
            },
            "subscription": SUBSCRIPTION,
        }

    def push(self, client, email: str, token: str | None = None, body=None):
        """POST a notice about `email` to /gmail/push as Pub/Sub does."""
        headers = {"Authorization": f"Bearer {token or self.token()}"}
        payload = self.envelope(email) if body is None else body
        if isinstance(payload, dict):
            return client.post("/gmail/push", json=payload, headers=headers)
        return client.post(
            "/gmail/push", data=payload, headers=headers, content_type="application/json"
        )
