"""Mail goes over verified TLS (STARTTLS or implicit) or not at all, against real SMTP servers."""

from __future__ import annotations

import logging

import pytest

from config import ConfigError, Settings
from server.common import mail
from server.common.mail import Mailer
from tests.support.live import free_port

LINK = "https://track.test/admin/invitations/secret-sign-in-token"
TO = "nina@prospect.test"


def mailer(inbox, test_authority, **options) -> Mailer:
    """A mailer for `inbox` that logs in, trusting the test CA unless told otherwise."""
    options.setdefault("tls_context", test_authority.client_context())
    return Mailer(host="127.0.0.1", port=inbox.port, user="leadcamp", password="pw", **options)


def test_starttls_carries_the_login_and_the_message(start_smtp, test_authority):
    inbox = start_smtp("starttls")
    assert mailer(inbox, test_authority).send([TO], "Invitation", f"Accept: {LINK}")
    [envelope] = inbox.messages
    assert envelope.rcpt_tos == [TO] and LINK.encode() in envelope.content
    assert inbox.encrypted == [True] and inbox.logins == [(b"leadcamp", b"pw")]


def test_implicit_tls_carries_the_login_and_the_message(start_smtp, test_authority):
    inbox = start_smtp("implicit")
    assert mailer(inbox, test_authority, implicit_tls=True).send([TO], "Invitation", LINK)
    assert inbox.encrypted == [True] and inbox.logins == [(b"leadcamp", b"pw")]


def test_without_starttls_nothing_is_sent_and_the_log_says_why(start_smtp, test_authority, caplog):
    inbox = start_smtp("none")
    with caplog.at_level(logging.ERROR, logger="server.common.mail"):
        assert not mailer(inbox, test_authority).send([TO], "Invitation", f"Accept: {LINK}")
    assert inbox.logins == [] and inbox.messages == []  # no password, no link in clear
    assert "offers no STARTTLS" in caplog.text and "SMTP_ALLOW_PLAINTEXT" in caplog.text
    assert LINK not in caplog.text and TO not in caplog.text


def test_plaintext_goes_out_only_when_allowed(start_smtp, test_authority):
    inbox = start_smtp("none")
    assert mailer(inbox, test_authority, allow_plaintext=True).send([TO], "Invitation", LINK)
    assert inbox.encrypted == [False] and inbox.logins == [(b"leadcamp", b"pw")]


@pytest.mark.parametrize("tls", ["starttls", "implicit"])
def test_a_certificate_the_system_does_not_trust_is_refused(
    start_smtp, test_authority, tls, caplog
):
    inbox = start_smtp(tls)
    strict = mailer(inbox, test_authority, tls_context=None, implicit_tls=tls == "implicit")
    with caplog.at_level(logging.ERROR, logger="server.common.mail"):
        assert not strict.send([TO], "Invitation", LINK)
    assert inbox.logins == [] and inbox.messages == []
    assert "certificate verify failed" in caplog.text and LINK not in caplog.text


def test_unconfigured_or_unreachable_mail_reports_not_sent():
    assert not Mailer().send([TO], "s", "b")  # not configured: the caller shows the link
    assert not Mailer(host="127.0.0.1", port=free_port()).send([TO], "s", "b")


def test_settings_choose_implicit_tls_on_465_and_refuse_a_bad_plaintext_flag():
    env = {"SECRET_KEY": "k", "LINK_SIGNING_SECRETS": "s", "SMTP_HOST": "mail.test"}
    assert not mail.from_settings(Settings.from_env(env | {"SMTP_PORT": "587"})).implicit_tls
    on_465 = mail.from_settings(Settings.from_env(env | {"SMTP_PORT": "465"}))
    assert on_465.implicit_tls and not on_465.allow_plaintext
    allowed = Settings.from_env(env | {"SMTP_ALLOW_PLAINTEXT": "true"})
    assert mail.from_settings(allowed).allow_plaintext
    with pytest.raises(ConfigError, match="SMTP_ALLOW_PLAINTEXT must be true or false"):
        Settings.from_env(env | {"SMTP_ALLOW_PLAINTEXT": "maybe"})
