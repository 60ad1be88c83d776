"""Request and response bodies of the JSON API. Unknown fields are rejected."""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt, field_validator

MessageId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{16,32}$", description="128-bit id")]
GmailId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
Email = Annotated[str, Field(max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")]
TRACK_OPENS = "Opens are tracked: the mail carries the open pixel"
TRACK_LINKS = "Links are tracked: they go through the click redirect"


class Strict(BaseModel):
    """Base for request bodies: unknown fields are an error, strings are trimmed and hold no
    NUL character."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value):
        # PostgreSQL's text cannot hold NUL: refused here as invalid input (400), not at insert
        # time as a server error.
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain a NUL character")
        return value


class RecipientIn(Strict):
    email: Email
    name: Annotated[str, Field(max_length=200)] | None = None


class MessageIn(Strict):
    """A message the rep has sent (or is sending, when `html` asks for tracking)."""

    id: MessageId | None = None
    subject: Annotated[str, Field(max_length=998)] = ""
    recipients: Annotated[list[RecipientIn], Field(min_length=1, max_length=500)]
    sent_at: AwareDatetime | None = None
    gmail_message_id: GmailId | None = None
    gmail_thread_id: GmailId | None = None
    html: Annotated[str, Field(max_length=900_000)] | None = None
    track_opens: bool = Field(default=True, description=TRACK_OPENS)
    track_links: bool = Field(default=True, description=TRACK_LINKS)


class ThreadsIn(Strict):
    thread_ids: Annotated[list[GmailId], Field(min_length=1, max_length=500)]


class SelfViewIn(Strict):
    viewed_at: AwareDatetime | None = None


class FollowUpIn(Strict):
    """Remind me if no reply comes to this message within `days` days from now."""

    days: Annotated[StrictInt, Field(ge=1, le=90, description="whole days, 1 to 90")]


class Error(BaseModel):
    error: str
    message: str
    details: list[dict] | None = None


class UserOut(BaseModel):
    id: int
    email: str
    name: str
    role: str


class AccountOut(BaseModel):
    id: int
    name: str


class TrackingOut(BaseModel):
    enabled: bool = Field(description="Whether hits on this rep's mail are recorded")
    account_enabled: bool
    track_by_default: bool
    tracking_host: str


class GmailOut(BaseModel):
    connected: bool
    status: str = Field(description="ok, reconnect_needed or not_connected")
    health: str = Field(
        description="ok; reconnect_needed (Google revoked or expired the access: sync is paused); "
        "stalled (connected, but no successful sync for 6 sync intervals, at least 30 minutes); "
        "or not_connected"
    )
    email: str | None
    scopes: list[str]
    last_synced_at: str | None = Field(description="The last successful sync (ISO 8601, UTC)")
    connect_url: str = Field(description="The server's page that shows and (re)connects Gmail")


class MeOut(BaseModel):
    user: UserOut
    account: AccountOut
    tracking: TrackingOut
    gmail: GmailOut


class SigningKeyOut(BaseModel):
    kid: str
    key: str = Field(description="32-byte HMAC key, unpadded url-safe base64")
    algorithm: str
    base_url: str


class LinkOut(BaseModel):
    url: str
    tracked_url: str


class Summary(BaseModel):
    status: str = Field(
        description="The furthest stage: replied, clicked, opened, bounced (a delivery failure "
        "and no real open or click) or sent"
    )
    opens: int = Field(description="real opens: human and proxy hits, never machine ones")
    clicks: int = Field(description="real clicks: human and proxy hits")
    replies: int
    bounces: int = Field(description="delivery-failure notices Gmail sync found")
    counts: dict[str, int] = Field(description="hits per verdict")
    first_open_at: str | None = Field(description="the first real open (or click)")
    last_open_at: str | None = Field(description="the last real open")
    last_click_at: str | None = Field(description="the last real click")
    replied: bool = Field(description="the lead replied (auto-replies do not count)")
    last_reply_at: str | None = Field(description="when the last reply came")
    bounced: bool = Field(description="a delivery-failure notice came for this message")
    bounced_at: str | None = Field(description="when the last delivery-failure notice came")


class RecipientOut(BaseModel):
    email: str
    name: str


class FollowUpOut(BaseModel):
    days: int
    due_at: str
    state: str = Field(
        description="pending, due (no reply in time: the rep was notified), cancelled or done "
        "(the lead replied)"
    )
    created_at: str = Field(description="when it was set; a reply counts from then on")
    fired_at: str | None


class MessageSummaryOut(Summary):
    id: str
    subject: str
    sent_at: str | None
    tracked: bool
    track_opens: bool = Field(description=TRACK_OPENS + " (off: no open can be seen)")
    track_links: bool = Field(description=TRACK_LINKS + " (off: no click can be seen)")
    gmail_message_id: str | None
    gmail_thread_id: str | None
    recipients: list[RecipientOut]
    follow_up: FollowUpOut | None = Field(
        default=None, description="your reminder on this message, if you ever set one"
    )


class MessageListItemOut(MessageSummaryOut):
    sender: str | None = Field(
        default=None, description="the sending rep's address (an admin's list only)"
    )


class MessageListOut(BaseModel):
    messages: list[MessageListItemOut] = Field(description="newest first")
    total: int = Field(description="how many messages match")
    limit: int
    offset: int


class MessageCreatedOut(MessageSummaryOut):
    html: str | None = None
    pixel_url: str | None = None
    links: list[LinkOut] = []


class DeviceOut(BaseModel):
    type: str | None
    os: str | None
    browser: str | None


class LocationOut(BaseModel):
    country: str | None
    region: str | None
    city: str | None


class EventOut(BaseModel):
    at: str
    kind: str
    verdict: str
    reasons: list[str]
    device: DeviceOut
    location: LocationOut | None
    link: str | None


class MessageDetailOut(MessageSummaryOut):
    events: list[EventOut]


class ThreadsOut(BaseModel):
    threads: dict[str, list[MessageSummaryOut]]


class SelfViewOut(BaseModel):
    relabelled: int


class FollowUpAnswerOut(BaseModel):
    follow_up: FollowUpOut | None


class SendRecipientIn(RecipientIn):
    id: MessageId | None = Field(
        default=None,
        description="The id this recipient's copy gets; sending again with the same id never "
        "sends a copy Gmail already accepted",
    )


class SendIn(Strict):
    """Mail for the server to send through the rep's Gmail, one tracked copy per recipient."""

    recipients: Annotated[list[SendRecipientIn], Field(min_length=1, max_length=50)]
    subject: Annotated[str, Field(max_length=998)] = ""
    html: Annotated[str, Field(min_length=1, max_length=900_000)]
    text: Annotated[str, Field(max_length=900_000)] | None = None
    thread_id: GmailId | None = Field(
        default=None, description="Reply in this Gmail thread (its subject and headers follow)"
    )
    track_opens: bool = Field(default=True, description=TRACK_OPENS)
    track_links: bool = Field(default=True, description=TRACK_LINKS)


class JobAcceptedOut(BaseModel):
    """A job run the request handed to the worker; poll `status_url` for its outcome."""

    id: str
    status: str = Field(description="queued, running, succeeded, failed or unknown")
    status_url: str


class JobProgressOut(BaseModel):
    total: int | None = Field(description="items the run has; null until it knows")
    done: int
    failed: int


class JobOut(JobAcceptedOut):
    kind: str = Field(description="gmail_send, contacts_import, enrichment_refresh or dsr_export")
    created_at: str
    started_at: str | None
    finished_at: str | None
    progress: JobProgressOut
    items: list[dict] = Field(
        description="one result per item (a recipient's copy; for an import, a rejected row)"
    )
    result: dict | None
    error: str | None = Field(description="why the run failed, or why its outcome is unknown")
