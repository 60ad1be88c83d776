"""Google sign-in, Gmail connection and disconnection: thin views over server/gmail/auth.py."""

from __future__ import annotations

import hmac
from datetime import UTC, datetime

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from server.accounts import team
from server.accounts.users import AccountError, normalize_email
from server.auth import bp, throttle
from server.auth.views import sign_in
from server.common import audit
from server.extensions import db
from server.gmail import auth as gmail_auth
from server.gmail import health as gmail_health
from server.models import User

STATE_KEY = "google_oauth_state"
INVITE_KEY = "google_invitation"


def _settings():
    return current_app.config["LEADCAMP"]


def _client() -> gmail_auth.GoogleClient | None:
    return gmail_auth.GoogleClient.from_settings(_settings())


def _page(title: str, message: str, status: int = 400, retry: str | None = None):
    html = render_template("auth/google_message.html", title=title, message=message, retry=retry)
    return html, status


def _not_configured():
    return _page(
        "Google is not configured",
        "Google sign-in and Gmail are not configured on this server (GOOGLE_CLIENT_ID and "
        "GOOGLE_CLIENT_SECRET are not set). Sign in with a one-time link instead.",
        503,
    )


def _begin(purpose: str, scopes, user):
    client = _client()
    if client is None:
        return _not_configured()
    now = datetime.now(UTC)
    url, state = gmail_auth.start(db.session, client, purpose, scopes, user, now)
    db.session.commit()
    # A few at once, so a second tab's round trip does not void the first one's.
    session[STATE_KEY] = [*session.get(STATE_KEY, [])[-4:], state]
    return redirect(url)


@bp.get("/auth/google/login")
def google_login():
    """Send the person to Google to sign in (openid, email, profile), or to join by invitation."""
    session.pop(INVITE_KEY, None)
    if request.args.get("invitation"):
        # Kept in the signed cookie until the callback: Google then proves the invited address.
        session[INVITE_KEY] = request.args["invitation"]
    return _begin("login", gmail_auth.SIGN_IN_SCOPES, None)


@bp.get("/auth/google/connect")
@login_required
def google_connect():
    """Ask Google for Gmail access (metadata; send too when the account sends server-side)."""
    scopes = gmail_auth.connect_scopes(
        current_user.account.sending_enabled, _settings().gmail_read_bodies
    )
    return _begin("connect", scopes, current_user)


@bp.get("/auth/google/callback")
@throttle.sign_in
def google_callback():
    """Finish a round trip: check the state, spend it, exchange the code, then act on it."""
    client = _client()
    if client is None:
        return _not_configured()
    state = request.args.get("state", "")
    started = session.get(STATE_KEY, [])
    mine = [s for s in started if hmac.compare_digest(state.encode(), s.encode())]
    session[STATE_KEY] = [s for s in started if s not in mine]
    if not mine:
        return _page(
            "Sign-in not recognised",
            "This answer from Google does not belong to a sign-in started in this browser.",
            retry="auth.google_login",
        )
    now = datetime.now(UTC)
    try:
        pending = gmail_auth.take_state(db.session, state, now)
    except gmail_auth.GoogleAuthError as exc:
        db.session.commit()
        return _page("Please start again", str(exc), retry="auth.google_login")
    db.session.commit()  # spent before anything else: a replayed callback finds nothing
    retry = "auth.google_connect" if pending.purpose == "connect" else "auth.google_login"
    if request.args.get("error"):
        return _denied(request.args["error"], retry)
    try:
        grant = gmail_auth.finish(client, pending, request.args.get("code", ""), now)
    except gmail_auth.GoogleAuthError as exc:
        return _page("Google sign-in failed", str(exc), 502, retry)
    if not grant.email_verified or not grant.email:
        return _page("Address not verified", "Google has not verified this address.", 403)
    if pending.purpose == "login":
        return _finish_login(grant)
    return _finish_connect(client, pending, grant, now)


