"""The report's JSON shape (server/insights/reports.py), for validation and the OpenAPI doc."""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, Field


class HitsOut(BaseModel):
    """Hits on the period's messages per verdict (opens and clicks)."""

    human: int
    proxy: int
    machine: int
    scanner: int
    prefetch: int
    bot: int
    self: int


class ReportFiguresOut(BaseModel):
    """One period's figures; rates are fractions (0..1), null where nothing could count."""

    sent: int = Field(description="messages sent in the period")
    open_base: int = Field(description="of them, sent with the open pixel")
    opened: int = Field(description="of those, opened by a person or a mail proxy (or clicked)")
    click_base: int = Field(description="sent with tracked links")
    clicked: int = Field(description="of those, with a real click")
    replied: int
    bounced: int
    open_rate: float | None = Field(description="real opens: opened / open_base")
    click_rate: float | None = Field(description="clicked / click_base")
    reply_rate: float | None = Field(description="replied / sent")
    bounce_rate: float | None = Field(description="bounced / sent")
    median_open_seconds: int | None = Field(description="sending to first real open, median")
    median_reply_seconds: int | None = Field(description="sending to first reply, median")
    hits: HitsOut
    hits_total: int
    machine_share: float | None = Field(
        description="share of hits that were not a person: machine, scanner, prefetch, bot, self"
    )
    hit_shares: dict[str, float | None]


class ReportPointOut(ReportFiguresOut):
    """A period of the series: [start, end) in UTC and its figures."""

    start: AwareDatetime
    end: AwareDatetime
    label: str


class ReportChangeOut(BaseModel):
    """Current minus previous period: counts, rates (as fractions), medians (seconds)."""

    model_config = {"extra": "allow"}

    sent: int | None
    open_rate: float | None
    click_rate: float | None
    reply_rate: float | None
    bounce_rate: float | None
    median_open_seconds: float | None
    median_reply_seconds: float | None
    machine_share: float | None


class ReportUserOut(BaseModel):
    """A member of the account."""

    id: int
    email: str
    active: bool | None = None


class ReportRepOut(BaseModel):
    """One rep's current and previous period (team reports)."""

    user: ReportUserOut
    current: ReportFiguresOut
    previous: ReportFiguresOut


class ReportOut(BaseModel):
    """A rep's or the team's report: the series, the last two periods and their change."""

    period: str = Field(description="day, week (from Monday) or month, UTC")
    user: ReportUserOut | None = Field(description="whose report; null for the whole team")
    series: list[ReportPointOut] = Field(description="oldest first; the last holds `date`")
    current: ReportPointOut
    previous: ReportPointOut
    change: ReportChangeOut
    reps: list[ReportRepOut] | None = Field(None, description="team reports: each member")
