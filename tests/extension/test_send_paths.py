"""Every way a mail leaves the compose window, each with the fake adapter: untracked sends drop our
earlier pixels, cancelled and failed sends start over, Send+Archive stays Send+Archive, Undo, and
scheduled sends."""

from __future__ import annotations

import pytest

from tests.extension.conftest import REP, eventually
from tests.extension.test_gmail_extension import BODY, LEAD, PIXEL, open_gmail, send_tracked


def quoting(html: str) -> str:
    """A reply's body quoting `html` (a tracked mail of the rep's, its pixel and all)."""
    return BODY + f'<div class="gmail_quote"><blockquote>{html}</blockquote></div>'


def send_body(page, to: str, subject: str, body: str, *, track: bool = True) -> None:
    page.wait_for_selector("[data-lc-track]")
    if not track:
        page.uncheck("[data-lc-track]")
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
