"""The extension's connect handoff: the signed-in rep confirms, the extension gets a code.

The code travels in the URL fragment of the page the extension's service worker watches, so it
never reaches a server or an access log; it is worthless without the verifier the worker holds.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import redirect, render_template, request, session, url_for
from flask_login import current_user

from server.accounts import connect as extension_connect
from server.auth import bp
from server.extensions import db


@bp.get("/auth/extension/connect")
def extension_connect_page():
    """Ask the signed-in rep to confirm connecting the extension (sign in first if needed)."""
    challenge = request.args.get("challenge", "")
    if not extension_connect.valid_challenge(challenge):
        return render_template("auth/extension_error.html"), 400
    if not current_user.is_authenticated:
        session["after_login"] = url_for("auth.extension_connect_page", challenge=challenge)
        return redirect(url_for("auth.login"))
    return render_template("auth/extension_connect.html", user=current_user, challenge=challenge)


@bp.post("/auth/extension/connect")
def extension_connect_confirm():
    """Issue the one-time code and hand it to the extension in the fragment of the next page."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    try:
        code = extension_connect.issue_code(
            db.session, current_user, request.form.get("challenge", ""), datetime.now(UTC)
        )
    except extension_connect.ConnectError:
        return render_template("auth/extension_error.html"), 400
    db.session.commit()
    return redirect(url_for("auth.extension_connected") + "#code=" + code)


@bp.get("/auth/extension/connected")
def extension_connected():
    """The page the extension picks the code up from; it says what happens next."""
    return render_template("auth/extension_connected.html")
