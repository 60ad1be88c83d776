"""The JSON API fuzzed from its own OpenAPI document (schemathesis, in process over WSGI), as a
signed-in rep whose account has a message, a contact and a job run: no request, valid or not,
gets a 5xx.

Bounded for the shared CI machine: a fixed number of examples per operation, no deadline (a busy
machine is not a failure) and derandomized, so every run sends the same requests and a failure
found once is found again.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from server.accounts import users as accounts
from server.extensions import db

EXAMPLES = 10  # per operation and generation mode: about 300 requests per mode and database
BOUNDED = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)

# Query arguments the views read that the OpenAPI document does not declare yet: added here so
# the fuzz sends them too (the document's gap is reported, not fixed, in this change).
QUERY: dict[tuple[str, str], dict[str, str]] = {}

# Failures owned by another change, excluded until it merges: "METHOD /path" -> item.
KNOWN: dict[str, str] = {}


@pytest.mark.parametrize("mode", list(GenerationMode), ids=lambda m: m.value)
def test_no_request_gets_a_server_error(app, world, mode):
    """Whatever the body, path or query, every operation answers below 500."""
    schema = schemathesis.openapi.from_dict(_document(app))
    schema.app = app  # requests go to the app in process, over WSGI
    failures = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        name = f"{operation.method.upper()} {operation.path}"
        try:
            _fuzz(operation, mode, world.victim_rep, _real_ids(world))
        except Exception as exc:  # a failing check: note it, go on with the next operation
            failures[name] = f"{name}: {str(exc)[:1500]}"
    unexpected = {k: v for k, v in failures.items() if k not in KNOWN}
    assert not unexpected, "\n\n".join(unexpected.values())


@pytest.mark.parametrize("mode", list(GenerationMode), ids=lambda m: m.value)
def test_the_admin_only_webhook_calls_get_no_server_error(app, world, mode):
    """The webhook calls refuse the rep above at once; fuzzed as an admin, they reach the
    service: still below 500."""
    schema = schemathesis.openapi.from_dict(_document(app))
    schema.app = app
    failures = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        if "/webhooks" not in operation.path:
            continue
        name = f"{operation.method.upper()} {operation.path}"
        try:
            _fuzz(operation, mode, world.victim_admin, _real_ids(world))
        except Exception as exc:
            failures[name] = f"{name}: {str(exc)[:1500]}"
    assert not failures, "\n\n".join(failures.values())


def _document(app) -> dict:
    """The app's OpenAPI document, with the undeclared query arguments added."""
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    for (method, path), args in QUERY.items():
        operation = document["paths"][path][method]
        declared = {p["name"] for p in operation.get("parameters", [])}
        assert not declared & set(args), "declared now: drop it from QUERY"
        operation.setdefault("parameters", []).extend(
            {"name": name, "in": "query", "required": False, "schema": {"type": kind}}
            for name, kind in args.items()
        )
    return document


def _real_ids(world) -> dict:
    """Path parameters naming rows the fuzzing rep may see, so requests reach past the lookup."""
    return {
        "mid": world.ids["mid"],
        "email": world.ids["contact"],
        "run_id": world.ids["run"],
        "endpoint_id": world.ids["webhook"],
        "delivery_id": world.ids["delivery"],
    }


def _fuzz(operation, mode, user, ids: dict) -> None:
    """Send EXAMPLES generated requests to one operation as `user`, half of them (where the path
    takes ids) naming real rows; raises on a 5xx (shrunk)."""
    strategy = operation.as_strategy(generation_mode=mode)
    names = {p.name for p in operation.path_parameters}
    if names:
        real = operation.as_strategy(
            generation_mode=mode, path_parameters={n: ids[n] for n in names}
        )
        strategy = st.one_of(strategy, real)

    @BOUNDED
    @given(case=strategy)
    def run(case):
        # A fresh token per request: a fuzzed sign-out revokes the one it was sent with.
        token = accounts.create_api_token(db.session, user)
        db.session.commit()
        headers = {"Authorization": f"Bearer {token}"}
        case.call_and_validate(headers=headers, checks=[not_a_server_error])

    run()
