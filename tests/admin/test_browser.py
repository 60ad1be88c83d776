"""The main flows in Debian's headless Chromium, against the app served on a real socket."""

from __future__ import annotations

import csv
import io
import json
import threading
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from server.accounts import users as accounts
from server.contacts import csv_io, import_rows, imports
from server.extensions import db
from server.models import Event, Recipient, User
from tests.support import pixel_for, report_message, wait_for
from tests.support.admin import SUBJECT, add_message
from tests.support.browser import sign_in as browser_sign_in
from tests.support.jobs import run_jobs, worker

pytestmark = pytest.mark.browser


def test_magic_link_sign_in(app, page, live_app, people):
    browser_sign_in(page, live_app, app, people.admin)
    assert people.admin.email in page.content()
    page.get_by_role("link", name="Settings").click()
    assert page.get_by_role("heading", name="Account settings").is_visible()
    page.get_by_role("button", name="Sign out").click()
    page.goto(f"{live_app}/admin/settings")
    assert "/auth/login" in page.url


def test_tracking_switched_off(app, page, live_app, people):
    token = accounts.create_api_token(db.session, people.rep)
    kid = accounts.current_signing_key(db.session, people.rep).kid
    report_message(kid, "c" * 22)  # a hit on it counts, but for the switch
    browser_sign_in(page, live_app, app, people.admin)
    page.goto(f"{live_app}/admin/settings")
    page.get_by_label("Tracking and enrichment").uncheck()
    page.get_by_role("button", name="Save settings").click()
    assert page.get_by_role("status").inner_text() == "Settings saved."
    assert not page.get_by_label("Tracking and enrichment").is_checked()

    with urllib.request.urlopen(live_app + pixel_for("test-link-secret", kid, "c" * 22)) as r:
        assert r.status == 200 and r.headers["Content-Type"] == "image/gif"
    app.extensions["leadcamp.sink"].flush()
    assert db.session.query(Event).count() == 0
    request = urllib.request.Request(
        f"{live_app}/api/v1/me", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request) as r:
        me = json.load(r)
    assert me["tracking"] | {"tracking_host": None} == {
        "enabled": False,
        "account_enabled": False,
        "track_by_default": True,
        "tracking_host": None,
    }


def test_invite_and_accept(app, browser, page, live_app, people):
    browser_sign_in(page, live_app, app, people.admin)
    page.goto(f"{live_app}/admin/team")
    page.get_by_label("Email address").fill("nina@acme.test")
    page.get_by_label("Role", exact=True).select_option("rep")
    page.get_by_role("button", name="Invite").click()
    link = page.get_by_label("Invitation link").input_value()
    assert link.startswith("http://track.test/admin/invitations/")

    assert "users admit nina@acme.test" in page.content()  # no mail: the operator vouches

    invitee = browser.new_context().new_page()
    invitee.goto(link.replace("http://track.test", live_app))
    assert "nina@acme.test" in invitee.content() and "operator" in invitee.content()
    admitted = app.test_cli_runner().invoke(
        args=["users", "admit", "nina@acme.test", "--name", "Nina"]
    )
    assert admitted.exit_code == 0, admitted.output
    invitee.goto(admitted.output.strip().replace("http://track.test", live_app))
    invitee.get_by_role("button", name="Sign in").click()
    invitee.wait_for_url(f"{live_app}/")
    assert "Welcome, Nina" in invitee.content()
    invitee.context.close()

    page.goto(f"{live_app}/admin/team")
    assert page.get_by_role("row", name="Nina").is_visible()


def test_export_and_erase_a_data_subject(app, page, live_app, people):
    add_message(people.rep, SUBJECT, events=2)
    browser_sign_in(page, live_app, app, people.admin)
    page.goto(f"{live_app}/admin/privacy")
    page.get_by_label("Email address of the person").fill(SUBJECT)
    page.get_by_role("button", name="Find everything held").click()
    assert page.get_by_role("heading", name="Events (2)").is_visible()

    page.get_by_role("button", name="Export (JSON and CSV)").click()
    page.wait_for_url(f"{live_app}/admin/jobs/*")
    assert "Waiting for the worker" in page.get_by_role("status").inner_text()
    run_jobs(app)  # the worker writes the files; the page sees the run end and shows them
    with page.expect_download() as download:
        page.get_by_role("link", name="Download JSON").click()
    exported = json.loads(Path(download.value.path()).read_text())
    assert exported["subject"] == SUBJECT and len(exported["data"]["messages"]["events"]) == 2

    page.goto(f"{live_app}/admin/privacy")
    page.get_by_label("Email address of the person").fill(SUBJECT)
    page.get_by_role("button", name="Find everything held").click()
    page.get_by_label("Type the address again to confirm").fill(SUBJECT)
    page.get_by_role("button", name="Erase everything about this person").click()
    assert "Erased:" in page.get_by_role("status").inner_text()
    db.session.expire_all()
    assert db.session.scalar(select(Recipient).where(Recipient.email == SUBJECT)) is None
    assert db.session.query(Event).count() == 0
    kinds = [c.inner_text() for c in page.locator("table td:nth-child(4)").all()]
    assert kinds[:4] == ["erase", "search", "export", "search"]


