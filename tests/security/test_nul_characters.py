"""A NUL character in any value a route takes (form field, JSON string, CSV body, query
argument) is malformed input, never a server error: PostgreSQL's text cannot hold one, so a value
that reaches an insert unchecked fails there. Sent as the account's own admin, so every request
gets past its access checks to the code that stores what it was given."""

from __future__ import annotations

from server.extensions import db
from tests.security import routes

QUERY = "q=%00x&after=%00&limit=%00"


def test_no_route_fails_on_a_nul_character(app, world, visitor):
    """Every classified route, each value with a NUL in it: an answer below 500."""
    app.config["WTF_CSRF_ENABLED"] = False  # CSRF refusals would hide what the view does
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a server error is an answer to collect here
    failures = []
    for endpoint, method, _ in routes.routes(app):
        probe = routes.probe_for(endpoint, method)
        if probe is None or method == "HEAD":
            continue
        client, headers = visitor(world.victim_admin)
        _, response = routes.send(client, method, _with_nul(probe), world.ids, headers)
        if response.status_code >= 500:
            failures.append(f"{method} {probe.path} ({endpoint}): {response.status_code}")
            db.session.rollback()  # the test's shared session saw the failed insert
    assert not failures, failures


def _with_nul(probe: routes.Probe) -> routes.Probe:
    """The probe with a NUL in each of its values (and in the query, for a GET)."""
    path = probe.path
    if probe.json is None and probe.form is None and probe.body is None and not probe.upload:
        path += ("&" if "?" in path else "?") + QUERY
    return routes.Probe(
        path,
        probe.kind,
        form=_nul(probe.form),
        json=_nul(probe.json),
        body=_nul(probe.body),
        content_type=probe.content_type,
        upload=_nul(probe.upload),
    )


def _nul(value):
    """`value` with a NUL character added to each string in it."""
    if isinstance(value, str):
        return value + "\x00x"
    if isinstance(value, dict):
        return {k: _nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_nul(v) for v in value]
    return value
