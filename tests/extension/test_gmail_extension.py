"""The extension end to end: connect, compose and send, hits recorded, receipts (how often, how
long ago, bounced), the sender's own view, the lead sidebar, notifications, the sent-report queue
against the server's answers, and sends while the server is down or hanging. One browser, one
server, in order."""

from __future__ import annotations

import re
import time
import urllib.request
from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine, text

from server.tracking.ingest import BatchWriter
from server.tracking.verdicts.context import Windows
from tests.extension.conftest import REP, connect, eventually
from tests.support import make_event
from tests.support.live import flask_cli, http_get

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
LEAD = "lead@example.org"
OTHER = "rep@globex.test"  # a rep of another account
BODY = (
    '<div dir="ltr">Hi Lee,<div>Here is our <a href="https://acme.example/pricing?plan=pro&amp;seats=5">'
    'pricing</a>.</div><div>-- <br><a href="mailto:rep@acme.test">rep@acme.test</a> · '
    '<a href="tel:+15551234567">call</a></div></div>'
)
TIMES = "\u00d7"  # the multiplication sign of a receipt's "3 times"
PIXEL = re.compile(r'<img src="(http://127\.0\.0\.1:\d+/o/([\w-]+)\.([\w-]+)\.[\w-]{43}\.gif)"')


def open_gmail(browser, mailbox, **state):
    for key, value in state.items():
        setattr(mailbox, key, value)
    page = browser.new_page()
    page.goto("https://mail.google.com/mail/u/0/#inbox")
    page.wait_for_selector("html[data-lc-ready]")
    return page


def compose_and_send(page, subject, clicks=1):
    page.wait_for_selector("[data-lc-track]")
    page.fill("input[name=to]", LEAD)
    page.fill("input[name=subject]", subject)
    page.locator("[data-lc-body]").evaluate("(el, html) => { el.innerHTML = html; }", BODY)
    page.click("[data-lc-send]", click_count=clicks)


def send_tracked(browser, mailbox, server, subject) -> str:
    """Send one message from a fresh compose window (each sends once) and wait for the server to
    answer its sent report; its message id, from its pixel."""
    reports = len(server.answered("POST", "/api/v1/messages"))
    page = open_gmail(browser, mailbox, compose=True, rows=[], threads=[])
    compose_and_send(page, subject)
    eventually(page, lambda: len(server.answered("POST", "/api/v1/messages")) > reports)
    assert mailbox.sent[-1]["subject"] == subject
    page.close()
    return PIXEL.search(mailbox.sent[-1]["html"]).group(3)


def test_connecting_through_the_server_sign_in_shows_the_account(connected, server):
    assert f"Connected as {REP} (Acme) to {server.url}." == connected.text_content("#connection")
    assert not connected.is_visible("#error") or connected.text_content("#error") == ""


def test_a_storage_change_keeps_the_preferences_the_rep_is_editing(connected):
    """The options page redraws the connection on storage changes (the worker stores as it polls
    and connects); preferences typed but not saved yet stay as typed."""
    connected.check("#muted")
    connected.fill("#quiet-start", "22:00")
    try:
        connected.evaluate("chrome.storage.local.set({connectError: 'a change to redraw'})")
        eventually(connected, lambda: "a change to redraw" in connected.text_content("#error"))
        connected.wait_for_timeout(500)  # the redraw has finished, preferences and all
        assert connected.is_checked("#muted")
        assert connected.input_value("#quiet-start") == "22:00"
    finally:
        connected.evaluate("chrome.storage.local.set({connectError: ''})")
        eventually(connected, lambda: connected.text_content("#error") == "")
        connected.uncheck("#muted")
        connected.fill("#quiet-start", "")


