"""The reports API: the hand-made history's figures, who may see whose, bad arguments, and the
CSV export carrying exactly the JSON's numbers, formula-guarded."""

from __future__ import annotations

import csv
import io

import pytest

from server.accounts import users as accounts
from server.common import csv_safe
from server.extensions import db
from server.insights.export import COLUMNS
from tests.support import auth
from tests.support import reports as history

WEEK = "period=week&periods=2&date=2026-11-25"


@pytest.fixture
def people(make_user):
    return history.build(make_user)


def token_of(user) -> str:
    token = accounts.create_api_token(db.session, user)
    db.session.commit()
    return token


def get(client, user, path: str):
    return client.get(path, headers=auth(token_of(user)))


def test_a_rep_gets_their_own_week(client, people):
    answer = get(client, people.rep, f"/api/v1/reports?{WEEK}")
    assert answer.status_code == 200, answer.text
    report = answer.json
    assert report["user"] == {"id": people.rep.id, "email": "rep@acme.test", "active": True}
    assert report["current"]["start"] == "2026-11-23T00:00:00Z"
    week = report["current"]
    assert (week["sent"], week["open_rate"], week["click_rate"]) == (5, 0.5, 0.4)
    assert (week["median_open_seconds"], week["machine_share"]) == (5400, 0.5)
    assert week["hits"]["machine"] == 2 and week["hits"]["human"] == 3
    assert report["change"]["sent"] == 2
    assert report["reps"] is None  # the team's table is an admin's


def test_a_rep_cannot_see_a_colleagues_or_another_accounts_report(client, people):
    for victim in (people.other_rep, people.stranger, people.admin):
        answer = get(client, people.rep, f"/api/v1/reports?user={victim.id}")
        assert answer.status_code == 404 and answer.json["error"] == "not_found"
        answer = get(client, people.rep, f"/api/v1/reports/export?user={victim.id}")
        assert answer.status_code == 404
    # The other account's admin sees none of Acme's reps either.
    outsider = accounts.create_user(db.session, "mallory@evil.test", "Evil", admin=True)
    db.session.commit()
    answer = get(client, outsider, f"/api/v1/reports?user={people.rep.id}")
    assert answer.status_code == 404
    team = get(client, outsider, f"/api/v1/reports?{WEEK}").json
    assert team["current"]["sent"] == 1 and team["current"]["replied"] == 1  # Evil's own
    assert {r["user"]["email"] for r in team["reps"]} == {"eve@evil.test", "mallory@evil.test"}


def test_an_admin_gets_the_team_and_each_rep(client, people):
    team = get(client, people.admin, f"/api/v1/reports?{WEEK}").json
    assert team["user"] is None
    assert (team["current"]["sent"], team["current"]["open_rate"]) == (6, 0.6)
    one = get(client, people.admin, f"/api/v1/reports?{WEEK}&user={people.other_rep.id}").json
    assert one["user"]["email"] == "other@acme.test"
    assert (one["current"]["sent"], one["current"]["median_reply_seconds"]) == (1, 86400)


@pytest.mark.parametrize(
    "query", ["period=year", "periods=1", "periods=99", "date=2026-13-01", "user=x", "user=-1"]
)
def test_bad_arguments_are_a_json_400(client, people, query):
    answer = get(client, people.rep, f"/api/v1/reports?{query}")
    assert answer.status_code == 400
    assert answer.json["error"] == "invalid_request" and answer.json["message"]


def test_the_csv_holds_the_apis_numbers(client, people):
    report = get(client, people.admin, f"/api/v1/reports?{WEEK}").json
    answer = get(client, people.admin, f"/api/v1/reports/export?{WEEK}")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert tuple(rows[0]) == COLUMNS
    team_rows = [r for r in rows if r["who"] == "team"]
    assert len(team_rows) == len(report["series"]) == 2
    for row, point in zip(team_rows, report["series"], strict=True):
        assert row["start"] == point["start"] and row["end"] == point["end"]
        for name in ("sent", "opened", "clicked", "replied", "bounced", "hits_total"):
            assert int(row[name]) == point[name], name
        for name in ("open_rate", "click_rate", "reply_rate", "bounce_rate", "machine_share"):
            assert row[name] == ("" if point[name] is None else str(point[name])), name
        for name in ("median_open_seconds", "median_reply_seconds"):
            assert row[name] == ("" if point[name] is None else str(point[name])), name
        assert {v: int(row[f"hits_{v}"]) for v in point["hits"]} == point["hits"]
    by_rep = {r["user"]["email"]: r for r in report["reps"]}
    rep_rows = [r for r in rows if r["who"] == "rep@acme.test"]
    assert [int(r["sent"]) for r in rep_rows] == [
        by_rep["rep@acme.test"]["previous"]["sent"],
        by_rep["rep@acme.test"]["current"]["sent"],
    ]


def test_the_csv_guards_formulas(client, people):
    sneaky = accounts.create_user(db.session, "=HYPERLINK(1)@acme.test", "Acme")
    db.session.commit()
    history.send(sneaky, history.at(24))
    db.session.commit()
    text = get(client, people.admin, f"/api/v1/reports/export?{WEEK}").text
    whos = [row[0] for row in csv.reader(io.StringIO(text))]
    assert "'=hyperlink(1)@acme.test" in whos
    assert csv_safe.unguard("'=hyperlink(1)@acme.test") == "=hyperlink(1)@acme.test"


def test_a_reps_own_csv_is_their_series(client, people):
    answer = get(client, people.rep, f"/api/v1/reports/export?{WEEK}")
    assert answer.status_code == 200
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [(r["who"], r["sent"], r["open_rate"]) for r in rows] == [
        ("rep@acme.test", "3", "0.3333"),
        ("rep@acme.test", "5", "0.5"),
    ]
