"""Rate limits on guessable secrets: each throttled endpoint answers 429 (a page, or JSON in the
API) once a client used its allowance up, other clients go on, and the pixel never throttles.

Every test runs on memory storage and on Redis storage (a key prefix of its own, removed after).
"""

from __future__ import annotations

import ipaddress
import uuid

import pytest
import redis

from tests.support import auth, click_for, pixel_for
from tests.support.admin import csrf_from
from tests.support.google import with_google

REDIS_URL = "redis://127.0.0.1:6379/0"
LIMIT = 3
ATTACKER = {"REMOTE_ADDR": "203.0.113.9"}
NEIGHBOUR = {"REMOTE_ADDR": "198.51.100.7"}
PROXY = ipaddress.ip_network("10.0.0.0/8")
ADDRESSES = ("203.0.113.", "198.51.100.", "192.0.2.", "2001:db8:")


@pytest.fixture(params=["memory", "redis"])
def settings(request, settings):
    """Small limits, counted in memory or in Redis under a prefix of this test's own."""
    small = f"{LIMIT} per minute"
    settings = with_google(settings).replace(
        rate_limit_sign_in=small,
        rate_limit_connect=small,
        rate_limit_bad_tokens=small,
        trusted_proxies=(PROXY,),
    )
    if request.param == "memory":
        return settings
    return settings.replace(
        redis_url=REDIS_URL, rate_limit_key_prefix=f"leadcamp-test-{uuid.uuid4().hex}"
    )


@pytest.fixture(autouse=True)
def redis_cleaned(app):
    """On Redis, the test's counts are really there, under no address, and removed after."""
    settings = app.config["LEADCAMP"]
    yield
    if settings.redis_url:
        client = redis.Redis.from_url(REDIS_URL)
        keys = client.keys(f"{settings.rate_limit_key_prefix}:*")
        if keys:
            client.delete(*keys)
        assert keys  # counted there, under no address
        assert not [k for k in keys if any(a.encode() in k for a in ADDRESSES)]


def client_from(app, environ: dict):
    """A test client whose requests come from the address in `environ`."""
    client = app.test_client()
    client.environ_base.update(environ)
    return client


def exhaust(send, expected: int) -> None:
    """Send LIMIT requests that are each answered `expected`, then one that is throttled."""
    for _ in range(LIMIT):
        assert send().status_code == expected
    throttled = send()
    assert throttled.status_code == 429
    assert 1 <= int(throttled.headers["Retry-After"]) <= 60
    return throttled


def assert_friendly_page(response) -> None:
    """An HTML page a person can read, not a bare status."""
    assert response.mimetype == "text/html"
    assert "Too many attempts" in response.text and "try again" in response.text


def test_magic_link_consume_is_throttled(app):
    attacker = client_from(app, ATTACKER)
    page = attacker.get("/auth/magic/forged")
    token = csrf_from(page.text)
    throttled = exhaust(
        lambda: attacker.post("/auth/magic/forged", data={"csrf_token": token}), 400
    )
    assert_friendly_page(throttled)
    assert client_from(app, NEIGHBOUR).get("/auth/magic/forged").status_code == 200


def test_magic_link_page_is_throttled(app):
    exhaust(lambda: client_from(app, ATTACKER).get("/auth/magic/guess"), 200)
    assert client_from(app, NEIGHBOUR).get("/auth/magic/guess").status_code == 200


def test_google_callback_is_throttled(app):
    attacker = client_from(app, ATTACKER)
    throttled = exhaust(lambda: attacker.get("/auth/google/callback?state=x&code=y"), 400)
    assert_friendly_page(throttled)
    neighbour = client_from(app, NEIGHBOUR).get("/auth/google/callback?state=x&code=y")
    assert neighbour.status_code == 400


def test_invitation_acceptance_is_throttled(app):
    attacker = client_from(app, ATTACKER)
    exhaust(lambda: attacker.get("/admin/invitations/guess"), 400)
    assert client_from(app, NEIGHBOUR).get("/admin/invitations/guess").status_code == 400


