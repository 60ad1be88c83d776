"""When a contact engages: hour-of-day and weekday distributions of real opens, clicks and
replies, smoothed contact -> company domain -> account -> flat (empirical Bayes).

The top level is a flat distribution, not other accounts' data: one account never learns from
another's. Hours and weekdays are UTC (the server knows no contact's time zone).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from server.predictions import shrinkage
from server.predictions.history import Engagement

# The account is pulled toward flat by one pseudo-engagement per bin: a few weeks of data
# outweigh it; a new account starts flat.
FLAT_STRENGTH_PER_BIN = 1.0
# Prior strengths when nothing can be estimated yet (fewer than two children with two events).
DEFAULT_STRENGTH = 10.0
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def hour_of(ts: float) -> int:
    """The UTC hour of a unix time."""
    return datetime.fromtimestamp(ts, UTC).hour


def weekday_of(ts: float) -> int:
    """The UTC weekday of a unix time (Monday 0)."""
    return datetime.fromtimestamp(ts, UTC).weekday()


class Clock:
    """Engagement counts per bin (hours or weekdays) for each contact, company and the account."""

    def __init__(self, size: int, bin_of: Callable[[float], int]):
        self.size, self.bin_of = size, bin_of
        self.contact: dict[str, list[float]] = {}
        self.company: dict[str, list[float]] = {}
        self.account = [0.0] * size
        self.domain_of: dict[str, str | None] = {}

    def add(self, e: Engagement) -> None:
        """Count one engagement."""
        b = self.bin_of(e.at)
        self.contact.setdefault(e.contact, [0.0] * self.size)[b] += 1
        self.domain_of[e.contact] = e.domain
        if e.domain:
            self.company.setdefault(e.domain, [0.0] * self.size)[b] += 1
        self.account[b] += 1

    def account_distribution(self) -> list[float]:
        """The account's counts shrunk toward flat."""
        flat = [1 / self.size] * self.size
        return shrinkage.shrink(self.account, flat, FLAT_STRENGTH_PER_BIN * self.size)

    def strengths(self) -> tuple[float, float]:
        """(kappa company -> account, kappa contact -> company) estimated from the counts."""
        account = self.account_distribution()
        k_company = shrinkage.strength(
            ((c, account) for c in self.company.values()), DEFAULT_STRENGTH
        )
        pairs = (
            (c, self._company_distribution(self.domain_of.get(who), account, k_company))
            for who, c in self.contact.items()
        )
        return k_company, shrinkage.strength(pairs, DEFAULT_STRENGTH)

    def _company_distribution(self, domain, account, k_company) -> list[float]:
        counts = self.company.get(domain) if domain else None
        return shrinkage.shrink(counts, account, k_company) if counts else account

    def distribution(
        self, contact: str, domain: str | None, strengths: tuple[float, float]
    ) -> tuple[list[float], dict]:
        """The contact's smoothed distribution, and the evidence behind it."""
        account = self.account_distribution()
        company = self._company_distribution(domain, account, strengths[0])
        own = self.contact.get(contact, [0.0] * self.size)
        dist = shrinkage.shrink(own, company, strengths[1])
        n_company = sum(self.company.get(domain, ())) if domain else 0
        evidence = {
            "contact": int(sum(own)),
            "company": int(n_company),
            "account": int(sum(self.account)),
            "contact_weight": round(shrinkage.weight(sum(own), strengths[1]), 3),
        }
        return dist, evidence


def clocks(events: list[Engagement], until: float | None = None) -> tuple[Clock, Clock]:
    """Hour and weekday clocks of the engagements before `until`."""
    hours, days = Clock(24, hour_of), Clock(7, weekday_of)
    for e in events:
        if until is not None and e.at >= until:
            break  # events come oldest first
        hours.add(e)
        days.add(e)
    return hours, days


def answer(
    hours: Clock, days: Clock, contact: str, domain: str | None, strengths: tuple | None = None
) -> dict:
    """The best UTC hour and weekday to reach a contact, each with its probability and evidence
    (`strengths`: the hour and weekday clocks' prior strengths, else estimated from them)."""
    h_strength, d_strength = strengths or (hours.strengths(), days.strengths())
    h_dist, h_evidence = hours.distribution(contact, domain, h_strength)
    d_dist, _ = days.distribution(contact, domain, d_strength)
    hour = max(range(24), key=h_dist.__getitem__)
    day = max(range(7), key=d_dist.__getitem__)
    return {
        "hour_utc": hour,
        "hour_share": round(h_dist[hour], 4),
        "weekday": WEEKDAYS[day],
        "weekday_share": round(d_dist[day], 4),
        "evidence": h_evidence,
    }
