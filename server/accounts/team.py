"""The team: invitations (signed, expiring, single use), roles, deactivation, tracking overrides."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.accounts.sessions import end_sessions
from server.accounts.users import AccountError, checked_email, load_signed, normalize_email
from server.common import audit
from server.models import Account, ApiToken, Invitation, SigningKey, User
from server.models.account import ROLES

INVITATION_MAX_AGE = 7 * 24 * 3600
CANNOT_ACCEPT = "This invitation cannot be accepted. Ask the admin who sent it for help."
NEEDS_PROOF = (
    "This link was shown to the admin, not mailed to you, so it cannot prove your address. "
    "Accept it by signing in with Google as the invited address, or ask the server's operator "
    "to admit you."
)


class NotFound(LookupError):
    """No such row in the admin's account (another account's rows do not exist for them)."""


def owned(session: Session, model, account_id: int, row_id: int, *where):
    """The `model` row with this id in the account (and matching `where`), or NotFound."""
    row = session.scalar(
        select(model).where(model.id == row_id, model.account_id == account_id, *where)
    )
    if row is None:
        raise NotFound(row_id)
    return row


def admin_addresses(account: Account) -> list[str]:
    """Where notices to the account's admins go: its active admins' addresses."""
    return [u.email for u in account.users if u.is_admin and u.active]


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt="leadcamp.invitation")


def members(session: Session, account_id: int) -> list[User]:
    """The account's users, admins first."""
    query = select(User).where(User.account_id == account_id).order_by(User.role, User.email)
    return list(session.scalars(query))


def member(session: Session, account_id: int, user_id: int) -> User:
    """One user of the account, or NotFound."""
    return owned(session, User, account_id, user_id)


def pending_invitations(session: Session, account_id: int) -> list[Invitation]:
    """Invitations not yet accepted or withdrawn, newest first."""
    query = select(Invitation).where(
        Invitation.account_id == account_id,
        Invitation.accepted_at.is_(None),
        Invitation.revoked_at.is_(None),
    )
    return list(session.scalars(query.order_by(Invitation.id.desc())))


def invite(
    session: Session, secret_key: str, admin: User, email: str, role: str
) -> tuple[Invitation, str]:
    """Invite an address into the admin's account; returns the invitation and its link token."""
    email = checked_email(email)
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    # Only this account's members are checked: whether the address is in use elsewhere on the
    # server is another customer's business (accept() copes with it without saying so).
    mine = select(User.id).where(User.email == email, User.account_id == admin.account_id)
    if session.scalar(mine):
        raise AccountError(f"{email} is a member of this account already.", "email")
    _refuse_second_invitation(session, admin.account_id, email)
    invitation = Invitation(
        account_id=admin.account_id, email=email, role=role, invited_by=admin.id
    )
    try:
        with session.begin_nested():  # a savepoint: a refused row leaves the rest untouched
            session.add(invitation)
    except IntegrityError:
        # Another admin invited the address a moment ago (the open-invitation index refused it).
        _refuse_second_invitation(session, admin.account_id, email)
        raise
    audit.record(
        session,
        admin.account_id,
        "team.invite",
        actor=admin,
        target=f"invitation #{invitation.id}",
        detail=f"role {role}",
    )
    return invitation, link_token(secret_key, invitation)


def _refuse_second_invitation(session: Session, account_id: int, email: str) -> None:
    open_one = session.scalar(
        select(Invitation).where(
            Invitation.account_id == account_id,
            Invitation.email == email,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
    )
    if open_one is not None:
        raise AccountError(
            f"{email} has an open invitation already, sent {open_one.created_at:%Y-%m-%d}: "
            "withdraw it to send a new one.",
            "email",
        )


def link_token(secret_key: str, invitation: Invitation, mailed: bool = False) -> str:
    """The invitation link's token; only a mailed one proves the address by itself."""
    data = {"i": invitation.id} | ({"m": 1} if mailed else {})
    return _serializer(secret_key).dumps(data)


def _load(secret_key: str, token: str) -> dict:
    return load_signed(_serializer(secret_key), token, INVITATION_MAX_AGE, "invitation link")


def is_mailed(secret_key: str, token: str) -> bool:
    """Whether a (valid) invitation token is the mailed kind, which proves the address."""
    return _load(secret_key, token).get("m") == 1


def invitation_for(session: Session, secret_key: str, token: str) -> Invitation:
    """The open invitation a token stands for; AccountError when expired, used or forged."""
    data = _load(secret_key, token)
    invitation = session.get(Invitation, data.get("i"))
    if invitation is None or invitation.revoked_at is not None:
        raise AccountError("This invitation link is not valid.")
    if invitation.accepted_at is not None:
        raise AccountError("This invitation has been used already.")
    return invitation


def accept(
    session: Session, secret_key: str, token: str, name: str = "", verified_email: str = ""
) -> User:
    """Spend an invitation whose address is proven: by a mailed link, or `verified_email` (Google).

    A link shown to the admin proves nothing, so it is refused before anything is looked up:
    the admin cannot learn from accepting it whether the address is used in another account.
    On AccountError the caller rolls back (the session may hold a failed flush)."""
    invitation = invitation_for(session, secret_key, token)
    proven = verified_email and normalize_email(verified_email) == invitation.email
    if not (proven or is_mailed(secret_key, token)):
        raise AccountError(NEEDS_PROOF)
    return _spend(session, invitation, name)


def admit(session: Session, email: str, account_name: str = "", name: str = "") -> User:
    """The operator vouches for an address: spend its open invitation (one per account)."""
    query = select(Invitation, Account.name).join(Account, Account.id == Invitation.account_id)
    query = query.where(
        Invitation.email == normalize_email(email),
        Invitation.accepted_at.is_(None),
        Invitation.revoked_at.is_(None),
        Invitation.created_at >= datetime.now(UTC) - timedelta(seconds=INVITATION_MAX_AGE),
    )
    if account_name:
        query = query.where(Account.name == account_name)
    found = list(session.execute(query))
    if not found:
        raise AccountError(f"no user and no open invitation for {email}")
    if len(found) > 1:
        names = ", ".join(sorted(name for _, name in found))
        raise AccountError(f"{email} is invited to several accounts ({names}); pick one: --account")
    return _spend(session, found[0][0], name)


def _spend(session: Session, invitation: Invitation, name: str) -> User:
    """Create the invited user. Works once (compare-and-set on accepted_at)."""
    now = datetime.now(UTC)
    spent = session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.accepted_at.is_(None))
        .values(accepted_at=now)
    )
    if spent.rowcount != 1:
        raise AccountError("This invitation has been used already.")
    user = User(
        account_id=invitation.account_id,
        email=invitation.email,
        name=name.strip()[:200],
        role=invitation.role,
    )
    session.add(user)
    try:
        # Addresses are unique server-wide; only someone who proved the address gets this far.
        session.flush()
    except IntegrityError as exc:
        raise AccountError(CANNOT_ACCEPT) from exc
    audit.record(
        session,
        user.account_id,
        "team.accept",
        actor=user,
        target=f"invitation #{invitation.id}",
    )
    return user


