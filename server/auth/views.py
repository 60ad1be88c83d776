"""Sign-in views. A magic link is spent by a POST, so mail scanners that fetch it cannot."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required

from server.accounts import users as accounts
from server.accounts.jobs import SIGN_IN_LINK
from server.auth import bp, sessions, throttle
from server.common import audit
from server.extensions import db
from server.messages import activity
from server.models import User
from server.models.base import utcnow

TODAY_LIMIT = 50


@bp.get("/auth/login")
def login():
    """The ways in: a sign-in link by mail, Google, or a link from an admin or the command line."""
    if current_user.is_authenticated:
        return redirect(url_for("auth.home"))
    return render_template("auth/login.html", form={})


@bp.post("/auth/login")
@throttle.sign_in
def login_link():
    """Mail a sign-in link to the address when someone may sign in with it. The answer, and the
    work behind it (one queued task), are the same whether or not anyone uses the address."""
    try:
        email = accounts.checked_email(request.form.get("email", ""))
    except accounts.AccountError as exc:
        return render_template("auth/login.html", error=exc, form=request.form), 400
    current_app.extensions["leadcamp.jobs"].submit(SIGN_IN_LINK, email)
    flash(
        "If an account uses that address, a sign-in link is on its way to it. "
        "It works once, for 15 minutes."
    )
    return redirect(url_for("auth.login"))


@bp.get("/auth/magic/<token>")
@throttle.sign_in
def magic(token: str):
    """Show a confirmation button; the link is spent only when the person presses it."""
    return render_template("auth/magic.html", token=token)


@bp.post("/auth/magic/<token>")
@throttle.sign_in
def magic_redeem(token: str):
    """Spend a magic link and sign its user in."""
    try:
        user = accounts.redeem_magic_link(db.session, current_app.config["SECRET_KEY"], token)
    except accounts.AccountError as exc:
        db.session.rollback()
        return render_template("auth/login.html", error=str(exc), form={}), 400
    return sign_in(user, "magic link")


def sign_in(user: User, detail: str):
    """Audit the sign-in (`detail` says how), commit, log the user in and send them on."""
    audit.record(db.session, user.account_id, "sign_in", actor=user, detail=detail)
    db.session.commit()
    sessions.begin(user)
    return redirect(after_login())


def after_login() -> str:
    """Where to go once signed in: the page that sent the rep to sign in (the extension's connect
    page), never anywhere but our own paths; else home."""
    target = session.pop("after_login", "")
    if not target.startswith("/") or target.startswith("//"):
        target = url_for("auth.home")
    return target


@bp.post("/auth/logout")
@login_required
def logout():
    """Sign out of every session: a copy of this browser's cookie stops working too."""
    sessions.end(current_user._get_current_object())
    flash("You are signed out.")
    return redirect(url_for("auth.login"))


@bp.get("/")
@login_required
def home():
    """What matters now: which leads opened, clicked or replied in the last 24 hours, on which
    device; and the ways to tracked mail and the activity history."""
    today = activity.history(
        db.session,
        current_user,
        limit=TODAY_LIMIT,
        since=utcnow() - timedelta(days=1),
        kinds=activity.KINDS,
    )
    return render_template("auth/home.html", user=current_user, today=today)
