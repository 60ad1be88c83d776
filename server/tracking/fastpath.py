"""Plain-WSGI handlers for /o/ and /c/, in front of Flask.

Recipients' mail clients hit these paths far more than anyone hits the rest of the app, so they
skip Flask's request machinery (routing, request context, sessions): verify the token, record the
hit in memory, answer. Nothing here waits on the database but once per process (the first
snapshot of the tracking switches) and once per hash-key period (its key, tracking/ip_keys.py).
Everything else goes to Flask.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from html import escape

from server.common import signing
from server.tracking.hits import HitRecorder

log = logging.getLogger(__name__)

GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
NO_CACHE = "no-cache, no-store, must-revalidate, max-age=0"
PIXEL_HEADERS = [
    ("Content-Type", "image/gif"),
    ("Content-Length", str(len(GIF))),
    ("Cache-Control", NO_CACHE),
    ("Pragma", "no-cache"),
    ("Expires", "0"),
    ("X-Robots-Tag", "noindex, nofollow"),
]
NOT_FOUND = (
    b"<!doctype html><meta charset=utf-8><title>Link not valid</title>"
    b"<p>This link is not valid. It may have been copied incompletely.</p>"
)
NOT_FOUND_HEADERS = [
    ("Content-Type", "text/html; charset=utf-8"),
    ("Content-Length", str(len(NOT_FOUND))),
    ("Cache-Control", NO_CACHE),
    ("X-Robots-Tag", "noindex, nofollow"),
]
PURPOSE_HEADERS = ("HTTP_SEC_PURPOSE", "HTTP_PURPOSE", "HTTP_X_PURPOSE", "HTTP_X_MOZ")


@lru_cache(maxsize=4096)
def _redirect(location: str) -> tuple[tuple, bytes]:
    """Headers and body of the redirect (cached: the same links are clicked again)."""
    # `location` comes from verification (common/targets.py): already a valid URI, header-safe.
    body = f'<a href="{escape(location)}">Continue</a>'.encode()
    headers = (
        ("Location", location),
        ("Content-Type", "text/html; charset=utf-8"),
        ("Content-Length", str(len(body))),
        ("Cache-Control", NO_CACHE),
        ("Referrer-Policy", "no-referrer"),
        ("X-Robots-Tag", "noindex, nofollow"),
    )
    return headers, body


class TrackingFastPath:
    """WSGI middleware answering the pixel and the redirect; the rest falls through to `app`."""

    def __init__(self, app, recorder: HitRecorder, link_secrets: tuple[str, ...]):
        self.app = app
        self.recorder = recorder
        self.secrets = link_secrets

    def __call__(self, environ, start_response):
        """Route /o/ and /c/ here, everything else to Flask."""
        path = environ.get("PATH_INFO", "")
        if path.startswith("/o/"):
            return self.pixel(environ, start_response, path[3:])
        if path.startswith("/c/"):
            return self.click(environ, start_response, path[3:])
        return self.app(environ, start_response)

    def pixel(self, environ, start_response, rest: str):
        """Always the GIF, whatever the token: a broken image would show in the recipient's mail."""
        if rest.endswith(".gif"):
            hit = signing.verify_pixel(self.secrets, rest[:-4])
            if hit is not None:
                self._record("open", hit, environ)
        start_response("200 OK", list(PIXEL_HEADERS))
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else [GIF]

    def click(self, environ, start_response, rest: str):
        """Redirect a genuine link to its signed target; anything else gets a plain 404 page."""
        token, _, encoded = rest.partition("/")
        # Verification refuses a target the redirect cannot send, so a link that will not
        # redirect is never recorded as a click.
        hit = signing.verify_click(self.secrets, token, encoded)
        if hit is None:
            start_response("404 Not Found", list(NOT_FOUND_HEADERS))
            return [] if environ.get("REQUEST_METHOD") == "HEAD" else [NOT_FOUND]
        headers, body = _redirect(hit.location)
        self._record("click", hit, environ)
        start_response("302 Found", list(headers))
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else [body]

    def _record(self, kind: str, hit: signing.Hit, environ) -> None:
        # Recording must never cost the recipient their image or their redirect.
        try:
            self.recorder.record(
                kind,
                hit,
                method=environ.get("REQUEST_METHOD", "GET"),
                remote_addr=environ.get("REMOTE_ADDR"),
                forwarded_for=environ.get("HTTP_X_FORWARDED_FOR"),
                user_agent=environ.get("HTTP_USER_AGENT", ""),
                purpose=",".join(environ[h] for h in PURPOSE_HEADERS if h in environ),
                has_language="HTTP_ACCEPT_LANGUAGE" in environ,
            )
        except Exception:
            log.exception("tracking hit not recorded (message %s)", hit.mid)
