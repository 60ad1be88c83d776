"""The receiver example of docs/webhooks.md, run as written against real signed deliveries: it
verifies them with the Standard Webhooks library, refuses a forged one, and handles an event
once although a replay sends it again."""

from __future__ import annotations

import re
import threading
import urllib.error
import urllib.request
from http.server import HTTPServer
from pathlib import Path

from server.extensions import db
from server.webhooks import delivery, endpoints, events
from tests.webhooks.conftest import LOCAL

DOC = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"


def example() -> str:
    """The Python block after the receiver-example marker."""
    text = DOC.read_text()
    after = text.split("<!-- receiver-example -->", 1)[1]
    return re.search(r"```python\n(.*?)```", after, re.S).group(1)


def test_the_documented_receiver_verifies_and_dedupes(app, hook_admin, monkeypatch):
    admin = hook_admin[0]
    secret_key = app.config["SECRET_KEY"]
    # The endpoint first: its secret goes into the receiver's environment.
    endpoint, secret = endpoints.create(
        db.session, secret_key, admin, {"url": "http://127.0.0.1:1/", "allow_private": LOCAL}
    )
    monkeypatch.setenv("LEADCAMP_WEBHOOK_SECRET", secret)
    namespace = {"__name__": "receiver_example"}
    exec(compile(example(), str(DOC), "exec"), namespace)
    handled = []
    namespace["handle"] = handled.append
    namespace["Receiver"].log_message = lambda *args: None
    server = HTTPServer(("127.0.0.1", 0), namespace["Receiver"])
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        endpoint.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
        events.emit(db.session, admin.account_id, "contact.updated", {"email": "a@b.test"})
        db.session.commit()
        config = delivery.Config(secret_key=secret_key, timeout=5.0)
        assert delivery.deliver_due(db.session, config) == {"succeeded": 1}
        [line] = endpoints.log(db.session, endpoint)
        endpoints.replay(db.session, admin, endpoints.delivery_of(db.session, admin.account_id,
                                                                  line["id"]))  # fmt: skip
        db.session.commit()
        assert delivery.deliver_due(db.session, config) == {"succeeded": 1}
        assert [e["data"] for e in handled] == [{"email": "a@b.test"}]
        forged = urllib.request.Request(
            endpoint.url, data=b'{"type":"x"}', method="POST",
            headers={"webhook-id": "msg_1", "webhook-timestamp": "1", "webhook-signature": "v1,x"},
        )  # fmt: skip
        try:
            urllib.request.urlopen(forged, timeout=5)
            raise AssertionError("a forged delivery was accepted")
        except urllib.error.HTTPError as exc:
            assert exc.code == 400
    finally:
        server.shutdown()
        server.server_close()
