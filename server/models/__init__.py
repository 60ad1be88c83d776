"""Typed models, one module per aggregate."""

from server.models.account import Account, ApiToken, SigningKey, User
from server.models.event import Event
from server.models.extension import ConnectCode
from server.models.message import Link, Message, MessageSummary, Recipient, SelfView

__all__ = [
    "Account",
    "ApiToken",
    "ConnectCode",
    "Event",
    "Link",
    "Message",
    "MessageSummary",
    "Recipient",
    "SelfView",
    "SigningKey",
    "User",
]
