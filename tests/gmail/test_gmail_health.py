"""Gmail health: the states a mailbox is in, the one mail per outage that tells the rep, the job
that sends it, and where the rep sees it (`/me`, the connection page)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.policy import default

import pytest
from flask import url_for
from huey import MemoryHuey

from server.extensions import db
from server.gmail import health
from server.gmail.health import Health, health_of, stall_after
from server.jobs import register_tasks
from server.models import GmailMailbox
from tests.support import auth
from tests.support.google import METADATA, SIGN_IN, connect_mailbox, run_sync, with_google

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


@pytest.fixture
def settings(settings, smtp_server):
    """Google configured, and mail through a local SMTP server (plaintext: it offers no TLS)."""
    return with_google(settings).replace(
        smtp_host="127.0.0.1",
        smtp_port=smtp_server.port,
        smtp_from="leadcamp@acme.test",
        smtp_allow_plaintext=True,
    )


@pytest.fixture
def notices(app):
    """The periodic job that mails the reps, as the worker runs it."""
    task = register_tasks(MemoryHuey(), app)["gmail_health_notices"]

    def run() -> int:
        db.session.commit()  # the job works in a session of its own
        sent = task.call_local()
        db.session.expire_all()
        return sent

    return run


def box(**fields) -> GmailMailbox:
    """A mailbox as the sync left it (not stored: health_of only reads it)."""
    values = {"status": "ok", "status_detail": "", "connected_at": NOW - timedelta(days=3)}
    return GmailMailbox(**(values | fields))


def test_the_states_of_a_mailbox():
    assert health_of(None, NOW, 2) == Health("not_connected")
    synced = NOW - timedelta(minutes=3)
    assert health_of(box(last_synced_at=synced), NOW, 2) == Health("ok", synced)
    revoked = box(status="reconnect_needed", status_detail="Token has been expired or revoked.",
                  last_synced_at=synced)  # fmt: skip
    assert health_of(revoked, NOW, 2) == Health(
        "reconnect_needed", synced, "Token has been expired or revoked."
    )
    # Stalled after six sync intervals without a good sync, but never before half an hour.
    assert stall_after(2) == timedelta(minutes=30) and stall_after(10) == timedelta(hours=1)
    late = NOW - timedelta(minutes=31)
    assert health_of(box(last_synced_at=late), NOW, 2) == Health("stalled", late)
    assert health_of(box(last_synced_at=late), NOW, 10).state == "ok"
    # Never synced: counted from the connection.
    fresh = box(connected_at=NOW - timedelta(minutes=5))
    assert health_of(fresh, NOW, 2) == Health("ok", None)
    assert health_of(box(), NOW, 2).state == "stalled"


def test_a_mailbox_gmail_pushes_is_stalled_only_after_missing_its_fallback_sweeps(settings):
    """With push on, a quiet watched mailbox is swept hourly: 45 minutes without a sync is fine."""
    pushed = health.Sweep.of(
        settings.replace(
            gmail_push_topic="projects/p/topics/t",
            gmail_push_audience="https://leadcamp.test/gmail/push",
            gmail_push_service_account="push@p.iam.gserviceaccount.com",
            gmail_push_fallback_minutes=60,
            gmail_sync_minutes=2,
        )
    )
    quiet = NOW - timedelta(minutes=45)
    watched = box(last_synced_at=quiet, watch_expires_at=NOW + timedelta(days=3))
    assert health_of(watched, NOW, pushed).state == "ok"
    assert health_of(box(last_synced_at=quiet), NOW, pushed).state == "stalled"  # not watched
    lapsed = box(last_synced_at=quiet, watch_expires_at=NOW - timedelta(hours=1))
    assert health_of(lapsed, NOW, pushed).state == "stalled"  # its watch ran out
    long_ago = NOW - timedelta(hours=7)
    watched.last_synced_at = long_ago
    assert health_of(watched, NOW, pushed) == Health("stalled", long_ago)
    assert health_of(box(last_synced_at=quiet, watch_expires_at=NOW + timedelta(days=3)), NOW,
                     health.Sweep.of(settings)).state == "stalled"  # fmt: skip


def test_the_states_in_plain_words():
    synced = datetime(2026, 12, 5, 11, 58, tzinfo=UTC)
    assert Health("ok", synced).words == "connected, last sync 2026-12-05 11:58 UTC"
    assert "reconnect needed" in Health("reconnect_needed", synced).words
    assert (
        Health("stalled", synced).words
        == "not syncing: no successful sync since 2026-12-05 11:58 UTC"
    )
    assert Health("not_connected").words == "not connected"
    assert not Health("ok").broken and Health("stalled").broken


def test_the_connect_path_is_the_connection_page(app):
    with app.test_request_context():
        assert url_for("auth.google_status") == health.CONNECT_PATH


def mails(smtp_server) -> list:
    """The mails received so far, parsed."""
    return [message_from_bytes(m.content, policy=default) for m in smtp_server.messages]


def test_a_revoked_grant_is_mailed_once_and_again_after_a_recovery_and_a_new_break(
    app, rep, mailbox, google, smtp_server, notices
):
    assert run_sync(app, mailbox)["mode"] != "reconnect_needed"
    assert notices() == 0 and not smtp_server.messages
    google.revoke_all()  # the rep removed Leadcamp at Google, or the 7 days of testing mode ran out
    assert run_sync(app, mailbox) == {"mode": "reconnect_needed"}
    assert notices() == 1
    [mail] = mails(smtp_server)
    assert smtp_server.messages[0].rcpt_tos == ["rep@acme.test"]
    assert mail["Subject"] == "Leadcamp stopped reading your Gmail"
    body = mail.get_content()
    assert "Google no longer accepts Leadcamp's access to rep@acme.test" in body
    assert "7 days" in body and "http://track.test/auth/google" in body.splitlines()
    assert db.session.get(GmailMailbox, mailbox.id).health_notified_at is not None
    assert notices() == 0 and notices() == 0  # not on every sweep
    assert len(smtp_server.messages) == 1

    again = connect_mailbox(app, rep[0], google, [*SIGN_IN, METADATA])  # the rep reconnects
    assert again.health_notified_at is None
    assert run_sync(app, again)["mode"] != "reconnect_needed"
    assert notices() == 0
    google.revoke_all()
    run_sync(app, again)
    assert notices() == 1 and len(smtp_server.messages) == 2


def test_a_stalled_sync_is_mailed_once_and_cleared_once_it_syncs_again(
    app, mailbox, smtp_server, notices
):
    assert run_sync(app, mailbox)["mode"] != "reconnect_needed"
    row = db.session.get(GmailMailbox, mailbox.id)
    # Syncs failing for an hour (a Google outage, a lost permission): last_synced_at stays put.
    row.last_synced_at = datetime.now(UTC) - timedelta(hours=1)
    assert notices() == 1
    body = mails(smtp_server)[0].get_content()
    assert "Leadcamp has not been able to sync rep@acme.test since" in body
    assert "tell your Leadcamp admin" in body and "http://track.test/auth/google" in body
    assert notices() == 0
    run_sync(app, mailbox)  # it syncs again: recovered
    assert notices() == 0
    assert db.session.get(GmailMailbox, mailbox.id).health_notified_at is None
    db.session.get(GmailMailbox, mailbox.id).last_synced_at = datetime.now(UTC) - timedelta(hours=1)
    assert notices() == 1 and len(smtp_server.messages) == 2


def test_nothing_is_mailed_without_smtp_nor_to_a_deactivated_rep(
    app, rep, mailbox, google, smtp_server, notices
):
    google.revoke_all()
    run_sync(app, mailbox)
    settings = app.config["LEADCAMP"]
    app.config["LEADCAMP"] = settings.replace(smtp_host="")
    assert notices() == 0
    assert db.session.get(GmailMailbox, mailbox.id).health_notified_at is None  # told later
    app.config["LEADCAMP"] = settings
    rep[0].active = False
    assert notices() == 0 and not smtp_server.messages
    rep[0].active = True
    assert notices() == 1


def test_a_mail_not_delivered_is_tried_again_on_the_next_run(app, mailbox, google, notices):
    google.revoke_all()
    run_sync(app, mailbox)
    settings = app.config["LEADCAMP"]
    app.config["LEADCAMP"] = settings.replace(smtp_allow_plaintext=False)  # refused: no TLS
    assert notices() == 0
    app.config["LEADCAMP"] = settings
    assert notices() == 1


def test_me_gives_the_health_and_the_page_to_reconnect_on(client, rep, mailbox, google):
    gmail = client.get("/api/v1/me", headers=auth(rep[1])).json["gmail"]
    assert gmail["health"] == "ok" and gmail["connect_url"] == "http://track.test/auth/google"
    assert gmail["last_synced_at"] is None
    db.session.get(GmailMailbox, mailbox.id).last_synced_at = datetime.now(UTC) - timedelta(hours=2)
    db.session.commit()
    gmail = client.get("/api/v1/me", headers=auth(rep[1])).json["gmail"]
    assert gmail["health"] == "stalled" and gmail["status"] == "ok"
    assert gmail["last_synced_at"].endswith("Z")
    db.session.get(GmailMailbox, mailbox.id).status = "reconnect_needed"
    db.session.commit()
    assert client.get("/api/v1/me", headers=auth(rep[1])).json["gmail"]["health"] == (
        "reconnect_needed"
    )


def test_each_activity_poll_carries_the_health_so_the_extension_needs_no_me(client, rep, mailbox):
    """The extension's banner follows its notification polls: no extra request per Gmail tab."""
    polled = client.get("/api/v1/activity", headers=auth(rep[1])).json
    assert polled["gmail"]["health"] == "ok"
    db.session.get(GmailMailbox, mailbox.id).status = "reconnect_needed"
    db.session.commit()
    after = client.get(f"/api/v1/activity?after={polled['cursor']}", headers=auth(rep[1])).json
    assert after["gmail"]["health"] == "reconnect_needed"
    assert after["gmail"] == client.get("/api/v1/me", headers=auth(rep[1])).json["gmail"]


