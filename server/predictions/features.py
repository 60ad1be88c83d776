"""Point-in-time features for the reply and open models.

Messages are walked oldest first. A message's outcome joins the tallies only once its 7-day
window has closed (sent + 7 days), and an engagement joins the hour counts once it happened, so
every message's features use only what was known when it was sent: the same features whether
the message is a training row, a test row or a live prediction.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field

from server.predictions import shrinkage
from server.predictions.best_time import Clock, hour_of, weekday_of
from server.predictions.history import Engagement, Sent
from server.predictions.logistic import logit

HORIZON = 7 * 86400
TARGETS = ("reply", "open")
NAMES = [
    "contact_reply_rate",
    "contact_open_rate",
    "company_reply_rate",
    "company_open_rate",
    "rep_reply_rate",
    "rep_open_rate",
    "contact_messages",
    "days_since_last",
    "contact_hour_share",
    "hour_sin",
    "hour_cos",
    "weekend",
]
DEFAULT_STRENGTH = 10.0
# A rep sends enough mail that their rate needs little pooling; a fixed pull toward the account.
REP_STRENGTH = 20.0


def labels(row: Sent) -> dict[str, int]:
    """Replied within 7 days; really opened within 7 days (a reply means it was read)."""
    replied = row.replied_at is not None and row.replied_at - row.sent_at <= HORIZON
    opened = row.opened_at is not None and row.opened_at - row.sent_at <= HORIZON
    return {"reply": int(replied), "open": int(opened or replied)}


def resolved_by(row: Sent, at: float) -> bool:
    """Whether the row's 7-day outcome was known at `at`."""
    return row.sent_at + HORIZON <= at


@dataclass
class Tallies:
    """Resolved outcomes: [messages, replies, opens] per contact, company, rep and account."""

    contact: dict = field(default_factory=dict)
    company: dict = field(default_factory=dict)
    rep: dict = field(default_factory=dict)
    account: list = field(default_factory=lambda: [0, 0, 0])
    domain_of: dict = field(default_factory=dict)

    def add(self, row: Sent) -> None:
        """Count one resolved message."""
        y = labels(row)
        self.domain_of[row.contact] = row.domain
        for table, key in (
            (self.contact, row.contact),
            (self.company, row.domain),
            (self.rep, row.user_id),
        ):
            if key is None:
                continue
            t = table.setdefault(key, [0, 0, 0])
            t[0], t[1], t[2] = t[0] + 1, t[1] + y["reply"], t[2] + y["open"]
        a = self.account
        a[0], a[1], a[2] = a[0] + 1, a[1] + y["reply"], a[2] + y["open"]


def _counts(t, i: int) -> list[float]:
    return [t[i], t[0] - t[i]]


def account_rate(tallies: Tallies, target: str) -> float:
    """The account's rate with a uniform Beta(1, 1) prior."""
    i = 1 + TARGETS.index(target)
    return (tallies.account[i] + 1) / (tallies.account[0] + 2)


def strengths(tallies: Tallies) -> dict[str, dict[str, float]]:
    """Per target, kappa of company -> account and contact -> company (empirical Bayes)."""
    out = {}
    for target in TARGETS:
        i = 1 + TARGETS.index(target)
        acc = account_rate(tallies, target)
        parent = [acc, 1 - acc]
        k_co = shrinkage.strength(
            ((_counts(t, i), parent) for t in tallies.company.values()), DEFAULT_STRENGTH
        )
        co = {d: _rate(t, i, acc, k_co) for d, t in tallies.company.items()}
        k_c = shrinkage.strength(
            (
                (_counts(tallies.contact[c], i), [co.get(d, acc), 1 - co.get(d, acc)])
                for c, d in tallies.domain_of.items()
            ),
            DEFAULT_STRENGTH,
        )
        out[target] = {"company": k_co, "contact": k_c}
    return out


