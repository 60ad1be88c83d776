"""The 202 contract and GET /api/v1/jobs/<id>: a run is seen by whoever started it and by the
admins of its account; anyone else gets 404, as if it did not exist."""

from __future__ import annotations

from server.extensions import db
from server.models import JobRun
from tests.support import auth
from tests.support.jobs import pending, poll, run_jobs, worker

CSV = b"email,name\nana@acme.com,Ana\nbo@acme.com,Bo\nnope,Bad\n"


def import_csv(client, token, body=CSV):
    headers = auth(token) | {"Content-Type": "text/csv"}
    return client.post("/api/v1/contacts/import", data=body, headers=headers)


def test_a_queued_run_is_polled_to_completion(client, app, rep):
    _, token = rep
    answer = import_csv(client, token)
    assert answer.status_code == 202 and answer.json["status"] == "queued"
    url = answer.json["status_url"]
    assert answer.headers["Location"] == url
    seen = [client.get(url, headers=auth(token)).json]
    assert seen[0]["status"] == "queued" and seen[0]["started_at"] is None
    assert seen[0]["progress"] == {"total": 3, "done": 0, "failed": 0} and seen[0]["items"] == []
    assert pending(app) == 1
    run_jobs(app)
    done = client.get(url, headers=auth(token)).json
    assert done["status"] == "succeeded" and done["error"] is None
    assert done["progress"] == {"total": 3, "done": 3, "failed": 1}
    assert [(i["row"], i["status"]) for i in done["items"]] == [(4, "error")]  # rejected rows
    assert (done["result"]["created"], done["result"]["delimiter"]) == (2, "comma")
    assert done["created_at"] <= done["started_at"] <= done["finished_at"]
    assert done["finished_at"].endswith("Z")


def test_other_accounts_and_colleagues_get_404(client, app, rep, make_user):
    _, token = rep
    url = import_csv(client, token).json["status_url"]
    _, stranger = make_user("boss@globex.test", account="Globex", admin=True)
    _, colleague = make_user("colleague@acme.test")
    _, admin = make_user("boss@acme.test", admin=True)
    for other in (stranger, colleague):
        missing = client.get(url, headers=auth(other))
        assert missing.status_code == 404 and missing.json["error"] == "not_found"
    assert client.get(url, headers=auth(admin)).json["kind"] == "contacts_import"
    assert client.get("/api/v1/jobs/nothing-here", headers=auth(token)).status_code == 404
    assert client.get(url).status_code == 401


def test_bad_json_is_a_400_with_a_reason_and_queues_nothing(client, app, rep):
    _, token = rep
    headers = auth(token) | {"Content-Type": "application/json"}
    bad = client.post("/api/v1/messages/send", data="{nope", headers=headers)
    assert bad.status_code == 400 and bad.json == {
        "error": "invalid_json",
        "message": "The request body must be a JSON object.",
    }
    empty = import_csv(client, token, b"")
    assert empty.status_code == 400 and empty.json["error"] == "invalid_csv"
    assert pending(app) == 0 and db.session.query(JobRun).count() == 0


def test_the_openapi_document_describes_the_202_and_its_location(client):
    doc = client.get("/api/v1/openapi.json").json
    accepted = doc["paths"]["/api/v1/messages/send"]["post"]["responses"]["202"]
    assert "Location" in accepted["headers"]
    assert accepted["content"]["application/json"]["schema"]["$ref"].endswith("/JobAcceptedOut")
    assert "/api/v1/jobs/{run_id}" in doc["paths"]


def test_a_running_worker_finishes_what_the_request_queued(client, app, rep):
    _, token = rep
    rows = "".join(f"lead{n}@acme.com,Lead {n}\n" for n in range(450))
    with worker(app):
        answer = import_csv(client, token, f"email,name\n{rows}".encode())
        assert answer.status_code == 202
        seen = poll(client, answer.json["status_url"], auth(token))
    assert seen[-1]["status"] == "succeeded" and seen[-1]["progress"]["done"] == 450
    assert seen[-1]["result"]["created"] == 450 and seen[-1]["items"] == []
    dones = [s["progress"]["done"] for s in seen]
    assert dones == sorted(dones)  # progress only moves on