def test_an_import_is_followed_on_its_job_page_under_the_csp(app, page, live_app, people):
    problems = watch_for_problems(page)
    browser_sign_in(page, live_app, app, people.rep)  # every member may import
    page.goto(f"{live_app}/admin/contacts")
    rows = "".join(f"lead{n}@example.test,Lead {n}\n" for n in range(30))
    page.get_by_label("CSV file").set_input_files(
        {"name": "leads.csv", "mimeType": "text/csv",
         "buffer": f"email,name\n{rows}not-an-address,X\n".encode()}
    )  # fmt: skip
    page.get_by_role("button", name="Import").click()
    page.wait_for_url(f"{live_app}/admin/jobs/*")
    assert page.get_by_role("status").inner_text().startswith("Waiting for the worker: 0 of 31")
    run_jobs(app)
    report = page.get_by_text("30 created, 0 updated, 1 rejected")
    report.wait_for()  # the script saw the run end and reloaded the page
    assert "Line 32" in page.locator("#rejected-rows").inner_text()
    assert problems == []


@contextmanager
def screenshot_on_failure(page, tmp_path: Path, name: str):
    """Save what the browser showed when the block fails, and say where, before re-raising."""
    try:
        yield
    except BaseException:
        shot = tmp_path / f"{name}.png"
        page.screenshot(path=str(shot), full_page=True)
        print(f"screenshot of the failure: {shot}")
        raise


def test_a_large_import_shows_progress_then_its_report_and_rejected_rows(
    app, page, live_app, people, tmp_path, monkeypatch
):
    problems = watch_for_problems(page)
    # The worker holds the second chunk until the page has shown the first one's progress.
    gate, save = threading.Event(), import_rows.save
    monkeypatch.setattr(imports, "CHUNK", 400)

    def held(session, account, header, records):
        if records[0][0] > 400 + 1:
            gate.wait(30)
        return save(session, account, header, records)

    monkeypatch.setattr(import_rows, "save", held)
    rows = "".join(f"lead{n}@example.test|Lead {n}|Firm {n % 9}\n" for n in range(1200))
    bad = 'not-an-address|=HYPERLINK("http://evil.test")|Evil\n'
    with screenshot_on_failure(page, tmp_path, "import"), worker(app, workers=1):
        browser_sign_in(page, live_app, app, people.rep)
        page.goto(f"{live_app}/admin/contacts")
        page.get_by_label("CSV file").set_input_files(
            {"name": "leads.csv", "mimeType": "text/csv",
             "buffer": f"email|name|company\n{rows}{bad}".encode()}
        )  # fmt: skip
        page.get_by_role("button", name="Import").click()
        page.wait_for_url(f"{live_app}/admin/jobs/*")
        expect(page.locator("#job-progress")).to_have_text(": 400 of 1201")  # polled, no reload
        assert page.locator("#job-bar").evaluate("bar => [bar.value, bar.max]") == [400, 1201]
        gate.set()
        page.get_by_text("1200 created, 0 updated, 1 rejected.").wait_for()
        assert "columns separated by pipes (|)" in page.locator("#import-format").inner_text()
        assert "Line 1202" in page.locator("#rejected-rows").inner_text()
        with page.expect_download() as download:
            page.get_by_role("link", name="Download the rejected rows (CSV)").click()
        got = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert list(csv.reader(io.StringIO(got))) == [
        ["row", "reason", "email", "name", "company"],
        ["1202", "email: 'not-an-address' is not an email address", "not-an-address",
         "'=HYPERLINK(\"http://evil.test\")", "Evil"],
    ]  # fmt: skip
    assert problems == []


