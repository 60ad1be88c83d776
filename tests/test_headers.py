"""Security headers: every page, sign-in step and API answer carries them; static files stay
cacheable; the pixel and the redirect keep the answers they had, exactly."""

from __future__ import annotations

import pytest

from tests.support import auth, click_for, pixel_for
from tests.support.admin import sign_in

POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY = {
    "Content-Security-Policy": POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def security_headers(response) -> dict:
    """The response's values of the headers this module adds."""
    return {name: response.headers.get(name) for name in SECURITY}


@pytest.mark.parametrize(
    "path", ["/auth/login", "/auth/magic/anything", "/admin/invitations/x", "/no/such/page"]
)
def test_public_pages_carry_the_headers(client, path):
    assert security_headers(client.get(path)) == SECURITY


def test_signed_in_pages_and_redirects_carry_the_headers(app, admin):
    client = sign_in(app.test_client(), app.config["SECRET_KEY"], admin)
    for path in ("/", "/admin/settings", "/admin/team", "/admin/audit", "/admin/contacts"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert security_headers(page) == SECURITY, path
    assert security_headers(app.test_client().get("/admin/settings")) == SECURITY  # to sign-in


def test_api_answers_carry_the_headers(client, rep):
    _, token = rep
    assert security_headers(client.get("/api/v1/me", headers=auth(token))) == SECURITY
    assert security_headers(client.get("/api/v1/me")) == SECURITY  # a 401 too


def test_static_files_stay_cacheable(client):
    response = client.get("/static/style.css")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] != "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_pixel_keeps_its_answer_exactly(client, kid):
    response = client.get(pixel_for("test-link-secret", kid, "h" * 22))
    assert sorted(response.headers.items()) == sorted(
        [
            ("Content-Type", "image/gif"),
            ("Content-Length", "43"),
            ("Cache-Control", "no-cache, no-store, must-revalidate, max-age=0"),
            ("Pragma", "no-cache"),
            ("Expires", "0"),
            ("X-Robots-Tag", "noindex, nofollow"),
        ]
    )


def test_the_redirect_keeps_its_answer_and_sends_no_referrer(client, kid):
    target = "https://example.com/pricing"
    response = client.get(click_for("test-link-secret", kid, "h" * 22, target))
    body = f'<a href="{target}">Continue</a>'
    assert response.status_code == 302 and response.text == body
    assert sorted(response.headers.items()) == sorted(
        [
            ("Location", target),
            ("Content-Type", "text/html; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-cache, no-store, must-revalidate, max-age=0"),
            # The target learns nothing of the page the recipient clicked from.
            ("Referrer-Policy", "no-referrer"),
            ("X-Robots-Tag", "noindex, nofollow"),
        ]
    )
