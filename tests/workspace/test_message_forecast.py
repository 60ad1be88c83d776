"""The message page's forecast: shown only while the account's latest backtest beats its
baseline, with the account's rate beside it; hidden without a backtest or once it loses."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from server.extensions import db
from server.models import Contact
from server.predictions import backtest, seeding, service
from tests.support.admin import add_message


def _forecast(page: str) -> str:
    return page.split("<h2>Forecast</h2>", 1)[1].split("</ul>", 1)[0] if "Forecast" in page else ""


def test_the_forecast_shows_while_it_beats_its_baseline(app, desk, login):
    seeding.seed(db.session, "Acme", 1500, 6, force=True)  # beside the desk fixture's mail
    result, model = backtest.run(db.session, desk.rep.account_id, datetime.now(UTC), weeks=4)
    service.store(db.session, desk.rep.account_id, result, model)
    contact = db.session.scalars(select(Contact.email).order_by(Contact.id)).first()
    mine = add_message(desk.rep, contact, events=0)
    db.session.commit()
    client = login(desk.rep)
    shown = _forecast(client.get(f"/mail/{mine.id}").text)
    assert result["reply"]["beats_baseline"]
    assert "A reply within 7 days of sending: <strong>" in shown
    assert f"the account's rate: {round(result['reply']['rate'] * 100)} %" in shown

    stored = service.latest(db.session, desk.rep.account_id)
    stored.result = stored.result | {
        kind: stored.result[kind] | {"beats_baseline": False} for kind in ("reply", "open")
    }
    db.session.commit()
    assert _forecast(client.get(f"/mail/{mine.id}").text) == ""


def test_without_a_backtest_the_page_has_no_forecast(app, desk, login):
    page = login(desk.rep).get(f"/mail/{desk.mail['ana'].id}").text
    assert "<h2>Forecast</h2>" not in page
