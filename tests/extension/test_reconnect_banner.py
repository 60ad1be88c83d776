"""The extension's "Reconnect Gmail" banner: shown in Gmail when the server can no longer read the
rep's mailbox (Google revoked or expired the grant, or the sync stalled), never when it is healthy.
Gmail opening polls the activity feed, whose answer carries the health, so a grant that just died
shows at once, and no request of its own is made for it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine, delete, select
from sqlalchemy.orm import Session

from server.models import GmailMailbox, User
from tests.extension.conftest import REP


def set_mailbox(server, **fields) -> None:
    """The rep's mailbox at the server as the sync left it (the live server has no Google to
    sync with, so the test sets what a sync would have recorded)."""
    engine = create_engine(server.env["DATABASE_URL"])
    with Session(engine) as session:
        user = session.scalar(select(User).where(User.email == REP))
        session.execute(delete(GmailMailbox).where(GmailMailbox.user_id == user.id))
        now = datetime.now(UTC)
        values = {"status": "ok", "last_synced_at": now, "connected_at": now - timedelta(days=7)}
        session.add(
            GmailMailbox(
                account_id=user.account_id,
                user_id=user.id,
                email=REP,
                refresh_token_encrypted="(not used: this server does not sync)",
                scopes="openid https://www.googleapis.com/auth/gmail.metadata",
                **(values | fields),
            )
        )
        session.commit()
    engine.dispose()


def open_gmail(browser):
    """A Gmail tab, once the banner feature has said what the worker last heard."""
    page = browser.new_page()
    page.goto("https://mail.google.com/mail/u/0/#inbox")
    page.wait_for_selector("html[data-lc-ready]")
    page.wait_for_selector("html[data-lc-banner-checked]")
    return page


def banner_appears(page):
    """The banner, once the poll Gmail's opening made has brought the news."""
    page.wait_for_selector("[data-lc-banner]", timeout=30_000)
    return page.locator("[data-lc-banner]")


def test_a_mailbox_needing_a_reconnect_shows_the_banner_a_healthy_one_does_not(
    connected, browser, mailbox, server
):
    set_mailbox(server)
    page = open_gmail(browser)
    assert page.locator("[data-lc-banner]").count() == 0
    page.close()

    # Google refused the grant at the last sync (revoked, or the 7 days of testing mode are up).
    set_mailbox(
        server, status="reconnect_needed", status_detail="Token has been expired or revoked."
    )
    polls = len(server.answered("GET", "/api/v1/activity"))
    page = open_gmail(browser)
    banner = banner_appears(page)
    assert len(server.answered("GET", "/api/v1/activity")) > polls
    assert "Leadcamp lost access to your Gmail" in banner.text_content()
    link = banner.locator("a")
    assert link.text_content() == "Reconnect Gmail"
    assert link.get_attribute("href") == f"{server.url}/auth/google"
    assert page.locator("[data-lc-banner]").count() == 1
    page.close()

    set_mailbox(server)  # reconnected
    page = open_gmail(browser)
    # The worker last heard "reconnect needed": said at first, taken back once the poll answers.
    page.wait_for_selector("[data-lc-banner]", state="detached", timeout=30_000)
    page.close()


def test_a_stalled_sync_shows_the_banner(connected, browser, mailbox, server):
    set_mailbox(server, last_synced_at=datetime.now(UTC) - timedelta(hours=3))
    page = open_gmail(browser)
    banner = banner_appears(page)
    assert "has not been able to sync your Gmail" in banner.text_content()
    assert banner.locator("a").get_attribute("href") == f"{server.url}/auth/google"
    page.close()
