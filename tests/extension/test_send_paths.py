"""Every way a mail leaves the compose window, each with the fake adapter: untracked sends drop our
earlier pixels, cancelled and failed sends start over, Send+Archive stays Send+Archive, Undo, and
scheduled sends."""

from __future__ import annotations

import re

import pytest

from tests.extension.conftest import REP, connect, eventually
from tests.extension.test_gmail_extension import (
    BODY,
    EXTENSION_TOKEN,
    LEAD,
    PIXEL,
    open_gmail,
    send_tracked,
)
from tests.support.live import flask_cli


def quoting(html: str) -> str:
    """A reply's body quoting `html` (a tracked mail of the rep's, its pixel and all)."""
    return BODY + f'<div class="gmail_quote"><blockquote>{html}</blockquote></div>'


def send_body(page, to: str, subject: str, body: str, *, track: bool = True) -> None:
    page.wait_for_selector("[data-lc-track]")
    if not track:  # neither part ticked: an untracked send
        page.uncheck("[data-lc-track-opens]")
        page.uncheck("[data-lc-track-links]")
    page.fill("input[name=to]", to)
    page.fill("input[name=subject]", subject)
    page.locator("[data-lc-body]").evaluate("(el, html) => { el.innerHTML = html; }", body)
    page.click("[data-lc-send]")


@pytest.mark.parametrize("why", ["switched off", "only to oneself", "server down"])
def test_an_untracked_send_drops_our_earlier_pixels_from_quoted_text(
    connected, browser, mailbox, server, why
):
    send_tracked(browser, mailbox, server, "Tracked first")
    earlier = mailbox.sent[-1]["html"]
    assert PIXEL.search(earlier)
    count = len(mailbox.sent)
    page = open_gmail(browser, mailbox, compose=True, rows=[], threads=[])
    if why == "server down":
        server.cut()
    try:
        to = REP if why == "only to oneself" else LEAD
        send_body(page, to, f"Re: {why}", quoting(earlier), track=why != "switched off")
        eventually(connected, lambda: len(mailbox.sent) > count)
    finally:
        if why == "server down":
            server.restore()
    sent = mailbox.sent[-1]
    assert sent["subject"] == f"Re: {why}"
    assert "/o/" not in sent["html"], "an earlier pixel went out again"
    assert "gmail_quote" in sent["html"] and "Hi Lee" in sent["html"]
    page.close()


CLICK = re.compile(r'href="http://127\.0\.0\.1:\d+/c/[\w-]+\.([\w-]+)\.')


def reported(connected, server, html: str) -> dict:
    """The server's record of the tracked mail `html` (once its sent report is in); every tracked
    link in it is signed for that very message."""
    mid = PIXEL.search(html).group(3)
    assert html.count("/o/") == 1
    assert CLICK.findall(html) and set(CLICK.findall(html)) == {mid}, "a link signed for another id"
    return eventually(connected, lambda: (d := server.api(f"/messages/{mid}"))[0] == 200 and d[1])


def fill(page, to: str, subject: str) -> None:
    page.wait_for_selector("[data-lc-track]")
    page.fill("input[name=to]", to)
    page.fill("input[name=subject]", subject)
    page.locator("[data-lc-body]").evaluate("(el, html) => { el.innerHTML = html; }", BODY)


def test_ctrl_enter_sends_tracked_once(connected, browser, mailbox, server):
    page = open_gmail(browser, mailbox, compose=True, rows=[], threads=[])
    count = len(mailbox.sent)
    fill(page, LEAD, "Sent with Ctrl-Enter")
    page.locator("[data-lc-body]").press("Control+Enter")
    eventually(connected, lambda: len(mailbox.sent) > count)
    assert (
        reported(connected, server, mailbox.sent[-1]["html"])["subject"] == "Sent with Ctrl-Enter"
    )
    assert len(mailbox.sent) == count + 1
    page.close()