def test_a_sent_message_is_tracked_and_its_pixel_and_links_are_recorded(
    connected, browser, mailbox, server
):
    checks = len(server.answered("GET", "/api/v1/me"))
    keys = server.answered("GET", "/api/v1/signing-key")
    assert keys == [200], "connecting fetched the signing key"
    page = open_gmail(browser, mailbox, compose=True, rows=[], threads=[])
    # A double click: the second presending comes while the first is being tracked.
    compose_and_send(page, "Pricing for Lee", clicks=2)
    eventually(connected, lambda: mailbox.sent)
    connected.wait_for_timeout(1000)
    assert len(mailbox.sent) == 1, "the message went out more than once"
    # Tracked once: one fresh account check; the key fetched on connecting serves, not refetched.
    assert len(server.answered("GET", "/api/v1/me")) == checks + 1
    assert server.answered("GET", "/api/v1/signing-key") == keys
    sent = mailbox.sent[-1]
    pixel, kid, mid = PIXEL.search(sent["html"]).groups()
    assert pixel.startswith(server.url)
    assert sent["html"].count("/o/") == 1 and "display:none" not in sent["html"]
    clicks = re.findall(r'href="(http://127\.0\.0\.1:\d+/c/[^"]+)"', sent["html"])
    assert len(clicks) == 1 and f"/c/{kid}.{mid}." in clicks[0]
    assert (
        'href="mailto:rep@acme.test"' in sent["html"] and 'href="tel:+15551234567"' in sent["html"]
    )

    # The sent report reaches the server with Gmail's ids.
    detail = eventually(connected, lambda: (d := server.api(f"/messages/{mid}"))[0] == 200 and d[1])
    assert detail["gmail_thread_id"] == mailbox.thread_id and detail["subject"] == "Pricing for Lee"
    assert detail["gmail_message_id"] == mailbox.answered[-1]["messageId"]
    assert detail["recipients"] == [{"email": LEAD, "name": ""}]
    # One report, of the one message sent: the thread holds it alone.
    status, threads = server.post("/threads/status", {"thread_ids": [mailbox.thread_id]})
    assert status == 200 and [m["id"] for m in threads["threads"][mailbox.thread_id]] == [mid]

    # The lead opens the mail and clicks the link.
    urllib.request.urlopen(urllib.request.Request(pixel, headers={"User-Agent": CHROME})).read()
    path = clicks[0].removeprefix(server.url)
    status, _ = http_get(server.proxy.port, path, {"User-Agent": CHROME})
    assert status == 302
    detail = eventually(
        connected, lambda: (d := server.api(f"/messages/{mid}")[1])["clicks"] == 1 and d
    )
    assert detail["opens"] >= 1 and detail["counts"]["human"] >= 1
    assert [e["link"] for e in detail["events"] if e["kind"] == "click"] == [
        "https://acme.example/pricing?plan=pro&seats=5"
    ]
    page.close()


def self_views(server, mid: str) -> int:
    engine = create_engine(server.env["DATABASE_URL"])
    with engine.connect() as conn:
        query = text("SELECT count(*) FROM self_views WHERE message_id = :m")
        count = conn.execute(query, {"m": mid}).scalar_one()
    engine.dispose()
    return count


def sent_message(mailbox):
    html = mailbox.sent[-1]["html"]
    return html, PIXEL.search(html).group(3)


def test_receipts_in_the_thread_list_show_the_servers_data(connected, browser, mailbox, server):
    _, mid = sent_message(mailbox)
    detail = server.api(f"/messages/{mid}")[1]
    row = {"thread_id": mailbox.thread_id, "sender": "me", "subject": "Pricing for Lee"}
    other = {"thread_id": "18c2a5f0e1d2ffff", "sender": "someone", "subject": "Untracked"}
    page = open_gmail(browser, mailbox, compose=False, rows=[row, other], threads=[])
    receipt = page.locator(f'[data-thread-id="{mailbox.thread_id}"] [data-lc-receipt]')
    # Opened and a link clicked: the count of opens, then the click's arrow.
    eventually(connected, lambda: receipt.text_content() == f"✔✔ {detail['opens']}{TIMES} ↗")
    assert receipt.get_attribute("data-state") == "clicked"
    tooltip = receipt.get_attribute("title")
    assert re.search(rf"Opened {detail['opens']} times?, last (just now|\d+ min ago) \(", tooltip)
    assert "1 click" in tooltip
    assert page.text_content('[data-thread-id="18c2a5f0e1d2ffff"] [data-lc-receipt]') == ""
    page.close()


def record(server, events: list[dict]) -> None:
    """Store events through the server's batch writer, the one the tracking sink and Gmail sync
    hand theirs to, with the times the test gives them."""
    engine = create_engine(server.env["DATABASE_URL"])
    try:
        BatchWriter(engine, Windows(scanner=0, burst=3, self_view=1))(events)
    finally:
        engine.dispose()


