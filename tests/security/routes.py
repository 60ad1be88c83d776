"""Every route of the app, classified for the cross-tenant matrix.

A route is either PUBLIC (listed with the reason nobody's account matters to it) or has a PROBE:
the request another account's person sends with the victim's ids (`{mid}`, `{contact}`, ...
filled from `world.World.ids`). An OBJECT probe names a victim's row: it must be refused (403 or
404). A SCOPED probe acts on the caller's own account, fed the victim's ids where it takes any:
it may succeed, but never with the victim's data and never changing it.

A route in neither table fails the matrix: a new route is classified before it ships.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

PUBLIC = {
    "static": "the app's own CSS and JS files, the same for everyone",
    "tracking.robots": "robots.txt, a constant",
    "auth.login": "the sign-in page, before anyone is known",
    "auth.login_link": "asks for a sign-in link by mail: the same answer for any address, "
    "the link goes only to the address itself",
    "auth.magic": "the signed one-time sign-in token is the credential",
    "auth.magic_redeem": "the signed one-time sign-in token is the credential",
    "auth.google_login": "starts Google's sign-in; nobody is known yet",
    "auth.google_callback": "Google's answer, checked against the state kept server-side",
    "admin.accept_invitation": "the signed invitation token is the credential",
    "admin.accept_invitation_post": "the signed invitation token is the credential",
    "admin.published_subprocessors": "published on purpose at a signed link, for customers",
    "auth.extension_connected": "a fixed page; the connect code travels in its URL fragment",
    "api.openapi": "the API's description, no data",
    "api.extension_token": "the one-time connect code and its PKCE verifier are the credential",
    "gmail.receive_push": "Pub/Sub's Google-signed OIDC token is the credential; a notice only "
    "queues a sync of the mailbox it names, and the sync trusts nothing in it",
}


@dataclass(frozen=True)
class Probe:
    """One request: a path template, its kind, and a form or JSON or raw body."""

    path: str
    kind: str  # "object" or "scoped"
    form: dict | None = None
    json: dict | None = None
    body: str | None = None
    content_type: str | None = None
    upload: str | None = None  # a CSV file sent as the form's `file` field


def obj(path: str, **body) -> Probe:
    """A request naming a victim's row."""
    return Probe(path, "object", **body)


def own(path: str, **body) -> Probe:
    """A request on the caller's own account."""
    return Probe(path, "scoped", **body)


CSV = "email,name\n{contact},Mallory\n"
MESSAGE = {"id": "{mid}", "subject": "x", "recipients": [{"email": "{contact}"}]}
SEND = {
    "recipients": [{"email": "{contact}", "id": "{mid}"}],
    "html": "<p>x</p>",
    "thread_id": "{thread}",
}
THREADS = {"thread_ids": ["{thread}"]}
SUBPROCESSOR = {"name": "X", "country": "Ireland", "purpose": "Mail", "safeguard": "EU"}
BREACH = {
    "occurred_at": "2026-11-02T10:00",
    "description": "x",
    "data_affected": "x",
    "subjects_affected": "x",
}

