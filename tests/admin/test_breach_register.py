"""The breach register's pages: no closing without a finished action, the 72-hour clock,
notification dates, and dates checked (never in the future, never before detection)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from server.extensions import db
from server.models import Breach
from tests.support.admin import post_form

INCIDENT = {"occurred_at": "2026-11-20T09:30", "description": "Export mailed to the wrong person",
            "data_affected": "names", "subjects_affected": "12 prospects"}  # fmt: skip


def _record(client) -> str:
    return post_form(client, "/admin/breaches", "/admin/breaches", **INCIDENT).headers["Location"]


def _minutes(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).strftime("%Y-%m-%dT%H:%M")


def test_a_breach_without_actions_does_not_close(app, login, people):
    client = login(people.admin)
    path = _record(client)
    refused = post_form(client, f"{path}/close", path)
    assert refused.status_code == 400 and "at least one remedial action" in refused.text
    assert "open" in client.get(path).text
    post_form(client, f"{path}/actions", path, description="Ask the recipient to delete it")
    action = re.search(r'action="([^"]+/done)"', client.get(path).text).group(1)
    post_form(client, action, path)
    assert post_form(client, f"{path}/close", path).status_code == 302


def test_the_72_hour_deadline_is_shown_and_overdue_once_passed(app, login, people):
    client = login(people.admin)
    path = _record(client)
    breach = db.session.get(Breach, int(path.rsplit("/", 1)[1]))
    deadline = breach.detected_at + timedelta(hours=72)
    page = client.get(path).text
    assert f"{deadline:%Y-%m-%d %H:%M} UTC" in page and "overdue" not in page
    breach.detected_at -= timedelta(hours=73)
    db.session.commit()
    assert "overdue" in client.get(path).text
    post_form(client, f"{path}/notified", path, authority_notified_at=_minutes(timedelta(0)))
    assert "overdue" not in client.get(path).text  # told (late, but told)


def test_notifications_are_recorded_with_a_reference(app, login, people):
    client = login(people.admin)
    path = _record(client)
    told = _minutes(timedelta(0))
    form = {"authority_notified_at": told, "subjects_notified_at": told,
            "notification_reference": "CNIL-2026-0042"}  # fmt: skip
    saved = post_form(client, f"{path}/notified", path, **form)
    assert saved.status_code == 302
    page = client.get(path).text
    shown = f"{told.replace('T', ' ')} UTC"
    assert "CNIL-2026-0042" in page
    assert f"<dt>Authority told</dt><dd>{shown}" in page
    assert f"<dt>People told</dt><dd>{shown}" in page


def test_dates_in_the_future_or_before_detection_are_refused_keeping_the_input(app, login, people):
    client = login(people.admin)
    future = _minutes(timedelta(days=2))
    refused = post_form(client, "/admin/breaches", "/admin/breaches",
                        **{**INCIDENT, "occurred_at": future})  # fmt: skip
    assert refused.status_code == 400 and "cannot be in the future" in refused.text
    assert f'value="{future}"' in refused.text and INCIDENT["description"] in refused.text
    assert db.session.query(Breach).count() == 0
    path = _record(client)
    early = _minutes(-timedelta(days=1))
    before = post_form(client, f"{path}/notified", path, authority_notified_at=early,
                       notification_reference="REF-1")  # fmt: skip
    assert before.status_code == 400 and "before the breach was detected" in before.text
    assert f'value="{early}"' in before.text and 'value="REF-1"' in before.text
    ahead = post_form(client, f"{path}/notified", path, subjects_notified_at=future)
    assert ahead.status_code == 400 and "cannot be in the future" in ahead.text
    db.session.expire_all()
    assert db.session.query(Breach).one().authority_notified_at is None
