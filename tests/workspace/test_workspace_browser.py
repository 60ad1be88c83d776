"""The rep's flows in Debian's headless Chromium, against the app on a real socket: from sign-in
to who opened today, tracked mail with a filter, a message with its machine hits folded away,
the activity page receiving a live update, and hot leads sorted by score."""

from __future__ import annotations

import urllib.request

import pytest

from tests.support import pixel_for, wait_for
from tests.support.browser import sign_in

pytestmark = pytest.mark.browser

IPHONE_MAIL = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148"
)


def test_a_new_rep_finds_todays_leads_and_filters_tracked_mail(app, page, live_app, desk):
    sign_in(page, live_app, app, desk.rep)
    today = page.locator("table.today tbody tr")
    assert today.count() == 3
    assert "Mobile Safari / iOS / mobile" in today.nth(2).inner_text()
    # Times read as relative, in the browser's own zone; the UTC text stays as the title.
    first = page.locator("table.today time").first
    assert "ago" in first.inner_text() and first.get_attribute("title").endswith("UTC")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Tracked mail").click()
    assert page.get_by_role("heading", name="Tracked mail").is_visible()
    assert page.locator("table.mail tbody tr").count() == 5
    page.get_by_label("Show").select_option("opened_not_replied")
    page.get_by_role("button", name="Show").click()
    rows = page.locator("table.mail tbody tr")
    assert rows.count() == 1 and "Pricing for Lead Co" in rows.first.inner_text()
    assert "clicked" in rows.first.inner_text()


def test_the_message_page_folds_machine_hits_away(app, page, live_app, desk):
    sign_in(page, live_app, app, desk.rep)
    page.goto(f"{live_app}/mail")
    page.get_by_role("link", name="Pricing for Lead Co").click()
    real = page.locator("table.hits").first
    assert "Outlook / Windows / desktop" in real.inner_text()
    folded = page.locator("details.machine-hits")
    scanner = folded.get_by_text("security scanner — not counted")
    assert not scanner.is_visible()
    folded.locator("summary").click()
    assert scanner.is_visible()
    assert "Safe Links" in folded.inner_text()


def test_the_activity_page_receives_a_live_update(app, page, live_app, desk):
    sign_in(page, live_app, app, desk.rep)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Activity").click()
    assert page.locator("#activity-rows tr").count() == 4
    message = desk.mail["ed"]
    request = urllib.request.Request(
        live_app + pixel_for("test-link-secret", message.kid, message.id),
        headers={"User-Agent": IPHONE_MAIL, "Accept-Language": "en"},
    )
    with urllib.request.urlopen(request) as answer:
        assert answer.status == 200
    app.extensions["leadcamp.sink"].flush()
    fresh = page.locator("#activity-rows tr.new")
    # The page polls every few seconds; the feed hands a hit out once it has settled.
    assert wait_for(lambda: fresh.count() == 1, timeout=30, every=0.25)
    text = fresh.first.inner_text()
    assert "ed@lead.test" in text and "opened" in text and "Nothing yet" in text
    assert "iOS" in text
    assert page.locator("#activity-rows tr").first.get_attribute("class") == "new"


def test_hot_leads_sort_by_score(app, page, live_app, desk):
    sign_in(page, live_app, app, desk.rep)
    page.get_by_role("link", name="Hot leads").click()
    rows = page.locator("table.contacts tbody tr")
    assert rows.count() == 2
    assert rows.nth(0).inner_text().startswith("cy@lead.test")
    assert rows.nth(1).inner_text().startswith("Ana Ruiz")
    page.get_by_label("Sort by").select_option("email")
    page.get_by_label("Score at least").fill("")
    page.get_by_role("button", name="Show").click()
    # Every contact of the account: Nina's lead too, though the rep's scores never count hers.
    assert page.locator("table.contacts tbody tr").count() == 6
