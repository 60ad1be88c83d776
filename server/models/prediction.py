"""The prediction aggregate: an account's latest backtest, with the models it fitted.

Only aggregates: scores, calibration bins and model coefficients, never a person or a message.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import db
from server.models.base import UTCDateTime, utcnow


class Backtest(db.Model):
    """One account's latest backtest: rolling-window scores against the naive baselines, and
    the models refitted on all resolved history, which the product uses while they beat them."""

    __tablename__ = "prediction_backtests"

    id: Mapped[int] = mapped_column(primary_key=True)
    # One row per account: a new run replaces the last.
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), unique=True)
    ran_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # {"reply": {...scores...}, "open": {...}, "best_time": {...}, "windows": [...]}
    result: Mapped[dict] = mapped_column(JSON)
    # {"reply": {coefficients...}, "open": {...}, "best_time": {...}}
    model: Mapped[dict] = mapped_column(JSON)