WEBHOOK = {"url": "https://hooks.globex.test/in", "event_types": ["contact.updated"]}
WEBHOOK_FORM = {"url": "https://hooks.globex.test/in", "event_types": "contact.updated"}
RANGE = {"since": "2026-01-01T00:00", "until": "2099-01-01T00:00"}
REPLAY = {"since": "2026-01-01T00:00:00Z", "until": "2099-01-01T00:00:00Z", "failed_only": False}
PROBES = {
    # JSON API (bearer token)
    ("api.me", "GET"): own("/api/v1/me"),
    ("api.signing_key", "GET"): own("/api/v1/signing-key"),
    ("api.activity_feed", "GET"): own("/api/v1/activity"),
    ("api.activity_history", "GET"): own("/api/v1/activity/history"),
    ("api.list_messages", "GET"): own("/api/v1/messages?q={contact}"),
    ("api.list_contacts", "GET"): own("/api/v1/contacts?q={contact}"),
    ("api.export_contacts", "GET"): own("/api/v1/contacts/export"),
    ("api.export_contacts_hubspot", "GET"): own("/api/v1/contacts/export/hubspot"),
    ("api.import_contacts", "POST"): own(
        "/api/v1/contacts/import", body=CSV, content_type="text/csv"
    ),
    ("api.get_contact", "GET"): obj("/api/v1/contacts/{contact}"),
    ("api.patch_contact", "PATCH"): obj("/api/v1/contacts/{contact}", json={"name": "Mallory"}),
    ("api.enrich_contact", "POST"): obj("/api/v1/contacts/{contact}/enrich"),
    ("api.get_job", "GET"): obj("/api/v1/jobs/{run}"),
    ("api.get_report", "GET"): obj("/api/v1/reports?user={user}"),
    ("api.export_report", "GET"): obj("/api/v1/reports/export?user={user}"),
    ("api.create_message", "POST"): own("/api/v1/messages", json=MESSAGE),
    ("api.send_message", "POST"): own("/api/v1/messages/send", json=SEND),
    ("api.get_message", "GET"): obj("/api/v1/messages/{mid}"),
    ("api.self_view", "POST"): obj("/api/v1/messages/{mid}/self-view", json={}),
    ("api.set_follow_up", "PUT"): obj("/api/v1/messages/{mid}/follow-up", json={"days": 3}),
    ("api.cancel_follow_up", "DELETE"): obj("/api/v1/messages/{mid}/follow-up"),
    ("api.message_prediction", "GET"): obj("/api/v1/messages/{mid}/prediction"),
    ("api.contact_best_time", "GET"): obj("/api/v1/contacts/{contact}/best-time"),
    ("api.at_risk", "GET"): own("/api/v1/predictions/at-risk"),
    ("api.threads_status", "POST"): own("/api/v1/threads/status", json=THREADS),
    ("api.extension_sign_out", "DELETE"): own("/api/v1/extension/token"),
    ("api.list_webhooks", "GET"): own("/api/v1/webhooks"),
    ("api.create_webhook", "POST"): own("/api/v1/webhooks", json=WEBHOOK),
    ("api.get_webhook", "GET"): obj("/api/v1/webhooks/{webhook}"),
    ("api.patch_webhook", "PATCH"): obj("/api/v1/webhooks/{webhook}", json={"enabled": False}),
    ("api.delete_webhook", "DELETE"): obj("/api/v1/webhooks/{webhook}"),
    ("api.rotate_webhook_secret", "POST"): obj("/api/v1/webhooks/{webhook}/rotate-secret"),
    ("api.webhook_deliveries", "GET"): obj("/api/v1/webhooks/{webhook}/deliveries"),
    ("api.replay_webhooks", "POST"): obj("/api/v1/webhooks/{webhook}/replay", json=REPLAY),
    ("api.replay_webhook_delivery", "POST"): obj("/api/v1/webhooks/deliveries/{delivery}/replay"),
    # Sign-in and connections (session)
    ("auth.home", "GET"): own("/"),
    ("auth.logout", "POST"): own("/auth/logout"),
    ("auth.extension_connect_page", "GET"): own("/auth/extension/connect?challenge=" + "c" * 43),
    ("auth.extension_connect_confirm", "POST"): own(
        "/auth/extension/connect", form={"challenge": "c" * 43}
    ),
    ("auth.google_status", "GET"): own("/auth/google"),
    ("auth.google_connect", "GET"): own("/auth/google/connect"),
    ("auth.google_disconnect", "POST"): own("/auth/google/disconnect"),
    # The rep's own pages (session)
    ("workspace.mail_page", "GET"): own("/mail?q={contact}"),
    ("workspace.message_page", "GET"): obj("/mail/{mid}"),
    ("workspace.activity_page", "GET"): own("/activity"),
    ("workspace.activity_updates", "GET"): own("/activity/updates?after=0"),
    # The predictions page (session)
    ("predictions.page", "GET"): own("/predictions/"),
    # Settings pages (session)
    ("admin.index", "GET"): own("/admin/"),
    ("admin.account", "GET"): own("/admin/settings"),
    ("admin.account_save", "POST"): own("/admin/settings", form={"retention_days": "30"}),
    ("admin.verdicts_page", "GET"): own("/admin/verdicts"),
    ("insights.reports_page", "GET"): obj("/reports?user={user}"),
    ("insights.reports_export", "GET"): obj("/reports/export.csv?user={user}"),
    ("admin.audit_page", "GET"): own("/admin/audit?q={victim}"),
    ("admin.audit_export", "GET"): own("/admin/audit.csv"),
    ("admin.team_page", "GET"): own("/admin/team"),
    ("admin.team_invite", "POST"): own("/admin/team/invite", form={"email": "x@globex.test"}),
    ("admin.team_withdraw", "POST"): obj("/admin/team/invitations/{invitation}/withdraw"),
    ("admin.team_deactivate", "POST"): obj("/admin/team/{user}/deactivate"),
    ("admin.team_reactivate", "POST"): obj("/admin/team/{user}/reactivate"),
    ("admin.team_role", "POST"): obj("/admin/team/{user}/role", form={"role": "admin"}),
    ("admin.team_tracking", "POST"): obj("/admin/team/{user}/tracking", form={"tracking": "off"}),
    ("admin.contacts_page", "GET"): own("/admin/contacts?q={contact}"),
    ("admin.contacts_export", "GET"): own("/admin/contacts.csv"),
    ("admin.contacts_export_hubspot", "GET"): own("/admin/contacts.hubspot.csv"),
    ("admin.contacts_import", "POST"): own("/admin/contacts/import", upload=CSV),
    ("admin.contact_page", "GET"): obj("/admin/contacts/view/{contact}"),
    ("admin.contact_save", "POST"): obj("/admin/contacts/view/{contact}", form={"name": "M"}),
    ("admin.contact_enrich", "POST"): obj("/admin/contacts/view/{contact}/enrich"),
    ("admin.contacts_import_rejected", "GET"): obj("/admin/contacts/import/{run}/rejected.csv"),
    ("admin.job_page", "GET"): obj("/admin/jobs/{run}"),
    ("admin.job_status", "GET"): obj("/admin/jobs/{run}/status"),
    ("admin.job_file", "GET"): obj("/admin/jobs/{run}/files/json"),
    ("admin.requests_page", "GET"): own("/admin/privacy"),
    ("admin.requests_search", "POST"): own("/admin/privacy/search", form={"email": "{contact}"}),
    ("admin.requests_export", "POST"): own("/admin/privacy/export", form={"email": "{contact}"}),
    ("admin.requests_rectify", "POST"): own(
        "/admin/privacy/rectify", form={"email": "{contact}", "name": "Mallory"}
    ),
    ("admin.requests_erase", "POST"): own(
        "/admin/privacy/erase", form={"email": "{contact}", "confirm": "{contact}"}
    ),
    ("admin.webhooks_page", "GET"): own("/admin/webhooks"),
    ("admin.webhooks_add", "POST"): own("/admin/webhooks", form=WEBHOOK_FORM),
    ("admin.webhook_page", "GET"): obj("/admin/webhooks/{webhook}"),
    ("admin.webhook_save", "POST"): obj("/admin/webhooks/{webhook}", form=WEBHOOK_FORM),
    ("admin.webhook_rotate", "POST"): obj("/admin/webhooks/{webhook}/rotate"),
    ("admin.webhook_delete", "POST"): obj("/admin/webhooks/{webhook}/delete"),
    ("admin.webhook_replay_range", "POST"): obj(
        "/admin/webhooks/{webhook}/replay",
        form={"since": "2026-01-01T00:00", "until": "2099-01-01T00:00"},
    ),
    ("admin.webhook_replay_one", "POST"): obj("/admin/webhooks/deliveries/{delivery}/replay"),
    ("admin.subprocessors_page", "GET"): own("/admin/subprocessors"),
    ("admin.subprocessors_add", "POST"): own("/admin/subprocessors", form=SUBPROCESSOR),
    ("admin.subprocessors_edit", "POST"): obj("/admin/subprocessors/{entry}", form=SUBPROCESSOR),
    ("admin.subprocessors_remove", "POST"): obj("/admin/subprocessors/{entry}/remove"),
    ("admin.breaches_page", "GET"): own("/admin/breaches"),
    ("admin.breaches_record", "POST"): own("/admin/breaches", form=BREACH),
    ("admin.breach_page", "GET"): obj("/admin/breaches/{breach}"),
    ("admin.breach_add_action", "POST"): obj(
        "/admin/breaches/{breach}/actions", form={"description": "x"}
    ),
    ("admin.breach_action_done", "POST"): obj("/admin/breaches/{breach}/actions/{action}/done"),
    ("admin.breach_close", "POST"): obj("/admin/breaches/{breach}/close"),
    ("admin.breach_notified", "POST"): obj(
        "/admin/breaches/{breach}/notified", form={"notification_reference": "x"}
    ),
    ("admin.terminate_page", "GET"): own("/admin/terminate"),
    # The victim's name as the typed confirmation: it must not terminate the victim.
    ("admin.terminate_post", "POST"): own(
        "/admin/terminate", form={"confirmation": "{victim}", "mode": "delete"}
    ),
}


