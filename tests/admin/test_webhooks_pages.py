"""The webhooks page: add an endpoint (secret shown once), edit, rotate, replay, delete; reps are
refused; receivers listed on both sub-processor pages."""

from __future__ import annotations

import re

from sqlalchemy import select

from server.extensions import db
from server.models import WebhookDelivery, WebhookEndpoint
from server.privacy import subprocessors
from server.webhooks import events
from tests.support.admin import post_form

FORM = {"url": "https://hooks.acme.test/in?key=abc", "event_types": "contact.updated"}


def test_add_edit_rotate_replay_and_delete(app, login, people):
    client = login(people.admin)
    page = post_form(client, "/admin/webhooks", "/admin/webhooks", **FORM)
    assert page.status_code == 200
    first = re.search(r'value="(whsec_[^"]+)"', page.text).group(1)
    endpoint = db.session.scalars(select(WebhookEndpoint)).one()
    assert endpoint.types == ["contact.updated"]
    path = f"/admin/webhooks/{endpoint.id}"
    assert first not in client.get(path).text  # shown once
    saved = post_form(client, path, path, url=FORM["url"], allow_private="10.0.0.0/8")
    assert saved.status_code == 302
    db.session.refresh(endpoint)
    assert (endpoint.enabled, endpoint.types, endpoint.allow_private) == (False, [], "10.0.0.0/8")
    rotated = post_form(client, f"{path}/rotate", path)
    second = re.search(r'value="(whsec_[^"]+)"', rotated.text).group(1)
    assert second != first and "24 more hours" in rotated.text
    endpoint.enabled = True
    events.emit(db.session, people.admin.account_id, "contact.updated", {"x": 1})
    db.session.commit()
    delivery = db.session.scalars(select(WebhookDelivery)).one()
    assert "contact.updated" in client.get(path).text
    replay = f"/admin/webhooks/deliveries/{delivery.id}/replay"
    assert post_form(client, replay, path).status_code == 302
    assert len(db.session.scalars(select(WebhookDelivery)).all()) == 2
    bad = post_form(client, f"{path}/replay", path, since="yesterday", until="")
    assert bad.status_code == 400
    assert post_form(client, f"{path}/delete", path).status_code == 302
    assert db.session.scalars(select(WebhookEndpoint)).all() == []


def test_a_refused_url_is_explained(app, login, people):
    client = login(people.admin)
    page = post_form(client, "/admin/webhooks", "/admin/webhooks", url="file:///etc/passwd")
    assert page.status_code == 400 and "not an http or https URL" in page.text


def test_reps_are_refused(app, login, people):
    assert login(people.rep).get("/admin/webhooks").status_code == 403


def test_receivers_are_listed_as_the_accounts_own_recipients(app, login, people):
    client = login(people.admin)
    post_form(client, "/admin/webhooks", "/admin/webhooks", **FORM)
    page = client.get("/admin/subprocessors").text
    assert "Webhook receivers" in page and "hooks.acme.test" in page
    assert "key=abc" not in page  # the host only: a query may carry a credential
    token = subprocessors.public_token(app.config["SECRET_KEY"], people.admin.account_id)
    published = app.test_client().get(f"/admin/published/subprocessors/{token}").text
    assert "hooks.acme.test" in published and "own systems" in published
