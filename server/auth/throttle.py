"""Rate limits on everything that checks a secret a stranger could guess: magic links, Google's
callback, invitations, the extension's connect codes and API tokens.

Counted per client address as the tracking path resolves it (X-Forwarded-For only from
TRUSTED_PROXIES), in memory or, when REDIS_URL is set, in Redis, so every worker and machine
shares one count. The pixel and the redirect never reach Flask, so no limit can touch them.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
import time

from flask import Flask, current_app, render_template, request
from flask_limiter import Limiter

from server.tracking.deidentify import client_ip


def client_address() -> str:
    """The client's address; an IPv6 client counts by its /64, what one subscriber is given."""
    settings = current_app.config["LEADCAMP"]
    forwarded = request.headers.get("X-Forwarded-For")
    address = client_ip(request.remote_addr, forwarded, settings.trusted_proxies)
    if address is None:
        return request.remote_addr or "unknown"
    if ":" in address:
        return str(ipaddress.IPv6Network(f"{address}/64", strict=False))
    return address


def client_key() -> str:
    """What the counts are kept under: a keyed hash of the address, so neither memory nor Redis
    holds addresses (personal data) for the length of a window."""
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, client_address().encode(), hashlib.sha256).hexdigest()[:32]


# Views carry the name of the setting they are throttled by; `init_app` builds each app its own
# limiter and wraps them, so two apps in one process (the tests) never share counts or state.
MARK = "leadcamp_rate_limit"


def _throttled(setting: str, shared_scope: str | None = None):
    def mark(view):
        setattr(view, MARK, (setting, shared_scope))
        return view

    return mark


#: Throttle a sign-in step per client: a magic link, Google's callback, an invitation.
sign_in = _throttled("rate_limit_sign_in")
#: Throttle the exchange of an extension connect code per client.
connect = _throttled("rate_limit_connect")
#: Count an API call against its client only when its token was refused (401), on every endpoint
#: together: the extension's own calls never use the allowance up, a guesser's do.
bad_tokens = _throttled("rate_limit_bad_tokens", shared_scope="api-token")


def _limit(limiter: Limiter, setting: str, shared_scope: str | None):
    # Read per request, so the limits follow the app's settings.
    def value():
        return getattr(current_app.config["LEADCAMP"], setting)

    if shared_scope is None:
        return limiter.limit(value)
    return limiter.shared_limit(
        value, scope=shared_scope, deduct_when=lambda response: response.status_code == 401
    )


def retry_after() -> int:
    """Seconds until the limit this request broke lets the client in again (at least 1)."""
    breached = current_app.extensions["leadcamp.limiter"].current_limit
    if breached is None:
        return 60
    return max(1, math.ceil(breached.window.reset_time - time.time()))


def too_many_requests(_exc):
    """The friendly page for a throttled browser, with Retry-After."""
    seconds = retry_after()
    html = render_template("auth/too_many.html", seconds=seconds)
    return html, 429, {"Retry-After": str(seconds)}


def init_app(app: Flask) -> None:
    """Give `app` its limiter, throttle the marked views, answer 429s with a page (the API
    answers its own). Called once the blueprints are registered."""
    limiter = Limiter(client_key, strategy="fixed-window")
    limiter.init_app(app)
    app.extensions["leadcamp.limiter"] = limiter
    for endpoint, view in list(app.view_functions.items()):
        if marked := getattr(view, MARK, None):
            app.view_functions[endpoint] = _limit(limiter, *marked)(view)
    app.register_error_handler(429, too_many_requests)
