"""Team: members, invitations, roles, deactivation and per-rep tracking overrides."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from server.accounts import team
from server.accounts.users import AccountError
from server.admin import admin_required, bp, mailer, settings
from server.auth import throttle
from server.auth.views import sign_in
from server.extensions import db
from server.gmail import health as gmail_health
from server.webhooks import events as webhook_events


def _render_team(
    error: Exception | str = "",
    invite_link: str = "",
    invited: str = "",
    status: int = 200,
    form=None,
):
    account_id = current_user.account_id
    members = team.members(db.session, account_id)
    return render_template(
        "admin/team.html",
        members=members,
        gmail=gmail_health.of_users(
            db.session,
            [m.id for m in members],
            datetime.now(UTC),
            gmail_health.Sweep.of(settings()),
        ),
        invitations=team.pending_invitations(db.session, account_id),
        error=error,
        invite_link=invite_link,
        invited=invited,
        form=form or {},  # what was typed into the invitation form, kept when it is refused
        mail_configured=mailer().configured,
    ), status


@bp.get("/team")
@admin_required
def team_page():
    """Members and open invitations."""
    return _render_team()


@bp.post("/team/invite")
@admin_required
def team_invite():
    """Invite someone by email: mailed when SMTP is configured, else shown here once."""
    email, role = request.form.get("email", ""), request.form.get("role", "rep")
    try:
        invitation, token = team.invite(
            db.session, settings().secret_key, current_user, email, role
        )
    except AccountError as exc:
        db.session.rollback()
        return _render_team(exc, status=400, form=request.form)
    db.session.commit()
    # The mailed link proves the address by itself; the one shown here (no mail) does not.
    mailed = team.link_token(settings().secret_key, invitation, mailed=True)
    body = (
        f"{current_user.email} invites you to {current_user.account.name} on Leadcamp.\n\n"
        f"Accept within 7 days (the link works once):\n{_link(mailed)}\n"
    )
    if mailer().send([invitation.email], "Your invitation to Leadcamp", body):
        flash(f"Invitation sent to {invitation.email}.")
        return redirect(url_for("admin.team_page"))
    return _render_team(invite_link=_link(token), invited=invitation.email)


def _link(token: str) -> str:
    return settings().public_url + url_for("admin.accept_invitation", token=token)


@bp.post("/team/invitations/<int:invitation_id>/withdraw")
@admin_required
def team_withdraw(invitation_id: int):
    """Withdraw an open invitation."""
    team.withdraw(db.session, current_user, invitation_id)
    db.session.commit()
    flash("Invitation withdrawn.")
    return redirect(url_for("admin.team_page"))


def _member_action(action, *args, done: str, untracked: int | None = None):
    try:
        result = action(db.session, current_user, *args)
    except AccountError as exc:
        db.session.rollback()
        return _render_team(exc, status=400)
    if untracked is not None:
        # The rep's tracking stopped: their opens and clicks pending for webhooks are not sent.
        webhook_events.scrub_tracking(db.session, current_user.account_id, untracked)
    db.session.commit()
    flash(done.format(**(result or {})))
    return redirect(url_for("admin.team_page"))


@bp.post("/team/<int:user_id>/deactivate")
@admin_required
def team_deactivate(user_id: int):
    """Deactivate a member: their tokens and signing keys are revoked at once."""
    return _member_action(
        team.deactivate,
        user_id,
        done="Deactivated; {tokens} token(s) and {keys} key(s) revoked.",
        untracked=user_id,
    )


@bp.post("/team/<int:user_id>/reactivate")
@admin_required
def team_reactivate(user_id: int):
    """Let a member sign in again."""
    return _member_action(team.reactivate, user_id, done="Reactivated.")


@bp.post("/team/<int:user_id>/role")
@admin_required
def team_role(user_id: int):
    """Change a member's role."""
    return _member_action(team.set_role, user_id, request.form.get("role", ""), done="Role saved.")


@bp.post("/team/<int:user_id>/tracking")
@admin_required
def team_tracking(user_id: int):
    """Per-rep tracking override: follow the account, or off."""
    follow = request.form.get("tracking") == "account"
    return _member_action(
        team.set_tracking,
        user_id,
        follow,
        done="Tracking override saved.",
        untracked=None if follow else user_id,
    )


@bp.get("/invitations/<token>")
@throttle.sign_in
def accept_invitation(token: str):
    """Show the invitation; it is spent only by the POST (mail scanners fetch links)."""
    try:
        invitation = team.invitation_for(db.session, settings().secret_key, token)
    except AccountError as exc:
        return render_template("admin/accept.html", error=str(exc)), 400
    mailed = team.is_mailed(settings().secret_key, token)
    return render_template("admin/accept.html", invitation=invitation, token=token, mailed=mailed)


@bp.post("/invitations/<token>")
@throttle.sign_in
def accept_invitation_post(token: str):
    """Accept a mailed link: create the user and sign them in."""
    try:
        user = team.accept(db.session, settings().secret_key, token, request.form.get("name", ""))
    except AccountError as exc:
        db.session.rollback()
        return render_template("admin/accept.html", error=exc), 400
    flash("Welcome to Leadcamp.")
    return sign_in(user, "invitation")