def report(server, thread: str, subject: str, to: str) -> str:
    """A message the rep sent `to` three hours ago in `thread`, reported; its id."""
    sent = (datetime.now(UTC) - timedelta(hours=3)).isoformat()
    body = {"recipients": [{"email": to}], "subject": subject, "gmail_thread_id": thread}
    status, created = server.post("/messages", body | {"sent_at": sent})
    assert status == 201, created
    return created["id"]


def test_thread_rows_say_how_often_and_how_long_ago_and_show_a_bounce(
    connected, browser, mailbox, server
):
    kid = server.api("/signing-key")[1]["kid"]
    # Other leads than the one the later tests follow.
    read = report(server, "18c2a5f0e1d2aaa1", "Read three times", "reader@example.net")
    bounced = report(server, "18c2a5f0e1d2aaa2", "To an address that is gone", "gone@example.net")
    now = time.time()
    opens = [("human", now - 1000), ("proxy", now - 700), ("human", now - 330)]
    record(
        server,
        [make_event(kid, read, verdict=v, occurred_at=at) for v, at in opens]
        # A scanner after the last open: shown apart, never counted, not the last open.
        + [make_event(kid, read, verdict="scanner", occurred_at=now - 60)]
        # As Gmail sync records a delivery-failure notice.
        + [
            make_event(
                kid, bounced, kind="bounce", verdict="machine", method="",
                reasons="gmail-delivery-failure", occurred_at=now - 2 * 3600 - 600,
            )
        ],
    )  # fmt: skip
    rows = [
        {"thread_id": "18c2a5f0e1d2aaa1", "sender": "me", "subject": "Read three times"},
        {"thread_id": "18c2a5f0e1d2aaa2", "sender": "me", "subject": "To an address that is gone"},
    ]
    page = open_gmail(browser, mailbox, compose=False, rows=rows, threads=[])
    opened = page.locator('[data-thread-id="18c2a5f0e1d2aaa1"] [data-lc-receipt]')
    eventually(connected, lambda: opened.text_content() == f"✔✔ 3{TIMES} ⚙ 1")
    assert opened.get_attribute("data-state") == "opened"
    tooltip = opened.get_attribute("title")
    assert tooltip.startswith("Opened 3 times, last 5 min ago ("), tooltip
    assert "Machine activity (not counted): 1 hit" in tooltip

    gone = page.locator('[data-thread-id="18c2a5f0e1d2aaa2"] [data-lc-receipt]')
    eventually(connected, lambda: gone.text_content() == "⚠ Bounced")
    assert gone.get_attribute("data-state") == "bounced"
    assert re.match(r"Bounced 2 h ago \(.+\): not delivered$", gone.get_attribute("title"))
    page.close()


