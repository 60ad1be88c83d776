"""The activity history: newest first a page at a time, scoped, and the updates after a cursor."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from server.extensions import db
from server.messages import activity
from tests.support.tracked import Hit, tracked


def test_history_pages_newest_first_with_only_real_activity(app, make_user):
    rep, _ = make_user(token=False)
    hits = [Hit("open", 100 * i) for i in range(1, 6)]
    hits += [Hit("open", 50, verdict="scanner", reasons="security-gateway")]
    tracked(rep, "ana@lead.test", "Pricing", hits, name="Ana Ruiz")
    first = activity.history(db.session, rep, limit=3)
    assert [e["at"] for e in first["events"]] == sorted(
        (e["at"] for e in first["events"]), reverse=True
    )
    assert len(first["events"]) == 3 and first["next"]
    rest = activity.history(db.session, rep, before=first["next"], limit=3)
    assert len(rest["events"]) == 2 and rest["next"] is None
    seen = [e["id"] for e in first["events"] + rest["events"]]
    assert len(set(seen)) == 5
    event = first["events"][0]
    assert event["recipients"] == [{"email": "ana@lead.test", "name": "Ana Ruiz"}]
    assert (event["device_text"], event["place"]) == ("Mobile Safari / iOS / mobile", "ES")


def test_history_is_the_reps_own_and_the_admins_account(app, make_user):
    rep, _ = make_user(token=False)
    colleague, _ = make_user("nina@acme.test", token=False)
    admin, _ = make_user("boss@acme.test", admin=True, token=False)
    outsider, _ = make_user("eve@globex.test", "Globex", token=False)
    tracked(rep, "ana@lead.test", "Mine", [Hit("open", 60)])
    tracked(colleague, "bo@lead.test", "Nina's", [Hit("click", 70, link="https://x.test/")])
    tracked(outsider, "cy@lead.test", "Globex", [Hit("open", 80)])

    def subjects(user):
        return [e["subject"] for e in activity.history(db.session, user)["events"]]

    assert subjects(rep) == ["Mine"]
    assert subjects(admin) == ["Mine", "Nina's"]
    assert subjects(outsider) == ["Globex"]


def test_since_keeps_the_last_day_and_updates_follow_a_cursor(app, make_user):
    rep, _ = make_user(token=False)
    tracked(rep, "ana@lead.test", "Old", [Hit("open", 3 * 86400)])
    tracked(rep, "bo@lead.test", "New", [Hit("click", 600, link="https://x.test/")])
    day = activity.history(db.session, rep, since=datetime.now(UTC) - timedelta(days=1))
    assert [e["subject"] for e in day["events"]] == ["New"]

    cursor = activity.horizon()
    assert activity.updates(db.session, rep, cursor)["events"] == []
    # A hit stored now appears once it has settled, and only once.
    tracked(rep, "cy@lead.test", "Newer", [Hit("open", 1)])
    later = time.time_ns() + int(activity.SETTLE_SECONDS * 1e9)
    found = activity.updates(db.session, rep, cursor, now_ns=later)
    assert [e["subject"] for e in found["events"]] == ["Newer"]
    again = activity.updates(db.session, rep, found["cursor"], now_ns=later)
    assert again["events"] == []
