"""Reports: how a rep or the team is doing per period, with the previous period to compare.

The cohort of a period is the messages *sent* in it; their opens, clicks, replies and bounces
count for that period whenever they came. Everything is read from the per-message summaries the
batch writer keeps (server/tracking/summaries.py), never by scanning events, so a report costs
one aggregate query and one query for the delays, however many hits there were. Only `human`
and `proxy` hits are real opens (DESIGN.md §4): the summaries' open and click counters and their
first open never include the other verdicts, which appear only in the hit mix.
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
    totals, delays = _read(session, account_id, None if user is None else user.id, periods)
    team_totals = _sum_reps(totals)
    team_delays = _sum_reps(delays)
    points = [
        {"start": p.start, "end": p.end, "label": p.label}
        | metrics(team_totals.get(i, {}), team_delays.get(i, {}))
        for i, p in enumerate(periods)
    ]
    out = {
        "period": period,
        "user": None if user is None else _person(user),
        "series": points,
        "current": points[-1],
        "previous": points[-2],
        "change": change(points[-1], points[-2]),
    }
    if user is None:
        out["reps"] = _reps(session, account_id, totals, delays, len(periods))
    return out


def _person(user: User) -> dict:
    return {"id": user.id, "email": user.email, "active": user.active}


def metrics(totals: dict, delays: dict) -> dict:
    """One period's figures from its counts and its lists of delays (seconds)."""
    out = {name: totals.get(name, 0) for name in COUNTS}
    for rate, (part, whole) in RATES.items():
        out[rate] = round(out[part] / out[whole], 4) if out[whole] else None
    for name in DELAYS:
        found = delays.get(name)
        out[name] = round(median(found)) if found else None
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


def _bucket(periods: list[Period]):
    """The index of a message's period, from its sending time (one CASE, any dialect)."""
    return case(*((Message.sent_at < p.end, literal(i)) for i, p in enumerate(periods)))


def _where(account_id: int, user_id: int | None, periods: list[Period]) -> list:
    where = [
        Message.account_id == account_id,
        Message.sent_at >= periods[0].start,
        Message.sent_at < periods[-1].end,
    ]
    return where if user_id is None else [*where, Message.user_id == user_id]


def _flag(condition):
    return func.sum(case((condition, 1), else_=0))


def _read(session: Session, account_id: int, user_id: int | None, periods: list[Period]):
    """Counts per (rep, period), and per (rep, period) the delays to first open and reply."""
    s = MessageSummary
    opens_on = and_(Message.tracked, Message.track_opens)
    links_on = and_(Message.tracked, Message.track_links)
    bucket = _bucket(periods).label("bucket")
    counted = (
        func.count().label("sent"),
        _flag(opens_on).label("open_base"),
        _flag(and_(opens_on, s.first_open_at.is_not(None))).label("opened"),
        _flag(links_on).label("click_base"),
        _flag(and_(links_on, s.clicks > 0)).label("clicked"),
        _flag(s.replies > 0).label("replied"),
        _flag(s.bounces > 0).label("bounced"),
        *(func.coalesce(func.sum(getattr(s, f"n_{v}")), 0).label(f"n_{v}") for v in VERDICTS),
    )
    joined = and_(s.message_id == Message.id, s.account_id == Message.account_id)
    where = _where(account_id, user_id, periods)
    query = (
        select(Message.user_id, bucket, *counted)
        .select_from(Message)
        .outerjoin(s, joined)
        .where(*where)
        .group_by(Message.user_id, bucket)
    )
    totals = {(r.user_id, r.bucket): dict(r._mapping) for r in session.execute(query)}
    seconds = _seconds(session)
    late = (
        select(
            Message.user_id,
            bucket,
            case((opens_on, seconds(s.first_open_at, Message.sent_at))).label("open"),
            seconds(s.first_reply_at, Message.sent_at).label("reply"),
        )
        .select_from(Message)
        .join(s, joined)
        .where(*where, (s.first_open_at.is_not(None)) | (s.first_reply_at.is_not(None)))
    )
    delays: dict = defaultdict(lambda: {name: [] for name in DELAYS})
    for row in session.execute(late):
        kept = delays[(row.user_id, row.bucket)]
        # The rep's clock stamps sent_at: a hit "before" sending is a skewed clock, not news.
        if row.open is not None:
            kept["median_open_seconds"].append(max(0.0, float(row.open)))
        if row.reply is not None:
            kept["median_reply_seconds"].append(max(0.0, float(row.reply)))
    return totals, dict(delays)


def _seconds(session: Session):
    """later minus earlier in seconds, in this database's own arithmetic."""
    if session.get_bind().dialect.name == "postgresql":
        return lambda later, earlier: func.extract("epoch", later - earlier)
    return lambda later, earlier: (func.julianday(later) - func.julianday(earlier)) * 86400.0


def _sum_reps(per_rep: dict) -> dict[int, dict]:
    """Per period: counts added up, lists of delays joined, over the reps."""
    out: dict[int, dict] = defaultdict(dict)
    for (_, index), values in per_rep.items():
        merged = out[index]
        for name, value in values.items():
            if name in ("user_id", "bucket"):
                continue
            merged[name] = merged.get(name, [] if isinstance(value, list) else 0) + value
    return out


def _reps(session: Session, account_id: int, totals: dict, delays: dict, n: int) -> list[dict]:
    """Each member's current and previous period, for the team's table."""
    rows = []
    for user in team.members(session, account_id):
        figures = [
            metrics(totals.get((user.id, i), {}), delays.get((user.id, i), {}))
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
