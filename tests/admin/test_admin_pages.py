"""The settings pages' flows through the test client (the browser tests cover the main ones)."""

from __future__ import annotations

import os
import re
import time

from sqlalchemy import select

from server.accounts import team
from server.accounts import users as accounts
from server.extensions import db
from server.models import (
    Account,
    AuditEntry,
    Event,
    Invitation,
    SubProcessor,
    SubProcessorChange,
    User,
)
from tests.support import auth, pixel_for
from tests.support.admin import SUBJECT, add_message, csrf_from, post_form
from tests.support.jobs import run_jobs


def test_settings_switch_tracking_off_and_validate(app, login, people):
    client = login(people.admin)
    form = {"retention_days": "200", "tracking_domain": "Track.Acme.test", "track_by_default": "on"}
    response = post_form(client, "/admin/settings", "/admin/settings", **form)
    assert response.status_code == 302
    account = db.session.get(Account, people.admin.account_id)
    db.session.refresh(account)
    assert (account.tracking_enabled, account.retention_days, account.tracking_domain) == (
        False, 200, "track.acme.test",
    )  # fmt: skip
    token = accounts.create_api_token(db.session, people.rep)
    kid = accounts.current_signing_key(db.session, people.rep).kid
    db.session.commit()
    me = client.get("/api/v1/me", headers=auth(token)).get_json()
    assert me["tracking"]["enabled"] is False and me["tracking"]["account_enabled"] is False
    assert me["tracking"]["tracking_host"] == "track.acme.test"
    key = client.get("/api/v1/signing-key", headers=auth(token)).get_json()
    assert key["base_url"] == "http://track.acme.test"
    html = '<p>Hi <a href="https://acme.test/offer">offer</a></p>'
    sent = client.post(
        "/api/v1/messages",
        json={"recipients": [{"email": SUBJECT}], "subject": "Offer", "html": html},
        headers=auth(token),
    ).get_json()
    assert (sent["html"], sent["pixel_url"], sent["links"], sent["tracked"]) == (
        html, None, [], False,
    )  # fmt: skip
    db.session.commit()
    assert client.get(pixel_for("test-link-secret", kid, "b" * 22)).status_code == 200
    app.extensions["leadcamp.sink"].flush()
    assert db.session.query(Event).count() == 0
    bad = post_form(client, "/admin/settings", "/admin/settings", retention_days="0")
    assert bad.status_code == 400 and "Retention must be" in bad.text
    bad = post_form(client, "/admin/settings", "/admin/settings", retention_days="9",
                    tracking_domain="not a host")  # fmt: skip
    assert bad.status_code == 400 and "host name" in bad.text
    changes = db.session.scalars(
        select(AuditEntry.target).where(AuditEntry.action == "settings.change")
    ).all()
    assert set(changes) == {"tracking_enabled", "retention_days", "tracking_domain"}


def test_the_geo_database_age_is_shown_and_old_files_warned(app, login, people, tmp_path):
    geo = tmp_path / "GeoLite2-City.mmdb"
    geo.write_bytes(b"x")
    old = time.time() - 40 * 86400
    os.utime(geo, (old, old))
    app.config["LEADCAMP"] = app.config["LEADCAMP"].replace(geoip_database=str(geo))
    page = login(people.admin).get("/admin/settings").text
    assert str(geo) in page and "older than 35 days" in page
    os.utime(geo, None)
    assert "current" in login(people.admin).get("/admin/settings").text


def shown_link(page) -> str:
    """The path of the invitation link the team page shows when mail is not configured."""
    link = re.search(r'value="(http://track\.test/admin/invitations/[^"]+)"', page.text).group(1)
    return link.removeprefix("http://track.test")


