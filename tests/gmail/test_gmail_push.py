"""Gmail push: watches renewed before they run out, Pub/Sub's push requests checked (Google's
signature, audience, service account) before they queue a sync, and the sweep kept as the
fallback for watched mailboxes."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from huey import MemoryHuey

from server.extensions import db
from server.gmail.jobs import renew_watches
from server.jobs import register_tasks
from server.models import GmailMailbox, Message
from tests.support.google import METADATA, SIGN_IN, connect_mailbox, pubsub_forbidden, with_google
from tests.support.jobs import pending, run_jobs
from tests.support.pubsub import TOPIC, FakePubSub, with_push

DAY = timedelta(days=1)


@pytest.fixture
def settings(settings):
    """Google configured, Gmail push on."""
    return with_push(with_google(settings))


@pytest.fixture
def pubsub(google):
    """Pub/Sub and Google's signing keys; Gmail may publish to the topic."""
    google.topics.add(TOPIC)
    return FakePubSub(google.rsps)


def watch_of(box) -> datetime | None:
    db.session.expire_all()
    return db.session.get(GmailMailbox, box.id).watch_expires_at


# --- Renewal -------------------------------------------------------------------------------


def test_a_mailbox_without_a_watch_is_watched_then_left_until_its_last_day(
    app, mailbox, google, pubsub
):
    db.session.commit()
    assert renew_watches(app) == 1
    assert google.watching["topic"] == TOPIC and google.watching["labelIds"] is None
    expires = watch_of(mailbox)
    assert abs(expires - (datetime.now(UTC) + 7 * DAY)) < timedelta(minutes=1)
    assert google.calls["watch"] == 1

    assert renew_watches(app) == 0  # six days and more left: not due
    assert renew_watches(app, now=expires - 2 * DAY) == 0
    assert google.calls["watch"] == 1

    assert renew_watches(app, now=expires - DAY + timedelta(minutes=5)) == 1  # its last day
    assert google.calls["watch"] == 2


def test_the_hourly_task_renews_the_watches(app, mailbox, google, pubsub):
    huey = MemoryHuey()
    tasks = register_tasks(huey, app)
    hour = datetime(2026, 3, 2, 9, 0)
    runs = [m for m in range(60) if any(
        t.name == "gmail_renew_watches" for t in huey.read_periodic(hour + timedelta(minutes=m))
    )]  # fmt: skip
    assert len(runs) == 1
    db.session.commit()
    assert tasks["gmail_renew_watches"].call_local() == 1
    assert watch_of(mailbox) is not None


def test_a_watch_google_refuses_leaves_the_others_and_the_sweep(app, make_user, google, pubsub):
    boxes = [
        connect_mailbox(app, make_user(email=f"rep{n}@acme.test")[0], google, [*SIGN_IN, METADATA])
        for n in range(2)
    ]
    google.fail("watch", pubsub_forbidden(TOPIC))  # e.g. publish rights not granted yet
    assert renew_watches(app) == 1
    assert watch_of(boxes[0]) is None and watch_of(boxes[1]) is not None
    assert db.session.get(GmailMailbox, boxes[0].id).status == "ok"  # still swept as before

    google.topics.clear()  # the topic is gone
    assert renew_watches(app) == 0
    assert watch_of(boxes[0]) is None


def test_a_mailbox_waiting_for_a_reconnect_is_not_watched(app, mailbox, google, pubsub):
    mailbox.status = "reconnect_needed"
    db.session.commit()
    assert renew_watches(app) == 0
    assert google.calls["watch"] == 0


def test_connecting_another_gmail_address_drops_the_old_watch(app, rep, mailbox, google, pubsub):
    from server.gmail import auth as gmail_auth

    mailbox.watch_expires_at = datetime.now(UTC) + 5 * DAY
    db.session.commit()
    scopes = {*SIGN_IN, METADATA}
    refresh, access = google.issue(" ".join(scopes))
    grant = gmail_auth.Grant(
        purpose="connect",
        user_id=rep[0].id,
        requested=scopes,
        granted=scopes,
        refresh_token=refresh,
        access_token=access,
        expires_at=datetime.now(UTC) + timedelta(hours=1),
        email="ana.ruiz@gmail.test",
        email_verified=True,
        sub="110169484474386276335",
        name="Ana Ruiz",
    )
    client = gmail_auth.GoogleClient.from_settings(app.config["LEADCAMP"])
    gmail_auth.save_mailbox(db.session, client, rep[0], grant, datetime.now(UTC))
    db.session.commit()
    assert watch_of(mailbox) is None  # the new address is watched at the next renewal
    assert renew_watches(app) == 1


