"""Helpers shared by the tests."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_for(condition: Callable[[], object], timeout: float = 30, every: float = 0.02) -> bool:
    """Poll `condition` until it holds or `timeout` seconds pass; whether it held. Tests wait on
    what they need this way, never for a fixed time: a busy machine only makes them slower."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return bool(condition())


def auth(token: str) -> dict:
    """The Authorization header for a token."""
    return {"Authorization": f"Bearer {token}"}


def pixel_for(link_secret: str, kid: str, mid: str) -> str:
    """The pixel path of a message, signed as the extension would."""
    from server.common import signing

    return signing.pixel_path(signing.derive_key(link_secret, kid), kid, mid)


def click_for(link_secret: str, kid: str, mid: str, url: str) -> str:
    """The redirect path to `url`, signed as the extension would."""
    from server.common import signing

    return signing.click_path(signing.derive_key(link_secret, kid), kid, mid, url)


def own_message_id(app, user) -> str:
    """A fresh message id made with the user's current signing key, as the extension makes them."""
    from server.accounts import users as accounts
    from server.common import signing
    from server.extensions import db

    kid = accounts.current_signing_key(db.session, user).kid
    db.session.commit()
    return signing.bound_message_id(accounts.key_material(app.config["LEADCAMP"].link_secrets, kid))


def make_event(kid: str, mid: str = "m" * 22, **fields) -> dict:
    """An event as the hot path hands it to a sink (an open, five seconds ago, by default)."""
    from server.common import signing

    event = {
        "id": signing.new_message_id(),
        "kid": kid,
        "message_id": mid,
        "kind": "open",
        "occurred_at": time.time() - 5,
        "verdict": "human",
        "reasons": "",
        "classifier_version": 1,
        "method": "GET",
        "link_url": None,
    }
    return event | fields


def report_message(kid: str, *mids: str) -> None:
    """Record `mids` (default "m" * 22) as sent messages of the key's rep, as the extension's
    report does: the batch writer counts hits only for a reported message of the key's rep."""
    from server.extensions import db
    from server.models import Message, SigningKey

    key = db.session.get(SigningKey, kid)
    for mid in mids or ("m" * 22,):
        db.session.add(Message(id=mid, account_id=key.account_id, user_id=key.user_id, kid=kid))
    db.session.commit()
