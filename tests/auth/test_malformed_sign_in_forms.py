"""Every sign-in form, posted malformed values: a 4xx or a page, never a 5xx.

The forms are the auth blueprint's POST routes, read from the URL map: a new form without an
entry in FORMS fails `test_every_form_has_a_malformed_case`."""

from __future__ import annotations

import pytest

from server.accounts import users as accounts
from server.extensions import db
from tests.support.admin import csrf_from, sign_in
from tests.support.malformed import Form, check_form, post_endpoints

# Each form, and whether it is posted signed in (the magic link is posted by a visitor).
FORMS = {
    "auth.magic_redeem": (Form("/auth/magic/{magic_token}"), False),
    "auth.login_link": (Form("/auth/login", ("email",)), False),
    "auth.logout": (Form("/auth/logout"), True),
    "auth.extension_connect_confirm": (Form("/auth/extension/connect", ("challenge",)), True),
    "auth.google_disconnect": (Form("/auth/google/disconnect"), True),
}


def test_every_form_has_a_malformed_case(app):
    assert post_endpoints(app, "auth") == set(FORMS)


@pytest.mark.parametrize("endpoint", sorted(FORMS))
def test_malformed_values_never_get_a_5xx(app, client, caplog, endpoint):
    user = accounts.create_user(db.session, "rep@acme.test", "Acme")
    db.session.commit()
    form, signed_in = FORMS[endpoint]
    if signed_in:
        sign_in(client, app.config["SECRET_KEY"], user)
    token = csrf_from(client.get("/auth/magic/any").text)
    path = form.path.format(magic_token=accounts.magic_link_token(app.config["SECRET_KEY"], user))
    check_form(client, Form(path, form.fields, form.files), token, caplog)


@pytest.mark.parametrize("garbage", ["x" * 5000, "²①", "%00", "a.b.c", "."])
def test_a_malformed_magic_link_is_a_4xx(app, client, caplog, garbage):
    token = csrf_from(client.get("/auth/magic/any").text)
    response = client.post(f"/auth/magic/{garbage}", data={"csrf_token": token})
    assert 400 <= response.status_code < 500
    check_form(client, Form(f"/auth/magic/{garbage}"), token, caplog)