def routes(app) -> list[tuple[str, str, str]]:
    """(endpoint, method, rule) of every route; OPTIONS is Flask's own answer, no view runs.
    HEAD runs the GET view, so it is probed like GET."""
    found = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"OPTIONS"}):
            found.append((rule.endpoint, method, rule.rule))
    return sorted(found)


def probe_for(endpoint: str, method: str) -> Probe | None:
    """The probe of a route (HEAD borrows GET's); None for a public route; KeyError when the
    route is not classified at all."""
    if endpoint in PUBLIC:
        return None
    return PROBES[(endpoint, "GET" if method == "HEAD" else method)]


def fill(value, ids: dict):
    """`value` (a string, or dicts and lists of strings) with the victim's ids filled in."""
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {k: fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, ids) for v in value]
    return value


def send(client, method: str, probe: Probe, ids: dict, headers: dict):
    """Send the probe with the victim's ids filled in; (what was sent, as text; the response)."""
    path = fill(probe.path, ids)
    kwargs: dict = {"headers": dict(headers)}
    if probe.json is not None:
        kwargs["json"] = fill(probe.json, ids)
    if probe.form is not None:
        kwargs["data"] = fill(probe.form, ids)
    if probe.body is not None:
        kwargs["data"] = fill(probe.body, ids)
        kwargs["content_type"] = probe.content_type
    if probe.upload is not None:
        upload = fill(probe.upload, ids).encode()
        kwargs["data"] = {"file": (io.BytesIO(upload), "contacts.csv")}
    response = client.open(path, method=method, **kwargs)
    sent = f"{path}\n{kwargs.get('json', '')}{kwargs.get('data', '')}{probe.upload or ''}"
    return sent, response
