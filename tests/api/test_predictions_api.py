"""The predictions API on demo data: a rep gets predictions for their own messages only, an
admin for the account's, another account nothing; each prediction is hidden while its backtest
does not beat its baseline."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from server.extensions import db
from server.models import Contact, Message, User
from server.predictions import backtest, seeding, service
from tests.support import auth
from tests.support.admin import add_message


@pytest.fixture
def demo(app, rep):
    """Six months of demo mail in Acme (the rep's account), backtested."""
    user, _ = rep
    seeding.seed(db.session, "Acme", 1500, 6)
    result, model = backtest.run(db.session, user.account_id, datetime.now(UTC), weeks=4)
    service.store(db.session, user.account_id, result, model)
    db.session.commit()
    return result


def a_demo_contact() -> str:
    return db.session.scalars(select(Contact.email).order_by(Contact.id)).first()


def test_a_rep_gets_predictions_for_their_own_messages_only(client, demo, rep, make_user):
    user, token = rep
    mine = add_message(user, a_demo_contact(), events=0)
    answer = client.get(f"/api/v1/messages/{mine.id}/prediction", headers=auth(token))
    assert answer.status_code == 200, answer.text
    body = answer.json
    assert demo["reply"]["beats_baseline"] and body["reply"]["shown"]
    assert 0 < body["reply"]["probability"] < 1
    assert body["reply"]["baseline"] == pytest.approx(demo["reply"]["rate"], abs=1e-4)
    assert body["open"]["shown"] == demo["open"]["beats_baseline"]
    assert body["model"]["trained_on"] > 1000 and "logistic regression" in body["model"]["name"]
    assert body["at_risk"] is False
    unsent = add_message(user, a_demo_contact(), events=0)
    unsent.sent_at = None
    db.session.commit()
    body = client.get(f"/api/v1/messages/{unsent.id}/prediction", headers=auth(token)).json
    assert body["reply"]["shown"] is False
    assert body["reply"]["reason"] == "hidden: the message has no send time or recipient"

    demo_reps = select(User.id).where(User.email.like("%@demo.invalid"))
    theirs = db.session.scalars(select(Message.id).where(Message.user_id.in_(demo_reps))).first()
    refused = client.get(f"/api/v1/messages/{theirs}/prediction", headers=auth(token))
    assert refused.status_code == 404 and refused.json["error"] == "not_found"
    _, boss = make_user("boss@acme.test", admin=True)
    assert (
        client.get(f"/api/v1/messages/{theirs}/prediction", headers=auth(boss)).status_code == 200
    )

    _, stranger = make_user("boss@globex.test", "Globex", admin=True)
    for path in (f"/api/v1/messages/{mine.id}/prediction", f"/api/v1/messages/{theirs}/prediction",
                 f"/api/v1/contacts/{a_demo_contact()}/best-time"):  # fmt: skip
        assert client.get(path, headers=auth(stranger)).status_code == 404
    assert client.get(f"/api/v1/messages/{mine.id}/prediction").status_code == 401


def test_best_time_with_its_evidence(client, demo, rep):
    _, token = rep
    answer = client.get(f"/api/v1/contacts/{a_demo_contact()}/best-time", headers=auth(token))
    assert answer.status_code == 200, answer.text
    body = answer.json
    assert body["shown"] and demo["best_time"]["beats_baseline"]
    assert 0 <= body["best_time"]["hour_utc"] < 24
    evidence = body["best_time"]["evidence"]
    assert evidence["account"] > evidence["company"] >= evidence["contact"]
    assert 0 <= evidence["contact_weight"] < 1


def test_a_prediction_that_does_not_beat_its_baseline_is_hidden(client, demo, rep):
    user, token = rep
    mine = add_message(user, a_demo_contact(), events=0)
    stored = service.latest(db.session, user.account_id)
    result = dict(stored.result)
    result["reply"] = result["reply"] | {"beats_baseline": False}
    result["best_time"] = result["best_time"] | {"beats_baseline": False}
    stored.result = result
    db.session.commit()
    body = client.get(f"/api/v1/messages/{mine.id}/prediction", headers=auth(token)).json
    assert body["reply"] == {
        "shown": False, "probability": None, "baseline": None,
        "reason": "hidden: its latest backtest did not beat the baseline (the account's base rate)",
    }  # fmt: skip
    assert body["open"]["shown"] == demo["open"]["beats_baseline"]
    best = client.get(f"/api/v1/contacts/{a_demo_contact()}/best-time", headers=auth(token)).json
    assert best["shown"] is False and best["best_time"] is None


def test_without_a_backtest_nothing_is_predicted(client, rep):
    user, token = rep
    mine = add_message(user, "ana@customer.test", events=0)
    body = client.get(f"/api/v1/messages/{mine.id}/prediction", headers=auth(token)).json
    for target in ("reply", "open"):
        assert body[target]["shown"] is False and body[target]["probability"] is None
        assert "no backtest has run" in body[target]["reason"]


def test_at_risk_answers_and_refuses_bad_days(client, rep):
    _, token = rep
    answer = client.get("/api/v1/predictions/at-risk", headers=auth(token))
    assert answer.status_code == 200 and answer.json == {"days": 3, "messages": []}
    bad = client.get("/api/v1/predictions/at-risk?days=0", headers=auth(token))
    assert bad.status_code == 400 and bad.json["error"] == "invalid_request"
