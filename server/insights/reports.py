"""Reports: how a rep or the team is doing per period, with the previous period to compare.

The cohort of a period is the messages *sent* in it; their opens, clicks, replies and bounces
count for that period whenever they came. A report reads the per-rep, per-day roll-ups of the
messages and their summaries (server/messages/rollups.py), after recomputing those of its range
that are stale: reps x days rows, however many messages and hits there were, and the same
numbers as counting the messages one by one. Only `human` and `proxy` hits are real opens
(DESIGN.md §4): the summaries' open and click counters and their first open never include the
other verdicts, which appear only in the hit mix.
"""

from __future__ import annotations

import json
from bisect import bisect_right
from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy.orm import Session

from server.accounts import team
from server.insights.periods import Period, series
from server.messages import rollups
from server.models import User
from server.models.message import REAL_VERDICTS, VERDICTS

COUNTS = ("sent", "open_base", "opened", "click_base", "clicked", "replied", "bounced")
# rate: (numerator, denominator); an open is only possible where the pixel was in the mail, a
# click where the links were rewritten.
RATES = {
    "open_rate": ("opened", "open_base"),
    "click_rate": ("clicked", "click_base"),
    "reply_rate": ("replied", "sent"),
    "bounce_rate": ("bounced", "sent"),
}
DELAYS = ("median_open_seconds", "median_reply_seconds")
MAX_PERIODS = 36


def scope_user(session: Session, viewer: User, user_id: int | None) -> User | None:
    """Whose report the viewer asked for: None for the team (admins only), else the rep.

    A rep sees only their own; another account's user does not exist (team.NotFound).
    """
    if not viewer.is_admin:
        if user_id not in (None, viewer.id):
            raise team.NotFound(user_id)
        return viewer
    return None if user_id is None else team.member(session, viewer.account_id, user_id)


def report(
    session: Session, account_id: int, user: User | None, period: str, day: date, count: int
) -> dict:
    """The report of `user` (None: the whole account) for `count` periods ending with `day`'s."""
    periods = series(period, day, max(2, min(count, MAX_PERIODS)))
    user_id = None if user is None else user.id
    totals, medians = _gather(session, account_id, user_id, periods)
    team_totals = _sum_reps(totals)
    points = [
        {"start": p.start, "end": p.end, "label": p.label}
        | metrics(team_totals.get(i, {}), medians.get((0, i), {}))
        for i, p in enumerate(periods)
    ]
    out = {
        "period": period,
        "user": None if user is None else _person(user),
        "series": points,
        "current": points[-1],
        "previous": points[-2],
        "change": change(points[-1], points[-2]),
        "reps": None,
    }
    if user is None:
        out["reps"] = _reps(session, account_id, totals, medians, len(periods))
    return out


def _person(user: User) -> dict:
    return {"id": user.id, "email": user.email, "active": user.active}


def metrics(totals: dict, medians: dict) -> dict:
    """One period's figures from its counts and its median delays (seconds)."""
    out = {name: totals.get(name, 0) for name in COUNTS}
    for rate, (part, whole) in RATES.items():
        out[rate] = round(out[part] / out[whole], 4) if out[whole] else None
    for name in DELAYS:
        found = medians.get(name)
        out[name] = None if found is None else round(float(found))
    hits = {v: totals.get(f"n_{v}", 0) for v in VERDICTS}
    total = sum(hits.values())
    out["hits"] = hits
    out["hits_total"] = total
    # The share of hits that were not a person: what other tools count as opens.
    unreal = sum(n for v, n in hits.items() if v not in REAL_VERDICTS)
    out["machine_share"] = round(unreal / total, 4) if total else None
    out["hit_shares"] = {v: round(n / total, 4) if total else None for v, n in hits.items()}
    return out


def change(current: dict, previous: dict) -> dict:
    """Current minus previous for every count, rate (in fractions: points/100) and median."""
    names = (*COUNTS, *RATES, *DELAYS, "hits_total", "machine_share")
    out = {}
    for name in names:
        now, before = current[name], previous[name]
        out[name] = None if now is None or before is None else round(now - before, 4)
    return out


def _gather(session: Session, account_id: int, user_id: int | None, periods: list[Period]):
    """Counts per (rep, period) and the medians of the delays per (rep, period) and per period
    (rep 0), from the period range's roll-ups, refreshed first where stale: exactly what the
    messages and summaries hold now (the medians as statistics.median: even, the mean of the
    two middle ones). Periods are whole UTC days, so each day's roll-up is in exactly one."""
    starts = [p.start.date() for p in periods]
    end = periods[-1].end.date()
    if rollups.refresh(session, account_id, starts[0], end - timedelta(days=1)):
        session.commit()  # kept even if this report fails later; others read them too
    totals = {
        (rep, i): dict(zip(rollups.COUNTS, counts, strict=True))
        for rep, i, *counts in rollups.sums(session, account_id, user_id, starts, end)
    }
    texts: dict = defaultdict(lambda: ([], []))
    for rep, day, *both in rollups.delays(session, account_id, user_id, starts[0], end):
        for found, text in zip(texts[(rep, bisect_right(starts, day) - 1)], both, strict=True):
            if text != "[]":
                found.append(text[1:-1])
    delays = {key: tuple(_merged(parts) for parts in both) for key, both in texts.items()}
    for (_, i), both in list(delays.items()):
        team = delays.setdefault((0, i), ([], []))
        for into, values in zip(team, both, strict=True):
            into.extend(values)
    medians = {
        key: {name: _median(v) for name, v in zip(DELAYS, lists, strict=True) if v}
        for key, lists in delays.items()
    }
    return totals, medians


def _merged(parts: list[str]) -> list[float]:
    """One list from the days' sorted JSON lists, in one parse (_median sorts it)."""
    return json.loads("[" + ",".join(parts) + "]") if parts else []


def _median(values: list[float]) -> float:
    """statistics.median of values (sorted here: sorted runs merge in linear time)."""
    values.sort()
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def _sum_reps(per_rep: dict) -> dict[int, dict]:
    """Per period: the counts added up over the reps."""
    out: dict[int, dict] = defaultdict(dict)
    for (_, index), values in per_rep.items():
        merged = out[index]
        for name, value in values.items():
            merged[name] = merged.get(name, 0) + value
    return out


def _reps(session: Session, account_id: int, totals: dict, medians: dict, n: int) -> list[dict]:
    """Each member's current and previous period, for the team's table."""
    rows = []
    for user in team.members(session, account_id):
        figures = [
            metrics(totals.get((user.id, i), {}), medians.get((user.id, i), {}))
            for i in (n - 1, n - 2)
        ]
        rows.append(
            {
                "user": _person(user),
                "current": figures[0],
                "previous": figures[1],
            }
        )
    return rows
