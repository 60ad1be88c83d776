"""The messages provider: an export holds the person's own data only (their messages without the
other recipients) and all of it (the stored IP prefix and hash of their hits); an erasure leaves
no engagement of theirs in the summaries the other recipients are shown."""

from __future__ import annotations

import base64
import json

from server.common import job_runs
from server.extensions import db
from server.messages import service as messages
from server.models import MessageSummary
from server.privacy import data_requests
from tests.support.admin import SUBJECT
from tests.support.person import OTHER, add_hits, message_to


def _export(admin, email: str) -> dict:
    run = data_requests.export(db.session, "k", admin, email)
    db.session.commit()
    assert job_runs.perform(db.session, run.id, data_requests.write_export) == "succeeded"
    body, _ = data_requests.export_file(db.session.get(type(run), run.id), "json")
    return json.loads(body)["data"]["messages"]


def test_an_export_leaves_out_the_other_recipients_and_keeps_the_ip_prefix_and_hash(app, admin):
    own = message_to(admin, [(SUBJECT, "Ana Ruiz")], "Pricing")
    shared = message_to(admin, [(OTHER, "Bo Lindqvist"), (SUBJECT, "Ana Ruiz")], "Kick-off")
    add_hits(own, [None])
    add_hits(shared, [None])
    db.session.commit()
    found = _export(admin, SUBJECT)
    text = json.dumps(found)
    assert "bo.lindqvist" not in text and "Lindqvist" not in text
    by_id = {m["id"]: m for m in found["messages"]}
    assert by_id[shared.id]["subject"] == "Kick-off"
    assert by_id[shared.id]["recipients"] == [{"email": SUBJECT, "name": "Ana Ruiz"}]
    hits = {e["message_id"]: e for e in found["events"]}
    assert (hits[own.id]["ip_prefix"], hits[own.id]["ip_hash"]) == ("203.0.113.0", "0" * 32)
    # A hit on the shared message may be Bo's: when and what, nothing about the device or place.
    assert hits[shared.id]["shared_message"] is True
    assert "ip_prefix" not in hits[shared.id] and "location" not in hits[shared.id]


def test_erasure_recomputes_the_summaries_from_the_events_that_remain(app, admin):
    """Bo must not show as having clicked at Ana's click time once Ana is erased."""
    shared = message_to(admin, [(OTHER, "Bo"), (SUBJECT, "Ana")], "Kick-off")
    add_hits(shared, [None, "https://shop.test/pricing"])
    to_bo = message_to(admin, [(OTHER, "Bo")], "Notes")
    carried = base64.b64encode(f"ref=1&email={SUBJECT}".encode()).decode()
    add_hits(to_bo, [None, f"https://shop.test/?t={carried}"])
    db.session.commit()
    assert db.session.get(MessageSummary, shared.id).status == "clicked"

    data_requests.erase(db.session, "k", admin, SUBJECT)
    db.session.commit()
    db.session.expire_all()

    assert messages.summary_of(shared, db.session.get(MessageSummary, shared.id))["status"] == (
        "sent"
    )
    left = db.session.get(MessageSummary, to_bo.id)
    assert (left.opens, left.clicks, left.last_click_at, left.status) == (1, 0, None, "opened")