def test_the_timeline_shows_and_the_senders_own_view_is_not_an_open(
    connected, browser, mailbox, server
):
    html, mid = sent_message(mailbox)
    before = server.api(f"/messages/{mid}")[1]
    # Past the self-view window (1 s here) after the lead's open, so that open stays the lead's.
    last_open = datetime.fromisoformat(before["last_open_at"].replace("Z", "+00:00"))
    eventually(connected, lambda: datetime.now(UTC) - last_open > timedelta(seconds=2))
    pixel = PIXEL.search(html).group(1)
    proxied = f"https://ci3.googleusercontent.com/meips/ADKq_NZ=s0-d-e1-ft#{pixel}"
    thread = {
        "thread_id": mailbox.thread_id,
        "subject": "Pricing for Lee",
        "messages": [{"sender": REP, "to": LEAD, "html": html + f'<img src="{proxied}">'}],
    }
    page = open_gmail(browser, mailbox, compose=False, rows=[], threads=[thread])
    timeline = page.locator("[data-lc-timeline]")
    timeline.wait_for()
    assert "Clicked https://acme.example/pricing?plan=pro&seats=5" in timeline.text_content()
    assert "Opened — desktop" in timeline.text_content()

    # The pixel is blocked in the rep's Gmail (direct and through Gmail's proxy); the self-view
    # signal would label anything that got through as the sender's.
    connected.wait_for_timeout(2000)
    after = server.api(f"/messages/{mid}")[1]
    assert after["opens"] == before["opens"], after["events"]
    new = after["events"][len(before["events"]) :]
    assert new == [], new
    assert mailbox.proxied == [], "the proxied pixel was requested"
    assert self_views(server, mid) >= 1, "the self-view signal was not sent"
    page.close()

    # Control: the same proxied image in a page that is not Gmail does go out, so the check above
    # sees a request when there is one.
    show_elsewhere(browser, f'<img src="{proxied}">')
    eventually(connected, lambda: mailbox.proxied)
    assert mailbox.proxied[0].startswith("https://ci3.googleusercontent.com/meips/")
    mailbox.proxied.clear()

    # The direct pixel: Chromium never loads an http loopback image into an https page (mixed
    # content, local network access), with or without the extension, so no page can show its rule
    # at work. Chrome's own matcher says what the worker's rules do with this very request.
    assert dnr_rules(browser, pixel, "https://mail.google.com") == [1]
    assert dnr_rules(browser, proxied, "https://mail.google.com") == [2]
    assert dnr_rules(browser, pixel, "https://example.org") == [], "only Gmail's requests"
    assert dnr_rules(browser, pixel.replace("/o/", "/c/"), "https://mail.google.com") == []


def show_elsewhere(browser, html: str) -> None:
    """Open `html` as a page of https://example.org/ (not Gmail)."""
    browser.route(
        "https://example.org/", lambda route: route.fulfill(content_type="text/html", body=html)
    )
    page = browser.new_page()
    page.goto("https://example.org/")
    page.close()
    browser.unroute("https://example.org/")


def dnr_rules(browser, url: str, initiator: str) -> list[int]:
    """The ids of the extension's network rules an image request for `url` from `initiator` would
    match (testMatchOutcome: unpacked extensions only, as in these tests)."""
    return browser.service_workers[0].evaluate(
        """([url, initiator]) => chrome.declarativeNetRequest
            .testMatchOutcome({ url, initiator, type: "image" })
            .then((outcome) => outcome.matchedRules.map((rule) => rule.ruleId))""",
        [url, initiator],
    )


def test_the_sidebar_shows_the_lead_as_the_contacts_api_has_them(
    connected, browser, mailbox, server, tmp_path
):
    csv = tmp_path / "contacts.csv"
    csv.write_text(f"email,name,title,company\n{LEAD},Lee Park,CTO,Example Org\n")
    flask_cli(server.env, "contacts", "import", str(csv), "--account", "Acme")
    html, _ = sent_message(mailbox)
    thread = {
        "thread_id": mailbox.thread_id,
        "subject": "Pricing for Lee",
        "messages": [{"sender": REP, "to": LEAD, "html": html}],
    }
    page = open_gmail(browser, mailbox, compose=False, rows=[], threads=[thread])
    card = page.locator(f'[data-lc-contact="{LEAD}"]')
    card.wait_for()
    assert card.locator("h3").text_content() == "Lee Park"
    assert card.locator(".lc-role").text_content() == "CTO · Example Org"
    status, contact = server.api(f"/contacts/{LEAD}")
    assert status == 200
    engagement = contact["engagement"]
    assert engagement["opens"] >= 1 and engagement["clicks"] == 1
    assert card.locator(".lc-score").text_content() == f"Score {engagement['score']}/100"
    counts = card.locator(".lc-counts").text_content()
    assert counts.startswith(f"{engagement['opens']} open") and "1 click" in counts
    assert "Clicked https://acme.example/pricing?plan=pro&seats=5" in card.text_content()
    # Its only tracked message is this thread's own: not listed among the "other" ones.
    assert "Pricing for Lee" not in card.text_content()
    assert REP not in [
        c.get_attribute("data-lc-contact") for c in page.locator(".lc-contact").all()
    ]
    page.close()

    # Beside another thread with the lead, that message is one of the others.
    other = {
        "thread_id": "18c2a5f0e1d2cccc",
        "subject": "Quick question",
        "messages": [{"sender": LEAD, "to": REP, "html": "<p>Do you ship to Leeds?</p>"}],
    }
    page = open_gmail(browser, mailbox, compose=False, rows=[], threads=[other])
    listed = page.locator(f'[data-lc-contact="{LEAD}"] .lc-messages li')
    listed.first.wait_for()
    assert [item.locator("strong").text_content() for item in listed.all()] == ["Pricing for Lee"]
    page.close()


