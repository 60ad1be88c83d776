"""Request and response bodies of the contacts API (docs/contacts.md)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from server.api.schemas import Strict

Phone = Annotated[str, Field(max_length=50, pattern=r"^[0-9A-Za-z +()./#*,;-]*$")]


class ContactPatchIn(Strict):
    """Edits to a contact; absent fields stay as they are, null or "" clears."""

    name: Annotated[str, Field(max_length=200)] | None = None
    title: Annotated[str, Field(max_length=200)] | None = None
    phone: Phone | None = None
    notes: Annotated[str, Field(max_length=10_000)] | None = None
    company_name: Annotated[str, Field(max_length=200)] | None = None
    do_not_enrich: bool | None = None


class CompanyOut(BaseModel):
    domain: str | None
    name: str


class ScoredCompanyOut(CompanyOut):
    score: int = Field(
        ge=0, le=100, description="the company's engagement score (docs/insights.md)"
    )


class EnrichmentOut(BaseModel):
    status: str = Field(description="found, not_found, queued, pending, error or off")
    reason: str | None = Field(
        None, description="why it is off (no_api_key, tracking_off, do_not_enrich) or the error"
    )
    provider: str
    fetched_at: str | None
    person: dict | None = None
    company: dict | None = None


class TimelineEntryOut(BaseModel):
    kind: str
    at: str
    message_id: str
    subject: str
    verdict: str
    url: str | None
    device: str | None
    region: str | None


class EngagementOut(BaseModel):
    score: int = Field(ge=0, le=100)
    opens: int
    clicks: int
    replies: int
    last_activity_at: str | None
    timeline: list[TimelineEntryOut]


class ContactMessageOut(BaseModel):
    id: str
    subject: str
    sent_at: str | None
    gmail_thread_id: str | None
    opens: int
    clicks: int
    replies: int


class ContactSummaryOut(BaseModel):
    email: str
    email_display: str
    name: str
    title: str
    company: CompanyOut | None
    do_not_enrich: bool
    score: int
    last_activity_at: str | None
    enrichment_status: str


class ContactListOut(BaseModel):
    contacts: list[ContactSummaryOut]
    total: int


class ContactDetailOut(BaseModel):
    email: str
    email_display: str
    name: str
    title: str
    phone: str | None
    notes: str
    do_not_enrich: bool
    company: ScoredCompanyOut | None
    enrichment: EnrichmentOut
    engagement: EngagementOut
    messages: list[ContactMessageOut]
