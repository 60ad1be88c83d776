"""Reports against the hand-made history of tests/support/reports.py, every figure worked out
by hand: the cohort of a week is the messages sent in it; only human and proxy hits open."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from server.accounts import team
from server.extensions import db
from server.insights import periods, reports
from server.messages import service as messages
from tests.support import reports as history

WEEK = {"start": datetime(2026, 11, 23, tzinfo=UTC), "end": datetime(2026, 11, 30, tzinfo=UTC)}


@pytest.fixture
def people(make_user):
    return history.build(make_user)


def rep_report(people, **kw):
    args = {"period": "week", "day": history.DAY, "count": 2} | kw
    return reports.report(db.session, people.rep.account_id, people.rep, **args)


def test_a_reps_week_worked_out_by_hand(people):
    week = rep_report(people)["current"]
    assert {k: week[k] for k in ("start", "end")} == WEEK
    # m1..m5 sent; m5 had no pixel; m1 (human) and m3 (proxy) opened, m2 only by machines.
    assert (week["sent"], week["open_base"], week["opened"]) == (5, 4, 2)
    assert week["open_rate"] == 0.5
    # m1 and m5 clicked by a person; m2's scanner click does not count.
    assert (week["click_base"], week["clicked"], week["click_rate"]) == (5, 2, 0.4)
    assert (week["replied"], week["reply_rate"]) == (1, 0.2)
    assert (week["bounced"], week["bounce_rate"]) == (1, 0.2)
    # Opens after 1 h (m1) and 2 h (m3): m5's click-open had no pixel to count from.
    assert week["median_open_seconds"] == 5400
    assert week["median_reply_seconds"] == 3 * 3600
    hits = {"human": 3, "proxy": 1, "machine": 2, "scanner": 1, "prefetch": 0, "bot": 0}
    assert week["hits"] == hits | {"self": 1}
    assert (week["hits_total"], week["machine_share"]) == (8, 0.5)
    assert week["hit_shares"]["machine"] == 0.25


def test_the_previous_week_and_the_change(people):
    report = rep_report(people)
    before = report["previous"]
    # p1 (opened after 30 min), p2, and p3 sent at the week's first instant.
    assert (before["sent"], before["opened"], before["open_rate"]) == (3, 1, 0.3333)
    assert (before["clicked"], before["click_rate"], before["reply_rate"]) == (0, 0.0, 0.0)
    assert before["median_open_seconds"] == 1800
    assert before["median_reply_seconds"] is None
    assert before["machine_share"] == 0.0
    change = report["change"]
    assert change["sent"] == 2
    assert change["open_rate"] == round(0.5 - 0.3333, 4)
    assert (change["click_rate"], change["reply_rate"]) == (0.4, 0.2)
    assert change["median_open_seconds"] == 3600
    assert change["median_reply_seconds"] is None  # nothing to compare with
    assert change["machine_share"] == 0.5


def test_the_team_adds_up_its_reps_and_never_another_account(people):
    report = reports.report(db.session, people.admin.account_id, None, "week", history.DAY, 2)
    week = report["current"]
    assert (week["sent"], week["open_base"], week["opened"]) == (6, 5, 3)
    assert (week["open_rate"], week["click_rate"]) == (0.6, 0.3333)
    assert (week["replied"], week["reply_rate"], week["bounce_rate"]) == (2, 0.3333, 0.1667)
    # Opens after 1 h, 2 h, 4 h; replies after 3 h and 24 h.
    assert week["median_open_seconds"] == 7200
    assert week["median_reply_seconds"] == (3 + 24) * 3600 // 2
    assert (week["hits"]["human"], week["hits_total"], week["machine_share"]) == (4, 9, 0.4444)
    rows = {r["user"]["email"]: r for r in report["reps"]}
    assert set(rows) == {"boss@acme.test", "rep@acme.test", "other@acme.test"}
    mine = {k: v for k, v in rep_report(people)["current"].items() if k not in (*WEEK, "label")}
    assert rows["rep@acme.test"]["current"] == mine
    assert rows["other@acme.test"]["current"]["sent"] == 1
    assert rows["boss@acme.test"]["current"]["sent"] == 0


def test_days_and_months(people):
    days = rep_report(people, period="day", count=3)
    assert [p["label"] for p in days["series"]] == ["2026-11-23", "2026-11-24", "2026-11-25"]
    assert [p["sent"] for p in days["series"]] == [1, 2, 2]
    assert [p["open_rate"] for p in days["series"]] == [1.0, 0.5, 0.0]  # m4 bounced, m5 no pixel
    months = rep_report(people, period="month", count=2)
    assert [p["label"] for p in months["series"]] == ["2026-10", "2026-11"]
    assert [p["sent"] for p in months["series"]] == [0, 9]  # m1..m5, p1..p3, and 30 Nov's
    assert months["previous"]["open_rate"] is None  # nothing sent: no rate, not 0 %


def test_periods_are_calendar_periods():
    weeks = periods.series("week", date(2026, 1, 1), 2)
    assert [w.start.date() for w in weeks] == [date(2025, 12, 22), date(2025, 12, 29)]
    months = periods.series("month", date(2026, 3, 31), 3)
    assert [(m.start.date(), m.end.date()) for m in months] == [
        (date(2026, 1, 1), date(2026, 2, 1)),
        (date(2026, 2, 1), date(2026, 3, 1)),
        (date(2026, 3, 1), date(2026, 4, 1)),
    ]


def test_a_rep_sees_only_their_own_report(people):
    assert reports.scope_user(db.session, people.rep, None) is people.rep
    assert reports.scope_user(db.session, people.rep, people.rep.id) is people.rep
    with pytest.raises(team.NotFound):
        reports.scope_user(db.session, people.rep, people.other_rep.id)
    assert reports.scope_user(db.session, people.admin, None) is None
    assert reports.scope_user(db.session, people.admin, people.other_rep.id) is people.other_rep
    with pytest.raises(team.NotFound):
        reports.scope_user(db.session, people.admin, people.stranger.id)


def test_a_message_reported_again_with_another_time_moves_period(make_user):
    rep, _ = make_user("rep@acme.test")
    sent = history.send(rep, history.at(24))
    history.hit(sent, "open", history.at(24, 11))
    db.session.commit()
    week = reports.report(db.session, rep.account_id, rep, "week", history.DAY, 2)
    assert (week["current"]["sent"], week["current"]["opened"]) == (1, 1)
    # Reported again (a retry with the rep's corrected clock): last week now, opened and all.
    data = {"id": sent.id, "recipients": [{"email": "ana@lead.test"}], "sent_at": history.at(20)}
    messages.register(db.session, rep, data, history.TRACKER)
    db.session.commit()
    week = reports.report(db.session, rep.account_id, rep, "week", history.DAY, 2)
    assert (week["current"]["sent"], week["current"]["opened"]) == (0, 0)
    assert (week["previous"]["sent"], week["previous"]["opened"]) == (1, 1)
    assert week["previous"]["median_open_seconds"] == (24 - 20) * 86400 + 2 * 3600