def test_nothing_is_watched_with_push_off(app, mailbox, google, pubsub, monkeypatch, settings):
    monkeypatch.setitem(app.config, "LEADCAMP", settings.replace(gmail_push_topic=""))
    db.session.commit()
    assert renew_watches(app) == 0
    assert google.calls["watch"] == 0


# --- Push requests --------------------------------------------------------------------------


def test_a_signed_notice_queues_the_sync_which_runs(app, client, mailbox, reported, pubsub):
    db.session.commit()
    response = pubsub.push(client, "Rep@Acme.test")
    assert response.status_code == 204, response.get_json()
    assert pending(app) == 1
    assert run_jobs(app) == 1
    assert db.session.get(Message, reported[0]).confirmed_at is not None


def forged(pubsub) -> str:
    """A real token whose claims were changed after signing (another audience's token)."""
    header, payload, signature = pubsub.token(aud="https://elsewhere.example.com/").split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["aud"] = "https://leadcamp.example.com/gmail/push"  # ours
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{body}.{signature}"


REFUSED = {
    "forged signature": lambda p: forged(p),
    "another key": lambda p: p.token(key=2),
    "wrong audience": lambda p: p.token(aud="https://elsewhere.example.com/push"),
    "wrong email": lambda p: p.token(email="someone@leadcamp-test.iam.gserviceaccount.com"),
    "unverified email": lambda p: p.token(email_verified=False),
    "expired": lambda p: p.token(iat=int(time.time()) - 7200, exp=int(time.time()) - 3600),
    "not from Google": lambda p: p.token(iss="https://evil.test"),
    "unsigned": lambda p: ".".join(p.token().split(".")[:2]) + ".",
    "garbage": lambda p: "not-a-token",
}


@pytest.mark.parametrize("case", REFUSED)
def test_a_refused_token_is_401_and_queues_nothing(app, client, mailbox, pubsub, case):
    db.session.commit()
    response = pubsub.push(client, mailbox.email, token=REFUSED[case](pubsub))
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthorized"
    assert pending(app) == 0


