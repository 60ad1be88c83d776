"""Who am I, the signing key the extension signs with, and the OpenAPI document."""

from __future__ import annotations

import re

from server.accounts import users as accounts
from server.common import signing
from server.extensions import db
from tests.support import auth


def test_me_describes_user_account_and_tracking(client, rep):
    user, token = rep
    data = client.get("/api/v1/me", headers=auth(token)).json
    assert data["user"] == {"id": user.id, "email": "rep@acme.test", "name": "", "role": "rep"}
    assert data["account"]["name"] == "Acme"
    assert data["tracking"] == {
        "enabled": True,
        "account_enabled": True,
        "track_by_default": True,
        "tracking_host": "track.test",
    }
    user.account.tracking_enabled = False
    db.session.commit()
    assert client.get("/api/v1/me", headers=auth(token)).json["tracking"]["enabled"] is False


def test_the_signing_key_signs_links_the_server_accepts(client, rep):
    _, token = rep
    data = client.get("/api/v1/signing-key", headers=auth(token)).json
    assert data["algorithm"] == "HMAC-SHA256" and data["base_url"] == "http://track.test"
    key = signing.b64decode(data["key"])
    assert len(key) == 32
    path = signing.pixel_path(key, data["kid"], "q2X0c1ZPq0nqz7lU4m2GdA")
    assert signing.verify_pixel(("test-link-secret",), path[3:-4]) is not None
    assert client.get("/api/v1/signing-key", headers=auth(token)).json == data


def test_rotation_issues_a_new_key_and_old_links_keep_verifying(client, rep):
    user, token = rep
    old = client.get("/api/v1/signing-key", headers=auth(token)).json
    accounts.rotate_signing_key(db.session, user)
    db.session.commit()
    new = client.get("/api/v1/signing-key", headers=auth(token)).json
    assert new["kid"] != old["kid"] and new["key"] != old["key"]
    old_path = signing.pixel_path(signing.b64decode(old["key"]), old["kid"], "m" * 22)
    assert signing.verify_pixel(("test-link-secret",), old_path[3:-4]) is not None


def _api_routes(app) -> set[tuple[str, str]]:
    """(OpenAPI path, method) of every /api/v1 route the app serves, the document itself aside."""
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1") and rule.endpoint != "api.openapi":
            path = re.sub(r"<(?:[^:>]*:)?([^>]*)>", r"{\1}", rule.rule)
            routes |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    return routes


def test_openapi_document_describes_every_operation(app, client):
    doc = client.get("/api/v1/openapi.json").json
    assert doc["openapi"].startswith("3.")
    documented = {(p, m) for p, methods in doc["paths"].items() for m in methods}
    assert documented == _api_routes(app)
    assert set(doc["paths"]) >= {
        "/api/v1/me",
        "/api/v1/signing-key",
        "/api/v1/messages",
        "/api/v1/messages/{mid}",
        "/api/v1/threads/status",
        "/api/v1/messages/{mid}/self-view",
        "/api/v1/contacts",
        "/api/v1/contacts/{email}",
        "/api/v1/contacts/{email}/enrich",
        "/api/v1/contacts/import",
        "/api/v1/contacts/export",
        "/api/v1/messages/send",
    }
    csv_in = doc["paths"]["/api/v1/contacts/import"]["post"]["requestBody"]["content"]
    csv_out = doc["paths"]["/api/v1/contacts/export"]["get"]["responses"]["200"]["content"]
    assert csv_in == csv_out == {"text/csv": {"schema": {"type": "string"}}}
    create = doc["paths"]["/api/v1/messages"]["post"]
    ref = create["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = doc["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert schema["additionalProperties"] is False
    assert "recipients" in schema["required"]
    assert "201" in create["responses"] and "400" in create["responses"]
    throttled = doc["paths"]["/api/v1/extension/token"]["post"]["responses"]["429"]
    assert "Retry-After" in throttled["headers"] and "rate_limited" in throttled["description"]
    for path in doc["paths"].values():
        for operation in path.values():
            for response in operation["responses"].values():
                for content in response["content"].values():
                    ref = content["schema"].get("$ref", "#/string")
                    assert (
                        ref == "#/string" or ref.rsplit("/", 1)[1] in doc["components"]["schemas"]
                    )
