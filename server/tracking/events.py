"""How a stored event is shown to the product's users: what happened, never who exactly; and
its verdict in plain words, from the reason codes the classifier recorded."""

from __future__ import annotations

from server.models import Event
from server.models.base import iso
from server.models.message import REAL_VERDICTS


def event_view(event: Event) -> dict:
    """One event as the API shows it: no address, no hash."""
    location = {"country": event.country, "region": event.region, "city": event.city}
    return {
        "at": iso(event.occurred_at),
        "kind": event.kind,
        "verdict": event.verdict,
        "reasons": event.reason_list,
        "device": {
            "type": event.device_type,
            "os": event.os_family,
            "browser": event.browser_family,
        },
        "location": None if event.verdict == "proxy" else location,
        "link": event.link_url,
    }


# Each verdict in words; a reason code below may name it more exactly (the proxy's operator).
VERDICT_WORDS = {
    "human": "a person",
    "proxy": "mail proxy — location hidden",
    "machine": "automatic fetch — not counted",
    "scanner": "security scanner — not counted",
    "prefetch": "prefetch or link preview — not counted",
    "bot": "robot — not counted",
    "self": "your own view — not counted",
}
# The reason codes the classifier records (tracking/verdicts/), in words a rep understands.
REASON_WORDS = {
    "gmail-image-proxy": "Gmail's image proxy fetched it for the reader",
    "yahoo-mail-proxy": "Yahoo's image proxy fetched it for the reader",
    "apple-mail-privacy": "Apple Mail Privacy Protection preloads every image",
    "security-gateway": "from a mail security gateway's network",
    "safe-links": "Microsoft Defender Safe Links checked the link",
    "cloud-network": "from a cloud data centre, not a reader's device",
    "google-network": "from Google's servers, not its image proxy",
    "security-scanner": "a security scanner's user agent",
    "link-preview": "a link preview",
    "headless-browser": "a headless browser",
    "http-library": "a program, not a mail client",
    "crawler": "a web crawler",
    "declared-robot": "a self-declared robot",
    "empty-user-agent": "no user agent at all",
    "generic-user-agent": "a bare user agent no reader's browser sends",
    "head-request": "a HEAD request, as link checkers make",
    "prefetch-header": "the browser announced a prefetch",
    "unknown-client": "a client the classifier does not know",
    "self-view": "you were viewing the message yourself",
    "seconds-after-send": "seconds after sending: no person reads that fast",
    "early-microsoft-click": "from Microsoft's network minutes after sending",
    "link-burst": "links followed faster than a person can tap",
    "gmail-delivery-failure": "Gmail sync found a delivery-failure notice",
    "gmail-reply": "Gmail sync found the reply in the thread",
    "gmail-auto-reply": "an automatic answer, such as out of office",
}
# (verdict, reason) pairs that name the verdict more exactly than its generic words; a reason
# under another verdict (a proxy open relabelled as your own view) keeps the verdict's words.
EXACT_WORDS = {
    ("proxy", "gmail-image-proxy"): "Gmail proxy — location hidden",
    ("proxy", "yahoo-mail-proxy"): "Yahoo proxy — location hidden",
    ("machine", "apple-mail-privacy"): "Apple Mail prefetch — not counted",
    ("machine", "gmail-delivery-failure"): "delivery failure",
    ("machine", "gmail-auto-reply"): "automatic reply — not counted",
    ("human", "gmail-reply"): "the lead replied",
}


def explain(verdict: str | None, reasons: list[str]) -> dict:
    """A verdict in plain words: its label, whether it counts as the lead's, and why."""
    label = VERDICT_WORDS.get(verdict or "", verdict or "")
    exact = [EXACT_WORDS[(verdict, r)] for r in reasons if (verdict, r) in EXACT_WORDS]
    if exact:
        label = exact[0]
    return {
        "label": label,
        "counted": verdict in REAL_VERDICTS,
        "why": [REASON_WORDS.get(r, r.replace("-", " ")) for r in reasons],
    }


def device_words(device: dict) -> str:
    """The device as one line: "Mobile Safari / iOS / mobile"; empty when nothing is known."""
    return " / ".join(p for p in (device.get("browser"), device.get("os"), device.get("type")) if p)


def place_words(view: dict) -> str:
    """Where, as precisely as stored (city, region, country); a proxy's place is hidden."""
    if view.get("verdict") == "proxy":
        return "hidden by the proxy"
    location = view.get("location") or {}
    return ", ".join(
        p for p in (location.get("city"), location.get("region"), location.get("country")) if p
    )


def shown(view: dict) -> dict:
    """An event's view (event_view's shape) with its words for the pages added."""
    return view | {
        "explained": explain(view.get("verdict"), view.get("reasons") or []),
        "device_text": device_words(view.get("device") or {}),
        "place": place_words(view),
    }