def poll_now(browser):
    """Fire the worker's 30 s alarm now, through the real alarm path."""
    worker = browser.service_workers[0]
    worker.evaluate("chrome.alarms.create('lc.poll', {when: Date.now(), periodInMinutes: 0.5})")


def poll_together(options, times=6):
    """Start `times` polls at once, as Gmail tabs opening together do: each asks the worker to
    catch up (retry the queue, poll). The options page may ask the same."""
    options.evaluate(
        "(n) => Promise.all(Array.from({ length: n },"
        " () => chrome.runtime.sendMessage({ type: 'lc.opened' })))",
        times,
    )


def test_a_new_open_is_notified_once(connected, browser, mailbox, server):
    """Polls started together (the alarm, Gmail opening) share one poll: no event is shown twice."""
    html, _ = sent_message(mailbox)
    page = open_gmail(browser, mailbox, compose=False, rows=[], threads=[])
    notices = page.locator("[data-lc-butterbar] p", has_text="Email opened: Pricing for Lee")
    poll_now(browser)  # the worker's cursor is now at least this recent
    connected.wait_for_timeout(1000)
    before = notices.count()
    polls = len(server.answered("GET", "/api/v1/activity"))
    poll_together(connected)
    eventually(connected, lambda: len(server.answered("GET", "/api/v1/activity")) > polls)
    connected.wait_for_timeout(1000)
    # Six at once ask the server once (twice if the first poll was done before the last began; a
    # poll of the alarm's may land among them), never once each.
    assert len(server.answered("GET", "/api/v1/activity")) - polls <= 3
    pixel = PIXEL.search(html).group(1)
    safari = CHROME.replace("Windows NT 10.0; Win64; x64", "Macintosh; Intel Mac OS X 14_1")
    urllib.request.urlopen(urllib.request.Request(pixel, headers={"User-Agent": safari})).read()

    def notified():
        poll_now(browser)
        poll_together(connected)
        return notices.count() > before

    eventually(connected, notified, timeout=30)
    for _ in range(3):
        poll_now(browser)
        poll_together(connected)
        connected.wait_for_timeout(500)
    assert notices.count() == before + 1
    shown = browser.service_workers[0].evaluate(
        "new Promise(r => chrome.notifications.getAll(n => r(Object.keys(n))))"
    )
    assert any(n.startswith("lc-") for n in shown)
    page.close()


def test_a_report_the_server_missed_is_queued_and_delivered_later(
    connected, browser, mailbox, server
):
    mailbox.on_send = server.cut  # the server goes away between tracking and the sent report
    try:
        page = open_gmail(browser, mailbox, compose=True, rows=[], threads=[])
        compose_and_send(page, "Reported later")
        eventually(
            connected, lambda: mailbox.sent and mailbox.sent[-1]["subject"] == "Reported later"
        )
        mid = PIXEL.search(mailbox.sent[-1]["html"]).group(3)
        eventually(connected, lambda: "1 sent report waiting" in connected.text_content("#queue"))
        assert server.api(f"/messages/{mid}")[0] == 404
    finally:
        mailbox.on_send = None
        server.restore()
    page.close()
    open_gmail(browser, mailbox, compose=False, rows=[], threads=[]).close()
    detail = eventually(connected, lambda: (d := server.api(f"/messages/{mid}"))[0] == 200 and d[1])
    assert detail["subject"] == "Reported later" and detail["gmail_thread_id"] == mailbox.thread_id


