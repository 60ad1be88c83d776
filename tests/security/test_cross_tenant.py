"""The cross-tenant matrix: every route of the app (walked from its URL map, every method) sent
by another account's rep, another account's admin and an anonymous client, with the victim's ids.

Refused means 403 or 404 for a request naming the victim's row (401 or the sign-in redirect for
an anonymous client), and for every request: no 5xx, none of the victim's data in the answer and
none of the victim's rows changed. Each person sends both credentials at once (the session cookie
and a bearer token), so the API and the settings pages are both reached as that person.
"""

from __future__ import annotations

import pytest

from server.accounts import users as accounts
from server.extensions import db
from server.models import MessageSummary
from tests.security import routes
from tests.security import world as worlds
from tests.support import click_for, pixel_for

SECRET = "test-link-secret"

# Failures owned by another change, excluded until it merges: (endpoint, method, who) -> item.
KNOWN: dict[tuple[str, str, str], str] = {}


def test_every_route_is_classified(app):
    """A route missing from both tables fails here, so a new one is never skipped silently."""
    unclassified = []
    for endpoint, method, rule in routes.routes(app):
        try:
            routes.probe_for(endpoint, method)
        except KeyError:
            unclassified.append(f"{method} {rule} ({endpoint})")
    assert not unclassified, "classify in tests/security/routes.py: " + ", ".join(unclassified)


def test_tables_name_only_existing_routes(app):
    """A table entry whose route is gone is removed, so the tables stay the app's own."""
    live = {(endpoint, method) for endpoint, method, _ in routes.routes(app)}
    stale = [key for key in routes.PROBES if key not in live]
    stale += [e for e in routes.PUBLIC if e not in {endpoint for endpoint, _ in live}]
    assert not stale


def test_fast_path_routes_are_public(client):
    """/o/ and /c/ are answered in front of Flask (not in its URL map): public by design, and
    covered by tests/security/test_tracking_tokens.py."""
    assert client.get("/o/x.gif").status_code == 200
    assert client.get("/c/x/y").status_code == 404


@pytest.mark.parametrize("who", ["rep", "admin", "anonymous"])
def test_another_account_is_refused(app, world, visitor, who):
    """Every route, as `who`, with the victim's ids: refused, no leak, no change."""
    app.config["WTF_CSRF_ENABLED"] = False  # CSRF refusals would hide the tenancy answer
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a server error is an answer to collect
    person = {"rep": world.rep, "admin": world.admin, "anonymous": None}[who]
    victim = world.victim_admin.account_id
    failures = {}
    reader, reader_headers = visitor(person)  # GET and HEAD change no session: one client
    start = worlds.fingerprint(victim)
    # Reads first, on the one signed-in reader: a change (signing out, ending sessions) may end
    # every session of the person, the reader's too, and the reads after it would only meet the
    # sign-in page.
    ordered = sorted(routes.routes(app), key=lambda route: route[1] not in ("GET", "HEAD"))
    for endpoint, method, _ in ordered:
        probe = routes.probe_for(endpoint, method)
        if probe is None:
            continue
        safe = method in ("GET", "HEAD")
        # A fresh client for each change, since one may end the session or revoke the token;
        # the victim's rows are compared around each change and, for reads, around them all.
        client, headers = (reader, reader_headers) if safe else visitor(person)
        before = start if safe else worlds.fingerprint(victim)
        sent, response = routes.send(client, method, probe, world.ids, headers)
        problem = _problem(world, probe, who, sent, response)
        if problem is None and not safe and worlds.fingerprint(victim) != before:
            problem = "changed the victim's rows"
        if problem:
            db.session.rollback()  # after a server error the test's shared session is spoilt
            failures[(endpoint, method, who)] = f"{method} {sent.splitlines()[0]}: {problem}"
    if worlds.fingerprint(victim) != start and not failures:
        failures[("GET", "GET", who)] = "a GET or HEAD request changed the victim's rows"
    unexpected = {k: v for k, v in failures.items() if k not in KNOWN}
    fixed = [k for k in KNOWN if k[2] == who and k not in failures]
    assert not unexpected, "\n".join(unexpected.values())
    assert not fixed, f"these pass now: remove them from KNOWN: {fixed}"


def _problem(world, probe, who: str, sent: str, response) -> str | None:
    """What is wrong with the answer, or None."""
    status = response.status_code
    if status >= 500:
        return f"answered {status}"
    text = response.get_data(as_text=True).lower()
    # What the request itself carried may come back (a search form shows its query).
    leaked = [m for m in world.markers if m.lower() in text and m.lower() not in sent.lower()]
    if leaked:
        return f"answered {status} carrying the victim's {leaked}"
    if who == "anonymous":
        to_sign_in = status in (302, 303) and "/auth/login" in response.headers.get("Location", "")
        if not (to_sign_in or status in (401, 403, 404)):
            return f"answered {status} to an anonymous client"
    elif probe.kind == "object" and status not in (403, 404):
        return f"answered {status}, not 403 or 404"
    return None


def test_a_hit_signed_by_another_account_never_counts_for_the_victim(app, world, client):
    """Another account's rep signs the pixel and a link for the victim's message id with their
    own key: the hits are theirs at most, never the victim's message's events or summary."""
    mid, victim = world.ids["mid"], world.victim_admin.account_id
    key = accounts.current_signing_key(db.session, world.rep)
    db.session.commit()
    before = worlds.fingerprint(victim), _summary(mid)
    assert client.get(pixel_for(SECRET, key.kid, mid)).status_code == 200
    assert client.get(click_for(SECRET, key.kid, mid, "https://example.com/")).status_code == 302
    app.extensions["leadcamp.sink"].flush()
    assert (worlds.fingerprint(victim), _summary(mid)) == before


def _summary(mid: str) -> tuple | None:
    """The message's summary row as plain values."""
    db.session.expire_all()
    row = db.session.get(MessageSummary, mid)
    return None if row is None else (row.account_id, row.opens, row.clicks, row.n_human)
