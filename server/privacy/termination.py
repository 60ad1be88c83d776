"""Terminating an account: all of its personal data deleted or anonymized, as the admin chooses;
its Google tokens revoked; only anonymous aggregates kept (per-message counts, the audit trail,
which names ids, never addresses)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from server.common import audit, personal_data
from server.common.inputs import InputError
from server.gmail import tokens as gmail_tokens
from server.models import (
    Account,
    ApiToken,
    Breach,
    ConnectCode,
    DataRequest,
    GmailMailbox,
    OAuthState,
    SelfView,
    SigningKey,
    User,
)


class TerminationError(InputError):
    """The termination was not confirmed or cannot run."""


def revoke_google_tokens(session: Session, account_id: int) -> int:
    """Delete the account's Gmail connections, their tokens revoked at Google once the
    termination is committed (a rolled-back one leaves them working); how many there were."""
    mailboxes = session.scalars(select(GmailMailbox).where(GmailMailbox.account_id == account_id))
    count = 0
    for mailbox in list(mailboxes):
        gmail_tokens.delete_and_revoke_after_commit(session, mailbox)
        audit.record(session, account_id, "gmail.disconnect", target=f"user #{mailbox.user_id}",
                     detail="account terminated")  # fmt: skip
        count += 1
    return count


def _breaches(session: Session, account_id: int, mode: str) -> None:
    """The breach register: deleted, or kept without the free text that may name people."""
    for breach in session.scalars(select(Breach).where(Breach.account_id == account_id)):
        if mode == "delete":
            session.delete(breach)
            continue
        # The register keeps when, which data and the outcome.
        breach.reported_by, breach.description, breach.subjects_affected = None, "", ""
        for action in breach.actions:
            action.description = ""


def _people(session: Session, account_id: int, mode: str) -> int:
    """The account's users and their credentials: deleted, or stripped of identity."""
    user_ids = select(User.id).where(User.account_id == account_id)
    count = 0
    # Credentials and pending sign-in round trips go in both modes (and must, before users).
    for model in (ApiToken, ConnectCode, OAuthState):
        count += session.execute(delete(model).where(model.user_id.in_(user_ids))).rowcount
    session.execute(delete(DataRequest).where(DataRequest.account_id == account_id))
    _breaches(session, account_id, mode)
    if mode == "delete":
        session.execute(delete(SelfView).where(SelfView.user_id.in_(user_ids)))
        session.execute(delete(SigningKey).where(SigningKey.account_id == account_id))
        session.flush()
        return count + session.execute(delete(User).where(User.account_id == account_id)).rowcount
    # Kept key ids stop recording: links already sent keep redirecting, as after deactivation.
    now = datetime.now(UTC)
    session.execute(
        update(SigningKey)
        .where(SigningKey.account_id == account_id, SigningKey.revoked_at.is_(None))
        .values(revoked_at=now, retired_at=now)
    )
    for user in session.scalars(select(User).where(User.account_id == account_id)):
        user.email = f"user-{user.id}@anonymized.invalid"
        user.name, user.active, user.tracking_enabled = "", False, False
        count += 1
    return count


def terminate(
    session: Session, account: Account, confirmation: str, mode: str, actor: User | None = None
) -> dict[str, int]:
    """Terminate `account` once `confirmation` repeats its name exactly; rows per part."""
    if confirmation.strip() != account.name:
        raise TerminationError("Type the account's name exactly to confirm.", "confirmation")
    if mode not in personal_data.MODES:
        raise TerminationError(f"Choose {' or '.join(personal_data.MODES)}.", "mode")
    if account.terminated_at is not None:
        raise TerminationError("This account has been terminated already.")
    result = {"google": revoke_google_tokens(session, account.id)}
    result |= personal_data.erase_account(session, account.id, mode)
    session.flush()
    result["people"] = _people(session, account.id, mode)
    account.tracking_enabled = False
    account.terminated_at = datetime.now(UTC)
    audit.record(
        session, account.id, "account.terminate",
        actor_label="cli" if actor is None else f"user #{actor.id}",
        detail=f"{mode}: " + ", ".join(f"{n} {k}" for k, n in result.items()),
    )  # fmt: skip
    return result
