"""The send job: one tracked copy per recipient through the rep's Gmail, each at most once.

`plan` runs in the request: it checks what can be checked at once and records a run with one item
per copy. `deliver` runs in the worker, which has claimed the run (so a run enqueued twice sends
once). For each copy it records the message and marks the item "sending", commits, and only then
asks Gmail, once. Accepted: "sent". Refused (a 4xx, or no access token to send with): nothing went
out, so the copy's message is removed and the run fails. No answer, or a failure on Google's side:
the copy may have gone out, so the item and the run end "unknown" and nothing more is sent. Its
message stays recorded, unconfirmed, under its Message-ID: Gmail sync confirms it if it shows up
in Sent, and a retry under the same id first looks for it there (`_recover`): found, it is
recorded sent; shown absent, it is sent once; when Gmail cannot say, it stays unknown.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from email.utils import make_msgid

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.accounts.users import normalize_email
from server.common import job_runs
from server.common.job_runs import JobFailed
from server.gmail import auth as gmail_auth
from server.gmail import client as gmail_client
from server.gmail import send
from server.gmail.client import GmailApiError, GmailClient
from server.gmail.text import html_to_text
from server.messages import service as messages
from server.models import GmailMailbox, JobRun, Message, User
from server.models.base import utcnow

KIND = send.KIND


def plan(session: Session, user: User, data: dict, link_secrets: tuple[str, ...]) -> JobRun:
    """Check a send request and record it as a queued run, one item per copy; SendError when it
    cannot be sent as it is."""
    recipients = send.check_request(session, user, data, link_secrets)
    items = [
        {"email": normalize_email(r["email"]), "id": r["id"], "status": "queued"}
        for r in recipients
    ]
    return job_runs.create(session, KIND, user, data | {"recipients": recipients}, items)


@dataclass(frozen=True)
class Draft:
    """A checked send: the thread it answers, what it says, and its recipients by copy id."""

    thread: send.Thread | None
    subject: str
    html: str
    text: str
    recipients: dict[str, dict]
    # The parts the sender tracks ({"track_opens": …, "track_links": …}); a run queued before
    # these existed tracks both.
    parts: dict[str, bool]


def deliver(
    session: Session,
    run: JobRun,
    google: gmail_auth.GoogleClient | None,
    tracker: messages.Tracker,
    now: datetime,
) -> None:
    """Send the run's copies in order, recording each; JobFailed when one was refused, or may
    have gone out without Gmail saying so (nothing more is sent then)."""
    if google is None:
        raise JobFailed("Google is not configured on this server.")
    user = session.get(User, run.user_id)
    if user is None or not user.active:  # deactivated since the request: they send nothing
        raise JobFailed("The rep who asked for this send has been deactivated; nothing was sent.")
    try:  # checked again: the admin may have turned sending off since the request
        mailbox = send.check_allowed(user, gmail_auth.mailbox_of(session, user))
    except send.SendError as exc:
        raise JobFailed(str(exc)) from exc
    gmail = gmail_client.for_mailbox(google, mailbox)
    draft = _draft(session, gmail, run.input)
    for index in range(len(run.items)):
        if not job_runs.is_running(session, run.id):
            return  # cancelled meanwhile (the person was erased): nothing more goes out
        _deliver_one(session, run, index, Copy(user, mailbox, gmail, draft, tracker, now))
    run.result = {"sent": sum(i["status"] == "sent" for i in run.items)}
    session.commit()


def _draft(session: Session, gmail: GmailClient, data: dict) -> Draft:
    """The thread (asked of Gmail), subject and both bodies of the send."""
    try:
        thread = send.thread_context(gmail, data["thread_id"]) if data.get("thread_id") else None
    except gmail_auth.GoogleAuthError as exc:
        session.commit()  # keep the reconnect-needed mark
        raise JobFailed(str(exc)) from exc
    except send.SendError as exc:
        raise JobFailed(str(exc)) from exc
    subject = send.reply_subject(thread.subject) if thread else data.get("subject") or ""
    text = data.get("text") or html_to_text(data["html"])
    by_id = {r["id"]: r for r in data["recipients"]}
    parts = {part: data.get(part, True) for part in ("track_opens", "track_links")}
    return Draft(thread, subject, data["html"], text, by_id, parts)


@dataclass(frozen=True)
class Copy:
    """What sending one copy needs besides the run."""

    user: User
    mailbox: GmailMailbox
    gmail: GmailClient
    draft: Draft
    tracker: messages.Tracker
    now: datetime


def _deliver_one(session: Session, run: JobRun, index: int, copy: Copy) -> None:
    """Record, mark "sending", commit, then send one copy; JobFailed when it did not go out for
    sure."""
    item = run.items[index]
    earlier = session.get(Message, item["id"])
    if earlier is not None and not earlier.gmail_message_id:
        _recover(session, run, index, copy, earlier)
    if earlier is not None and earlier.gmail_message_id:  # sent before under this id: skip
        _mark(session, run, index, "sent", gmail_message_id=earlier.gmail_message_id)
        return
    try:
        message, raw = _compose(session, copy, copy.draft.recipients[item["id"]])
        _mark(session, run, index, "sending")
        session.commit()  # from here on, a crash leaves the copy "sending": it may have gone out
    except IntegrityError:
        session.rollback()  # another run recorded this copy first
        _refuse(session, run, index, "another send of this copy is under way")
    try:
        answer = copy.gmail.send(raw, copy.draft.thread.id if copy.draft.thread else None)
    except (GmailApiError, gmail_auth.GoogleAuthError) as exc:
        _not_delivered(session, run, index, copy.mailbox, message, exc)
    # The mail is out: on SQLite the job worker waits for a busy writer rather than give up here
    # (serve.JOB_LOCK_WAIT), so the copy is recorded "sent", never left "unknown".
    message.gmail_message_id, message.gmail_thread_id = answer["id"], answer.get("threadId")
    _mark(session, run, index, "sent", gmail_message_id=answer["id"])
    session.commit()


def _recover(session: Session, run: JobRun, index: int, copy: Copy, earlier: Message) -> None:
    """A copy recorded before but never confirmed: refused while another send holds it or when
    Gmail cannot say whether it went out; confirmed when it is in the rep's sent mail; otherwise
    claimed (once, whoever else tries) to be sent again under its id."""
    if earlier.rfc_message_id is None or send.in_flight(session, copy.user, earlier.id, run.id):
        _refuse(session, run, index, "another send of this copy is under way")
    try:
        found = send.find_sent(copy.gmail, earlier.rfc_message_id, earlier.sent_at or copy.now)
    except send.LookupFailed as exc:
        _mark(session, run, index, "unknown", error=f"maybe_sent: {exc}")
        _stop(session, run, index)
        raise JobFailed(
            f"The copy to {run.items[index]['email']} may have been sent already (maybe_sent): "
            f"Gmail could not say whether it is in your sent mail ({exc}). Nothing was sent.",
            "unknown",
        ) from exc
    if found is not None:
        earlier.gmail_message_id, earlier.gmail_thread_id = found.id, found.thread_id
        return
    # Gmail shows it was not sent. The Message-ID is the claim: of two runs resending the copy,
    # only the one that changes it sends (the other finds it changed and stops).
    claimed = session.execute(
        update(Message)
        .where(
            Message.id == earlier.id,
            Message.rfc_message_id == earlier.rfc_message_id,
            Message.gmail_message_id.is_(None),
        )
        .values(rfc_message_id=None)
    ).rowcount
    if claimed != 1:
        session.rollback()
        _refuse(session, run, index, "another send of this copy is under way")


def _compose(session: Session, copy: Copy, recipient: dict) -> tuple[Message, str]:
    """Record the copy's message (tracked) and build its MIME, base64url-encoded for Gmail."""
    draft = copy.draft
    data = {"id": recipient["id"], "subject": draft.subject, "recipients": [recipient]}
    data |= draft.parts
    message, tracked = messages.register(
        session, copy.user, data | {"html": draft.html, "sent_at": copy.now}, copy.tracker
    )
    message.rfc_message_id = make_msgid(domain=copy.mailbox.email.rpartition("@")[2])
    mime = send.build_mime(
        (copy.user.name, copy.mailbox.email),
        (recipient.get("name") or "", recipient["email"]),
        draft.subject,
        tracked["html"],
        draft.text,
        message.rfc_message_id,
        copy.now,
        draft.thread,
    )
    return message, base64.urlsafe_b64encode(mime.as_bytes()).decode("ascii")


