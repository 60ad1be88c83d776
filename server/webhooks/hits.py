"""Webhook events from what the product records: real opens and clicks, replies and bounces,
a sent message's report, contact edits and finished data-subject requests. Engagement comes
through the batch writer inside its transaction, once the batch's verdicts are final (a scanner
burst relabelled is not an open)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from server.models import Message, Recipient
from server.models.base import iso
from server.models.message import REAL_VERDICTS
from server.webhooks.events import KIND_TYPES, emit, subscribers


def webhook_type(event: dict) -> str | None:
    """The webhook type a stored event becomes, or None (machine activity, auto-replies…)."""
    type_ = KIND_TYPES.get(event.get("kind"))
    if type_ and event["kind"] in ("open", "click") and event.get("verdict") not in REAL_VERDICTS:
        return None
    return type_


def emit_hits(conn, hits: list[tuple[int, dict]]) -> int:
    """Queue the webhook events of newly stored (account id, event) pairs; how many."""
    typed = [(acc, e, t) for acc, e in hits if acc and (t := webhook_type(e))]
    if not typed:
        return 0
    subs = subscribers(conn, {acc for acc, _, _ in typed})
    typed = [item for item in typed if item[0] in subs]
    if not typed:
        return 0  # the common case: nobody listens, one cheap query per batch
    messages = _messages(conn, {e["message_id"] for _, e, _ in typed})
    count = 0
    for account_id, event, type_ in typed:
        message = messages.get(event["message_id"])
        if message is None:
            continue
        data = hit_data(event, message)
        subject = _single(message["recipients"])
        user_id = message["user_id"]
        emit(conn, account_id, type_, data, subject, user_id, endpoints=subs[account_id])
        count += 1
    return count


def hit_data(event: dict, message: dict) -> dict:
    """The `data` of an engagement event (docs/webhooks.md)."""
    data = {
        "event_id": event["id"],
        "message_id": event["message_id"],
        "occurred_at": iso(datetime.fromtimestamp(event["occurred_at"], UTC)),
        "message_subject": message["subject"],
        "rep_id": message["user_id"],
        "recipients": message["recipients"],
    }
    if event["kind"] in ("open", "click"):
        data["verdict"] = event.get("verdict")
        data["location"] = {k: event.get(k) for k in ("country", "region", "city")}
        data["device"] = {
            "type": event.get("device_type"),
            "os": event.get("os_family"),
            "browser": event.get("browser_family"),
        }
    if event["kind"] == "click":
        data["url"] = event.get("link_url")
    return data


def sent_data(message: Message) -> dict:
    """The `data` of message.sent."""
    return {
        "message_id": message.id,
        "rep_id": message.user_id,
        "message_subject": message.subject,
        "sent_at": iso(message.sent_at),
        "tracked": message.tracked,
        "gmail_thread_id": message.gmail_thread_id,
        "recipients": [{"email": r.email, "name": r.name} for r in message.recipients],
    }


def emit_sent(session, message: Message) -> str | None:
    """Queue message.sent for a newly reported message."""
    data = sent_data(message)
    subject = _single(data["recipients"])
    return emit(session, message.account_id, "message.sent", data, subject, message.user_id)


def emit_contact(session, contact, changed: list[str], endpoints=None) -> str | None:
    """Queue contact.updated for an edited, imported or rectified contact (`endpoints` as for
    `emit`, when the caller has looked them up once for many contacts)."""
    data = {
        "contact_id": contact.id,
        "email": contact.email,
        "name": contact.name,
        "title": contact.title,
        "phone": contact.phone,
        "company": contact.company.name if contact.company else None,
        "changed": sorted(changed),
        "updated_at": iso(contact.updated_at),
    }
    return emit(
        session, contact.account_id, "contact.updated", data, contact.email, endpoints=endpoints
    )


def emit_data_request(session, request) -> str | None:
    """Queue data_request.completed; the person is named by the request's digest only (an
    erasure's subject must not travel on)."""
    data = {
        "request_id": request.id,
        "kind": request.kind,
        "subject_digest": request.subject_digest,
        "outcome": request.outcome,
        "completed_at": iso(request.created_at),
    }
    return emit(session, request.account_id, "data_request.completed", data)


def _single(recipients: list[dict]) -> str:
    # The subject column holds one address; with several, erasure finds them in the body.
    return recipients[0]["email"] if len(recipients) == 1 else ""


def _messages(conn, mids: set[str]) -> dict[str, dict]:
    rows = conn.execute(
        select(Message.id, Message.user_id, Message.subject).where(Message.id.in_(mids))
    )
    found = {mid: {"user_id": uid, "subject": subj, "recipients": []} for mid, uid, subj in rows}
    recipients = conn.execute(
        select(Recipient.message_id, Recipient.email, Recipient.name)
        .where(Recipient.message_id.in_(mids))
        .order_by(Recipient.id)
    )
    for mid, email, name in recipients:
        found[mid]["recipients"].append({"email": email, "name": name})
    return found