def test_invitation_accepting_post_is_throttled(app):
    attacker = client_from(app, ATTACKER)
    page = attacker.get("/auth/magic/x")  # the invitation's error page has no form
    data = {"csrf_token": csrf_from(page.text), "name": "X"}
    assert_friendly_page(exhaust(lambda: attacker.post("/admin/invitations/guess", data=data), 400))


def test_connect_code_exchange_is_throttled_with_a_json_reason(app):
    guess = {"code": "c" * 22, "verifier": "v" * 43}
    attacker = client_from(app, ATTACKER)
    throttled = exhaust(lambda: attacker.post("/api/v1/extension/token", json=guess), 400)
    assert throttled.json["error"] == "rate_limited"
    assert "retry in" in throttled.json["message"]
    assert (
        client_from(app, NEIGHBOUR).post("/api/v1/extension/token", json=guess).status_code == 400
    )


def test_refused_api_tokens_are_throttled_on_every_endpoint(app, rep):
    _, token = rep
    attacker = client_from(app, ATTACKER)
    for _ in range(LIMIT):
        assert attacker.get("/api/v1/me", headers=auth("lc_guess")).status_code == 401
    throttled = attacker.get("/api/v1/contacts", headers=auth("lc_guess"))
    assert throttled.status_code == 429 and throttled.json["error"] == "rate_limited"
    assert 1 <= int(throttled.headers["Retry-After"]) <= 60
    # Guessing stops being answered for this address, even a right guess.
    assert attacker.get("/api/v1/me", headers=auth(token)).status_code == 429
    assert client_from(app, NEIGHBOUR).get("/api/v1/me", headers=auth(token)).status_code == 200


def test_good_tokens_never_use_the_allowance_up(app, rep):
    _, token = rep
    office = client_from(app, NEIGHBOUR)
    for _ in range(LIMIT * 4):
        assert office.get("/api/v1/me", headers=auth(token)).status_code == 200
    assert office.get("/api/v1/me", headers=auth("lc_stale")).status_code == 401


def test_clients_behind_a_trusted_proxy_count_apart(app):
    def via_proxy(client_address: str, peer: str = "10.0.0.1"):
        client = client_from(app, {"REMOTE_ADDR": peer})
        return client.get("/auth/magic/x", headers={"X-Forwarded-For": client_address})

    exhaust(lambda: via_proxy("203.0.113.5"), 200)
    assert via_proxy("203.0.113.6").status_code == 200
    # From a peer that is no trusted proxy, X-Forwarded-For is the client's word: ignored.
    exhaust(lambda: via_proxy("192.0.2.1", peer="192.0.2.77"), 200)
    assert via_proxy("192.0.2.2", peer="192.0.2.77").status_code == 429


def test_an_ipv6_client_counts_by_its_64(app):
    exhaust(lambda: client_from(app, {"REMOTE_ADDR": "2001:db8:1:2::1"}).get("/auth/magic/x"), 200)
    assert (
        client_from(app, {"REMOTE_ADDR": "2001:db8:1:2::99"}).get("/auth/magic/x").status_code
        == 429
    )
    assert (
        client_from(app, {"REMOTE_ADDR": "2001:db8:1:3::1"}).get("/auth/magic/x").status_code == 200
    )


def test_the_pixel_and_redirect_never_throttle_even_under_a_flood(app, rep, kid):
    attacker = client_from(app, ATTACKER)
    exhaust(lambda: attacker.get("/api/v1/me", headers=auth("lc_guess")), 401)
    exhaust(lambda: attacker.get("/auth/magic/x"), 200)
    pixel = pixel_for("test-link-secret", kid, "p" * 22)
    click = click_for("test-link-secret", kid, "p" * 22, "https://example.com/")
    for _ in range(LIMIT * 50):
        assert attacker.get(pixel).status_code == 200
        assert attacker.get(click).status_code == 302
