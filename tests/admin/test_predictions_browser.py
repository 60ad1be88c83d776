"""The latest backtest in Debian's headless Chromium: on the settings page, and on the
/predictions page it links to, with the signed-in rep's threads at risk."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from server.extensions import db
from server.models import Event
from server.predictions import backtest, seeding, service
from server.tracking.summaries import add_to_summaries
from tests.support.admin import add_message
from tests.support.browser import sign_in

pytestmark = pytest.mark.browser


def opened_days_ago(user, days: int):
    """A message of the user's really opened `days` days ago, unanswered."""
    message = add_message(user, "lead@customer.example", events=0)
    message.sent_at = datetime.now(UTC) - timedelta(days=days + 1)
    at = datetime.now(UTC) - timedelta(days=days)
    db.session.add(Event(id=f"{message.id[:20]}000000000001", account_id=message.account_id,
                         message_id=message.id, kid=message.kid, kind="open", occurred_at=at,
                         verdict="proxy"))  # fmt: skip
    add_to_summaries(db.session.connection(), [
        {"message_id": message.id, "account_id": message.account_id, "kind": "open",
         "verdict": "proxy", "occurred_at": at.timestamp()}
    ])  # fmt: skip
    db.session.commit()
    return message


def test_the_latest_backtest_on_settings_and_predictions_pages(
    app, page, live_app, people, tmp_path
):
    try:
        check_pages(app, page, live_app, people)
    except BaseException:
        path = tmp_path / "predictions-failure.png"
        page.screenshot(path=str(path), full_page=True)
        print(f"screenshot of the failing page: {path}")
        raise


def check_pages(app, page, live_app, people) -> None:
    """The settings page shows the latest backtest and links to /predictions, which shows it
    too with the threads at risk; another account sees none of it."""
    seeding.seed(db.session, "Acme", 400, 4)
    result, model = backtest.run(db.session, people.admin.account_id, datetime.now(UTC), weeks=3)
    service.store(db.session, people.admin.account_id, result, model)
    risky = opened_days_ago(people.rep, 5)
    db.session.commit()
    reply = f"{result['reply']['model']['log_loss']:.4f}"
    shown = "yes" if result["reply"]["beats_baseline"] else "no"

    sign_in(page, live_app, app, people.admin)
    page.goto(f"{live_app}/admin/settings")
    assert page.get_by_role("heading", name="Predictions backtest").is_visible()
    row = page.get_by_role("row", name="Reply within 7 days")
    assert reply in row.inner_text() and row.get_by_role("cell").last.inner_text() == shown
    page.get_by_role("link", name="Predictions and threads at risk").click()
    page.wait_for_url(f"{live_app}/predictions/")
    assert page.get_by_role("heading", name="Latest backtest").is_visible()
    assert reply in page.get_by_role("row", name="Reply within 7 days").inner_text()
    assert risky.subject in page.get_by_role("table").last.inner_text()  # the admin sees all

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, live_app, app, people.other)
    page.goto(f"{live_app}/predictions/")
    assert "No backtest has run for this account yet" in page.content()  # Globex: nothing
    assert risky.subject not in page.content()