def test_reports_the_server_refuses_for_good_are_dropped_so_later_ones_still_go(
    connected, browser, mailbox, server
):
    """A report the server will never take (a subject longer than mail allows: 400) is dropped.
    Kept, it would hold up every report queued behind it. Another rep cannot claim the id of a
    message meanwhile: ids are made with the sender's key."""
    flask_cli(server.env, "users", "create", OTHER, "--account", "Globex")
    other = flask_cli(server.env, "tokens", "create", OTHER).strip()
    taken = []

    def registered_by_another_rep_first():
        mid = PIXEL.search(mailbox.sent[-1]["html"]).group(3)
        theirs = {"id": mid, "subject": "Theirs", "recipients": [{"email": LEAD}]}
        taken.append(server.post("/messages", theirs, token=other)[0])

    mailbox.on_send = registered_by_another_rep_first  # as Gmail sends, before the report
    try:
        claimed = send_tracked(browser, mailbox, server, "Id claimed meanwhile")
    finally:
        mailbox.on_send = None
    assert taken == [400]
    too_long = ("Pricing " * 125).strip()  # 999 characters: mail allows 998
    invalid = send_tracked(browser, mailbox, server, too_long)
    after = send_tracked(browser, mailbox, server, "After the refusals")

    assert server.answered("POST", "/api/v1/messages")[-3:] == [201, 400, 201]
    detail = server.api(f"/messages/{after}")[1]
    assert detail["subject"] == "After the refusals"
    assert detail["gmail_message_id"] == mailbox.answered[-1]["messageId"]
    eventually(connected, lambda: connected.text_content("#queue") == "")
    assert server.api(f"/messages/{invalid}")[0] == 404
    assert server.api(f"/messages/{claimed}")[1]["subject"] == "Id claimed meanwhile"
    assert server.api(f"/messages/{claimed}", token=other)[0] == 404
    # Nothing retried: the alarm or Gmail opening would have found them still queued.
    open_gmail(browser, mailbox, compose=False, rows=[], threads=[]).close()
    connected.wait_for_timeout(1000)
    assert server.answered("POST", "/api/v1/messages")[-3:] == [201, 400, 201]


EXTENSION_TOKEN = """() => new Promise((resolve, reject) => {
    const open = indexedDB.open("leadcamp-secrets");
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
        const get = open.result.transaction("kv").objectStore("kv").get("token");
        get.onsuccess = () => { open.result.close(); resolve(get.result); };
        get.onerror = () => reject(get.error);
    };
})"""


def test_a_report_refused_for_a_revoked_sign_in_waits_until_the_rep_connects_again(
    connected, browser, mailbox, server
):
    """401: the report is the rep's, only the sign-in is not; it is kept, and retried in vain,
    until the rep connects again."""
    token = browser.service_workers[0].evaluate(EXTENSION_TOKEN)
    # An admin revokes the extension's token as Gmail sends, after the message was tracked.
    mailbox.on_send = lambda: flask_cli(server.env, "tokens", "revoke", token)
    try:
        mid = send_tracked(browser, mailbox, server, "Reported after connecting again")
    finally:
        mailbox.on_send = None
    assert server.answered("POST", "/api/v1/messages")[-1] == 401
    eventually(connected, lambda: "1 sent report waiting" in connected.text_content("#queue"))

    refused = len(server.answered("POST", "/api/v1/messages"))
    open_gmail(browser, mailbox, compose=False, rows=[], threads=[]).close()  # retries the queue
    eventually(connected, lambda: len(server.answered("POST", "/api/v1/messages")) > refused)
    assert server.answered("POST", "/api/v1/messages")[-1] == 401
    assert "1 sent report waiting" in connected.text_content("#queue")
    assert server.api(f"/messages/{mid}")[0] == 404

    connect(browser, connected, server)
    open_gmail(browser, mailbox, compose=False, rows=[], threads=[]).close()
    detail = eventually(connected, lambda: (d := server.api(f"/messages/{mid}"))[0] == 200 and d[1])
    assert detail["subject"] == "Reported after connecting again"
    assert detail["gmail_thread_id"] == mailbox.thread_id
    eventually(connected, lambda: connected.text_content("#queue") == "")


