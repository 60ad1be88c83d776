"""Classification rules that need a message's other hits or its history.

They run where every hit of a message is visible (the sink's batch writer, the self-view signal),
never in one web worker's memory. Each takes plain data and returns the relabelling to apply, so
they are tested without a database.
"""

from __future__ import annotations

from dataclasses import dataclass, field

RELABELLABLE = ("human", "proxy")
HIT_KINDS = ("open", "click")


@dataclass
class MessageContext:
    """What the rules know about one message besides the batch."""

    sent_at: float | None = None
    link_count: int = 0
    self_views: list[float] = field(default_factory=list)
    # (event id, time, url, verdict) of clicks already stored near the batch's clicks.
    recent_clicks: list[tuple[str, float, str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Windows:
    """The rules' time windows, in seconds (from settings)."""

    scanner: float = 10.0
    burst: float = 3.0
    self_view: float = 120.0


def _relabel(event: dict, verdict: str, reason: str) -> None:
    event["verdict"] = verdict
    event["reasons"] = ",".join(filter(None, [event.get("reasons", ""), reason]))


def near_self_view(at: float, self_views: list[float], window: float) -> bool:
    """Whether a hit at `at` falls within `window` seconds of one of the sender's own views."""
    return any(abs(at - seen) <= window for seen in self_views)


def burst_threshold(link_count: int) -> int:
    """Distinct links clicked within the burst window that betray a scanner."""
    return 3 if link_count == 0 else max(2, min(3, link_count))


def apply(events: list[dict], ctx: MessageContext, windows: Windows) -> set[str]:
    """Relabel one message's batch in place; return ids of stored clicks that joined a burst."""
    for event in events:
        # Only hits: a reply or bounce from Gmail sync is no scanner's and no sender's view.
        if event["verdict"] not in RELABELLABLE or event["kind"] not in HIT_KINDS:
            continue
        at = event["occurred_at"]
        if ctx.self_views and near_self_view(at, ctx.self_views, windows.self_view):
            _relabel(event, "self", "self-view")
        elif (
            event["verdict"] == "human"
            and ctx.sent_at is not None
            and 0 <= at - ctx.sent_at <= windows.scanner
        ):
            _relabel(event, "scanner", "seconds-after-send")
    return _bursts(events, ctx, windows)


def _bursts(events: list[dict], ctx: MessageContext, windows: Windows) -> set[str]:
    clicks = [
        (e["occurred_at"], e["link_url"] or "", e["id"], e) for e in events if e["kind"] == "click"
    ]
    if not clicks:
        return set()
    stored = [(t, u, i, None) for i, t, u, v in ctx.recent_clicks if v in RELABELLABLE]
    timeline = sorted(clicks + stored, key=lambda c: c[0])
    need = burst_threshold(ctx.link_count)
    # A sliding window over time with a count per link: linear, however many clicks a batch has.
    per_link: dict[str, int] = {}
    left, marked_to = 0, -1
    flagged: list[tuple] = []
    for right, (at, url, _, _) in enumerate(timeline):
        per_link[url] = per_link.get(url, 0) + 1
        while at - timeline[left][0] > windows.burst:
            gone = timeline[left][1]
            per_link[gone] -= 1
            if not per_link[gone]:
                del per_link[gone]
            left += 1
        if len(per_link) >= need:
            flagged.extend(timeline[max(left, marked_to + 1) : right + 1])
            marked_to = right
    stored_hits: set[str] = set()
    for _, _, event_id, event in flagged:
        if event is None:
            stored_hits.add(event_id)
        elif event["verdict"] in RELABELLABLE:
            _relabel(event, "scanner", "link-burst")
    return stored_hits
