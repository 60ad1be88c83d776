"""The invitations provider of the personal-data registry: invitations sent to the person."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from server.common.personal_data import Provider
from server.models import Invitation
from server.models.base import iso


def find_invitations(session: Session, account_id: int, email: str) -> dict:
    """Invitations sent to the address."""
    rows = session.scalars(
        select(Invitation).where(Invitation.account_id == account_id, Invitation.email == email)
    )
    return {
        "invitations": [
            {"id": i.id, "email": i.email, "role": i.role, "created_at": iso(i.created_at)}
            for i in rows
        ]
    }


def erase_invitations(session: Session, account_id: int, email: str) -> int:
    """Remove invitations sent to the address."""
    return session.execute(
        delete(Invitation).where(Invitation.account_id == account_id, Invitation.email == email)
    ).rowcount


def erase_account_invitations(session: Session, account_id: int, mode: str) -> int:
    """Invitations are only useful while open: removed in both modes."""
    return session.execute(delete(Invitation).where(Invitation.account_id == account_id)).rowcount


PROVIDER = Provider(
    name="invitations",
    find=find_invitations,
    erase=erase_invitations,
    erase_account=erase_account_invitations,
)
