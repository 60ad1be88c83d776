"""The accounts' task: mailing a sign-in link someone asked for on the sign-in page.

The page queues the task for every well-formed address, known or not, so its answer takes the
same work either way; only here, in the worker, is the address looked up and mail sent."""

from __future__ import annotations

from huey import Huey

from server.accounts import users
from server.common import mail
from server.extensions import db

SIGN_IN_LINK = "mail_sign_in_link"


def register(huey: Huey, app) -> dict:
    """The sign-in link task, bound to `app`, by name."""

    @huey.task(retries=0, name=SIGN_IN_LINK)
    def mail_sign_in_link(email: str) -> bool:
        """Mail a sign-in link when a user may sign in with `email`; whether mail went."""
        settings = app.config["LEADCAMP"]
        with app.app_context():
            try:
                body = users.sign_in_mail(
                    db.session, settings.secret_key, settings.public_url, email
                )
            finally:
                db.session.remove()
        if body is None:
            return False
        return mail.from_settings(settings).send([email], "Your Leadcamp sign-in link", body)

    return {SIGN_IN_LINK: mail_sign_in_link}
