"""Typed models, one module per aggregate."""

from server.models.account import Account, ApiToken, SigningKey, User
from server.models.contact import Company, Contact, ContactAddress, Enrichment
from server.models.event import Event, IpHashKey, PendingHit
from server.models.extension import ConnectCode
from server.models.follow_up import FollowUp
from server.models.gmail import GmailMailbox, OAuthState
from server.models.job import JobRun, JobRunAddress
from server.models.message import (
    Link,
    Message,
    MessageSummary,
    Recipient,
    ReportRollup,
    SelfView,
)
from server.models.prediction import Backtest
from server.models.privacy import (
    AuditEntry,
    Breach,
    BreachAction,
    DataRequest,
    ErasureLedgerEntry,
    Invitation,
    SubProcessor,
    SubProcessorChange,
)
from server.models.webhook import WebhookDelivery, WebhookEndpoint, WebhookEvent

__all__ = [
    "Account",
    "ApiToken",
    "AuditEntry",
    "Backtest",
    "Breach",
    "BreachAction",
    "Company",
    "ConnectCode",
    "Contact",
    "ContactAddress",
    "DataRequest",
    "Enrichment",
    "ErasureLedgerEntry",
    "Event",
    "FollowUp",
    "GmailMailbox",
    "Invitation",
    "IpHashKey",
    "JobRun",
    "JobRunAddress",
    "Link",
    "Message",
    "MessageSummary",
    "OAuthState",
    "PendingHit",
    "Recipient",
    "ReportRollup",
    "SelfView",
    "SigningKey",
    "SubProcessor",
    "SubProcessorChange",
    "User",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
]
