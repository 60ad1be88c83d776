"""The parts of a message the rep tracks (opens, links) through the API: the report, the tracked
HTML the server makes, the status that says which parts were tracked, and server-side sending."""

from __future__ import annotations

import re

import pytest

from server.extensions import db
from server.models import Link, Message
from tests.api.test_messages import BODY
from tests.api.test_send import BODY as SEND_BODY
from tests.api.test_send import send
from tests.support import auth
from tests.support.google import METADATA, SEND, SIGN_IN, connect_mailbox, with_google

PARTS = [(True, True), (True, False), (False, True), (False, False)]


def post(client, token, body, status=201):
    response = client.post("/api/v1/messages", json=body, headers=auth(token))
    assert response.status_code == status, response.json
    return response.json


def test_a_report_without_parts_tracks_both(client, rep):
    created = post(client, rep[1], BODY)
    assert created["track_opens"] is True and created["track_links"] is True
    assert created["pixel_url"] and created["links"]


@pytest.mark.parametrize(("opens", "links"), PARTS)
def test_the_tracked_html_has_only_the_parts_asked_for_and_the_status_says_which(
    client, rep, opens, links
):
    _, token = rep
    created = post(client, token, BODY | {"track_opens": opens, "track_links": links})
    assert ("/o/" in created["html"]) is opens
    assert (created["pixel_url"] is not None) is opens
    assert ("http://track.test/c/" in created["html"]) is links
    assert bool(created["links"]) is links
    assert db.session.query(Link).count() == int(links)
    if not links:
        assert 'href="https://example.com/pricing?a=1&amp;b=2"' in created["html"]

    detail = client.get(f"/api/v1/messages/{created['id']}", headers=auth(token)).json
    assert (detail["track_opens"], detail["track_links"]) == (opens, links)
    assert detail["tracked"] is True and detail["status"] == "sent"
    threads = client.post(
        "/api/v1/threads/status",
        json={"thread_ids": [BODY["gmail_thread_id"]]},
        headers=auth(token),
    ).json["threads"]
    [status] = threads[BODY["gmail_thread_id"]]
    assert (status["track_opens"], status["track_links"]) == (opens, links)


def test_a_repeated_report_keeps_the_parts_of_the_first(client, rep):
    _, token = rep
    first = post(client, token, BODY | {"track_opens": False})
    again = post(client, token, BODY | {"id": first["id"], "track_opens": True})
    assert again["track_opens"] is False and "/o/" not in again["html"]
    assert db.session.get(Message, first["id"]).track_opens is False


def test_parts_must_be_booleans(client, rep):
    refused = post(client, rep[1], BODY | {"track_opens": "sometimes"}, status=400)
    assert refused["error"] == "invalid_request"
    assert any("track_opens" in str(d) for d in refused["details"]), refused


def test_the_openapi_document_lists_the_parts(client):
    spec = client.get("/api/v1/openapi.json").json
    schemas = spec["components"]["schemas"]
    for name in ("MessageIn", "SendIn", "MessageDetailOut"):
        assert {"track_opens", "track_links"} <= set(schemas[name]["properties"]), name


@pytest.fixture
def settings(settings):
    """Server-side sending needs a Google client configured."""
    return with_google(settings)


@pytest.mark.parametrize(("opens", "links"), PARTS)
def test_server_side_copies_carry_only_the_parts_asked_for(client, app, rep, google, opens, links):
    connect_mailbox(app, rep[0], google, (*SIGN_IN, METADATA, SEND))
    rep[0].account.sending_enabled = True
    db.session.commit()
    run = send(client, rep[1], SEND_BODY | {"track_opens": opens, "track_links": links})
    assert run["status"] == "succeeded", run
    for copy, sent in zip(run["items"], google.sent, strict=True):
        html = sent["mime"].get_payload()[1].get_payload(decode=True).decode("utf-8")
        assert bool(re.search(r'src="http://track.test/o/[^"]+\.gif"', html)) is opens
        assert (f".{copy['id']}." in html) is (opens or links)
        assert ("http://track.test/c/" in html) is links
        assert ('href="https://example.com/pricing"' in html) is not links
        message = db.session.get(Message, copy["id"])
        assert (message.track_opens, message.track_links) == (opens, links)
