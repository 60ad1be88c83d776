"""With SMTP configured, invitations and notices to admins go out by mail (a real SMTP server)."""

from __future__ import annotations

import re
from email import message_from_bytes
from email.policy import default

import pytest

from tests.support.admin import post_form


@pytest.fixture
def inbox(app, smtp_server):
    """A local SMTP server the app is configured to send through; it offers no TLS, so
    plaintext is allowed here (tests/common/test_mail.py covers TLS)."""
    settings = app.config["LEADCAMP"]
    app.config["LEADCAMP"] = settings.replace(
        smtp_host="127.0.0.1",
        smtp_port=smtp_server.port,
        smtp_from="leadcamp@acme.test",
        smtp_allow_plaintext=True,
    )
    yield smtp_server
    app.config["LEADCAMP"] = settings


def test_invitations_and_notices_are_mailed(app, login, people, inbox):
    client = login(people.admin)
    sent = post_form(
        client, "/admin/team/invite", "/admin/team", email="nina@acme.test", role="rep"
    )
    assert sent.status_code == 302
    assert "Invitation sent" in client.get("/admin/team").text
    [invitation] = inbox.messages
    assert invitation.rcpt_tos == ["nina@acme.test"]
    body = message_from_bytes(invitation.content, policy=default).get_content()
    link = re.search(r"http://track\.test(/admin/invitations/\S+)", body).group(1)
    assert "nina@acme.test" in app.test_client().get(link).text

    post_form(client, "/admin/subprocessors", "/admin/subprocessors", name="MailCo",
              country="Ireland", purpose="Mail", safeguard="EU")  # fmt: skip
    notice = inbox.messages[-1]
    assert notice.rcpt_tos == ["boss@acme.test"]  # the account's admins, not the rep
    assert "the admins were notified by mail" in client.get("/admin/subprocessors").text
    assert b"You may object until" in notice.content

    post_form(client, "/admin/breaches", "/admin/breaches", occurred_at="2026-11-20T09:30",
              description="Lost laptop", data_affected="names",
              subjects_affected="leads")  # fmt: skip
    breach = inbox.messages[-1]
    assert breach.rcpt_tos == ["boss@acme.test"] and b"72 hours" in breach.content
    assert len(inbox.messages) == 3


def test_an_invitation_not_mailed_for_want_of_tls_is_shown_to_the_admin(app, login, people, inbox):
    app.config["LEADCAMP"] = app.config["LEADCAMP"].replace(smtp_allow_plaintext=False)
    client = login(people.admin)
    page = post_form(
        client, "/admin/team/invite", "/admin/team", email="nina@acme.test", role="rep"
    )
    assert page.status_code == 200 and "Invitation sent" not in page.text
    assert re.search(r'value="http://track\.test/admin/invitations/[^"]+"', page.text)
    assert inbox.messages == []


def test_breach_notices_also_go_to_the_servers_privacy_address(app, login, people, inbox):
    app.config["LEADCAMP"] = app.config["LEADCAMP"].replace(
        privacy_notice_email="privacy@operator.test"
    )
    client = login(people.admin)
    post_form(client, "/admin/breaches", "/admin/breaches", occurred_at="2026-11-20T09:30",
              description="Lost laptop", data_affected="names",
              subjects_affected="leads")  # fmt: skip
    notice = inbox.messages[-1]
    assert notice.rcpt_tos == ["boss@acme.test", "privacy@operator.test"]
