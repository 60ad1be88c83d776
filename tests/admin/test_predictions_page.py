"""The /predictions page: signed-in people only; an account too young to score shows every
prediction hidden; `days` out of range falls back to the default."""

from __future__ import annotations

from datetime import UTC, datetime

from server.extensions import db
from server.predictions import backtest, service
from tests.support.admin import add_message


def test_signed_in_only(client, people):
    answer = client.get("/predictions/")
    assert answer.status_code == 302 and "/auth/login" in answer.headers["Location"]


def test_a_young_account_shows_every_prediction_hidden(login, people):
    add_message(people.rep, "ana@customer.test")
    result, model = backtest.run(db.session, people.admin.account_id, datetime.now(UTC))
    service.store(db.session, people.admin.account_id, result, model)
    db.session.commit()
    assert model == {} and result["reply"] == {"n": 0, "beats_baseline": False}
    page = login(people.rep).get("/predictions/?days=999")
    assert page.status_code == 200
    assert page.text.count("no: it does not beat its baseline") == 3
    assert "Really opened (human or proxy reads only) 3 or more days ago" in page.text
    settings = login(people.admin).get("/admin/settings")
    assert "Predictions backtest" in settings.text and 'href="/predictions/"' in settings.text
