"""The team page says, per member, whether their Gmail is syncing, in plain words."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest

from server.extensions import db
from server.models import GmailMailbox
from tests.support.google import METADATA, SIGN_IN, connect_mailbox, with_google


@pytest.fixture
def settings(settings):
    """Google configured: the members connect Gmail."""
    return with_google(settings)


def gmail_cell(page: str, email: str) -> str:
    """The text of the Gmail column in the member's row."""
    row = re.search(rf'<tr>\s*<th scope="row">{re.escape(email)}.*?</tr>', page, re.S).group(0)
    cell = re.search(r'<td class="gmail-[a-z_]+">(.*?)</td>', row, re.S).group(1)
    return html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()


def test_each_members_gmail_status_is_shown(app, login, people, google):
    client = login(people.admin)
    page = client.get("/admin/team").text
    assert '<th scope="col">Gmail</th>' in page
    assert gmail_cell(page, "rep@acme.test") == "not connected"

    box = connect_mailbox(app, people.rep, google, [*SIGN_IN, METADATA])
    box.last_synced_at = datetime(2026, 12, 5, 9, 30, tzinfo=UTC)
    box.connected_at = box.last_synced_at
    db.session.commit()
    page = client.get("/admin/team").text
    assert gmail_cell(page, "rep@acme.test") == (
        "not syncing: no successful sync since 2026-12-05 09:30 UTC"
    )

    box = db.session.get(GmailMailbox, box.id)
    box.last_synced_at = datetime.now(UTC) - timedelta(minutes=1)
    db.session.commit()
    assert gmail_cell(client.get("/admin/team").text, "rep@acme.test").startswith(
        "connected, last sync "
    )

    box = db.session.get(GmailMailbox, box.id)
    box.status, box.status_detail = "reconnect_needed", "Token has been expired or revoked."
    db.session.commit()
    page = client.get("/admin/team").text
    assert gmail_cell(page, "rep@acme.test").startswith(
        "reconnect needed: Google no longer accepts Leadcamp's access"
    )
    assert gmail_cell(page, "boss@acme.test") == "not connected"
    assert "boss@globex.test" not in page
