"""Re-label stored hits with the current rules and network knowledge; rebuild their summaries.

A hit's stored evidence (its user agent's verdict, owner network, header signals), method and
block are enough: the raw address and user agent were never stored. The owner is looked up again
from the block, so refreshed network data reaches old hits; a block no list names keeps the owner
it had. Rows stored before evidence was kept get back the read they were before any context rule
relabelled them. Then the message's context rules run over all its hits at once, self-views
included.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from server.models import Event, SelfView
from server.tracking.context import load_contexts
from server.tracking.self_views import record_claims
from server.tracking.summaries import rebuild_summary
from server.tracking.verdicts import context as context_rules
from server.tracking.verdicts.agent import CLASSIFIER_VERSION, MAIL_PROXIES
from server.tracking.verdicts.context import Windows
from server.tracking.verdicts.network import NetworkIndex
from server.tracking.verdicts.request import Verdict, parse_evidence, request_verdict, with_owner

BATCH_MESSAGES = 200
PROXY_REASONS = frozenset(reason for _, reason in MAIL_PROXIES)


@dataclass
class RerunReport:
    """What a re-run looked at and changed."""

    messages: int = 0
    hits: int = 0
    changed: int = 0
    moves: Counter = field(default_factory=Counter)  # (old verdict, new verdict) -> hits


def rerun(
    conn: Connection,
    network: NetworkIndex,
    windows: Windows,
    since: datetime | None = None,
    account_id: int | None = None,
) -> RerunReport:
    """Re-label every hit (since `since`, of one account if given), message by message."""
    query = select(Event.message_id).where(Event.kind.in_(context_rules.HIT_KINDS)).distinct()
    if since is not None:
        query = query.where(Event.occurred_at >= since)
    if account_id is not None:
        query = query.where(Event.account_id == account_id)
    report = RerunReport()
    mids = list(conn.execute(query).scalars())
    for start in range(0, len(mids), BATCH_MESSAGES):
        for mid in mids[start : start + BATCH_MESSAGES]:
            _rerun_message(conn, mid, network, windows, report)
    return report


def _rerun_message(
    conn: Connection, mid: str, network: NetworkIndex, windows: Windows, report: RerunReport
) -> None:
    rows = conn.execute(
        select(Event)
        .where(Event.message_id == mid, Event.kind.in_(context_rules.HIT_KINDS))
        .order_by(Event.occurred_at)
    ).all()
    events = [_relabelled(row._mapping, network) for row in rows]
    # Views are matched again from scratch, so each explains the hit the current rules give it.
    conn.execute(update(SelfView).where(SelfView.message_id == mid).values(claimed_event_id=None))
    context = load_contexts(conn, {mid: events}, windows, neighbours=False)[mid]
    outcome = context_rules.apply(events, context, windows)
    report.messages += 1
    report.hits += len(events)
    changed = _store(conn, [row._mapping for row in rows], events, report)
    record_claims(conn, outcome.claims)
    if changed:
        rebuild_summary(conn, mid)


_KEPT = ("verdict", "reasons", "evidence", "device_type", "os_family", "browser_family")


def _store(conn: Connection, old_rows: list, events: list[dict], report: RerunReport) -> bool:
    """Write the events whose label or evidence changed; count the verdict moves."""
    changed = False
    for old, event in zip(old_rows, events, strict=True):
        if all(old[k] == event[k] for k in ("verdict", "reasons", "evidence")):
            continue
        changed = True
        if (old["verdict"], old["reasons"]) != (event["verdict"], event["reasons"]):
            report.changed += 1
            report.moves[(old["verdict"], event["verdict"])] += 1
        values = {k: event[k] for k in _KEPT} | {"classifier_version": CLASSIFIER_VERSION}
        conn.execute(update(Event).where(Event.id == event["id"]).values(**values))
    return changed


def _before_context(row) -> dict:
    """A row stored before evidence was kept, as its request left it: the context rules only
    ever relabelled reads (human, proxy) and added their reason, so dropping those reasons gives
    the read back (a proxy's when a proxy reason remains). So an open the old self-view window
    took is counted again, and today's context rules decide anew."""
    reasons = row["reasons"].split(",") if row["reasons"] else []
    kept = [r for r in reasons if r not in context_rules.CONTEXT_REASONS]
    if len(kept) == len(reasons):
        return {}
    verdict = "proxy" if PROXY_REASONS & set(kept) else "human"
    return {"verdict": verdict, "reasons": ",".join(kept)}


def _relabelled(row, network: NetworkIndex) -> dict:
    """The stored hit with its request-level verdict worked out again from its evidence."""
    event = {
        "id": row["id"],
        "kind": row["kind"],
        "occurred_at": row["occurred_at"].timestamp(),
        "link_url": row["link_url"],
        "verdict": row["verdict"],
        "reasons": row["reasons"],
        "device_type": row["device_type"],
        "os_family": row["os_family"],
        "browser_family": row["browser_family"],
        "evidence": row["evidence"],
    }
    found = parse_evidence(row["evidence"])
    if found is None:
        return event | _before_context(row)  # stored before evidence was kept
    owner = network.owner_of_block(row["ip_prefix"]) or found.owner
    if owner is not None:
        event["evidence"] = with_owner(row["evidence"], owner)
    reasons = (found.agent_reason,) if found.agent_reason else ()
    agent = Verdict(
        found.agent_verdict, reasons, row["device_type"], row["os_family"], row["browser_family"]
    )
    verdict = request_verdict(row["kind"], agent, owner, row["method"], found.prefetch)
    event |= {
        "verdict": verdict.verdict,
        "reasons": ",".join(verdict.reasons),
        "device_type": verdict.device_type,
        "os_family": verdict.os_family,
        "browser_family": verdict.browser_family,
    }
    return event
