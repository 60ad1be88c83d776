"""The HubSpot-compatible export: HubSpot's import column names, the name split, engagement that
counts only real reads, formulas neutralised, admins only, audited."""

from __future__ import annotations

import csv
import io
import time
from datetime import UTC, datetime

from sqlalchemy import select

from server.contacts import hubspot
from server.contacts import service as contacts
from server.extensions import db
from server.messages import service as messages
from server.models import AuditEntry
from server.models.base import utcnow
from server.tracking.ingest import BatchWriter
from server.tracking.verdicts.context import Windows
from tests.support import auth, make_event


def rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


def test_columns_names_and_engagement(app, rep, admin):
    user = rep[0]
    tracker = messages.Tracker("http://track.test", ("test-link-secret",))
    data = {
        "subject": "Hi",
        "recipients": [{"email": "ana@customer.test", "name": "Ana María Ruiz"}],
    }
    message, _ = messages.register(db.session, user, data, tracker)
    messages.register(db.session, user, data | {"subject": "Again"}, tracker)
    contacts.upsert_contact(db.session, user.account_id, "bo@other.test", "Bo")
    db.session.commit()
    contact = contacts.find_contact(db.session, user.account_id, "ana@customer.test")
    contacts.update_contact(db.session, contact, {"title": "CTO", "phone": "+34 600 000 000",
                                                  "company_name": "Customer Inc"})  # fmt: skip
    db.session.commit()
    at = time.time() - 600
    BatchWriter(db.engine, Windows(scanner=0, burst=3, self_view=0))(
        [
            make_event(message.kid, message.id, occurred_at=at, verdict="human"),
            make_event(message.kid, message.id, occurred_at=at + 1, verdict="proxy"),
            make_event(message.kid, message.id, occurred_at=at + 2, verdict="machine"),
            make_event(
                message.kid,
                message.id,
                kind="click",
                occurred_at=at + 3,
                verdict="human",
                link_url="https://x.test/",
            ),
            make_event(
                "",
                message.id,
                kind="reply",
                account_id=user.account_id,
                verdict="human",
                occurred_at=at + 4,
            ),
        ]
    )
    text = hubspot.export(db.session, user.account_id, utcnow(), admin)
    db.session.commit()
    assert text.startswith("\ufeff")
    header = next(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert tuple(header) == hubspot.COLUMNS
    ana, bo = rows(text)
    assert (ana["Email"], ana["First Name"], ana["Last Name"]) == (
        "ana@customer.test", "Ana", "María Ruiz",
    )  # fmt: skip
    assert (ana["Company Name"], ana["Job Title"], ana["Phone Number"]) == (
        "Customer Inc", "CTO", "'+34 600 000 000",  # the formula guard, as every export
    )  # fmt: skip
    assert (ana["Leadcamp Emails Sent"], ana["Leadcamp Opens"], ana["Leadcamp Clicks"]) == (
        "2", "2", "1",
    )  # fmt: skip
    assert (ana["Leadcamp Replies"], ana["Leadcamp Bounces"]) == ("1", "0")
    assert int(ana["Leadcamp Engagement Score"]) > 0
    day = lambda ts: datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")  # noqa: E731
    assert ana["Leadcamp Last Activity"] == day(at + 4)  # the reply, the latest of her hits
    assert ana["Leadcamp Last Email Sent"] in (day(at), utcnow().strftime("%Y-%m-%d"))
    assert (bo["First Name"], bo["Last Name"], bo["Leadcamp Emails Sent"]) == ("Bo", "", "0")
    assert bo["Leadcamp Last Activity"] == ""
    details = db.session.scalars(
        select(AuditEntry.detail).where(AuditEntry.action == "contacts.export")
    ).all()
    assert details == ["hubspot"]


def test_only_admins_export(app, client, rep, make_user):
    assert client.get("/api/v1/contacts/export/hubspot", headers=auth(rep[1])).status_code == 403
    _, token = make_user("boss@acme.test", admin=True)
    response = client.get("/api/v1/contacts/export/hubspot", headers=auth(token))
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "contacts-hubspot.csv" in response.headers["Content-Disposition"]