def _rate(t, i: int, parent: float, kappa: float) -> float:
    if t is None:
        return parent
    return shrinkage.shrink(_counts(t, i), [parent, 1 - parent], kappa)[0]


def rates(tallies: Tallies, row: Sent, target: str, kappas: dict) -> tuple[float, float, float]:
    """(contact, company, rep) smoothed rates of `target` for the row's contact, company, rep."""
    i = 1 + TARGETS.index(target)
    acc = account_rate(tallies, target)
    k = kappas[target]
    company = _rate(tallies.company.get(row.domain), i, acc, k["company"])
    contact = _rate(tallies.contact.get(row.contact), i, company, k["contact"])
    rep = _rate(tallies.rep.get(row.user_id), i, acc, REP_STRENGTH)
    return contact, company, rep


def vector(tallies: Tallies, hours: Clock, row: Sent, kappas: dict, last: float | None) -> list:
    """The feature vector of one message (NAMES order), from what was known at its send time."""
    c_r, co_r, rep_r = rates(tallies, row, "reply", kappas)
    c_o, co_o, rep_o = rates(tallies, row, "open", kappas)
    n = tallies.contact.get(row.contact, [0])[0]
    days = 90.0 if last is None else min((row.sent_at - last) / 86400, 90.0)
    h = hour_of(row.sent_at)
    dist, _ = hours.distribution(row.contact, row.domain, kappas["hours"])
    share = dist[h] + dist[(h + 1) % 24] + dist[(h + 2) % 24]  # engaged in the next 3 hours
    angle = 2 * math.pi * h / 24
    return [
        logit(c_r),
        logit(c_o),
        logit(co_r),
        logit(co_o),
        logit(rep_r),
        logit(rep_o),
        math.log1p(n),
        math.log1p(days),
        share,
        math.sin(angle),
        math.cos(angle),
        float(weekday_of(row.sent_at) >= 5),
    ]


def walk(rows: list[Sent], events: list[Engagement], kappas: dict) -> list[list[float]]:
    """Every row's feature vector, point in time (rows and events oldest first)."""
    tallies, hours = Tallies(), Clock(24, hour_of)
    pending: list[tuple[float, int]] = []
    last_sent: dict[str, float] = {}
    out, e = [], 0
    for idx, row in enumerate(rows):
        while pending and pending[0][0] <= row.sent_at:
            tallies.add(rows[heapq.heappop(pending)[1]])
        while e < len(events) and events[e].at < row.sent_at:
            hours.add(events[e])
            e += 1
        out.append(vector(tallies, hours, row, kappas, last_sent.get(row.contact)))
        last_sent[row.contact] = row.sent_at
        heapq.heappush(pending, (row.sent_at + HORIZON, idx))
    return out


def tallies_at(rows: list[Sent], at: float) -> Tallies:
    """The tallies of the rows resolved by `at`."""
    tallies = Tallies()
    for row in rows:
        if resolved_by(row, at):
            tallies.add(row)
    return tallies


def at(
    rows: list[Sent], events: list[Engagement], row: Sent, kappas: dict, account: dict | None = None
) -> list[float]:
    """One message's feature vector from the history before it (a live prediction).

    `rows` and `events` may be only the rep's and the contact's company's (service.py reads no
    more in a request); then `account` gives the account-wide counts (the model's snapshot:
    {"tallies": [messages, replies, opens], "hours": [24 counts]}).
    """
    tallies = tallies_at([r for r in rows if r.sent_at < row.sent_at], row.sent_at)
    hours = Clock(24, hour_of)
    for e in events:
        if e.at < row.sent_at:
            hours.add(e)
    if account is not None:
        tallies.account, hours.account = list(account["tallies"]), list(account["hours"])
    last = max(
        (r.sent_at for r in rows if r.contact == row.contact and r.sent_at < row.sent_at),
        default=None,
    )
    return vector(tallies, hours, row, kappas, last)
