"""Every settings-page form, posted malformed values: a 4xx or a page, never a 5xx.

The forms are the admin blueprint's POST routes, read from the URL map: a new form without an
entry in FORMS fails `test_every_form_has_a_malformed_case`."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from server.accounts import team
from server.accounts.settings import SWITCHES
from server.common import mail
from server.contacts import service as contacts
from server.extensions import db
from server.models import WebhookDelivery
from server.privacy import breaches, subprocessors
from server.webhooks import endpoints, events
from tests.support.admin import SUBJECT, csrf_from
from tests.support.malformed import Form, check_form, post_endpoints

WEBHOOK_FIELDS = ("url", "description", "event_types", "allow_private")
FORMS = {
    "admin.account_save": Form("/admin/settings", ("retention_days", "tracking_domain", *SWITCHES)),
    "admin.team_invite": Form("/admin/team/invite", ("email", "role")),
    "admin.team_withdraw": Form("/admin/team/invitations/{invitation}/withdraw"),
    "admin.team_deactivate": Form("/admin/team/{rep}/deactivate"),
    "admin.team_reactivate": Form("/admin/team/{rep}/reactivate"),
    "admin.team_role": Form("/admin/team/{rep}/role", ("role",)),
    "admin.team_tracking": Form("/admin/team/{rep}/tracking", ("tracking",)),
    "admin.accept_invitation_post": Form("/admin/invitations/{invitation_token}", ("name",)),
    "admin.subprocessors_add": Form(
        "/admin/subprocessors", ("name", "country", "purpose", "safeguard")
    ),
    "admin.subprocessors_edit": Form(
        "/admin/subprocessors/{entry}", ("name", "country", "purpose", "safeguard")
    ),
    "admin.subprocessors_remove": Form("/admin/subprocessors/{entry}/remove"),
    "admin.breaches_record": Form(
        "/admin/breaches", ("occurred_at", "description", "data_affected", "subjects_affected")
    ),
    "admin.breach_add_action": Form("/admin/breaches/{breach}/actions", ("description",)),
    "admin.breach_action_done": Form("/admin/breaches/{breach}/actions/{action}/done"),
    "admin.breach_close": Form("/admin/breaches/{breach}/close"),
    "admin.breach_notified": Form(
        "/admin/breaches/{breach}/notified",
        ("authority_notified_at", "subjects_notified_at", "notification_reference"),
    ),
    "admin.requests_search": Form("/admin/privacy/search", ("email",)),
    "admin.requests_export": Form("/admin/privacy/export", ("email",)),
    "admin.requests_rectify": Form("/admin/privacy/rectify", ("email", "name", "title", "phone")),
    "admin.requests_erase": Form("/admin/privacy/erase", ("email", "confirm")),
    "admin.contact_save": Form(
        "/admin/contacts/view/{contact}",
        ("name", "title", "phone", "notes", "company_name", "do_not_enrich"),
    ),
    "admin.contact_enrich": Form("/admin/contacts/view/{contact}/enrich"),
    "admin.contacts_import": Form("/admin/contacts/import", files=("file",)),
    "admin.terminate_post": Form("/admin/terminate", ("confirmation", "mode")),
    "admin.webhooks_add": Form("/admin/webhooks", WEBHOOK_FIELDS),
    "admin.webhook_save": Form("/admin/webhooks/{webhook}", (*WEBHOOK_FIELDS, "enabled")),
    "admin.webhook_rotate": Form("/admin/webhooks/{webhook}/rotate"),
    "admin.webhook_delete": Form("/admin/webhooks/{webhook}/delete"),
    "admin.webhook_replay_range": Form("/admin/webhooks/{webhook}/replay", ("since", "until")),
    "admin.webhook_replay_one": Form("/admin/webhooks/deliveries/{delivery}/replay"),
}


def test_every_form_has_a_malformed_case(app):
    assert post_endpoints(app, "admin") == set(FORMS)


@pytest.fixture
def rows(app, people) -> dict:
    """One of each row the forms act on, in Acme's account."""
    mailer = mail.from_settings(app.config["LEADCAMP"])
    entry = subprocessors.add(
        db.session, mailer, people.admin,
        {"name": "Mailer Co", "country": "IE", "purpose": "mail", "safeguard": "SCC"},
    )[0]  # fmt: skip
    incident = {"occurred_at": datetime.now(UTC).isoformat(), "description": "Laptop lost",
                "data_affected": "contacts", "subjects_affected": "leads"}  # fmt: skip
    breach = breaches.record(db.session, mailer, people.admin, incident)[0]
    action = breaches.add_action(db.session, people.admin, breach.id, "Wipe it")
    invitation, token = team.invite(
        db.session, app.config["SECRET_KEY"], people.admin, "new@acme.test", "rep"
    )
    contacts.upsert_contact(db.session, people.admin.account_id, SUBJECT, "Ana Ruiz")
    hook = {"url": "https://hooks.acme.test/in"}
    webhook = endpoints.create(db.session, app.config["SECRET_KEY"], people.admin, hook)[0]
    event_id = events.emit(db.session, people.admin.account_id, "contact.updated", {})
    delivery = db.session.scalar(select(WebhookDelivery).filter_by(event_id=event_id))
    db.session.commit()
    return {
        "rep": people.rep.id, "entry": entry.id, "breach": breach.id, "action": action.id,
        "invitation": invitation.id, "invitation_token": token, "contact": SUBJECT,
        "webhook": webhook.id, "delivery": delivery.id,
    }  # fmt: skip


@pytest.mark.parametrize("endpoint", sorted(FORMS))
def test_malformed_values_never_get_a_5xx(app, login, people, rows, caplog, endpoint):
    client = login(people.admin)
    token = csrf_from(client.get("/admin/settings").text)
    form = FORMS[endpoint]
    check_form(client, Form(form.path.format(**rows), form.fields, form.files), token, caplog)


def test_a_nul_in_a_search_is_a_400(app, login, people):
    """GET pages read query strings that reach the database too (PostgreSQL refuses a NUL)."""
    client = login(people.admin)
    for url in ("/admin/contacts?q=a%00b", "/admin/audit?q=a%00b", "/admin/audit.csv?action=%00"):
        assert client.get(url).status_code == 400, url
    assert client.get("/admin/contacts?q=ana").status_code == 200
