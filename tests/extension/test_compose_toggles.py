"""The compose window's two toggles, Opens and Links, through the fake adapter: opens-only and
links-only sends (pixel there or not, links rewritten or not) on the send paths, the report and
the receipt that say which parts were tracked, Undo keeping the toggles, and the rep's defaults."""

from __future__ import annotations

import re

from tests.extension.conftest import REP, eventually
from tests.extension.test_gmail_extension import BODY, LEAD, PIXEL, open_gmail, send_tracked
from tests.extension.test_send_paths import quoting

CLICK = re.compile(r'href="http://127\.0\.0\.1:\d+/c/[\w-]+\.([\w-]+)\.[\w-]{43}/')
PRICING = 'href="https://acme.example/pricing?plan=pro&amp;seats=5"'
LEAD_THREAD = "18c2a5f0e1d2cccc"


def compose(page, subject: str, body: str = BODY, *, opens: bool = True, links: bool = True):
    """Fill the compose window and set its toggles."""
    page.wait_for_selector("[data-lc-track]")
    for part, on in (("opens", opens), ("links", links)):
        page.set_checked(f"[data-lc-track-{part}]", on)
    page.fill("input[name=to]", LEAD)
    page.fill("input[name=subject]", subject)
    page.locator("[data-lc-body]").evaluate("(el, html) => { el.innerHTML = html; }", body)


def sent_and_reported(connected, mailbox, server, count: int, mid_of) -> tuple[dict, dict]:
    """The mail Gmail sent after `count` others, and the server's record of it (once reported)."""
    eventually(connected, lambda: len(mailbox.sent) > count)
    sent = mailbox.sent[-1]
    mid = mid_of(sent["html"])
    detail = eventually(connected, lambda: (d := server.api(f"/messages/{mid}"))[0] == 200 and d[1])
    return sent, detail


def test_opens_only_has_the_pixel_and_every_link_as_written(connected, browser, mailbox, server):
    """Send+Archive, opens only."""
    page = open_gmail(browser, mailbox, compose=True, rows=[], threads=[])
    count = len(mailbox.sent)
    compose(page, "Opens only", links=False)
    page.click("[data-lc-send-archive]")
    sent, detail = sent_and_reported(
        connected, mailbox, server, count, lambda html: PIXEL.search(html).group(3)
    )
    assert sent["archive"] is True
    assert sent["html"].count("/o/") == 1 and "/c/" not in sent["html"]
    assert PRICING in sent["html"], "a link was rewritten"
    assert (detail["track_opens"], detail["track_links"]) == (True, False)
    page.close()


def test_links_only_rewrites_the_links_adds_no_pixel_and_drops_quoted_ones(
    connected, browser, mailbox, server
):
    """Ctrl-Enter, links only, in a reply quoting a tracked mail."""
    send_tracked(browser, mailbox, server, "Tracked first")
    earlier = mailbox.sent[-1]["html"]
    page = open_gmail(browser, mailbox, compose=True, rows=[], threads=[])
    count = len(mailbox.sent)
    compose(page, "Links only", quoting(earlier), opens=False)
    page.locator("[data-lc-body]").press("Control+Enter")
    sent, detail = sent_and_reported(
        connected, mailbox, server, count, lambda html: CLICK.findall(html)[0]
    )
    assert not PIXEL.search(sent["html"]), "a pixel went out (new or quoted)"
    assert "/o/" not in sent["html"]
    assert PRICING not in sent["html"].split("gmail_quote")[0], "the new link was not rewritten"
    assert len(set(CLICK.findall(sent["html"].split("gmail_quote")[0]))) == 1
    assert (detail["track_opens"], detail["track_links"]) == (False, True)
    assert detail["subject"] == "Links only"
    page.close()


def test_a_scheduled_links_only_send_is_tracked_and_reported(connected, browser, mailbox, server):
    page = open_gmail(browser, mailbox, compose=True, rows=[], threads=[])
    count = len(mailbox.sent)
    compose(page, "Scheduled, links only", opens=False)
    page.click("[data-lc-schedule]")
    page.click("[data-lc-schedule-at]")
    sent, detail = sent_and_reported(
        connected, mailbox, server, count, lambda html: CLICK.findall(html)[0]
    )
    assert sent["scheduled"] is True and "/o/" not in sent["html"]
    assert (detail["track_opens"], detail["track_links"]) == (False, True)
    page.close()


