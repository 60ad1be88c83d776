"""Reports: how a rep or the team is doing per period, with the previous period to compare.

The cohort of a period is the messages *sent* in it; their opens, clicks, replies and bounces
count for that period whenever they came. Everything is read from the messages' index and the
per-message summaries the batch writer keeps (server/tracking/summaries.py, which copies each
message's rep and sending time onto its summary), never by scanning events or joining: a report
is two aggregates over index-only scans and one read of the delays, however many hits there
were. Only `human` and `proxy` hits are real opens (DESIGN.md §4): the summaries' open and click
counters and their first open never include the other verdicts, which appear only in the hit mix.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from statistics import median

from sqlalchemy import and_, case, func, literal, select
from sqlalchemy.orm import Session

from server.accounts import team
from server.insights.periods import Period, series
from server.models import Message, MessageSummary, User
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
    totals = _totals(session, account_id, user_id, periods)
    team_totals = _sum_reps(totals)
    medians = _medians(session, account_id, user_id, periods)
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


def _bucket(sent_at, periods: list[Period]):
    """The index of a message's period, from its sending time (one CASE, any dialect)."""
    return case(*((sent_at < p.end, literal(i)) for i, p in enumerate(periods)))


def _flag(condition):
    return func.sum(case((condition, 1), else_=0))


def _totals(session: Session, account_id: int, user_id: int | None, periods: list[Period]):
    """Counts per (rep, period): sent and tracked from the messages' index, what became of them
    from their summaries; each side one aggregate over its own index, without a join."""
    m, s = Message, MessageSummary
    sent = (
        func.count().label("sent"),
        _flag(and_(m.tracked, m.track_opens)).label("open_base"),
        _flag(and_(m.tracked, m.track_links)).label("click_base"),
    )
    became = (
        _flag(and_(s.opens_tracked, s.first_open_at.is_not(None))).label("opened"),
        _flag(and_(s.links_tracked, s.clicks > 0)).label("clicked"),
        _flag(s.replies > 0).label("replied"),
        _flag(s.bounces > 0).label("bounced"),
        *(func.coalesce(func.sum(getattr(s, f"n_{v}")), 0).label(f"n_{v}") for v in VERDICTS),
    )
    totals: dict = defaultdict(dict)
    for table, columns in ((m, sent), (s, became)):
        bucket = _bucket(table.sent_at, periods).label("bucket")
        query = (
            select(table.user_id, bucket, *columns)
            .where(*_in_periods(table, account_id, user_id, periods))
            .group_by(table.user_id, bucket)
        )
        for row in session.execute(query).mappings():
            totals[(row["user_id"], row["bucket"])].update(row)
    return dict(totals)


def _in_periods(table, account_id: int, user_id: int | None, periods: list[Period]) -> list:
    where = [
        table.account_id == account_id,
        table.sent_at >= periods[0].start,
        table.sent_at < periods[-1].end,
    ]
    return where if user_id is None else [*where, table.user_id == user_id]


def _medians(session: Session, account_id: int, user_id: int | None, periods: list[Period]):
    """{(rep, period): {median name: [delays]}} and the same per period (rep 0): the delays in
    seconds from sending to the first real open and to the first reply, read from the summaries'
    report index alone; the medians are taken here, as statistics.median (even: the mean of the
    two middle ones)."""
    s = MessageSummary
    seconds = _seconds(session)
    opened = case(
        (s.opens_tracked & s.first_open_at.is_not(None), seconds(s.first_open_at, s.sent_at))
    )
    query = select(
        s.user_id,
        _bucket(s.sent_at, periods),
        opened,
        seconds(s.first_reply_at, s.sent_at),
    ).where(
        *_in_periods(s, account_id, user_id, periods),
        s.first_open_at.is_not(None) | s.first_reply_at.is_not(None),
    )
    found: dict = defaultdict(lambda: ([], []))
    for rep, index, to_open, to_reply in session.execute(query):
        for key in ((rep, index), (0, index)):
            opens, replies = found[key]
            # The rep's clock stamps sent_at: a hit "before" sending is a skewed clock, not news.
            if to_open is not None:
                opens.append(max(0.0, float(to_open)))
            if to_reply is not None:
                replies.append(max(0.0, float(to_reply)))
    return {
        key: {name: median(values) for name, values in zip(DELAYS, lists, strict=True) if values}
        for key, lists in found.items()
    }


def _seconds(session: Session):
    """later minus earlier in seconds, in this database's own arithmetic."""
    if session.get_bind().dialect.name == "postgresql":
        return lambda later, earlier: func.extract("epoch", later - earlier)
    return lambda later, earlier: (func.julianday(later) - func.julianday(earlier)) * 86400.0


def _sum_reps(per_rep: dict) -> dict[int, dict]:
    """Per period: the counts added up over the reps."""
    out: dict[int, dict] = defaultdict(dict)
    for (_, index), values in per_rep.items():
        merged = out[index]
        for name, value in values.items():
            if name not in ("user_id", "bucket"):
                merged[name] = merged.get(name, 0) + (value or 0)
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
