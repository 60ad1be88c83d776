"""Forms, error pages, self-service sign-in and narrow screens in Debian's headless Chromium."""

from __future__ import annotations

import re
from email import message_from_bytes
from email.policy import default

import pytest

from server.extensions import db
from server.models import Account
from tests.admin.test_browser import add_webhook, browser_sign_in
from tests.support.admin import SUBJECT, add_message
from tests.support.jobs import run_jobs

pytestmark = pytest.mark.browser

FOCUSED = "document.activeElement && document.activeElement.id"
# The text of the elements a field's aria-describedby names, as assistive technology reads it.
DESCRIPTION = """(id) => (document.getElementById(id).getAttribute("aria-describedby") || "")
  .split(" ").filter(Boolean).map(ref => document.getElementById(ref).innerText).join(" ")"""


def test_a_refused_form_keeps_its_input_and_marks_the_field(app, page, live_app, people):
    browser_sign_in(page, live_app, app, people.admin)
    page.goto(f"{live_app}/admin/settings")
    page.get_by_label("Keep raw events for (days)").fill("30")
    page.get_by_label("Host name recipients see in tracking links").fill("not a host")
    with page.expect_navigation():
        page.get_by_role("button", name="Save settings").click()
    field = page.get_by_label("Host name recipients see in tracking links")
    assert field.input_value() == "not a host"
    assert page.get_by_label("Keep raw events for (days)").input_value() == "30"
    assert field.get_attribute("aria-invalid") == "true"
    assert page.evaluate(FOCUSED) == "tracking_domain"
    assert "must be a host name" in page.evaluate(DESCRIPTION, "tracking_domain")


def test_an_unknown_contact_gets_the_styled_404(app, page, live_app, people):
    browser_sign_in(page, live_app, app, people.admin)
    response = page.goto(f"{live_app}/admin/contacts/view/nobody@nowhere.test")
    assert response.status == 404
    assert page.get_by_role("heading", name="Not found").is_visible()
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(247, 248, 250)"
    page.get_by_role("link", name="Back to the start page").click()
    page.wait_for_url(f"{live_app}/")


@pytest.fixture
def mail(app, smtp_server):
    """Mail configured through a local SMTP server that keeps what it receives."""
    app.config["LEADCAMP"] = app.config["LEADCAMP"].replace(
        smtp_host="127.0.0.1", smtp_port=smtp_server.port, smtp_allow_plaintext=True
    )
    return smtp_server


def test_a_sign_in_link_by_mail(app, page, live_app, people, mail):
    page.goto(f"{live_app}/auth/login")
    page.get_by_label("Your work email address").fill(people.rep.email)
    with page.expect_navigation():
        page.get_by_role("button", name="Email me a sign-in link").click()
    assert "a sign-in link is on its way" in page.get_by_role("status").inner_text()
    run_jobs(app)  # the worker looks the address up and sends the mail
    [message] = mail.messages
    body = message_from_bytes(message.content, policy=default).get_content()
    link = re.search(r"http://track\.test(/auth/magic/\S+)", body).group(1)
    page.goto(live_app + link)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_app}/")
    assert people.rep.email in page.content()


def test_rename_the_account(app, page, live_app, people):
    browser_sign_in(page, live_app, app, people.admin)
    page.goto(f"{live_app}/admin/settings")
    page.get_by_label("Account name").fill("Acme Europe")
    with page.expect_navigation():
        page.get_by_role("button", name="Save settings").click()
    assert page.get_by_role("status").inner_text() == "Settings saved."
    assert page.get_by_label("Account name").input_value() == "Acme Europe"
    db.session.expire_all()
    assert db.session.get(Account, people.admin.account_id).name == "Acme Europe"
    page.goto(f"{live_app}/admin/terminate")
    assert page.get_by_role("button", name="Terminate Acme Europe").is_visible()


def test_inviting_an_address_twice(app, page, live_app, people):
    browser_sign_in(page, live_app, app, people.admin)
    for _ in range(2):
        page.goto(f"{live_app}/admin/team")
        page.get_by_label("Email address").fill("nina@acme.test")
        with page.expect_navigation():
            page.get_by_role("button", name="Invite").click()
    field = page.get_by_label("Email address")
    assert field.input_value() == "nina@acme.test"
    assert field.get_attribute("aria-invalid") == "true"
    assert page.evaluate(FOCUSED) == "invite-email"
    assert "has an open invitation already" in page.evaluate(DESCRIPTION, "invite-email")
    assert page.get_by_role("listitem").filter(has_text="nina@acme.test").count() == 1


NARROW = 390
PAGES = ("settings", "team", "contacts", "privacy", "audit", "subprocessors", "breaches",
         "terminate", "webhooks", "verdicts")  # fmt: skip


def test_pages_fit_a_390_px_screen(app, page, live_app, people):
    add_message(people.rep, SUBJECT)
    hook = add_webhook(people.admin)
    page.set_viewport_size({"width": NARROW, "height": 844})
    page.goto(f"{live_app}/auth/login")
    assert page.evaluate("document.documentElement.scrollWidth") <= NARROW
    browser_sign_in(page, live_app, app, people.admin)
    paths = [f"/admin/{p}" for p in PAGES] + [f"/admin/webhooks/{hook}", "/", "/nothing/here"]
    paths += [f"/admin/contacts/view/{SUBJECT}", "/mail", "/activity", "/reports", "/predictions/"]
    for path in paths:
        page.goto(live_app + path)
        assert page.evaluate("document.documentElement.scrollWidth") <= NARROW, path
        # Every link of the header is on screen and none lies under another (a tap on one
        # must never land on sign-out).
        boxes = [
            (name, a.bounding_box())
            for a in page.locator("header.top a, header.top button").all()
            if (name := a.inner_text().strip()) != "Skip to content"
        ]
        assert len(boxes) >= 2, (path, boxes)  # the brand and sign-out at least
        assert all(b["x"] >= 0 and b["x"] + b["width"] <= NARROW for _, b in boxes), (path, boxes)
        for i, (one, a) in enumerate(boxes):
            for other, b in boxes[i + 1 :]:
                apart = a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                assert apart or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"], (
                    path, one, other
                )  # fmt: skip
    page.goto(f"{live_app}/admin/privacy")
    page.get_by_label("Email address of the person").fill(SUBJECT)
    with page.expect_navigation():  # waits for the load event: the stylesheet is applied
        page.get_by_role("button", name="Find everything held").click()
    assert page.evaluate("document.documentElement.scrollWidth") <= NARROW
    table = page.locator(".scroll").first  # a wide table scrolls inside its own box
    assert table.evaluate("el => el.scrollWidth > el.clientWidth")


def test_the_skip_link_leads_to_the_content(app, page, live_app, people):
    browser_sign_in(page, live_app, app, people.admin)
    page.goto(f"{live_app}/admin/settings")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    assert skip.is_visible()
    page.keyboard.press("Enter")
    assert page.evaluate(FOCUSED) == "content"
