"""A refused form comes back with what was typed, its failing field marked (aria-invalid, its
error text tied by aria-describedby) and focused (autofocus: the pages run no inline script)."""

from __future__ import annotations

import re

from sqlalchemy import select

from server.contacts import service as contacts
from server.extensions import db
from server.models import Account, AuditEntry, Invitation
from tests.support.admin import SUBJECT, add_message, post_form


def marked(html: str, field_id: str) -> bool:
    """Whether the field with this id is marked invalid, focused, and described by its error."""
    tag = re.search(rf'<(?:input|textarea|select|fieldset)[^>]*\bid="{field_id}"[^>]*>', html)
    assert tag, f"no field {field_id}"
    tag = tag.group()
    error_id = f"{field_id}-error"
    described = re.search(r'aria-describedby="([^"]*)"', tag)
    return (
        'aria-invalid="true"' in tag
        and " autofocus" in tag
        and described is not None
        and error_id in described.group(1).split()
        and f'id="{error_id}"' in html
    )


def test_settings_keep_what_was_typed(app, login, people):
    client = login(people.admin)
    page = post_form(client, "/admin/settings", "/admin/settings", name="Acme Ltd",
                     retention_days="0", tracking_domain="track.acme.test")  # fmt: skip
    assert page.status_code == 400
    assert 'value="0"' in page.text and 'value="track.acme.test"' in page.text
    assert 'value="Acme Ltd"' in page.text
    assert marked(page.text, "retention_days") and "Retention must be" in page.text
    assert not marked(page.text, "tracking_domain")
    assert 'id="tracking_enabled"' in page.text and not re.search(
        r'id="tracking_enabled"[^>]*checked', page.text
    )  # the unticked box stays unticked
    assert db.session.get(Account, people.admin.account_id).name == "Acme"


def test_the_account_is_renamed_and_audited(app, login, people):
    client = login(people.admin)
    taken = post_form(client, "/admin/settings", "/admin/settings", name="Globex",
                      retention_days="396")  # fmt: skip
    assert taken.status_code == 400 and marked(taken.text, "name")
    assert "Another account has this name" in taken.text
    empty = post_form(client, "/admin/settings", "/admin/settings", name="  ", retention_days="396")
    assert empty.status_code == 400 and marked(empty.text, "name")
    done = post_form(client, "/admin/settings", "/admin/settings", name="  Acme   Europe ",
                     retention_days="396", tracking_enabled="on")  # fmt: skip
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(Account, people.admin.account_id).name == "Acme Europe"
    entry = db.session.scalar(
        select(AuditEntry).where(
            AuditEntry.action == "settings.change", AuditEntry.target == "name"
        )
    )
    assert entry.detail == "Acme -> Acme Europe" and entry.actor_id == people.admin.id
    assert "Acme Europe" in client.get("/admin/terminate").text


def test_one_open_invitation_per_address(app, login, people):
    client = login(people.admin)
    first = post_form(client, "/admin/team/invite", "/admin/team", email="nina@acme.test",
                      role="admin")  # fmt: skip
    assert first.status_code == 200  # no mail: the link is shown
    again = post_form(client, "/admin/team/invite", "/admin/team", email=" Nina@Acme.test",
                      role="admin")  # fmt: skip
    assert again.status_code == 400 and marked(again.text, "invite-email")
    assert "has an open invitation already" in again.text
    assert 'value=" Nina@Acme.test"' in again.text
    assert re.search(r'<option value="admin" selected>', again.text)
    rows = db.session.scalars(select(Invitation).where(Invitation.email == "nina@acme.test"))
    assert len(rows.all()) == 1
    member = post_form(client, "/admin/team/invite", "/admin/team", email="rep@acme.test",
                       role="rep")  # fmt: skip
    assert (
        member.status_code == 400
        and "rep@acme.test is a member of this account already" in member.text
    )
    assert marked(member.text, "invite-email")


def test_subprocessor_and_breach_forms_keep_what_was_typed(app, login, people):
    client = login(people.admin)
    page = post_form(client, "/admin/subprocessors", "/admin/subprocessors", name="MailCo",
                     country="", purpose="Mail", safeguard="SCCs", service="mail")  # fmt: skip
    assert page.status_code == 400 and marked(page.text, "sp-new-country")
    add_form = page.text[page.text.index("Add a sub-processor") :]
    assert 'value="MailCo"' in add_form and 'value="SCCs"' in add_form
    breach = post_form(client, "/admin/breaches", "/admin/breaches", occurred_at="2099-01-01T00:00",
                       description="Lost laptop", data_affected="names",
                       subjects_affected="leads")  # fmt: skip
    assert breach.status_code == 400 and marked(breach.text, "occurred_at")
    assert "Lost laptop</textarea>" in breach.text and 'value="names"' in breach.text


def test_termination_webhook_and_contact_forms_keep_what_was_typed(app, login, people):
    client = login(people.admin)
    page = post_form(client, "/admin/terminate", "/admin/terminate", mode="anonymize",
                     confirmation="Acm")  # fmt: skip
    assert page.status_code == 400 and marked(page.text, "confirmation")
    assert 'value="Acm"' in page.text and re.search(r'value="anonymize"[^>]*checked', page.text)
    hook = post_form(client, "/admin/webhooks", "/admin/webhooks", url="ftp://hooks.acme.test/x",
                     description="CRM", event_types="contact.updated")  # fmt: skip
    assert hook.status_code == 400 and marked(hook.text, "wh-url")
    assert 'value="ftp://hooks.acme.test/x"' in hook.text and 'value="CRM"' in hook.text
    assert re.search(r'value="contact.updated" checked', hook.text)
    add_message(people.admin, SUBJECT)
    contacts.upsert_contact(db.session, people.admin.account_id, SUBJECT)
    db.session.commit()
    path = f"/admin/contacts/view/{SUBJECT}"
    edit = post_form(client, path, path, name="Ana", title="CTO", phone="<script>",
                     notes="met at the fair")  # fmt: skip
    assert edit.status_code == 400 and marked(edit.text, "contact-phone")
    assert 'value="CTO"' in edit.text and "met at the fair</textarea>" in edit.text


def test_the_request_tables_read_as_text(app, login, people):
    add_message(people.admin, SUBJECT)
    client = login(people.admin)
    found = post_form(client, "/admin/privacy/search", "/admin/privacy", email=SUBJECT)
    assert found.status_code == 200
    assert "<code>{" not in found.text and "<code>[" not in found.text
    assert "&#34;" not in found.text and '{"' not in found.text
    bad = post_form(client, "/admin/privacy/search", "/admin/privacy", email="nobody")
    assert bad.status_code == 400 and marked(bad.text, "dsr-email")
