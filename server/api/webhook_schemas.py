"""Bodies of the webhook API (admins only); docs/webhooks.md has the events' payloads."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, Field

from server.api.schemas import Strict

EventType = Literal[
    "message.sent",
    "message.opened",
    "link.clicked",
    "message.replied",
    "message.bounced",
    "contact.updated",
    "data_request.completed",
]
Url = Annotated[str, Field(min_length=1, max_length=2000, description="http(s) URL")]
Ranges = Annotated[
    str,
    Field(
        max_length=1000,
        description="Comma-separated CIDRs of private addresses this endpoint may reach",
    ),
]


class WebhookIn(Strict):
    url: Url
    event_types: Annotated[list[EventType], Field(max_length=20)] = Field(
        default_factory=list, description="Types to receive; empty: every type"
    )
    description: Annotated[str, Field(max_length=200)] = ""
    allow_private: Ranges = ""


class WebhookPatchIn(Strict):
    url: Url | None = None
    event_types: Annotated[list[EventType], Field(max_length=20)] | None = None
    description: Annotated[str, Field(max_length=200)] | None = None
    allow_private: Ranges | None = None
    enabled: bool | None = None


class ReplayIn(Strict):
    since: AwareDatetime
    until: AwareDatetime
    failed_only: bool = Field(
        default=True, description="Only events whose delivery to this endpoint never succeeded"
    )


class WebhookOut(BaseModel):
    id: int
    url: str
    description: str
    event_types: list[str]
    allow_private: list[str]
    enabled: bool
    disabled_reason: str
    failing_since: str | None
    previous_secret_expires_at: str | None = Field(
        description="Until when the previous secret still signs (after a rotation)"
    )
    created_at: str


class WebhookCreatedOut(WebhookOut):
    secret: str = Field(description="The signing secret (whsec_…): shown only now")


class WebhookListOut(BaseModel):
    endpoints: list[WebhookOut]
    event_types: list[str]


class SecretOut(BaseModel):
    secret: str = Field(description="The new signing secret: shown only now")
    previous_secret_expires_at: str


class DeliveryOut(BaseModel):
    id: int
    endpoint_id: int
    event_id: str = Field(description="The webhook-id header: the same on every retry and replay")
    event_type: str
    status: str = Field(description="pending, succeeded, failed or cancelled")
    attempts: int
    response_code: int | None
    latency_ms: int | None
    error: str
    created_at: str
    last_attempt_at: str | None
    next_attempt_at: str | None


class DeliveryListOut(BaseModel):
    deliveries: list[DeliveryOut]


class ReplayOut(BaseModel):
    queued: int


class DeletedOut(BaseModel):
    deleted: bool
