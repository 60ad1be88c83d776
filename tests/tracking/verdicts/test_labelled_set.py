"""The labelled scenario set, replayed through the real fast path and batch writer on a virtual
clock: every scenario's hits arrive as many seconds after sending as it says, in moments.

`make verdicts` replays the same set in real time against a live server.
"""

from __future__ import annotations

import io
import ipaddress
from datetime import UTC, datetime

import pytest

from server.extensions import db
from server.models import User
from server.tracking import self_views
from tests.conftest import make_settings, running_app
from tests.support import auth
from tests.tracking.verdicts.labelled import build, replay

# Far enough back that no scenario's times reach the present; each scenario gets its own day.
BASE = datetime(2026, 1, 5, tzinfo=UTC).timestamp()


@pytest.fixture
def proxied_app(database_url, tmp_path):
    """The app behind a trusted proxy at 127.0.0.1, as `make run` is with TRUSTED_PROXIES set."""
    settings = make_settings(
        database_url,
        spool_dir=tmp_path / "spool",
        instance_path=tmp_path,
        trusted_proxies=(ipaddress.ip_network("127.0.0.1/32"),),
    )
    yield from running_app(settings)


class VirtualReplay:
    """Replays scenarios through the test client with the recorder's clock set per hit."""

    def __init__(self, app, token: str):
        self.app = app
        self.client = app.test_client()
        self.token = token
        self.recorder = app.extensions["leadcamp.recorder"]
        self.sink = app.extensions["leadcamp.sink"]

    def run(self, scenarios: list[dict]) -> dict[str, list[str]]:
        observed = {}
        for day, scenario in enumerate(scenarios):
            observed[scenario["name"]] = self._scenario(scenario, BASE + day * 86400)
        return observed

    def _scenario(self, scenario: dict, sent_at: float) -> list[str]:
        body = replay.message_body(scenario, sent_at)
        data = self.client.post("/api/v1/messages", json=body, headers=auth(self.token)).json
        links = [replay.path_of(link["tracked_url"]) for link in data["links"]]
        for step in scenario["hits"]:
            at = sent_at + step["at"]
            if step["kind"] == "self-view":
                self._self_view(data["id"], at)
                continue
            self.recorder.clock = lambda at=at: at
            path = (
                replay.path_of(data["pixel_url"]) if step["kind"] == "open" else links[step["link"]]
            )
            headers = step["headers"] | {"X-Forwarded-For": step["ip"]}
            self.client.open(path, method=step["method"], headers=headers)
            self.sink.flush()
        detail = self.client.get(f"/api/v1/messages/{data['id']}", headers=auth(self.token)).json
        return [e["verdict"] for e in detail["events"]]

    def _self_view(self, mid: str, at: float) -> None:
        when = datetime.fromtimestamp(at, UTC)
        user = db.session.scalars(db.select(User)).first()
        window = self.app.config["LEADCAMP"].self_view_window_seconds
        self_views.record(db.session, user, mid, when, window, now=when)
        db.session.commit()


def test_the_set_is_rebuilt_exactly_from_its_sources():
    assert build.build() == replay.load()


def test_the_labelled_set_meets_the_goals(proxied_app, make_user):
    _, token = make_user()
    scenarios = replay.load()
    observed = VirtualReplay(proxied_app, token).run(scenarios)
    out = io.StringIO()
    totals = replay.report(replay.compare(scenarios, observed), out)
    print(out.getvalue())
    assert totals["real_opens_mislabelled"] == 0, out.getvalue()
    assert totals["accuracy"] >= 0.97, out.getvalue()
    assert totals["scanner_caught"] >= 0.90, out.getvalue()


def test_the_report_counts_what_went_wrong():
    scenarios = [
        {"name": "a", "traffic": "t", "hits": [{"kind": "open", "expect": "proxy"}]},
        {"name": "b", "traffic": "s", "hits": [{"kind": "click", "expect": "scanner"}] * 2},
    ]
    result = replay.compare(scenarios, {"a": ["machine"], "b": ["scanner", "human"]})
    totals = replay.summary(result)
    assert totals["accuracy"] == pytest.approx(1 / 3)
    assert totals["real_opens_mislabelled"] == 1
    assert totals["scanner_caught"] == 0.5
    assert totals["bursts_caught"] == "0/1"