def test_a_shown_invitation_link_is_accepted_through_the_operator(app, login, people, monkeypatch):
    client = login(people.admin)
    page = post_form(
        client, "/admin/team/invite", "/admin/team", email="nina@acme.test", role="rep"
    )
    assert page.status_code == 200 and "users admit nina@acme.test" in page.text
    path = shown_link(page)
    invitee = app.test_client()
    form = invitee.get(path)
    assert "nina@acme.test" in form.text and "Accept the invitation" not in form.text
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", False)  # no form to take a token from
    refused = invitee.post(path, data={"name": "Nina"})
    assert refused.status_code == 400 and "cannot prove your address" in refused.text
    assert db.session.scalar(select(User).where(User.email == "nina@acme.test")) is None

    admitted = app.test_cli_runner().invoke(args=["users", "admit", "Nina@acme.test"])
    assert admitted.exit_code == 0, admitted.output
    link = admitted.output.strip().removeprefix("http://track.test")
    assert post_form(invitee, link, link).status_code == 302  # the magic link's confirm form
    assert "nina@acme.test" in invitee.get("/").text
    user = db.session.scalar(select(User).where(User.email == "nina@acme.test"))
    assert user.account_id == people.admin.account_id and user.role == "rep"
    again = app.test_cli_runner().invoke(args=["users", "admit", "nina@acme.test"])
    assert again.exit_code != 0 and "no open invitation" in again.output


def test_an_export_is_a_job_whose_files_only_the_accounts_admins_download(app, login, people):
    add_message(people.admin, SUBJECT)
    client = login(people.admin)
    queued = post_form(client, "/admin/privacy/export", "/admin/privacy", email=SUBJECT)
    assert queued.status_code == 303
    job = queued.headers["Location"]
    assert job.startswith("/admin/jobs/") and "ana" not in job.lower()  # the link names the run
    assert 'id="download-json"' not in client.get(job).text  # not written yet
    run_jobs(app)
    page = client.get(job).text
    json_link = re.search(r'href="([^"]+)" id="download-json"', page).group(1)
    csv_link = re.search(r'href="([^"]+)" id="download-csv"', page).group(1)
    download = client.get(json_link)
    assert download.status_code == 200 and download.get_json()["subject"] == SUBJECT
    assert "attachment" in download.headers["Content-Disposition"]
    assert download.headers["Cache-Control"] == "no-store"
    assert client.get(csv_link).mimetype == "text/csv"
    assert db.session.scalars(select(AuditEntry.action)).all().count("dsr.download") == 2
    assert login(people.other).get(json_link).status_code == 404
    assert login(people.other).get(job).status_code == 404
    assert login(people.rep).get(json_link).status_code == 403
    assert app.test_client().get(json_link).status_code == 302
    assert client.get(json_link[:-4] + "xml").status_code == 404


def test_erase_needs_the_address_typed_again(app, login, people):
    add_message(people.admin, SUBJECT)
    client = login(people.admin)
    refused = post_form(
        client, "/admin/privacy/erase", "/admin/privacy", email=SUBJECT, confirm="x"
    )
    assert refused.status_code == 400
    done = post_form(
        client, "/admin/privacy/erase", "/admin/privacy", email=SUBJECT, confirm=SUBJECT
    )
    assert done.status_code == 302
    found = post_form(client, "/admin/privacy/search", "/admin/privacy", email=SUBJECT)
    assert "Messages <small>(0)</small>" in found.text


def test_subprocessors_are_seeded_and_changes_announced(app, login, people):
    client = login(people.admin)
    page = client.get("/admin/subprocessors").text
    assert "Clearbit" in page and "Hosting" in page
    add = post_form(client, "/admin/subprocessors", "/admin/subprocessors", name="MailCo",
                    country="Ireland", purpose="Transactional mail", safeguard="EU")  # fmt: skip
    assert add.status_code == 302
    flashed = client.get("/admin/subprocessors").text
    assert "no mail went out" in flashed and "announced to the admins" not in flashed
    [change] = db.session.scalars(select(SubProcessorChange)).all()
    assert (change.objection_until - change.announced_at).days == 30
    entry = db.session.scalar(select(SubProcessor).where(SubProcessor.name == "MailCo"))
    removed = post_form(client, f"/admin/subprocessors/{entry.id}/remove", "/admin/subprocessors")
    assert removed.status_code == 302
    assert "MailCo" not in client.get("/admin/subprocessors").text.split("Announced changes")[0]
    missing = post_form(client, "/admin/subprocessors", "/admin/subprocessors", name="X")
    assert missing.status_code == 400


