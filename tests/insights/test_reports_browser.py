"""The Reports page in Debian's headless Chromium: the charts are drawn, each with its table,
and the options change what is shown. A failure leaves a screenshot in test-artifacts/."""

from __future__ import annotations

import pytest

from tests.support import reports as history
from tests.support.browser import sign_in

pytestmark = pytest.mark.browser


def test_the_report_page_draws_its_charts_and_tables(app, page, live_app, make_user):
    people = history.build(make_user)
    sign_in(page, live_app, app, people.admin)
    page.get_by_role("link", name="Reports").first.click()
    page.wait_for_url(f"{live_app}/reports")
    page.goto(f"{live_app}/reports?period=week&periods=4&date=2026-11-25")

    for name in ("Messages sent", "Real open, click, reply and bounce rates", "Who made the hits"):
        chart = page.get_by_role("img", name=name, exact=True)
        assert chart.is_visible()
        box = chart.bounding_box()
        assert box["width"] > 300 and box["height"] > 100  # drawn, not collapsed
    # Four weeks, four bars of sent messages; the hit mix stacks its verdicts.
    assert page.locator("#chart-sent rect").count() == 4
    assert page.locator("#chart-hits rect").count() >= 5
    assert page.locator("#chart-rates polyline").count() == 4

    sent = page.get_by_role("table", name="Messages sent per week")
    assert [c.inner_text() for c in sent.locator("tbody td").all()] == ["0", "0", "3", "6"]
    comparison = page.get_by_role("table", name="2026-11-23 compared with 2026-11-16")
    assert "60.0%" in comparison.get_by_role("row", name="Open rate (real)").inner_text()
    reps = page.get_by_role("table", name="Each rep's 2026-11-23, with the change from 2026-11-16")
    assert reps.get_by_role("row", name="rep@acme.test").is_visible()

    # One rep, by month.
    page.get_by_label("Who", exact=True).select_option(label="other@acme.test")
    page.get_by_label("Period", exact=True).select_option("month")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**/reports?period=month*")
    assert page.get_by_text("other@acme.test: messages sent in each month").is_visible()
    assert page.get_by_role("img", name="Messages sent").is_visible()
