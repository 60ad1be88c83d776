"""Helpers shared by the tests."""

from __future__ import annotations


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


def make_event(kid: str, mid: str = "m" * 22, **fields) -> dict:
    """An event as the hot path hands it to a sink (an open, five seconds ago, by default)."""
    import time

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