def test_the_list_is_published_behind_a_signed_link(app, login, people):
    page = login(people.admin).get("/admin/subprocessors").text
    link = re.search(r'id="public-link" class="wide" readonly value="([^"]+)"', page).group(1)
    path = link.removeprefix("http://track.test")
    public = app.test_client().get(path)
    assert public.status_code == 200 and "Clearbit" in public.text and "Acme" in public.text
    forged = path.rsplit(".", 1)[0] + ".AAAA"
    assert app.test_client().get(forged).status_code == 404
    other = login(people.other).get("/admin/subprocessors").text
    assert path not in other  # each account has its own link


def test_both_list_pages_show_the_transfer_note_and_when_an_entry_takes_effect(app, login, people):
    client = login(people.admin)
    post_form(client, "/admin/subprocessors", "/admin/subprocessors", name="MailCo",
              country="Ireland", purpose="Transactional mail", safeguard="EU")  # fmt: skip
    page = client.get("/admin/subprocessors").text
    note = "Transfer outside the EEA (third country); transfer mechanism: EU-U.S. Data Privacy"
    assert page.count(note) == 2  # Clearbit and Google; the Irish MailCo needs none
    assert "Not in effect yet</strong>: takes effect on" in page
    link = re.search(r'id="public-link" class="wide" readonly value="([^"]+)"', page).group(1)
    public = app.test_client().get(link.removeprefix("http://track.test")).text
    assert public.count(note) == 2 and "Google" in public
    assert public.count("since ") == 3 and public.count("from ") >= 1


def test_a_breach_is_tracked_to_closure(app, login, people):
    client = login(people.admin)
    created = post_form(client, "/admin/breaches", "/admin/breaches",
                        occurred_at="2026-11-20T09:30",
                        description="Export mailed to the wrong person", data_affected="names",
                        subjects_affected="12 prospects")  # fmt: skip
    path = created.headers["Location"]
    post_form(client, f"{path}/actions", path, description="Ask the recipient to delete it")
    refused = post_form(client, f"{path}/close", path)
    assert refused.status_code == 400 and "Finish every" in refused.text
    action = re.search(r'action="([^"]+/done)"', client.get(path).text).group(1)
    post_form(client, action, path)
    assert post_form(client, f"{path}/close", path).status_code == 302
    assert "closed" in client.get(path).text


def test_termination_from_the_page(app, login, people):
    add_message(people.rep, SUBJECT)
    client = login(people.admin)
    wrong = post_form(
        client, "/admin/terminate", "/admin/terminate", mode="delete", confirmation="x"
    )
    assert wrong.status_code == 400
    done = post_form(
        client, "/admin/terminate", "/admin/terminate", mode="delete", confirmation="Acme"
    )
    assert done.status_code == 302
    assert client.get("/admin/settings").status_code == 302  # signed out, and nobody left
    db.session.expire_all()
    assert db.session.get(Account, people.admin.account_id).terminated_at is not None
    assert db.session.get(User, people.other.id).active  # another account is untouched


def test_the_server_side_sending_switch(app, login, people):
    client = login(people.admin)
    assert "Server-side sending" in client.get("/admin/settings").text
    form = {"retention_days": "396", "tracking_enabled": "on", "sending_enabled": "on"}
    assert post_form(client, "/admin/settings", "/admin/settings", **form).status_code == 302
    db.session.expire_all()
    assert db.session.get(Account, people.admin.account_id).sending_enabled is True


def test_rectify_changes_only_the_fields_filled_in(app, login, people):
    from server.contacts import service as contacts

    contacts.upsert_contact(db.session, people.admin.account_id, SUBJECT, "Ana Ruiz")
    message = add_message(people.rep, SUBJECT)
    client = login(people.admin)
    done = post_form(client, "/admin/privacy/rectify", "/admin/privacy", email=SUBJECT, title="CTO",
                     name="", phone="")  # fmt: skip
    assert done.status_code == 302
    db.session.expire_all()
    contact = contacts.find_contact(db.session, people.admin.account_id, SUBJECT)
    assert (contact.name, contact.title) == ("Ana Ruiz", "CTO")
    assert db.session.get(type(message), message.id).recipients[0].name == "Ana Ruiz"
    nothing = post_form(client, "/admin/privacy/rectify", "/admin/privacy", email=SUBJECT, name="")
    assert nothing.status_code == 400 and "Nothing to correct" in nothing.text