def test_me_without_a_mailbox_says_not_connected(client, rep):
    gmail = client.get("/api/v1/me", headers=auth(rep[1])).json["gmail"]
    assert gmail["connected"] is False and gmail["health"] == "not_connected"
    assert gmail["connect_url"] == "http://track.test/auth/google"


def test_the_connection_page_says_when_the_sync_stalled(app, rep, mailbox):
    from tests.support.admin import sign_in

    client = sign_in(app.test_client(), app.config["SECRET_KEY"], rep[0])
    page = client.get("/auth/google").text
    assert "Not syncing" not in page and "<dd>connected</dd>" in page
    db.session.get(GmailMailbox, mailbox.id).last_synced_at = datetime.now(UTC) - timedelta(hours=2)
    db.session.commit()
    page = client.get("/auth/google").text
    assert "Not syncing: Leadcamp has not been able to sync rep@acme.test" in page
    assert "<dd>not syncing</dd>" in page and 'href="/auth/google/connect"' in page


def test_the_notice_is_in_the_persons_data(app, rep, mailbox, google, notices):
    from server.gmail import personal_data

    google.revoke_all()
    run_sync(app, mailbox)
    notices()
    [found] = personal_data.find(db.session, rep[0].account_id, "rep@acme.test")["gmail_mailboxes"]
    assert found["status"] == "reconnect_needed" and found["health_notified_at"].endswith("Z")
