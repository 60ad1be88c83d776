"""The extension's message API: register, track HTML, read status, thread status, self-view."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from html import escape

from server.extensions import db
from server.models import Link, Message
from server.models.base import iso
from server.models.message import VERDICTS
from server.tracking.ingest import BatchWriter
from server.tracking.verdicts.context import Windows
from tests.support import auth, make_event

AN_HOUR_AGO = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
BODY = {
    "subject": "Quick question",
    "sent_at": AN_HOUR_AGO,
    "recipients": [{"email": "Jane.Doe@Example.com", "name": "Jane"}],
    "gmail_thread_id": "18c2a5f0e1d2b3a4",
    "html": '<p>Hi <a href="https://example.com/pricing?a=1&amp;b=2">pricing</a>'
    ' <a href="mailto:x@example.com">mail</a></p>',
}


def test_register_tracks_html_and_is_idempotent(client, rep):
    _, token = rep
    first = client.post("/api/v1/messages", json=BODY, headers=auth(token))
    assert first.status_code == 201, first.json
    data = first.json
    assert data["status"] == "sent" and data["tracked"] is True
    assert data["recipients"] == [{"email": "jane.doe@example.com", "name": "Jane"}]
    assert data["pixel_url"].startswith("http://track.test/o/")
    assert data["pixel_url"] in data["html"]
    assert [link["url"] for link in data["links"]] == ["https://example.com/pricing?a=1&b=2"]
    assert data["links"][0]["tracked_url"].startswith("http://track.test/c/")
    assert 'href="mailto:x@example.com"' in data["html"]

    again = client.post("/api/v1/messages", json=BODY | {"id": data["id"]}, headers=auth(token))
    assert again.status_code == 201
    assert again.json["id"] == data["id"]
    assert db.session.query(Message).count() == 1
    assert db.session.query(Link).count() == 1


def test_pixel_from_the_api_records_an_open_and_status_follows(client, app, rep):
    _, token = rep
    created = client.post("/api/v1/messages", json=BODY, headers=auth(token)).json
    pixel_path = created["pixel_url"].removeprefix("http://track.test")
    safari = (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"
    )
    hit = client.get(
        pixel_path, headers={"User-Agent": safari}, environ_base={"REMOTE_ADDR": "81.2.69.142"}
    )
    assert hit.status_code == 200 and hit.mimetype == "image/gif"
    app.extensions["leadcamp.sink"].flush()
    detail = client.get(f"/api/v1/messages/{created['id']}", headers=auth(token)).json
    assert detail["status"] == "opened"
    assert detail["opens"] == 1 and detail["counts"]["human"] == 1
    [event] = detail["events"]
    assert event["kind"] == "open" and event["verdict"] == "human"
    assert event["device"] == {"type": "mobile", "os": "iOS", "browser": "Mobile Safari"}

    status = client.post(
        "/api/v1/threads/status",
        json={"thread_ids": [BODY["gmail_thread_id"], "unknown1"]},
        headers=auth(token),
    ).json
    assert list(status["threads"]) == [BODY["gmail_thread_id"]]
    assert status["threads"][BODY["gmail_thread_id"]][0]["status"] == "opened"


def test_only_links_the_redirect_can_send_are_tracked_and_each_tracked_one_redirects(
    client, app, rep
):
    _, token = rep
    bad = ["http://example.com:99999/", "http://a..example/", "http://exa mple.com/"]
    good = "http://bücher.example/ä?q=ü"
    html = "".join(f'<a href="{escape(href)}">link</a>' for href in [*bad, good])
    created = client.post("/api/v1/messages", json=BODY | {"html": html}, headers=auth(token))
    assert created.status_code == 201, created.json
    [link] = created.json["links"]
    assert link["url"] == good
    assert created.json["html"].startswith(html.replace(good, escape(link["tracked_url"])))
    assert [row.url for row in db.session.query(Link)] == [good]

    clicked = client.get(link["tracked_url"].removeprefix("http://track.test"))
    assert clicked.status_code == 302
    assert clicked.headers["Location"] == "http://xn--bcher-kva.example/%C3%A4?q=%C3%BC"
    app.extensions["leadcamp.sink"].flush()
    detail = client.get(f"/api/v1/messages/{created.json['id']}", headers=auth(token)).json
    assert [(e["kind"], e["link"]) for e in detail["events"]] == [("click", good)]


PROXY_UA = (
    "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
)


def _proxy_open(client, app, created) -> None:
    path = created["pixel_url"].removeprefix("http://track.test")
    client.get(path, headers={"User-Agent": PROXY_UA})
    app.extensions["leadcamp.sink"].flush()


def test_a_self_view_never_erases_the_recipients_earlier_open(client, app, rep):
    """The notification flow: Dana opens, the rep is told and opens the thread."""
    _, token = rep
    created = client.post("/api/v1/messages", json=BODY, headers=auth(token)).json
    _proxy_open(client, app, created)
    assert client.get(f"/api/v1/messages/{created['id']}", headers=auth(token)).json["opens"] == 1
    signal = client.post(
        f"/api/v1/messages/{created['id']}/self-view", json={}, headers=auth(token)
    )
    assert signal.status_code == 200 and signal.json == {"relabelled": 0}
    detail = client.get(f"/api/v1/messages/{created['id']}", headers=auth(token)).json
    assert detail["opens"] == 1 and detail["status"] == "opened"
    assert detail["counts"]["proxy"] == 1 and detail["counts"]["self"] == 0


def test_a_self_view_explains_the_one_fetch_it_caused(client, app, rep):
    _, token = rep
    created = client.post("/api/v1/messages", json=BODY, headers=auth(token)).json
    signal = client.post(
        f"/api/v1/messages/{created['id']}/self-view", json={}, headers=auth(token)
    )
    assert signal.json == {"relabelled": 0}
    _proxy_open(client, app, created)  # the rep's own view, through Gmail's proxy
    _proxy_open(client, app, created)  # a second fetch: the view explains one only
    detail = client.get(f"/api/v1/messages/{created['id']}", headers=auth(token)).json
    assert detail["counts"]["self"] == 1 and detail["counts"]["proxy"] == 1
    assert detail["opens"] == 1
    assert detail["events"][0]["reasons"] == ["gmail-image-proxy", "self-view"]


def test_thread_status_counts_real_opens_only_with_the_last_real_ones_time(client, rep, kid):
    """The receipt's "opened 3 times, last …": human and proxy opens; machine, scanner, prefetch,
    bot and the sender's own hits are counted apart and never move the last open."""
    _, token = rep
    mid = client.post("/api/v1/messages", json=BODY, headers=auth(token)).json["id"]
    start = time.time() - 600
    real = [("human", start), ("proxy", start + 60), ("human", start + 120)]
    machine = ["machine", "scanner", "prefetch", "bot", "self"]
    hits = [make_event(kid, mid, verdict=v, occurred_at=at) for v, at in real]
    # Later than every real open: a last open taken from them would be wrong.
    hits += [make_event(kid, mid, verdict=v, occurred_at=start + 300) for v in machine]
    assert BatchWriter(db.engine, Windows(scanner=0, burst=3, self_view=0))(hits) == 8

    asked = {"thread_ids": [BODY["gmail_thread_id"]]}
    status = client.post("/api/v1/threads/status", json=asked, headers=auth(token)).json
    [message] = status["threads"][BODY["gmail_thread_id"]]
    assert (message["status"], message["opens"], message["clicks"]) == ("opened", 3, 0)
    assert message["last_open_at"] == iso(datetime.fromtimestamp(start + 120, UTC))
    assert message["counts"] == dict.fromkeys(VERDICTS, 1) | {"human": 2}
    assert (message["replied"], message["last_reply_at"]) == (False, None)
    assert (message["bounced"], message["bounced_at"]) == (False, None)


def test_the_openapi_document_describes_the_receipt_fields(client):
    schema = client.get("/api/v1/openapi.json").json["components"]["schemas"]["MessageSummaryOut"]
    fields = schema["properties"]
    assert {"replied", "last_reply_at", "bounced", "bounced_at"} <= set(fields)
    assert "bounced" in fields["status"]["description"]
    assert {"replied", "bounced", "bounced_at", "last_reply_at"} <= set(schema["required"])