def test_inviting_another_accounts_address_tells_nothing_about_it(app, login, people, monkeypatch):
    client = login(people.other)
    taken = post_form(
        client, "/admin/team/invite", "/admin/team", email="rep@acme.test", role="rep"
    )
    unused = post_form(client, "/admin/team/invite", "/admin/team", email="nobody@acme.test")
    assert taken.status_code == unused.status_code == 200
    assert "exists" not in taken.text
    answers = []
    for page, address in ((taken, "rep@acme.test"), (unused, "nobody@acme.test")):
        invitee = app.test_client()
        invitee.get(shown_link(page))
        monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", False)  # no form to take it from
        answer = invitee.post(shown_link(page), data={"name": "Rep"})
        monkeypatch.undo()
        answers.append((answer.status_code, answer.text.replace(address, "ADDRESS")))
    assert answers[0] == answers[1] and answers[0][0] == 400
    db.session.expire_all()
    assert db.session.get(User, people.rep.id).account_id == people.admin.account_id
    assert db.session.scalar(select(User).where(User.email == "nobody@acme.test")) is None


def test_accepting_an_invitation_lands_where_every_sign_in_does(app, login, people):
    client = login(people.admin)
    post_form(client, "/admin/team/invite", "/admin/team", email="ida@acme.test", role="rep")
    invitation = db.session.scalar(select(Invitation).where(Invitation.email == "ida@acme.test"))
    token = team.link_token(app.config["LEADCAMP"].secret_key, invitation, mailed=True)
    path = f"/admin/invitations/{token}"
    invitee = app.test_client()
    form = invitee.get(path)
    with invitee.session_transaction() as session:
        session["after_login"] = "/auth/extension/connect?challenge=abc"
    accepted = invitee.post(path, data={"csrf_token": csrf_from(form.text)})
    assert accepted.headers["Location"] == "/auth/extension/connect?challenge=abc"
    user = db.session.scalar(select(User).where(User.email == "ida@acme.test"))
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "sign_in", AuditEntry.actor_id == user.id)
    )
    assert entry.detail == "invitation"


def test_the_verdict_mix_counts_each_weeks_hits(app, login, people):
    from server.tracking.ingest import BatchWriter
    from tests.support import make_event, report_message

    kid = accounts.current_signing_key(db.session, people.rep).kid
    db.session.commit()
    report_message(kid)
    now = time.time()
    verdicts = ["human", "proxy", "machine", "scanner", "scanner"]
    BatchWriter(db.engine)(
        [make_event(kid, occurred_at=now - 60 * (i + 1), verdict=v) for i, v in enumerate(verdicts)]
        + [make_event(kid, occurred_at=now - 200 * 86400, verdict="human")]  # too old to show
        + [make_event(kid, occurred_at=now - 60, kind="reply", verdict="human")]  # not a hit
    )
    page = login(people.admin).get("/admin/verdicts").text
    # Rows are weeks; the hits may straddle a Monday midnight, so add the rows up.
    rows = re.findall(r"<tr><td>\d{4}-\d\d-\d\d</td>(.*?)</tr>", page, re.S)
    cells = [[int(n) for n in re.findall(r"<td>(\d+)%?</td>", row)] for row in rows]
    assert rows and len(rows) <= 2, page
    totals = [sum(column) for column in zip(*cells, strict=True)]
    # hits, (real share), human, proxy, machine, scanner, prefetch, bot, self
    assert totals[0] == 5 and totals[2:] == [1, 1, 1, 2, 0, 0, 0], page
    if len(rows) == 1:
        assert cells[0][1] == 40
    assert "No opens or clicks" in login(people.other).get("/admin/verdicts").text