@pytest.mark.parametrize("authorization", [None, "", "Basic dXNlcjpwYXNz", "Bearer "])
def test_a_missing_token_is_401(app, client, mailbox, pubsub, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    response = client.post("/gmail/push", json=pubsub.envelope(mailbox.email), headers=headers)
    assert response.status_code == 401 and response.is_json
    assert pending(app) == 0


def encoded(value) -> str:
    return base64.b64encode(value if isinstance(value, bytes) else json.dumps(value).encode())


MALFORMED = {
    "not JSON": b"{nope",
    "a list": b"[]",
    "no message": {"subscription": "projects/p/subscriptions/s"},
    "no data": {"message": {"messageId": "1"}},
    "data not base64": {"message": {"data": "%%%"}},
    "data not JSON": {"message": {"data": encoded(b"\xff\x00").decode()}},
    "no address": {"message": {"data": encoded({"historyId": 5}).decode()}},
    "address not one": {"message": {"data": encoded({"emailAddress": 7, "historyId": 5}).decode()}},
    "history not a number": {
        "message": {"data": encoded({"emailAddress": "rep@acme.test", "historyId": "x"}).decode()}
    },
}


@pytest.mark.parametrize("case", MALFORMED)
def test_a_malformed_envelope_is_400(app, client, mailbox, pubsub, case):
    body = MALFORMED[case]
    response = pubsub.push(client, mailbox.email, body=body)
    assert response.status_code == 400 and response.get_json()["error"] == "bad_envelope"
    assert pending(app) == 0


def test_an_unknown_or_paused_address_is_answered_and_queues_nothing(app, client, mailbox, pubsub):
    assert pubsub.push(client, "stranger@elsewhere.test").status_code == 204
    mailbox.status = "reconnect_needed"
    db.session.commit()
    assert pubsub.push(client, mailbox.email).status_code == 204
    assert pending(app) == 0


def test_a_body_over_64_kib_is_413(app, client, mailbox, pubsub):
    body = pubsub.envelope(mailbox.email) | {"padding": "x" * 65 * 1024}
    response = pubsub.push(client, mailbox.email, body=body)
    assert response.status_code == 413 and response.is_json
    assert pending(app) == 0


def test_with_push_off_there_is_no_endpoint(app, client, mailbox, pubsub, monkeypatch, settings):
    monkeypatch.setitem(app.config, "LEADCAMP", settings.replace(gmail_push_topic=""))
    assert pubsub.push(client, mailbox.email).status_code == 404
    assert pending(app) == 0 and pubsub.cert_fetches == 0


def test_certificates_are_cached_and_fetched_again_for_a_new_key(app, client, mailbox, pubsub):
    clock = [1000.0]
    app.extensions["leadcamp.google_certs"].clock = lambda: clock[0]
    db.session.commit()
    assert pubsub.push(client, mailbox.email).status_code == 204
    assert pubsub.push(client, mailbox.email).status_code == 204
    assert pubsub.cert_fetches == 1  # cached

    clock[0] += 60
    pubsub.rotate()  # Google signs with a key it published after our fetch
    assert pubsub.push(client, mailbox.email).status_code == 204
    assert pubsub.cert_fetches == 2

    # A key id Google never published: refused, and it cannot make us fetch again and again.
    for _ in range(3):
        clock[0] += 5
        token = pubsub.token(kid="f" * 40, key=2)
        assert pubsub.push(client, mailbox.email, token=token).status_code == 401
    assert pubsub.cert_fetches == 2
    assert pending(app) == 3

    clock[0] += 6 * 3600  # as long as Google said its certificates stay good
    assert pubsub.push(client, mailbox.email).status_code == 204
    assert pubsub.cert_fetches == 3


def test_without_googles_certificates_a_notice_waits_for_pubsubs_retry(
    app, client, mailbox, pubsub
):
    pubsub.down = True
    response = pubsub.push(client, mailbox.email)
    assert response.status_code == 503 and response.is_json  # Pub/Sub sends it again later
    assert pending(app) == 0
    pubsub.down = False
    db.session.commit()
    assert pubsub.push(client, mailbox.email).status_code == 204
    assert pending(app) == 1


# --- The sweep ------------------------------------------------------------------------------


def test_the_sweep_syncs_a_watched_mailbox_only_as_a_fallback(
    app, settings, make_user, google, monkeypatch
):
    monkeypatch.setitem(
        app.config,
        "LEADCAMP",
        settings.replace(gmail_sync_minutes=2, gmail_push_fallback_minutes=30),
    )
    scopes = [*SIGN_IN, METADATA]
    watched, unwatched, lapsed = (
        connect_mailbox(app, make_user(email=f"rep{n}@acme.test")[0], google, scopes)
        for n in range(3)
    )
    start = datetime.now(UTC)
    watched.watch_expires_at = start + 5 * DAY
    lapsed.watch_expires_at = start - timedelta(minutes=1)  # ran out: swept as if unwatched
    db.session.commit()
    huey = MemoryHuey()
    sweep = register_tasks(huey, app)["gmail_sync_all"]
    queued: dict[int, list[int]] = {box.id: [] for box in (watched, unwatched, lapsed)}
    for minute in range(0, 61):
        ran = start.timestamp() + minute * 60
        with monkeypatch.context() as clock:
            clock.setattr(time, "time", lambda ran=ran: ran)
            sweep.call_local()
        while (task := huey.dequeue()) is not None:
            queued[task.args[0]].append(minute)
    assert queued[watched.id] == [0, 30, 60]
    assert queued[unwatched.id] == list(range(0, 61, 2))
    assert queued[lapsed.id] == list(range(0, 61, 2))


# --- The command ----------------------------------------------------------------------------


def test_the_watch_command_renews_now_and_stops(app, mailbox, google, pubsub):
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["gmail", "watch"])
    assert result.exit_code == 0, result.output
    assert "rep@acme.test: watched until" in result.output
    assert google.watching is not None and watch_of(mailbox) is not None

    result = runner.invoke(args=["gmail", "watch", "rep@acme.test"])  # renewed though not due
    assert result.exit_code == 0 and google.calls["watch"] == 2

    result = runner.invoke(args=["gmail", "watch", "--stop"])
    assert result.exit_code == 0, result.output
    assert "rep@acme.test: stopped" in result.output
    assert google.watching is None and watch_of(mailbox) is None and google.calls["stop"] == 1


def test_the_watch_command_reports_a_refusal(app, mailbox, google, pubsub):
    google.topics.clear()
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["gmail", "watch"])
    assert result.exit_code == 1
    assert "User not authorized" in result.output and "1 of 1 watches failed" in result.output


def test_the_watch_command_needs_push(app, mailbox, monkeypatch, settings):
    monkeypatch.setitem(app.config, "LEADCAMP", settings.replace(gmail_push_topic=""))
    result = app.test_cli_runner().invoke(args=["gmail", "watch"])
    assert result.exit_code == 1 and "GMAIL_PUSH_TOPIC" in result.output
