"""The notifications feed: real engagement on the rep's own mail, each event handed out once."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from server.accounts import users as accounts
from server.extensions import db
from server.messages import activity
from server.models import Event, Message
from tests.support import auth


def add_message(user, mid: str, subject: str = "Hello") -> None:
    key = accounts.current_signing_key(db.session, user)
    db.session.add(
        Message(id=mid, account_id=user.account_id, user_id=user.id, kid=key.kid, subject=subject)
    )
    db.session.commit()


def add_event(user, mid: str, ago: float, kind: str = "open", verdict: str = "human") -> str:
    ns = time.time_ns() - int(ago * 1e9)
    event_id = f"{ns:x}test{kind[:2]}{verdict[:2]}"
    db.session.add(
        Event(
            id=event_id,
            account_id=user.account_id,
            message_id=mid,
            kind=kind,
            occurred_at=datetime.fromtimestamp(ns / 1e9, UTC),
            verdict=verdict,
            link_url="https://acme.test/" if kind == "click" else None,
        )
    )
    db.session.commit()
    return event_id


def minute_earlier(cursor: str) -> str:
    return f"{int(cursor, 16) - 60 * 10**9:x}"


def test_the_feed_starts_now_and_hands_each_settled_event_out_once(client, rep, make_user):
    user, token = rep
    other, _ = make_user("other@acme.test")
    add_message(user, "m" * 22, "Proposal")
    add_message(other, "o" * 22)
    add_event(user, "m" * 22, ago=90)  # before the client started: never notified
    start = client.get("/api/v1/activity", headers=auth(token)).json
    assert start["events"] == []
    start["cursor"] = minute_earlier(start["cursor"])  # as if the client had started then

    opened = add_event(user, "m" * 22, ago=30)
    clicked = add_event(user, "m" * 22, ago=29, kind="click")
    add_event(user, "m" * 22, ago=28, verdict="scanner")  # machine activity: not notified
    add_event(other, "o" * 22, ago=27)  # someone else's mail
    add_event(user, "m" * 22, ago=activity.SETTLE_SECONDS / 5)  # not settled yet

    page = client.get(f"/api/v1/activity?after={start['cursor']}", headers=auth(token)).json
    assert [e["id"] for e in page["events"]] == [opened, clicked]
    assert page["events"][1]["link"] == "https://acme.test/"
    assert page["events"][0]["subject"] == "Proposal"
    later = client.get(f"/api/v1/activity?after={page['cursor']}", headers=auth(token)).json
    assert later["events"] == []


def test_a_full_page_resumes_after_its_last_event(client, rep):
    user, token = rep
    add_message(user, "m" * 22)
    cursor = client.get("/api/v1/activity", headers=auth(token)).json["cursor"]
    cursor = minute_earlier(cursor)
    ids = [add_event(user, "m" * 22, ago=50 - i, kind=k) for i, k in enumerate(["open", "click"])]
    first = client.get(f"/api/v1/activity?after={cursor}&limit=1", headers=auth(token)).json
    assert [e["id"] for e in first["events"]] == ids[:1] and first["cursor"] == ids[0]
    second = client.get(f"/api/v1/activity?after={first['cursor']}", headers=auth(token)).json
    assert [e["id"] for e in second["events"]] == ids[1:]


def test_bad_cursors_and_limits_are_refused(client, rep):
    _, token = rep
    for query in ("after=%3Cscript%3E", "limit=0", "limit=x", "limit=1000"):
        answer = client.get(f"/api/v1/activity?{query}", headers=auth(token))
        assert answer.status_code == 400 and answer.json["error"] == "invalid_request", query


def test_the_service_keeps_other_callers_limits_in_range(rep):
    user, _ = rep
    add_message(user, "m" * 22)
    cursor = minute_earlier(activity.horizon())
    ids = [add_event(user, "m" * 22, ago=50 - i) for i in range(2)]
    assert [e["id"] for e in activity.feed(db.session, user, cursor, 0)["events"]] == ids[:1]
    assert len(activity.feed(db.session, user, cursor, 10**6)["events"]) == 2


def test_the_openapi_document_lists_the_extension_calls(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert "get" in paths["/api/v1/activity"]
    assert {"post", "delete"} <= set(paths["/api/v1/extension/token"])