def test_undo_gives_back_a_links_only_draft_with_its_toggles(connected, browser, mailbox, server):
    page = open_gmail(browser, mailbox, compose=True, rows=[], threads=[])
    page.evaluate("document.documentElement.dataset.lcUndoMs = '60000'")
    count = len(mailbox.sent)
    compose(page, "Links only after an undo", opens=False)
    page.click("[data-lc-send]")
    page.click("[data-lc-undo]")
    eventually(connected, lambda: page.locator("[data-lc-body]").inner_html() == BODY)
    page.wait_for_selector("[data-lc-track]")
    assert not page.is_checked("[data-lc-track-opens]") and page.is_checked("[data-lc-track-links]")
    page.evaluate("delete document.documentElement.dataset.lcUndoMs")
    page.click("[data-lc-send]")
    sent, detail = sent_and_reported(
        connected, mailbox, server, count, lambda html: CLICK.findall(html)[0]
    )
    assert len(mailbox.sent) == count + 1 and "/o/" not in sent["html"]
    assert detail["subject"] == "Links only after an undo" and detail["track_opens"] is False
    page.close()


def test_a_failed_opens_only_send_is_retried_with_the_same_parts(
    connected, browser, mailbox, server
):
    page = open_gmail(browser, mailbox, compose=True, rows=[], threads=[])
    attempts = len(mailbox.attempts)
    mailbox.failures = 1
    compose(page, "Opens only, second try", links=False)
    page.click("[data-lc-send]")
    eventually(connected, lambda: len(mailbox.attempts) > attempts)
    eventually(connected, lambda: page.locator("[data-lc-body]").inner_html() == BODY)
    count = len(mailbox.sent)
    page.click("[data-lc-send]")
    sent, detail = sent_and_reported(
        connected, mailbox, server, count, lambda html: PIXEL.search(html).group(3)
    )
    assert PRICING in sent["html"] and "/c/" not in sent["html"]
    assert (detail["track_opens"], detail["track_links"]) == (True, False)
    page.close()


def test_the_receipt_of_a_links_only_mail_says_opens_are_not_tracked(
    connected, browser, mailbox, server
):
    reports = len(server.answered("POST", "/api/v1/messages"))
    original, mailbox.thread_id = (
        mailbox.thread_id,
        LEAD_THREAD,
    )  # a thread of its own, with this one mail in it
    try:
        page = open_gmail(browser, mailbox, compose=True, rows=[], threads=[])
        compose(page, "Links only, in a thread of its own", opens=False)
        page.click("[data-lc-send]")
        eventually(connected, lambda: len(server.answered("POST", "/api/v1/messages")) > reports)
        page.close()
        row = {"thread_id": LEAD_THREAD, "sender": "me", "subject": "Links only"}
        page = open_gmail(browser, mailbox, compose=False, rows=[row], threads=[])
        receipt = page.locator(f'[data-thread-id="{LEAD_THREAD}"] [data-lc-receipt]')
        eventually(connected, lambda: receipt.text_content() == "✔")
        assert re.fullmatch(r"Sent .+ \(.+\), opens not tracked", receipt.get_attribute("title"))
        page.close()
        # Opened in Gmail, the message (no pixel in it) is known by its own links.
        html = mailbox.sent[-1]["html"]
        message = {"sender": REP, "to": LEAD, "html": html}
        thread = {"thread_id": LEAD_THREAD, "subject": "Links only", "messages": [message]}
        page = open_gmail(browser, mailbox, compose=False, rows=[], threads=[thread])
        timeline = page.locator("[data-lc-timeline]")
        timeline.wait_for()
        assert re.search(r"Leadcamp: Sent .+, opens not tracked", timeline.text_content())
        page.close()
    finally:
        mailbox.thread_id = original


def test_the_reps_defaults_set_the_toggles_of_new_compose_windows(connected, browser, mailbox):
    connected.uncheck("#track-opens")
    connected.click("#prefs-form button[type=submit]")
    eventually(connected, lambda: connected.text_content("#prefs-saved") == "Saved.")
    try:
        page = open_gmail(browser, mailbox, compose=True, rows=[], threads=[])
        page.wait_for_selector("[data-lc-track]")
        assert not page.is_checked("[data-lc-track-opens]")
        assert page.is_checked("[data-lc-track-links]")
        page.close()
    finally:
        connected.check("#track-opens")
        connected.evaluate("document.getElementById('prefs-saved').textContent = ''")
        connected.click("#prefs-form button[type=submit]")
        eventually(connected, lambda: connected.text_content("#prefs-saved") == "Saved.")