def withdraw(session: Session, admin: User, invitation_id: int) -> None:
    """Withdraw an open invitation of the admin's account; NotFound once accepted or withdrawn."""
    # An accepted invitation is a member now: marking it withdrawn would misstate the history.
    invitation = owned(
        session, Invitation, admin.account_id, invitation_id,
        Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None),
    )  # fmt: skip
    invitation.revoked_at = datetime.now(UTC)
    audit.record(
        session,
        admin.account_id,
        "team.invite",
        actor=admin,
        target=f"invitation #{invitation.id}",
        detail="withdrawn",
    )


def deactivate(session: Session, admin: User, user_id: int) -> dict:
    """Deactivate a user: sign-in and every session stop, API tokens and signing keys are revoked.

    Revoked keys' links keep redirecting (links never expire) but record nothing."""
    user = member(session, admin.account_id, user_id)
    if user.id == admin.id:
        raise AccountError("You cannot deactivate yourself.")
    now = datetime.now(UTC)
    user.active = False
    # Sign-in links already mailed die too, even if the user is reactivated within their 15 min.
    user.login_generation += 1
    end_sessions(user)
    tokens = session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    ).rowcount
    keys = session.execute(
        update(SigningKey)
        .where(SigningKey.user_id == user.id, SigningKey.revoked_at.is_(None))
        .values(revoked_at=now, retired_at=now)
    ).rowcount
    target = f"user #{user.id}"
    audit.record(session, user.account_id, "team.deactivate", actor=admin, target=target)
    if tokens:
        audit.record(session, user.account_id, "token.revoke", actor=admin, target=target,
                     detail=f"{tokens} token(s)")  # fmt: skip
    if keys:
        audit.record(session, user.account_id, "key.revoke", actor=admin, target=target,
                     detail=f"{keys} key(s)")  # fmt: skip
    return {"tokens": tokens, "keys": keys}


def reactivate(session: Session, admin: User, user_id: int) -> None:
    """Let a deactivated user sign in again (their old sessions, tokens and keys stay dead)."""
    user = member(session, admin.account_id, user_id)
    user.active = True
    # Sessions from before the deactivation must not come back to life with the user.
    end_sessions(user)
    audit.record(
        session, user.account_id, "team.reactivate", actor=admin, target=f"user #{user.id}"
    )


def set_role(session: Session, admin: User, user_id: int, role: str) -> None:
    """Make a user an admin or a rep; an account always keeps one active admin."""
    user = member(session, admin.account_id, user_id)
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    if user.id == admin.id and role != "admin":
        raise AccountError("You cannot remove your own admin role.")
    if user.role != role:
        # Sessions signed in under the old role end: the user signs in again as what they are now.
        end_sessions(user)
    user.role = role
    audit.record(
        session, user.account_id, "team.role", actor=admin, target=f"user #{user.id}", detail=role
    )


def set_tracking(session: Session, admin: User, user_id: int, follow_account: bool) -> None:
    """Per-rep override: follow the account's switch, or never track this rep (only narrows)."""
    user = member(session, admin.account_id, user_id)
    user.tracking_enabled = None if follow_account else False
    detail = "follows account" if follow_account else "off"
    audit.record(
        session, user.account_id, "team.tracking", actor=admin, target=f"user #{user.id}",
        detail=detail,
    )  # fmt: skip