def test_send_and_archive_stays_send_and_archive(connected, browser, mailbox, server):
    page = open_gmail(browser, mailbox, compose=True, rows=[], threads=[])
    count = len(mailbox.sent)
    fill(page, LEAD, "Sent and archived")
    page.click("[data-lc-send-archive]")
    eventually(connected, lambda: len(mailbox.sent) > count)
    sent = mailbox.sent[-1]
    assert sent["archive"] is True, "Send+Archive went out as plain Send"
    assert reported(connected, server, sent["html"])["subject"] == "Sent and archived"
    page.close()


def test_a_failed_send_starts_over_and_the_retry_goes_to_the_recipients_it_then_has(
    connected, browser, mailbox, server
):
    page = open_gmail(browser, mailbox, compose=True, rows=[], threads=[])
    attempts = len(mailbox.attempts)
    mailbox.failures = 1
    fill(page, "lea@example.org", "Sent on the second try")
    page.click("[data-lc-send]")
    eventually(connected, lambda: len(mailbox.attempts) > attempts)
    # Gmail gave up: the compose window holds the body as the rep wrote it.
    eventually(connected, lambda: page.locator("[data-lc-body]").inner_html() == BODY)
    page.fill("input[name=to]", LEAD)  # the rep fixes the address and sends again
    count = len(mailbox.sent)
    page.click("[data-lc-send]")
    eventually(connected, lambda: len(mailbox.sent) > count)
    detail = reported(connected, server, mailbox.sent[-1]["html"])
    assert detail["recipients"] == [{"email": LEAD, "name": ""}]
    page.close()


def test_after_undo_the_draft_is_as_written_and_the_next_send_is_tracked_afresh(
    connected, browser, mailbox, server
):
    page = open_gmail(browser, mailbox, compose=True, rows=[], threads=[])
    page.evaluate("document.documentElement.dataset.lcUndoMs = '60000'")
    count = len(mailbox.sent)
    fill(page, LEAD, "Sent after an undo")
    page.click("[data-lc-send]")
    page.click("[data-lc-undo]")
    # Gmail reopens the draft: as written, no pixel, no link signed for an id never reported.
    eventually(connected, lambda: page.locator("[data-lc-body]").inner_html() == BODY)
    page.wait_for_selector("[data-lc-track]")
    assert page.locator("[data-lc-track]").count() == 1
    page.evaluate("delete document.documentElement.dataset.lcUndoMs")
    page.click("[data-lc-send]")
    eventually(connected, lambda: len(mailbox.sent) > count)
    assert len(mailbox.sent) == count + 1
    assert reported(connected, server, mailbox.sent[-1]["html"])["subject"] == "Sent after an undo"
    page.close()


def test_a_scheduled_send_is_tracked_and_reported(connected, browser, mailbox, server):
    page = open_gmail(browser, mailbox, compose=True, rows=[], threads=[])
    count = len(mailbox.sent)
    fill(page, LEAD, "Scheduled for tomorrow")
    page.click("[data-lc-schedule]")
    page.click("[data-lc-schedule-at]")  # the menu, reopened once the body is tracked
    eventually(connected, lambda: len(mailbox.sent) > count)
    sent = mailbox.sent[-1]
    assert sent["scheduled"] is True
    assert PIXEL.search(sent["html"]), "the scheduled mail went out untracked"
    detail = reported(connected, server, sent["html"])
    assert detail["subject"] == "Scheduled for tomorrow"
    assert detail["recipients"] == [{"email": LEAD, "name": ""}]
    page.close()


def test_a_draft_discarded_from_the_schedule_menu_is_never_reported(
    connected, browser, mailbox, server
):
    reports = len(server.answered("POST", "/api/v1/messages"))
    page = open_gmail(browser, mailbox, compose=True, rows=[], threads=[])
    fill(page, LEAD, "Never scheduled")
    page.click("[data-lc-schedule]")
    page.wait_for_selector("[data-lc-schedule-at]")
    page.click("[data-lc-discard]")
    page.close()
    # The next mail's report is the only one: none was made for the discarded draft.
    send_tracked(browser, mailbox, server, "Sent after a discarded one")
    assert len(server.answered("POST", "/api/v1/messages")) == reports + 1


