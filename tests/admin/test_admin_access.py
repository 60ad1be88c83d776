"""Every page and action as anonymous, rep, admin and admin of another account; CSRF on POSTs."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from server.accounts import team
from server.accounts import users as accounts
from server.common.mail import Mailer
from server.extensions import db
from server.models import WebhookDelivery
from server.privacy import breaches, subprocessors, termination
from server.webhooks import endpoints, events
from tests.support.admin import SUBJECT, add_message, csrf_from


@pytest.fixture
def acme(app, people):
    """Acme's rows that pages and actions address by id."""
    add_message(people.admin, SUBJECT)
    breach, _ = breaches.record(
        db.session,
        Mailer(),
        people.admin,
        {
            "occurred_at": "2026-11-01T10:00",
            "description": "Laptop lost with an export",
            "data_affected": "contact names",
            "subjects_affected": "Acme's prospects",
        },
    )
    action = breaches.add_action(db.session, people.admin, breach.id, "Rotate the keys")
    entry, _ = subprocessors.add(
        db.session,
        Mailer(),
        people.admin,
        {"name": "MailCo", "country": "Ireland", "purpose": "Mail", "safeguard": "EU"},
    )
    invitation, _ = team.invite(db.session, "k", people.admin, "new@acme.test", "rep")
    hook, _ = endpoints.create(db.session, "k", people.admin, {"url": "https://hooks.acme.test/"})
    event_id = events.emit(db.session, people.admin.account_id, "contact.updated", {})
    delivery = db.session.scalar(select(WebhookDelivery).filter_by(event_id=event_id))
    db.session.commit()
    return {
        "webhook": hook.id,
        "delivery": delivery.id,
        "user": people.rep.id,
        "breach": breach.id,
        "action": action.id,
        "entry": entry.id,
        "invitation": invitation.id,
    }


PAGES = [
    "/admin/",
    "/admin/settings",
    "/admin/team",
    "/admin/privacy",
    "/admin/audit",
    "/admin/audit.csv",
    "/admin/subprocessors",
    "/admin/breaches",
    "/admin/terminate",
    "/admin/verdicts",
    "/admin/webhooks",
]
OBJECT_PAGES = ["/admin/breaches/{breach}", "/admin/webhooks/{webhook}"]
ACTIONS = [
    "/admin/settings",
    "/admin/team/invite",
    "/admin/privacy/search",
    "/admin/privacy/export",
    "/admin/privacy/rectify",
    "/admin/privacy/erase",
    "/admin/subprocessors",
    "/admin/breaches",
    "/admin/terminate",
    "/admin/webhooks",
]
OBJECT_ACTIONS = [
    "/admin/webhooks/{webhook}",
    "/admin/webhooks/{webhook}/rotate",
    "/admin/webhooks/{webhook}/replay",
    "/admin/webhooks/{webhook}/delete",
    "/admin/webhooks/deliveries/{delivery}/replay",
    "/admin/team/{user}/deactivate",
    "/admin/team/{user}/reactivate",
    "/admin/team/{user}/role",
    "/admin/team/{user}/tracking",
    "/admin/team/invitations/{invitation}/withdraw",
    "/admin/subprocessors/{entry}",
    "/admin/subprocessors/{entry}/remove",
    "/admin/breaches/{breach}/actions",
    "/admin/breaches/{breach}/actions/{action}/done",
    "/admin/breaches/{breach}/close",
    "/admin/breaches/{breach}/notified",
]
ALL_GETS = PAGES + OBJECT_PAGES
ALL_POSTS = ACTIONS + OBJECT_ACTIONS


def test_anonymous_visitors_are_sent_to_sign_in(client, acme):
    for path in ALL_GETS:
        response = client.get(path.format(**acme))
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/auth/login"), path
    for path in ALL_POSTS:
        response = client.post(path.format(**acme), data={})
        # Without a session there is no CSRF token either: refused before anything runs.
        assert response.status_code in (302, 400), path