def _denied(error: str, retry: str):
    if error == "access_denied":
        return _page(
            "Access not granted",
            "You declined at Google, so nothing was connected. You can try again at any time.",
            403,
            retry,
        )
    return _page("Google sign-in failed", f"Google answered: {error}.", 400, retry)


def _finish_login(grant: gmail_auth.Grant):
    # Signing in creates a user only through an invitation to that very address: on a fresh
    # server anyone could otherwise make themselves its admin (the first comes from `bootstrap`).
    user = db.session.scalar(select(User).where(User.email == grant.email))
    invitation = session.pop(INVITE_KEY, None)
    if user is None and invitation:
        return _join(invitation, grant)
    if user is None:
        return _page(
            "No account for this address",
            f"There is no Leadcamp user for {grant.email}. Ask your admin for an invite.",
            403,
        )
    if not user.is_active:
        return _page("Account deactivated", "This user is deactivated. Ask your admin.", 403)
    return sign_in(user, "google")


def _join(token: str, grant: gmail_auth.Grant):
    """Accept an invitation for the address Google just verified, and sign the new member in."""
    secret = _settings().secret_key
    try:
        invited = team.invitation_for(db.session, secret, token)
        if normalize_email(invited.email) != normalize_email(grant.email):
            return _page(
                "Another address",
                f"This invitation is for {invited.email}, but Google signed you in as "
                f"{grant.email}. Sign in to Google with the invited address.",
                403,
            )
        user = team.accept(db.session, secret, token, grant.name or "", grant.email)
    except AccountError as exc:
        db.session.rollback()
        return _page("Invitation not accepted", str(exc), 400)
    return sign_in(user, "google invitation")


def _finish_connect(client, pending, grant: gmail_auth.Grant, now: datetime):
    if not current_user.is_authenticated or current_user.id != pending.user_id:
        return _page("Please sign in again", "Sign in as the person who started connecting.", 403)
    if not gmail_auth.reads_headers(grant.granted):
        return _page(
            "Gmail access not granted",
            "Leadcamp needs to read your Gmail messages' headers (not their contents) to confirm "
            "your tracked mail and find replies and bounces. That box was not ticked, so nothing "
            "was connected. Connect again and allow it.",
            403,
            "auth.google_connect",
        )
    try:
        gmail_auth.save_mailbox(db.session, client, current_user, grant, now)
    except gmail_auth.GoogleAuthError as exc:
        db.session.rollback()
        return _page("Gmail not connected", str(exc), 502, "auth.google_connect")
    audit.record(
        db.session, current_user.account_id, "gmail.connect", actor=current_user,
        detail=" ".join(sorted(grant.granted)),
    )  # fmt: skip
    db.session.commit()
    if gmail_auth.SEND in grant.missing:
        flash("Gmail is connected, but sending was not allowed: server-side sending stays off.")
    else:
        flash("Gmail is connected.")
    return redirect(url_for("auth.google_status"))


@bp.get("/auth/google")
@login_required
def google_status():
    """The rep's Google connection: which mailbox, its health and the granted scopes."""
    mailbox = gmail_auth.mailbox_of(db.session, current_user)
    return render_template(
        "auth/google.html",
        configured=_settings().google_configured,
        mailbox=mailbox,
        health=gmail_health.health_of(
            mailbox, datetime.now(UTC), gmail_health.Sweep.of(_settings())
        ),
        labels=gmail_auth.SCOPE_LABELS,
    )


@bp.post("/auth/google/disconnect")
@login_required
def google_disconnect():
    """Revoke the Gmail token at Google and forget it."""
    mailbox = gmail_auth.mailbox_of(db.session, current_user)
    if mailbox is not None:
        revoked = gmail_auth.revoke_and_delete(db.session, mailbox, _settings())
        audit.record(db.session, current_user.account_id, "gmail.disconnect", actor=current_user)
        db.session.commit()
        flash(
            "Gmail is disconnected."
            + (
                ""
                if revoked
                else " Google could not be told; remove "
                "Leadcamp at myaccount.google.com/permissions to be sure."
            )
        )
    return redirect(url_for("auth.google_status"))