def _mark(session: Session, run: JobRun, index: int, status: str, **fields) -> None:
    """Set one item's status (and more fields); the caller commits."""
    items = [dict(i) for i in run.items]
    items[index] |= {"status": status, **fields}
    job_runs.progress(session, run, items, utcnow(), replace=True)


def _refuse(session: Session, run: JobRun, index: int, reason: str) -> None:
    """Leave this copy and the rest unsent; the run fails."""
    _mark(session, run, index, "failed", error=reason)
    _stop(session, run, index)
    raise JobFailed(f"The copy to {run.items[index]['email']} was not sent: {reason}.")


def _not_delivered(session, run: JobRun, index: int, mailbox, message: Message, exc) -> None:
    """Record why Gmail did not take the copy and end the run: unknown when it may have gone
    out, failed (its message removed: nothing went out) otherwise."""
    email = run.items[index]["email"]
    if isinstance(exc, GmailApiError) and exc.maybe_sent:
        _mark(session, run, index, "unknown", error=str(exc))
        _stop(session, run, index)
        raise JobFailed(
            f"Gmail did not confirm the copy to {email} ({exc}); it may have been sent. Look in "
            "your Sent folder before sending it again. The copies after it were not sent.",
            "unknown",
        )
    session.delete(message)
    if isinstance(exc, gmail_auth.ReconnectNeeded):
        gmail_auth.mark_reconnect_needed(mailbox, "Google revoked or expired the access.")
    _mark(session, run, index, "failed", error=str(exc))
    sent = _stop(session, run, index)
    text = f"Gmail did not send the copy to {email}: {exc}."
    if sent:  # those went out and stay recorded: sending again with the ids sends the rest
        text += (
            f" {sent} of {len(run.items)} copies were sent (see items); send again with each "
            "recipient's id to send only the others."
        )
    raise JobFailed(text)


def _stop(session: Session, run: JobRun, index: int) -> int:
    """Mark the copies after `index` not sent, commit; how many copies were sent."""
    items = [dict(i) for i in run.items]
    for item in items[index + 1 :]:
        item["status"] = "not_sent"
    job_runs.progress(session, run, items, utcnow(), replace=True)
    run.result = {"sent": sum(i["status"] == "sent" for i in items)}
    session.commit()
    return run.result["sent"]