def test_reps_get_403_everywhere(login, people, acme):
    client = login(people.rep)
    token = csrf_from(client.get("/").text)
    for path in ALL_GETS:
        assert client.get(path.format(**acme)).status_code == 403, path
    for path in ALL_POSTS:
        response = client.post(path.format(**acme), data={"csrf_token": token})
        assert response.status_code == 403, path


def test_admins_reach_every_page(login, people, acme):
    client = login(people.admin)
    for path in ALL_GETS:
        response = client.get(path.format(**acme))
        if path == "/admin/":
            # The index only sends admins on to the settings page.
            assert response.status_code == 302 and response.headers["Location"].endswith(
                "/admin/settings"
            ), path
        else:
            assert response.status_code == 200, path
    assert "MailCo" in client.get("/admin/subprocessors").text
    assert "Laptop lost" in client.get("/admin/breaches/{breach}".format(**acme)).text


def test_another_accounts_admin_sees_nothing_of_acme(login, people, acme):
    client = login(people.other)
    token = csrf_from(client.get("/").text)
    for path in PAGES:
        body = client.get(path).text
        for leak in ("acme.test", "MailCo", "Laptop lost", SUBJECT, "Acme"):
            assert leak not in body, (path, leak)
    for path in OBJECT_PAGES:
        assert client.get(path.format(**acme)).status_code == 404, path
    for path in OBJECT_ACTIONS:
        response = client.post(path.format(**acme), data={"csrf_token": token, "role": "rep"})
        assert response.status_code == 404, path
    # Nothing changed in Acme.
    db.session.expire_all()
    assert people.rep.active and people.rep.role == "rep"
    assert breaches.get(db.session, people.admin.account_id, acme["breach"]).status == "open"
    found = client.post("/admin/privacy/search", data={"csrf_token": token, "email": SUBJECT})
    assert found.status_code == 200 and "Hello" not in found.text


def test_posts_without_csrf_are_rejected(login, people, acme):
    client = login(people.admin)
    for path in ALL_POSTS:
        response = client.post(path.format(**acme), data={"email": "x@y.test"})
        assert response.status_code == 400, path
        assert "CSRF" in response.text, path
    db.session.expire_all()
    assert people.rep.active


def _sent_to_sign_in(response) -> bool:
    return response.status_code == 302 and response.headers["Location"].startswith("/auth/login")


def test_a_deactivated_admins_open_session_stops_at_once(app, login, people):
    people.rep.role = "admin"
    db.session.commit()
    client = login(people.rep)
    token = csrf_from(client.get("/admin/team").text)
    link = accounts.magic_link_token(app.config["SECRET_KEY"], people.rep)
    team.deactivate(db.session, people.admin, people.rep.id)
    db.session.commit()
    assert _sent_to_sign_in(client.get("/admin/team"))
    refused = client.post(f"/admin/team/{people.admin.id}/deactivate", data={"csrf_token": token})
    assert _sent_to_sign_in(refused)
    db.session.expire_all()
    assert people.admin.active
    # A sign-in link mailed before the deactivation stays dead after a reactivation.
    team.reactivate(db.session, people.admin, people.rep.id)
    db.session.commit()
    with pytest.raises(accounts.AccountError, match="used already"):
        accounts.redeem_magic_link(db.session, app.config["SECRET_KEY"], link)


@pytest.mark.parametrize("mode", ["delete", "anonymize"])
def test_sessions_of_a_terminated_account_stop_at_once(app, login, people, mode):
    rep, admin, other = login(people.rep), login(people.admin), login(people.other)
    assert rep.get("/admin/contacts").status_code == 200
    termination.terminate(db.session, people.admin.account, "Acme", mode, people.admin)
    db.session.commit()
    assert _sent_to_sign_in(rep.get("/admin/contacts"))
    assert _sent_to_sign_in(admin.get("/admin/team"))
    assert other.get("/admin/team").status_code == 200  # another account is untouched
