"""Classification rules that need a message's other hits or its history.

They run where every hit of a message is visible (the sink's batch writer, the self-view signal,
`flask verdicts rerun`), never in one web worker's memory. Each takes plain data and returns the
relabelling to apply, so they are tested without a database. In order:

1. A sender's self-view explains at most one fetch: the next open through Gmail's image proxy
   shortly after it (the fetch the sender's own Gmail makes). Opens before the view, and direct
   opens (no Gmail shows an image without its proxy), stay what they were.
2. A client-looking hit seconds after sending is a security scanner: no person reads that fast.
3. A click from Microsoft's network soon after sending is Defender Safe Links (Outlook's readers
   click from their own devices; opens from Microsoft's network are its proxy, and real).
4. Links fetched faster than a person can tap them: every link of a two-link message within a
   second, or three different links within the burst window, are a scanner's burst. A person
   tapping two links a couple of seconds apart is a person.
"""

from __future__ import annotations

from dataclasses import dataclass, field

RELABELLABLE = ("human", "proxy")
HIT_KINDS = ("open", "click")
# Two different links inside this many seconds: no thumb is that fast.
FAST_PAIR_SECONDS = 1.0
# Distinct links inside the burst window that betray a scanner.
BURST_LINKS = 3
# Safe Links follows a message's links as it is delivered; this long after sending, a click from
# Microsoft's own network is that scan, not a reader.
GATEWAY_EARLY_SECONDS = 300.0
_MICROSOFT = ("microsoft", "microsoft-mail")
# The reasons these rules add; `verdicts rerun` drops them to find what a request was on its own.
CONTEXT_REASONS = frozenset(
    ("self-view", "seconds-after-send", "early-microsoft-click", "link-burst")
)
# The fetch a sender's own Gmail makes when a block rule misses: through Google's image proxy.
GMAIL_FETCH = "gmail-image-proxy"


@dataclass
class SelfViewRow:
    """A sender's view of their message that has not yet explained a fetch."""

    id: int
    at: float


@dataclass
class MessageContext:
    """What the rules know about one message besides the batch."""

    sent_at: float | None = None
    link_count: int = 0
    self_views: list[SelfViewRow] = field(default_factory=list)
    # (event id, time, url, verdict) of clicks already stored near the batch's clicks.
    recent_clicks: list[tuple[str, float, str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Windows:
    """The rules' time windows, in seconds (from settings)."""

    scanner: float = 10.0
    burst: float = 3.0
    self_view: float = 30.0


@dataclass
class Outcome:
    """What applying the rules decided beyond the batch's own rows."""

    burst_ids: set[str] = field(default_factory=set)
    # self-view id -> the event id it explains
    claims: dict[int, str] = field(default_factory=dict)


def relabel_event(event: dict, verdict: str, reason: str) -> None:
    """Give an event dict a new verdict, keeping its reasons and adding `reason`."""
    event["verdict"] = verdict
    event["reasons"] = ",".join(filter(None, [event.get("reasons", ""), reason]))


def apply(events: list[dict], ctx: MessageContext, windows: Windows) -> Outcome:
    """Relabel one message's batch in place; say which stored clicks joined a burst and which
    self-views explained which hit."""
    outcome = Outcome(claims=claim_self_views(events, ctx.self_views, windows.self_view))
    for event in events:
        if event["verdict"] != "human" or event["kind"] not in HIT_KINDS:
            continue  # a reply or bounce from Gmail sync is no scanner's
        since_send = event["occurred_at"] - ctx.sent_at if ctx.sent_at is not None else None
        if since_send is None or since_send < 0:
            continue
        if since_send <= windows.scanner:
            relabel_event(event, "scanner", "seconds-after-send")
        elif (
            event["kind"] == "click"
            and since_send <= GATEWAY_EARLY_SECONDS
            and network_category(event) in _MICROSOFT
        ):
            relabel_event(event, "scanner", "early-microsoft-click")
    outcome.burst_ids = _bursts(events, ctx, windows)
    return outcome


def network_category(event: dict) -> str | None:
    """The owner network's category from the event's stored evidence ("net=operator/category")."""
    for part in (event.get("evidence") or "").split(","):
        if part.startswith("net="):
            return part.partition("/")[2] or None
    return None


def claim_self_views(events: list[dict], views: list[SelfViewRow], after: float) -> dict[int, str]:
    """Match each view to at most one open it caused and relabel that open `self`."""
    opens = sorted((e for e in events if _gmail_fetch(e)), key=lambda e: e["occurred_at"])
    claims: dict[int, str] = {}
    taken: set[str] = set()
    for view in sorted(views, key=lambda v: v.at):
        event = _caused_by(view.at, opens, taken, after)
        if event is not None:
            taken.add(event["id"])
            claims[view.id] = event["id"]
            relabel_event(event, "self", "self-view")
    return claims


def _gmail_fetch(event: dict) -> bool:
    return (
        event["kind"] == "open"
        and event["verdict"] == "proxy"
        and GMAIL_FETCH in (event.get("reasons") or "").split(",")
    )


def _caused_by(at: float, opens: list[dict], taken: set[str], after: float) -> dict | None:
    """The first Gmail fetch from the view's moment to `after` seconds later, not yet explained."""
    for event in opens:
        if event["id"] not in taken and at <= event["occurred_at"] <= at + after:
            return event
    return None


def _bursts(events: list[dict], ctx: MessageContext, windows: Windows) -> set[str]:
    clicks = [
        (e["occurred_at"], e["link_url"] or "", e["id"], e) for e in events if e["kind"] == "click"
    ]
    if not clicks:
        return set()
    stored = [(t, u, i, None) for i, t, u, v in ctx.recent_clicks if v in RELABELLABLE]
    timeline = sorted(clicks + stored, key=lambda c: c[0])
    flagged = _window_bursts(timeline, windows.burst, BURST_LINKS)
    flagged |= _window_bursts(timeline, FAST_PAIR_SECONDS, 2)
    stored_hits: set[str] = set()
    for index in sorted(flagged):
        _, _, event_id, event = timeline[index]
        if event is None:
            stored_hits.add(event_id)
        elif event["verdict"] in RELABELLABLE:
            relabel_event(event, "scanner", "link-burst")
    return stored_hits


def _window_bursts(timeline: list[tuple], window: float, need: int) -> set[int]:
    """Indexes of clicks inside any `window` seconds that hold `need` or more distinct links."""
    # A sliding window over time with a count per link: linear, however many clicks a batch has.
    per_link: dict[str, int] = {}
    left, marked_to = 0, -1
    flagged: set[int] = set()
    for right, (at, url, _, _) in enumerate(timeline):
        per_link[url] = per_link.get(url, 0) + 1
        while at - timeline[left][0] > window:
            gone = timeline[left][1]
            per_link[gone] -= 1
            if not per_link[gone]:
                del per_link[gone]
            left += 1
        if len(per_link) >= need:
            flagged.update(range(max(left, marked_to + 1), right + 1))
            marked_to = right
    return flagged


def burst_possible(distinct_links: int) -> bool:
    """Whether this many distinct clicked links near each other could form a burst."""
    return distinct_links >= 2