def test_another_gmail_account_in_the_browser_gets_nothing_and_is_told_why(
    connected, browser, mailbox, server
):
    """A personal Gmail beside the work one: nothing of it reaches the company's server."""
    threads = len(server.answered("POST", "/api/v1/threads/status"))
    row = {"thread_id": mailbox.thread_id, "sender": "me", "subject": "Scheduled for tomorrow"}
    try:
        page = open_gmail(
            browser, mailbox, user="me@personal.test", compose=True, rows=[row], threads=[]
        )
        notice = page.locator("[data-lc-butterbar]")
        eventually(
            connected, lambda: "Leadcamp is off in me@personal.test" in notice.text_content()
        )
        assert f"tracks only {REP}" in notice.text_content()
        assert page.locator("[data-lc-track]").count() == 0
        # No compose switch, no receipt: nothing of this mailbox is sent to the server.
        assert page.text_content("[data-lc-receipt]") == ""
        assert len(server.answered("POST", "/api/v1/threads/status")) == threads
        page.close()
    finally:
        mailbox.user = REP


def poll_by_alarm(browser) -> None:
    """Fire the worker's 30 s alarm now, through the real alarm path."""
    worker = browser.service_workers[0]
    worker.evaluate("chrome.alarms.create('lc.poll', {when: Date.now(), periodInMinutes: 0.5})")


def catch_up(options) -> None:
    """What each Gmail tab opening asks the worker: catch up (queue, activity) now."""
    options.evaluate("chrome.runtime.sendMessage({ type: 'lc.opened' })")


def test_alarms_poll_the_activity_feed_only_as_often_as_the_plan_says(connected, browser, server):
    catch_up(connected)
    polls = server.answered("GET", "/api/v1/activity")
    eventually(connected, lambda: len(server.answered("GET", "/api/v1/activity")) > len(polls))
    before = len(server.answered("GET", "/api/v1/activity"))
    for _ in range(5):  # five alarms within a few seconds: none is due 15 s after the last poll
        poll_by_alarm(browser)
        connected.wait_for_timeout(600)
    assert len(server.answered("GET", "/api/v1/activity")) == before


def test_a_revoked_sign_in_stops_the_polls_until_the_rep_connects_again(
    connected, browser, mailbox, server
):
    token = browser.service_workers[0].evaluate(EXTENSION_TOKEN)
    flask_cli(server.env, "tokens", "revoke", token)
    refused = server.answered("GET", "/api/v1/activity").count(401)
    catch_up(connected)
    eventually(connected, lambda: server.answered("GET", "/api/v1/activity").count(401) > refused)
    polls = len(server.answered("GET", "/api/v1/activity"))
    for _ in range(4):  # Gmail opening again and again, alarms firing
        catch_up(connected)
        poll_by_alarm(browser)
        connected.wait_for_timeout(500)
    assert len(server.answered("GET", "/api/v1/activity")) == polls, "polled on after a 401"

    connect(browser, connected, server)
    catch_up(connected)
    eventually(connected, lambda: server.answered("GET", "/api/v1/activity")[-1] == 200)


def test_the_connect_code_is_taken_from_another_tab_as_a_magic_link_opens_one(
    connected, browser, server
):
    """A rep who signs in by magic link confirms in the tab the mail opened, not in the one the
    extension opened: the code counts from any tab while a connect is pending."""
    connected.click("#sign-out")
    connected.wait_for_selector("#connection[data-connected=false]")
    connected.fill("#server-url", server.url)
    with browser.expect_page() as opened:
        connected.click("#connect")
    first = opened.value
    first.wait_for_selector("#connect")
    other = browser.new_page()  # the magic link's tab, landing on the same connect page
    other.goto(first.url)
    other.click("#connect")
    connected.wait_for_selector("#connection[data-connected=true]")
    eventually(connected, lambda: REP in connected.text_content("#connection"))
    eventually(connected, other.is_closed)  # the tab the code came to is closed
    first.close()
