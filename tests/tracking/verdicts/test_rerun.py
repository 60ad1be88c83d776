"""Re-running verdicts on stored hits: newer rules and network data reach old rows."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from server.extensions import db
from server.models import Event, Message, MessageSummary, SelfView
from server.tracking.ingest import BatchWriter
from server.tracking.verdicts.context import Windows
from server.tracking.verdicts.network import NetworkIndex
from server.tracking.verdicts.rerun import rerun
from tests.support import make_event

NOW = time.time()
MID = "r" * 22
KNOWS_MIMECAST = NetworkIndex(
    {"operators": {"mimecast": {"category": "security-gateway", "ranges": ["207.211.30.0/24"]}}}
)
KNOWS_NOTHING = NetworkIndex({"operators": {}})


@pytest.fixture
def stored(app, rep, kid):
    """A message with a browser open from a then-unknown gateway block and a Gmail-proxy open."""
    user = rep[0]
    message = Message(id=MID, account_id=user.account_id, user_id=user.id, kid=kid)
    message.sent_at = datetime.fromtimestamp(NOW - 7200, UTC)
    db.session.add(message)
    db.session.commit()
    BatchWriter(db.engine)(
        [
            make_event(
                kid,
                MID,
                occurred_at=NOW - 3600,
                ip_prefix="207.211.30.0",
                evidence="ua=human",
                device_type="desktop",
                browser_family="Chrome",
            ),
            make_event(
                kid,
                MID,
                occurred_at=NOW - 1800,
                verdict="proxy",
                reasons="gmail-image-proxy",
                evidence="ua=proxy/gmail-image-proxy",
                ip_prefix="66.249.84.0",
            ),
        ]
    )
    return user


def summary() -> MessageSummary:
    db.session.expire_all()
    return db.session.get(MessageSummary, MID)


def test_new_network_data_relabels_old_hits_and_their_summary(stored):
    assert summary().opens == 2
    with db.engine.begin() as conn:
        report = rerun(conn, KNOWS_MIMECAST, Windows())
    assert (report.messages, report.hits, report.changed) == (1, 2, 1)
    assert report.moves == {("human", "scanner"): 1}
    db.session.expire_all()
    gateway = db.session.query(Event).filter_by(ip_prefix="207.211.30.0").one()
    assert (gateway.verdict, gateway.reasons) == ("scanner", "security-gateway")
    assert gateway.evidence == "ua=human,net=mimecast/security-gateway"
    assert (summary().opens, summary().n_scanner) == (1, 1)


def test_a_second_rerun_changes_nothing(stored):
    with db.engine.begin() as conn:
        rerun(conn, KNOWS_MIMECAST, Windows())
    with db.engine.begin() as conn:
        assert rerun(conn, KNOWS_MIMECAST, Windows()).changed == 0


def test_a_block_no_list_names_keeps_the_owner_it_had(stored):
    with db.engine.begin() as conn:
        rerun(conn, KNOWS_MIMECAST, Windows())
    with db.engine.begin() as conn:
        assert rerun(conn, KNOWS_NOTHING, Windows()).changed == 0
    assert summary().n_scanner == 1


def test_since_and_account_limit_what_is_rerun(stored):
    with db.engine.begin() as conn:
        assert rerun(conn, KNOWS_MIMECAST, Windows(), since=datetime.now(UTC)).hits == 0
        assert rerun(conn, KNOWS_MIMECAST, Windows(), account_id=stored.account_id + 1).hits == 0


def test_self_views_explain_again_from_scratch(stored):
    viewed = datetime.fromtimestamp(NOW - 1801, UTC)
    db.session.add(SelfView(message_id=MID, user_id=stored.id, viewed_at=viewed))
    db.session.commit()
    with db.engine.begin() as conn:
        rerun(conn, KNOWS_NOTHING, Windows())
    db.session.expire_all()
    view = db.session.query(SelfView).one()
    explained = db.session.get(Event, view.claimed_event_id)
    assert explained.verdict == "self" and explained.ip_prefix == "66.249.84.0"
    assert summary().opens == 1


def test_rows_stored_before_evidence_keep_their_request_verdict(app, rep, kid):
    user = rep[0]
    db.session.add(Message(id=MID, account_id=user.account_id, user_id=user.id, kid=kid))
    db.session.commit()
    BatchWriter(db.engine)([make_event(kid, MID, ip_prefix="207.211.30.0")])
    with db.engine.begin() as conn:
        assert rerun(conn, KNOWS_MIMECAST, Windows()).changed == 0


def test_an_open_the_old_self_view_window_took_is_counted_again(app, rep, kid):
    """Before evidence was kept, a self-view relabelled every open within two minutes `self`:
    the notification flow erased the lead's real open. A re-run gives it back."""
    user = rep[0]
    message = Message(id=MID, account_id=user.account_id, user_id=user.id, kid=kid)
    message.sent_at = datetime.fromtimestamp(NOW - 7200, UTC)
    db.session.add(message)
    viewed = datetime.fromtimestamp(NOW - 1790, UTC)  # ten seconds after the lead's open
    db.session.add(SelfView(message_id=MID, user_id=user.id, viewed_at=viewed))
    db.session.commit()
    BatchWriter(db.engine)(
        [
            make_event(
                kid,
                MID,
                occurred_at=NOW - 1800,
                verdict="self",
                reasons="gmail-image-proxy,self-view",
                ip_prefix="66.249.84.0",
            ),
            make_event(
                kid,
                MID,
                occurred_at=NOW - 1795,
                verdict="self",
                reasons="self-view",
                ip_prefix="81.2.69.0",
                device_type="desktop",
            ),
        ]
    )
    assert summary().opens == 0
    with db.engine.begin() as conn:
        report = rerun(conn, KNOWS_NOTHING, Windows())
    assert report.moves == {("self", "proxy"): 1, ("self", "human"): 1}
    db.session.expire_all()
    verdicts = {e.ip_prefix: (e.verdict, e.reasons) for e in db.session.query(Event)}
    assert verdicts == {
        "66.249.84.0": ("proxy", "gmail-image-proxy"),
        "81.2.69.0": ("human", ""),
    }
    assert db.session.query(SelfView).one().claimed_event_id is None
    assert summary().opens == 2
