"""Security headers on every answer Flask gives: the settings pages, sign-in and the API.

The pixel and the redirect are answered in front of Flask (tracking/fastpath.py) with headers of
their own, so nothing here reaches them.
"""

from __future__ import annotations

from flask import Flask, Response, request

# No inline script or style anywhere: every page loads its code and its look from /static.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    )
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    # Not no-referrer: Flask-WTF refuses an HTTPS form post without a same-origin Referer. Other
    # sites (a contact's website, a tracked link's target) still learn nothing of our URLs.
    "Referrer-Policy": "same-origin",
}


def add_security_headers(response: Response) -> Response:
    """Add the headers; every answer but a static file is personal, so none is ever stored."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.endpoint != "static":
        response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    """Add the headers to every answer of `app`."""
    app.after_request(add_security_headers)
