"""Response bodies of the predictions API (docs/predictions.md)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ModelOut(BaseModel):
    name: str = Field(description="The model behind the likelihoods")
    backtest_ran_at: str | None = Field(description="When its latest backtest ran (UTC)")
    trained_on: int = Field(description="Resolved messages the model was fitted on")


class LikelihoodOut(BaseModel):
    shown: bool = Field(description="False while the latest backtest does not beat the baseline")
    probability: float | None = Field(description="Chance within 7 days; null when not shown")
    baseline: float | None = Field(description="The account's base rate, for comparison")
    reason: str = Field(description="Why it is hidden, when it is")


class PredictionOut(BaseModel):
    message_id: str
    model: ModelOut
    reply: LikelihoodOut = Field(description="A reply within 7 days of sending")
    open: LikelihoodOut = Field(description="A real (human or proxy) open within 7 days")
    at_risk: bool = Field(description="Really opened 3+ days ago (within 30), no reply since")


class EvidenceOut(BaseModel):
    contact: int = Field(description="The contact's own real engagements")
    company: int = Field(description="Their company domain's")
    account: int = Field(description="The account's")
    contact_weight: float = Field(description="Share of the estimate that is the contact's own")


class BestTimeValueOut(BaseModel):
    hour_utc: int
    hour_share: float = Field(description="Estimated share of the contact's engagement that hour")
    weekday: str
    weekday_share: float
    evidence: EvidenceOut


class BestTimeOut(BaseModel):
    email: str
    shown: bool
    best_time: BestTimeValueOut | None
    reason: str


class AtRiskMessageOut(BaseModel):
    id: str
    subject: str
    sent_at: str | None
    first_open_at: str | None
    opens: int
    recipients: list[str]
    gmail_thread_id: str | None


class AtRiskOut(BaseModel):
    days: int
    messages: list[AtRiskMessageOut]
