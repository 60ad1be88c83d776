"""Tracking-link tokens: key derivation, signing and verification.

A rep's link key is HKDF-SHA256(server link secret, info="leadcamp link key " + kid), so any worker
verifies a link with no database. Signatures follow itsdangerous' `Signer` with
`key_derivation="hmac"` and SHA-256: sig = b64url(HMAC(HMAC(key, purpose), value)), unpadded.
The extension reproduces them with WebCrypto; tests/vectors/tracking-signatures.json pins both.

    pixel: /o/<kid>.<mid>.<sig>.gif            value "<kid>.<mid>"          purpose "leadcamp.open"
    click: /c/<kid>.<mid>.<sig>/<b64url(url)>  value "<kid>.<mid>.<b64url>" purpose "leadcamp.click"
    message id: <nonce><sig[:8]>, 14 random characters, then the first 8 characters of the
                signature of the nonce with purpose "leadcamp.message-id"

A click verifies only if its target is one the redirect can send (common/targets.py).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
import secrets
from dataclasses import dataclass
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from server.common import targets

OPEN = "leadcamp.open"
CLICK = "leadcamp.click"
MESSAGE_ID = "leadcamp.message-id"
_NONCE = 14  # characters of a bound message id that are random (84 bits); 8 of tag follow
ALGORITHM = "HMAC-SHA256"
_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
# The unpadded base64 of the longest target the redirect accepts.
MAX_URL_LENGTH = -(-targets.MAX_BYTES * 4 // 3)


def b64encode(data: bytes) -> str:
    """URL-safe base64 without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64decode(text: str) -> bytes:
    """Inverse of b64encode; raises ValueError on anything else."""
    if not text or not _TOKEN_CHARS.issuperset(text) or len(text) % 4 == 1:
        raise ValueError("not unpadded url-safe base64")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error as exc:
        raise ValueError(str(exc)) from exc


def new_kid() -> str:
    """A fresh key id: 48 random bits."""
    return secrets.token_urlsafe(6)


def new_message_id() -> str:
    """A fresh random id: 128 random bits (events, job items; messages use bound_message_id)."""
    return secrets.token_urlsafe(16)


def bound_message_id(key: bytes) -> str:
    """A fresh message id bound to a rep's key: 84 random bits, then a 48-bit tag of them.

    Only the key's holder makes ids that pass is_bound, so registering an id made elsewhere is
    refused the same way whether or not some other account uses it."""
    nonce = b64encode(secrets.token_bytes(11))[:_NONCE]
    return nonce + signature(key, MESSAGE_ID, nonce)[:8]


def is_bound(key: bytes, mid: str) -> bool:
    """Whether `mid` was made by bound_message_id with `key`."""
    if len(mid) != _NONCE + 8:
        return False
    return hmac.compare_digest(signature(key, MESSAGE_ID, mid[:_NONCE])[:8], mid[_NONCE:])


@lru_cache(maxsize=4096)
def derive_key(secret: str, kid: str) -> bytes:
    """The rep's 32-byte link key for one server secret."""
    hkdf = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"leadcamp link key " + kid.encode()
    )
    return hkdf.derive(secret.encode())


@lru_cache(maxsize=8192)
def _purpose_key(key: bytes, purpose: str) -> bytes:
    # itsdangerous' "hmac" key derivation: HMAC(secret_key, salt).
    return hmac.digest(key, purpose.encode(), "sha256")


@lru_cache(maxsize=8192)
def _verifying_key(secret: str, kid: str, purpose: str) -> bytes:
    # One cache lookup per secret on the hot path instead of a derivation chain.
    return _purpose_key(derive_key(secret, kid), purpose)


def signature(key: bytes, purpose: str, value: str) -> str:
    """The signature of `value` for `purpose` under `key`."""
    return b64encode(hmac.digest(_purpose_key(key, purpose), value.encode(), "sha256"))


def pixel_path(key: bytes, kid: str, mid: str) -> str:
    """The path of a message's open pixel."""
    value = f"{kid}.{mid}"
    return f"/o/{value}.{signature(key, OPEN, value)}.gif"


def click_path(key: bytes, kid: str, mid: str, url: str) -> str:
    """The path of a signed redirect to `url`."""
    encoded = b64encode(url.encode())
    sig = signature(key, CLICK, f"{kid}.{mid}.{encoded}")
    return f"/c/{kid}.{mid}.{sig}/{encoded}"


@dataclass(frozen=True, slots=True)
class Hit:
    """What a verified token says: whose key, which message, and for a click the target.

    `location` is the target as the redirect's Location header sends it (targets.location).
    """

    kid: str
    mid: str
    url: str | None = None
    location: str | None = None


TOKEN_PATTERN = re.compile(r"([A-Za-z0-9_-]{1,16})\.([A-Za-z0-9_-]{1,32})\.([A-Za-z0-9_-]{43})")


def _split_token(token: str) -> tuple[str, str, str] | None:
    match = TOKEN_PATTERN.fullmatch(token)
    return match.groups() if match else None


def _verified(secrets_: tuple[str, ...], kid: str, purpose: str, value: str, sig: str) -> bool:
    given = sig.encode()
    message = value.encode()
    for secret in secrets_:
        digest = hmac.digest(_verifying_key(secret, kid, purpose), message, "sha256")
        # 32 bytes encode to 43 characters and one "=" of padding.
        if hmac.compare_digest(base64.urlsafe_b64encode(digest)[:43], given):
            return True
    return False


def verify_pixel(secrets_: tuple[str, ...], path_token: str) -> Hit | None:
    """Parse and verify `<kid>.<mid>.<sig>` (without `.gif`); None unless genuine."""
    parts = _split_token(path_token)
    if parts is None:
        return None
    kid, mid, sig = parts
    return Hit(kid, mid) if _verified(secrets_, kid, OPEN, f"{kid}.{mid}", sig) else None


def verify_click(secrets_: tuple[str, ...], token: str, encoded_url: str) -> Hit | None:
    """Parse and verify a click token and its target; None unless genuine and redirectable."""
    parts = _split_token(token)
    if parts is None or len(encoded_url) > MAX_URL_LENGTH:
        return None
    kid, mid, sig = parts
    if not _verified(secrets_, kid, CLICK, f"{kid}.{mid}.{encoded_url}", sig):
        return None
    target = _target(encoded_url)
    return Hit(kid, mid, *target) if target is not None else None


@lru_cache(maxsize=4096)
def _target(encoded_url: str) -> tuple[str, str] | None:
    """The target URL and its Location, or None when the redirect cannot send it."""
    # Cached, refusals too: a campaign's links are clicked over and over, and only signed values
    # get here, so nobody can fill the cache with made-up targets.
    try:
        url = b64decode(encoded_url).decode("utf-8")
        return url, targets.location(url)
    except (ValueError, targets.BadTarget):  # not base64, not UTF-8, or not redirectable
        return None