def test_an_oversized_import_shows_our_413_page(app, page, live_app, people, monkeypatch):
    monkeypatch.setattr(csv_io, "MAX_MB", 2)
    monkeypatch.setattr(csv_io, "MAX_BYTES", 2 * 1024 * 1024)
    browser_sign_in(page, live_app, app, people.rep)
    page.goto(f"{live_app}/admin/contacts")
    page.get_by_label("CSV file").set_input_files(
        {"name": "big.csv", "mimeType": "text/csv",
         "buffer": b"email,notes\n" + b"ana@acme.com," + b"n" * (3 * 1024 * 1024) + b"\n"}
    )  # fmt: skip
    with page.expect_response(f"{live_app}/admin/contacts/import") as answer:
        page.get_by_role("button", name="Import").click()
    assert answer.value.status == 413
    heading = page.get_by_role("heading", name="The file is too large")
    heading.wait_for()
    assert "up to 2 MB" in page.locator("main").inner_text()
    assert page.evaluate("document.styleSheets[0].cssRules.length") > 0  # our styles


def test_read_the_audit_log(app, page, live_app, people):
    accounts.create_api_token(db.session, people.rep)
    browser_sign_in(page, live_app, app, people.admin)
    page.goto(f"{live_app}/admin/audit")
    table = page.locator("#audit-table")
    assert "sign_in" in table.inner_text() and "token.create" in table.inner_text()
    page.get_by_label("Action").select_option("sign_in")
    page.get_by_role("button", name="Search").click()
    rows = page.locator("#audit-table tbody tr")
    assert rows.count() == 1 and "magic link" in rows.inner_text()
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    assert Path(download.value.path()).read_text().startswith("id,at,actor,action,target,detail")


PAGES = (
    "settings",
    "team",
    "contacts",
    "privacy",
    "audit",
    "subprocessors",
    "breaches",
    "terminate",
    "webhooks",
)


def add_webhook(admin: User) -> int:
    """An endpoint with a delivery in its log; its id."""
    from server.webhooks import endpoints, events

    endpoint, _ = endpoints.create(db.session, "k", admin, {"url": "https://hooks.acme.test/in"})
    events.emit(db.session, admin.account_id, "contact.updated", {"email": SUBJECT}, SUBJECT)
    db.session.commit()
    return endpoint.id


UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea, button')]
  .filter(el => el.type !== 'hidden')
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                && !(el.tagName === 'BUTTON' && el.innerText.trim()))
  .map(el => el.outerHTML)"""


def test_every_control_has_a_name_and_the_keyboard_reaches_it(app, page, live_app, people):
    add_message(people.rep, SUBJECT)
    pages = [*PAGES, f"webhooks/{add_webhook(people.admin)}"]
    browser_sign_in(page, live_app, app, people.admin)
    for path in pages:
        page.goto(f"{live_app}/admin/{path}")
        assert page.evaluate(UNLABELLED) == [], path
        assert page.locator("h1").count() == 1, path
    page.goto(f"{live_app}/admin/privacy")
    page.get_by_label("Email address of the person").fill(SUBJECT)
    with page.expect_navigation():
        page.keyboard.press("Enter")  # forms submit from the keyboard
    assert page.get_by_role("heading", name=f"Held about {SUBJECT}").is_visible()
    assert page.evaluate(UNLABELLED) == []
    page.set_viewport_size({"width": 360, "height": 740})  # a phone: nothing wider than it
    for path in pages:
        page.goto(f"{live_app}/admin/{path}")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, path


# Each page's Content-Security-Policy violations, reported from inside the page.
REPORT_VIOLATIONS = """document.addEventListener("securitypolicyviolation", (e) =>
  window.reportViolation(`${e.violatedDirective} blocked ${e.blockedURI || "inline"}`))"""


def watch_for_problems(page) -> list[str]:
    """A list that fills with the page's CSP violations, console errors and script errors."""
    problems: list[str] = []
    page.expose_function("reportViolation", lambda text: problems.append(text))
    page.add_init_script(REPORT_VIOLATIONS)
    page.on("console", lambda m: m.type == "error" and problems.append(f"{m.text} {m.location}"))
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


def test_every_page_works_under_the_servers_csp(app, page, live_app, people):
    problems = watch_for_problems(page)
    add_message(people.rep, SUBJECT)
    hook = add_webhook(people.admin)
    browser_sign_in(page, live_app, app, people.admin)
    paths = ["/", "/auth/google", "/auth/login", *(f"/admin/{path}" for path in PAGES)]
    paths.append(f"/admin/webhooks/{hook}")
    for path in [*paths, "/admin/verdicts"]:
        response = page.goto(live_app + path)
        assert response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"], path
        assert page.evaluate("document.styleSheets[0].cssRules.length") > 0, path  # styled
    assert problems == []
    # The watch sees a violation: an inline script, which the policy refuses to run.
    page.evaluate("""document.body.append(Object.assign(document.createElement("script"),
      {textContent: "document.title = 'ran'"}))""")  # fmt: skip
    wait_for(lambda: problems)
    assert page.title() != "ran" and any("script-src" in p for p in problems)
