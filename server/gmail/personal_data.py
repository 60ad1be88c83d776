"""The Gmail provider of the personal-data registry: a user's connected mailbox (its address,
Google account id, scopes, sync and push state, when they were told it stopped) and their pending
Google sign-in round trips.

Erasure disconnects the mailbox: it is deleted and its token revoked at Google once the erasure
commits (as at termination). The encrypted tokens are never shown.
"""

from __future__ import annotations

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from server.accounts.personal_data import user_of
from server.common import audit
from server.common.personal_data import Provider
from server.gmail import tokens
from server.models import GmailMailbox, OAuthState
from server.models.base import iso


def _mailboxes(session: Session, account_id: int, email: str) -> list[GmailMailbox]:
    """The mailboxes of the person's user, or connected under their address."""
    user = user_of(session, account_id, email)
    mine = GmailMailbox.email == email.strip().lower()
    if user is not None:
        mine = or_(mine, GmailMailbox.user_id == user.id)
    query = select(GmailMailbox).where(GmailMailbox.account_id == account_id, mine)
    return list(session.scalars(query))


def find(session: Session, account_id: int, email: str) -> dict:
    """The person's mailbox connections."""
    return {
        "gmail_mailboxes": [
            {
                "email": m.email,
                "google_sub": m.google_sub,
                "scopes": m.scope_list,
                "status": m.status,
                "connected_at": iso(m.connected_at),
                "last_synced_at": iso(m.last_synced_at),
                "health_notified_at": iso(m.health_notified_at),
                "watched_until": iso(m.watch_expires_at),
            }
            for m in _mailboxes(session, account_id, email)
        ]
    }


def erase(session: Session, account_id: int, email: str) -> int:
    """Disconnect the person's mailboxes (revoked at Google after commit) and drop their
    pending Google round trips."""
    count = 0
    for mailbox in _mailboxes(session, account_id, email):
        audit.record(session, account_id, "gmail.disconnect", target=f"user #{mailbox.user_id}",
                     detail="user erased")  # fmt: skip
        tokens.delete_and_revoke_after_commit(session, mailbox)
        count += 1
    user = user_of(session, account_id, email)
    if user is not None:
        count += session.execute(delete(OAuthState).where(OAuthState.user_id == user.id)).rowcount
    return count


# Termination revokes and deletes mailboxes itself (server/privacy/termination.py).
PROVIDER = Provider(
    name="gmail", find=find, erase=erase, tables=("gmail_mailboxes", "oauth_states")
)
