"""Follow-up reminders in the extension, with the fake adapter: set from the thread's sidebar (a
bad number refused in place), shown with its due date from the server's status, cancelled; and a
reminder the job fires without a reply is notified in Gmail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from server.messages import follow_ups
from tests.extension.conftest import REP, eventually
from tests.extension.test_gmail_extension import (
    LEAD,
    open_gmail,
    poll_now,
    poll_together,
    send_tracked,
)


def open_thread(browser, mailbox, subject: str):
    """Gmail showing the thread of the last mail sent."""
    thread = {
        "thread_id": mailbox.thread_id,
        "subject": subject,
        "messages": [{"sender": REP, "to": LEAD, "html": mailbox.sent[-1]["html"]}],
    }
    return open_gmail(browser, mailbox, compose=False, rows=[], threads=[thread])


def fire_due_reminders(server, at: datetime) -> dict[str, int]:
    """Run the periodic job's work on the server's database, as if at `at`."""
    engine = create_engine(server.env["DATABASE_URL"])
    try:
        with Session(engine) as session:
            counts = follow_ups.fire_due(session, at)
            session.commit()
    finally:
        engine.dispose()
    return counts


def test_a_reminder_is_set_and_cancelled_from_the_sidebar(connected, browser, mailbox, server):
    mid = send_tracked(browser, mailbox, server, "Pricing for Lee")
    page = open_thread(browser, mailbox, "Pricing for Lee")
    control = page.locator(f'[data-lc-follow-up="{mid}"]')
    control.wait_for()
    state = control.locator("[data-lc-follow-up-state]")
    assert state.text_content() == "No reminder set."
    assert not control.locator("[data-lc-follow-up-cancel]").is_visible()
    path = "/api/v1/messages/{token}/follow-up"  # as the access log writes it, the id left out
    puts = len(server.answered("PUT", path))

    # Not a whole number of days from 1 to 90: refused in place, the server never asked.
    control.locator("[data-lc-follow-up-days]").fill("120")
    control.locator("[data-lc-follow-up-set]").click()
    error = control.locator("[data-lc-follow-up-error]")
    eventually(page, lambda: "from 1 to 90" in error.text_content())
    assert len(server.answered("PUT", path)) == puts

    control.locator("[data-lc-follow-up-days]").fill("5")
    control.locator("[data-lc-follow-up-set]").click()
    eventually(page, lambda: state.text_content().startswith("Reminder on "))
    eventually(page, lambda: server.answered("PUT", path)[puts:] == [200])
    assert error.text_content() == ""
    reminder = server.api(f"/messages/{mid}")[1]["follow_up"]
    assert (reminder["days"], reminder["state"]) == (5, "pending")
    due = datetime.fromisoformat(reminder["due_at"])
    assert due - datetime.now(UTC) > timedelta(days=4, hours=23)
    assert str(due.year) in state.text_content() and state.text_content().endswith("if no reply")
    page.close()

    # Shown again from the server's status in a new tab, then cancelled there.
    page = open_thread(browser, mailbox, "Pricing for Lee")
    control = page.locator(f'[data-lc-follow-up="{mid}"]')
    control.wait_for()
    state = control.locator("[data-lc-follow-up-state]")
    assert state.text_content().startswith("Reminder on ")
    assert control.locator("[data-lc-follow-up-days]").input_value() == "5"
    deletes = len(server.answered("DELETE", path))
    control.locator("[data-lc-follow-up-cancel]").click()
    eventually(page, lambda: state.text_content() == "No reminder set.")
    eventually(page, lambda: server.answered("DELETE", path)[deletes:] == [200])
    assert server.api(f"/messages/{mid}")[1]["follow_up"]["state"] == "cancelled"
    assert not control.locator("[data-lc-follow-up-cancel]").is_visible()
    page.close()


def test_a_reminder_come_due_without_a_reply_is_notified(connected, browser, mailbox, server):
    mid = send_tracked(browser, mailbox, server, "Checking in")
    page = open_thread(browser, mailbox, "Checking in")  # Gmail opening: the feed's cursor is now
    control = page.locator(f'[data-lc-follow-up="{mid}"]')
    control.wait_for()
    control.locator("[data-lc-follow-up-days]").fill("2")
    control.locator("[data-lc-follow-up-set]").click()
    state = control.locator("[data-lc-follow-up-state]")
    eventually(page, lambda: state.text_content().startswith("Reminder on "))

    assert fire_due_reminders(server, datetime.now(UTC) + timedelta(days=2, minutes=1))["due"] == 1
    notices = page.locator("[data-lc-butterbar] p", has_text="No reply yet: Checking in")

    def notified():
        poll_now(browser)  # the alarm, and Gmail opening: polls now whatever the plan says
        poll_together(connected, times=1)
        return notices.count() == 1

    eventually(page, notified, timeout=40)
    assert server.api(f"/messages/{mid}")[1]["follow_up"]["state"] == "due"
    page.close()
    page = open_thread(browser, mailbox, "Checking in")
    state = page.locator(f'[data-lc-follow-up="{mid}"] [data-lc-follow-up-state]')
    eventually(page, lambda: state.text_content().startswith("No reply by "))
    page.close()
