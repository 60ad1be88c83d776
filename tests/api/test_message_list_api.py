"""GET /messages (the tracked-mail list) and GET /activity/history: filters, pages, scope, and
another account's refusal; both described in the OpenAPI document."""

from __future__ import annotations

from tests.support import auth
from tests.support.tracked import Hit, tracked


def test_the_list_filters_and_pages_a_reps_own_messages(client, rep, make_user):
    user, token = rep
    colleague, _ = make_user("nina@acme.test", token=False)
    tracked(user, "ana@lead.test", "Opened", [Hit("open", 60)], sent_ago=300)
    tracked(user, "bo@lead.test", "Clicked", [Hit("click", 50, link="https://x.test/")], 200)
    tracked(user, "cy@lead.test", "Quiet", [Hit("open", 40, verdict="scanner")], sent_ago=100)
    tracked(colleague, "dee@lead.test", "Nina's", [Hit("open", 30)])

    def subjects(query: str = "") -> list[str]:
        answer = client.get(f"/api/v1/messages{query}", headers=auth(token))
        assert answer.status_code == 200, answer.json
        return [m["subject"] for m in answer.json["messages"]]

    assert subjects() == ["Quiet", "Clicked", "Opened"]
    assert subjects("?filter=opened_not_replied") == ["Clicked", "Opened"]
    assert subjects("?filter=clicked") == ["Clicked"]
    assert subjects("?filter=no_activity") == ["Quiet"]
    assert subjects("?q=ANA@") == ["Opened"]
    page = client.get("/api/v1/messages?limit=1&offset=1", headers=auth(token)).json
    assert [m["subject"] for m in page["messages"]] == ["Clicked"]
    assert (page["total"], page["limit"], page["offset"]) == (3, 1, 1)
    first = page["messages"][0]
    assert (first["status"], first["clicks"], first["counts"]["human"]) == ("clicked", 1, 1)


def test_bad_arguments_are_json_400s(client, rep):
    _, token = rep
    for query in ("?filter=hot", "?limit=0", "?limit=x", "?offset=-1"):
        answer = client.get(f"/api/v1/messages{query}", headers=auth(token))
        assert answer.status_code == 400 and answer.json["error"] == "invalid_request", query
    answer = client.get("/api/v1/activity/history?before=zz%3B", headers=auth(token))
    assert answer.status_code == 400 and "before" in answer.json["message"]
    assert client.get("/api/v1/messages").status_code == 401


def test_an_admin_sees_the_account_and_another_account_nothing(client, rep, make_user):
    user, _ = rep
    _, admin_token = make_user("boss@acme.test", admin=True)
    _, outsider_token = make_user("eve@globex.test", "Globex")
    tracked(user, "ana@lead.test", "Acme deal", [Hit("open", 60)])

    def answer(path: str, token: str) -> dict:
        response = client.get(path, headers=auth(token))
        assert response.status_code == 200
        return response.json

    listed = answer("/api/v1/messages", admin_token)["messages"]
    assert [(m["subject"], m["sender"]) for m in listed] == [("Acme deal", "rep@acme.test")]
    history = answer("/api/v1/activity/history", admin_token)["events"]
    assert [e["subject"] for e in history] == ["Acme deal"]
    # Another account: nothing listed, searched or in its history, even by the lead's address.
    assert answer("/api/v1/messages?q=ana@lead.test", outsider_token)["messages"] == []
    assert answer("/api/v1/activity/history", outsider_token)["events"] == []
    mid = listed[0]["id"]
    assert client.get(f"/api/v1/messages/{mid}", headers=auth(outsider_token)).status_code == 404


def test_history_pages_newest_first_with_a_cursor(client, rep):
    user, token = rep
    tracked(
        user,
        "ana@lead.test",
        "Deal",
        [Hit("open", 300), Hit("click", 200, link="https://x.test/"), Hit("reply", 100)],
        name="Ana",
    )
    first = client.get("/api/v1/activity/history?limit=2", headers=auth(token)).json
    assert [e["kind"] for e in first["events"]] == ["reply", "click"]
    assert first["events"][0]["recipients"] == [{"email": "ana@lead.test", "name": "Ana"}]
    rest = client.get(
        f"/api/v1/activity/history?limit=2&before={first['next']}", headers=auth(token)
    ).json
    assert [e["kind"] for e in rest["events"]] == ["open"] and rest["next"] is None
    assert rest["events"][0]["device"] == {
        "type": "mobile",
        "os": "iOS",
        "browser": "Mobile Safari",
    }


def test_both_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    listing = paths["/api/v1/messages"]["get"]
    names = {p["name"]: p for p in listing["parameters"]}
    assert set(names) == {"q", "filter", "limit", "offset"}
    assert names["filter"]["schema"]["enum"] == [
        "opened_not_replied",
        "clicked",
        "bounced",
        "no_activity",
    ]
    assert "post" in paths["/api/v1/messages"]  # registering a message is still there
    history = paths["/api/v1/activity/history"]["get"]
    assert {p["name"] for p in history["parameters"]} == {"before", "limit"}
    assert history["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/HistoryOut"
    }
