"""`python -m bench.mailbox EMAIL`: give the bench user a connected Gmail mailbox that may send.

What a finished connect round trip stores (tokens encrypted under TOKEN_ENCRYPTION_KEYS), with
an access token valid for an hour, so the job worker calls the Gmail API (GMAIL_API_URL) at once.
"""

from __future__ import annotations

import secrets
import sys
from datetime import UTC, datetime, timedelta

from sqlalchemy import select


def main(email: str) -> None:
    """Connect a mailbox for the user `email`."""
    from server import create_app
    from server.extensions import db
    from server.gmail import auth as gmail_auth
    from server.models import User

    app = create_app()
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        scopes = {gmail_auth.OPENID, gmail_auth.EMAIL, gmail_auth.METADATA, gmail_auth.SEND}
        now = datetime.now(UTC)
        grant = gmail_auth.Grant(
            purpose="connect",
            user_id=user.id,
            requested=scopes,
            granted=scopes,
            refresh_token=secrets.token_urlsafe(32),
            access_token=secrets.token_urlsafe(32),
            expires_at=now + timedelta(hours=1),
            email=email,
            email_verified=True,
            sub=str(secrets.randbelow(10**20)),
            name="Bench Rep",
        )
        client = gmail_auth.GoogleClient.from_settings(app.config["LEADCAMP"])
        gmail_auth.save_mailbox(db.session, client, user, grant, now)
        db.session.commit()


if __name__ == "__main__":
    main(sys.argv[1])