def test_no_tracking_when_switched_off_or_only_to_oneself(connected, browser, mailbox, server):
    page = open_gmail(browser, mailbox, compose=True, rows=[], threads=[])
    page.wait_for_selector("[data-lc-track]")
    # The account tracks by default, and the rep set no defaults of their own: both parts.
    assert page.is_checked("[data-lc-track-opens]") and page.is_checked("[data-lc-track-links]")
    page.uncheck("[data-lc-track-opens]")
    page.uncheck("[data-lc-track-links]")
    count = len(mailbox.sent)
    compose_and_send(page, "Not tracked on purpose")
    eventually(connected, lambda: len(mailbox.sent) > count)
    assert mailbox.sent[-1]["html"] == BODY
    page.close()

    checks = len(server.answered("GET", "/api/v1/me"))
    reports = len(server.answered("POST", "/api/v1/messages"))
    page = open_gmail(browser, mailbox, compose=True, rows=[], threads=[])
    page.wait_for_selector("[data-lc-track]")
    page.fill("input[name=to]", REP.upper())
    page.fill("input[name=subject]", "Note to self")
    page.locator("[data-lc-body]").evaluate("(el, html) => { el.innerHTML = html; }", BODY)
    page.click("[data-lc-send]")
    eventually(connected, lambda: mailbox.sent[-1]["subject"] == "Note to self")
    assert mailbox.sent[-1]["html"] == BODY
    connected.wait_for_timeout(1000)  # time for a sent report, were one made
    assert page.text_content("[data-lc-butterbar]") == ""
    # Not even asked for: the worker's fresh account check for tracking never happened.
    assert len(server.answered("GET", "/api/v1/me")) == checks, "tracking was asked for"
    assert len(server.answered("POST", "/api/v1/messages")) == reports, "a report was sent"
    page.close()


def test_with_the_server_down_the_mail_goes_out_untracked_and_the_rep_sees_why(
    connected, browser, mailbox, server
):
    server.cut()
    try:
        page = open_gmail(browser, mailbox, compose=True, rows=[], threads=[])
        count = len(mailbox.sent)
        compose_and_send(page, "While the server is down")
        eventually(connected, lambda: len(mailbox.sent) > count)
        sent = mailbox.sent[-1]
        assert sent["subject"] == "While the server is down"
        assert "/o/" not in sent["html"] and "/c/" not in sent["html"]
        assert 'href="https://acme.example/pricing?plan=pro&amp;seats=5"' in sent["html"]
        notice = page.locator("[data-lc-butterbar]")
        eventually(connected, lambda: "Sent untracked" in notice.text_content())
        assert "cannot be reached" in notice.text_content()
        assert "cannot be reached" in page.text_content("[data-lc-note]")
        page.close()
    finally:
        server.restore()


def test_a_server_that_does_not_answer_holds_the_send_only_for_its_budget(
    connected, browser, mailbox, server
):
    """The send-time check has one 4 s budget, well inside the compose window's 8 s patience: a
    hanging server costs the rep those seconds, then the mail goes out untracked, saying why."""
    page = open_gmail(browser, mailbox, compose=True, rows=[], threads=[])
    count = len(mailbox.sent)
    with server.stalled():
        compose_and_send(page, "While the server hangs")
        clicked = time.monotonic()
        eventually(connected, lambda: len(mailbox.sent) > count)
        waited = time.monotonic() - clicked
    sent = mailbox.sent[-1]
    assert sent["subject"] == "While the server hangs"
    assert "/o/" not in sent["html"] and "/c/" not in sent["html"]
    assert 3.5 < waited < 6, f"the send waited {waited:.1f} s"
    notice = page.locator("[data-lc-butterbar]")
    eventually(connected, lambda: "Sent untracked" in notice.text_content())
    assert "cannot be reached" in notice.text_content()
    page.close()


def extension_tokens(server) -> tuple[int, int]:
    """The extension's tokens at the server: (live, revoked)."""
    engine = create_engine(server.env["DATABASE_URL"])
    with engine.connect() as conn:
        query = "SELECT count(*) FROM api_tokens WHERE label = 'gmail extension' AND {}"
        live = conn.execute(text(query.format("revoked_at IS NULL"))).scalar_one()
        revoked = conn.execute(text(query.format("revoked_at IS NOT NULL"))).scalar_one()
    engine.dispose()
    return live, revoked


def test_sign_out_revokes_the_token(connected, server):
    live, revoked = extension_tokens(server)
    assert live == 1
    connected.click("#sign-out")
    connected.wait_for_selector("#connection[data-connected=false]")
    assert connected.text_content("#connection") == "Not connected."
    assert extension_tokens(server) == (0, revoked + 1)
