"""The rep's pages over HTTP: home, tracked mail, a message, activity and its updates."""

from __future__ import annotations

import re
import time

from server.messages import activity
from tests.support.tracked import Hit, tracked


def rows(html: str, table: str) -> list[str]:
    """The text of each body row of the table with class `table`, tags stripped."""
    body = html.split(f'<table class="{table}">', 1)[1].split("</table>", 1)[0]
    body = body.split("<tbody", 1)[1]
    found = re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", r)).strip() for r in found]


def test_home_shows_who_opened_or_clicked_today_on_which_device(app, desk, login):
    page = login(desk.rep).get("/").text
    today = rows(page, "today")
    assert len(today) == 3  # Ana's open and click, Cy's reply; no machine, no other rep's
    assert "Ana Ruiz clicked Outlook / Windows / desktop" in today[1]
    assert "Ana Ruiz opened Mobile Safari / iOS / mobile ES" in today[2]
    assert today[0].startswith("cy@lead.test replied — —")
    assert "tokens create" not in page
    for path in ("/mail", "/activity", "/admin/contacts"):
        assert f'href="{path}' in page


def test_navigation_offers_tracked_mail_activity_and_contacts_to_everyone(app, desk, login):
    for user in (desk.rep, desk.admin):
        page = login(user).get("/mail").text
        nav = page.split('aria-label="Main"', 1)[1].split("</nav>", 1)[0]
        assert re.findall(r">([^<]+)</a>", nav)[:3] == ["Tracked mail", "Activity", "Contacts"]
        sub = page.split('class="subnav"', 1)[1].split("</nav>", 1)[0]
        assert 'href="/mail" aria-current="page">Tracked mail' in sub
        assert ">Activity<" in sub and ">Contacts<" in sub


def test_tracked_mail_lists_filters_and_searches_the_reps_own(app, desk, login):
    client = login(desk.rep)
    listed = rows(client.get("/mail").text, "mail")
    assert [r.split(" to ")[0] for r in listed] == [
        "Nothing yet",
        "Bounced",
        "Replied",
        "Prefetched only",
        "Pricing for Lead Co",
    ]
    assert "sent" in listed[3]  # Apple's prefetch and a scanner are no open
    page = client.get("/mail?show=opened_not_replied").text
    assert [r.split(" to ")[0] for r in rows(page, "mail")] == ["Pricing for Lead Co"]
    assert [
        r.split(" to ")[0] for r in rows(client.get("/mail?show=no_activity").text, "mail")
    ] == [
        "Nothing yet",
        "Prefetched only",
    ]
    assert "Bounced" in client.get("/mail?show=bounced").text
    assert rows(client.get("/mail?q=ana@").text, "mail")[0].startswith("Pricing for Lead Co")
    assert client.get("/mail?show=nonsense&offset=-3").status_code == 200
    assert "Globex secret" not in client.get("/mail").text


def test_an_admin_lists_the_account_with_senders(app, desk, login):
    page = login(desk.admin).get("/mail").text
    assert "Nina&#39;s mail" in page and "from nina@acme.test" in page
    assert "Globex secret" not in page


def test_message_page_words_devices_places_and_folded_machine_hits(app, desk, login):
    client = login(desk.rep)
    page = client.get(f"/mail/{desk.mail['ana'].id}").text
    hits = page.split('<details class="machine-hits">', 1)
    real, machine = rows(hits[0].split("<h2>Activity</h2>")[1], "hits"), rows(hits[1], "hits")
    assert [r.split(" UTC ", 1)[1] for r in real] == [
        "click https://acme.test/demo a person Outlook / Windows / desktop ES",
        "open a person Mobile Safari / iOS / mobile ES",
    ]
    assert len(machine) == 1 and "security scanner — not counted" in machine[0]
    assert "Microsoft Defender Safe Links checked the link" in machine[0]
    assert "<summary>Machine activity: 1 hit(s), not counted</summary>" in page
    links = rows(page, "links")
    assert links == ["https://acme.test/pricing 0 1", "https://acme.test/demo 1 0"]
    assert re.search(r'<time datetime="\d{4}-\d\d-\d\dT[\d:.]+Z" title="[^"]+ UTC">', page)
    prefetched = client.get(f"/mail/{desk.mail['bo'].id}").text
    assert "Apple Mail prefetch — not counted" in prefetched


def test_another_reps_or_accounts_message_is_not_found(app, desk, login):
    client = login(desk.rep)
    for name in ("nina", "globex"):
        assert client.get(f"/mail/{desk.mail[name].id}").status_code == 404
    assert login(desk.admin).get(f"/mail/{desk.mail['nina'].id}").status_code == 200
    assert login(desk.other).get(f"/mail/{desk.mail['ana'].id}").status_code == 404
    assert app.test_client().get("/mail").status_code == 302  # to sign-in


def test_activity_pages_back_and_updates_arrive_after_the_cursor(app, desk, login):
    client = login(desk.rep)
    page = client.get("/activity").text
    listed = rows(page, "activity")
    kinds = ("bounced", "replied", "clicked", "opened")
    assert [next(k for k in kinds if f" {k} " in r) for r in listed] == [
        "bounced",
        "replied",
        "clicked",
        "opened",
    ]
    cursor = re.search(r'data-cursor="([0-9a-f]+)"', page).group(1)
    assert client.get("/activity/updates?after=" + cursor).json["events"] == []
    # As if the page had been opened a minute ago: a hit stored since has settled by now.
    cursor = f"{int(cursor, 16) - 60 * 10**9:x}"
    tracked(desk.rep, "hal@lead.test", "Fresh", [Hit("open", activity.SETTLE_SECONDS * 6)])
    tracked(desk.colleague, "ivy@lead.test", "Not the rep's", [Hit("open", 10)])
    found = client.get("/activity/updates?after=" + cursor).json
    assert [e["subject"] for e in found["events"]] == ["Fresh"]
    assert 'data-id="' in found["rows"][0] and "hal@lead.test" in found["rows"][0]
    assert found["cursor"] > cursor
    assert client.get("/activity/updates?after=<script>").status_code == 400
    older = client.get(f"/activity?before={time.time_ns():x}").text
    assert "data-cursor" not in older  # an older page does not follow live


def test_contacts_sort_by_score_and_the_timeline_in_words(app, desk, login):
    client = login(desk.rep)
    hot = rows(client.get("/admin/contacts?sort=score&min_score=1").text, "contacts")
    # Cy's reply outweighs Ana's open and click (docs/contacts.md); Bo's machine hits count 0.
    assert [r.split(" ")[0] for r in hot] == ["cy@lead.test", "Ana"]
    page = client.get("/admin/contacts/view/ana@lead.test").text
    timeline = page.split('<table class="timeline">', 1)[1].split("</table>", 1)[0]
    assert '<th scope="col">Device</th>' in timeline
    assert "Mobile Safari / iOS / mobile" in timeline
    assert 'class="machine"' in timeline and "security scanner — not counted" in timeline
