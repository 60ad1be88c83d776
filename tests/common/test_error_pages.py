"""Browsers get one styled page for every HTTP error; the JSON API keeps its JSON errors; a
server error's page names nothing of its cause."""

from __future__ import annotations

import pytest

from server.accounts import users as accounts
from server.extensions import db
from tests.support.admin import post_form, sign_in


def styled(response) -> bool:
    """Whether the answer is the app's own page (its stylesheet), not Werkzeug's."""
    return "/static/style.css" in response.text and "Skip to content" in response.text


def test_an_unknown_address_gets_the_styled_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response.mimetype == "text/html" and styled(response)
    assert '<h1 id="error-heading">Not found</h1>' in response.text


def test_a_wrong_method_gets_the_styled_405(client):
    response = client.delete("/auth/login")
    assert response.status_code == 405 and styled(response)


def test_the_api_keeps_json_errors(client):
    unrouted = client.get("/api/v1/no-such-thing")
    assert unrouted.status_code == 404
    assert unrouted.get_json()["error"] == "not_found"
    wrong_method = client.delete("/api/v1/me")
    assert wrong_method.status_code == 405 and wrong_method.get_json()["error"]


def test_a_form_without_its_token_says_so(client):
    response = client.post("/auth/login", data={"email": "a@b.test"})
    assert response.status_code == 400 and styled(response)
    assert "CSRF token is missing or expired" in response.text


def test_too_large_a_body_gets_the_styled_413(client):
    response = client.post("/auth/login", data={"email": "x" * (2 * 1024 * 1024)})
    assert response.status_code == 413 and styled(response)


def test_a_server_error_names_nothing_of_its_cause(app, client, caplog):
    def broken():
        raise RuntimeError("password=hunter2 in /srv/leadcamp/secret.py")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.view_functions["auth.login"] = broken
    response = client.get("/auth/login")
    assert response.status_code == 500 and styled(response)
    assert "Something went wrong" in response.text
    assert "hunter2" not in response.text and "RuntimeError" not in response.text
    assert "hunter2" in caplog.text  # the operator's log keeps the cause


UNKNOWN_ROWS = ["/admin/contacts/view/nobody@nowhere.test", "/admin/breaches/999"]


@pytest.mark.parametrize("path", UNKNOWN_ROWS)
def test_an_unknown_row_gets_the_styled_404(app, client, path):
    admin = accounts.create_user(db.session, "boss@acme.test", "Acme", admin=True)
    db.session.commit()
    sign_in(client, app.config["SECRET_KEY"], admin)
    response = client.get(path)
    assert response.status_code == 404 and styled(response)
    assert "Not found" in response.text


def test_a_rep_on_an_admin_page_gets_the_styled_403(app, client):
    rep = accounts.create_user(db.session, "rep@acme.test", "Acme")
    db.session.commit()
    sign_in(client, app.config["SECRET_KEY"], rep)
    response = client.get("/admin/settings")
    assert response.status_code == 403 and styled(response)
    assert "Admins only" in response.text
    assert post_form(client, "/admin/settings", "/admin/contacts").status_code == 403


def test_a_server_error_page_that_cannot_be_rendered_is_still_a_page(app, client, monkeypatch):
    def broken():
        raise RuntimeError("database away")

    def no_templates(*args, **kwargs):
        raise RuntimeError("the layout needs the database too")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.view_functions["auth.login"] = broken
    monkeypatch.setattr("server.common.errors.render_template", no_templates)
    response = client.get("/auth/login")
    assert response.status_code == 500
    assert "<h1>Something went wrong</h1>" in response.text and "away" not in response.text
