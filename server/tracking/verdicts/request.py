"""The request's verdict from all its own evidence: user agent, owner network, method, headers.

The user agent is read first (classify.py: a mail proxy, a bot, a browser…); then the rules below,
data in order, let stronger evidence override it. Who owns the source address is the strongest:
scanners and Apple's relays send ordinary browser user agents. A rule only overrides a verdict
that would count as a read (or the guess that a bare `Mozilla/5.0` is Apple's prefetch): a crawler
stays a crawler wherever it runs.

What a hit showed is kept as its `evidence` ("ua=human,net=mimecast,no-lang"), so
`flask verdicts rerun` can apply newer rules and network data to stored hits without the raw
address or user agent, which are never stored.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.tracking.verdicts.network import Owner


@dataclass(frozen=True, slots=True)
class Verdict:
    """The label of one hit: verdict, reason codes and the device the user agent describes."""

    verdict: str
    reasons: tuple[str, ...]
    device_type: str | None
    os_family: str | None
    browser_family: str | None


# Verdicts a network rule may override: a client's, or the bare-UA guess of Apple's prefetch.
_NETWORK_OVERRIDABLE = frozenset(("human", "machine"))
MAX_EVIDENCE = 255


@dataclass(frozen=True, slots=True)
class NetworkRule:
    """Hits of these kinds from a network of this category get this verdict and reason."""

    category: str
    kinds: tuple[str, ...]
    verdict: str
    reason: str


NETWORK_RULES: tuple[NetworkRule, ...] = (
    # Mimecast, Proofpoint, Barracuda…: they fetch what they scan, images and links alike.
    NetworkRule("security-gateway", ("open", "click"), "scanner", "security-gateway"),
    # Apple Mail Privacy Protection preloads every image through Apple's relays, with WebKit or
    # Safari user agents; a click from a relay is a person browsing with iCloud Private Relay.
    NetworkRule("apple-relay", ("open",), "machine", "apple-mail-privacy"),
    # Outlook.com and OWA fetch images for their readers from Microsoft's network (real opens);
    # a click from Exchange Online Protection is Defender Safe Links checking the link.
    NetworkRule("microsoft-mail", ("click",), "scanner", "safe-links"),
    # Cloud-hosted gateways and sandboxes (AWS, Azure, GCP, DigitalOcean…) with browser UAs.
    NetworkRule("cloud", ("open", "click"), "scanner", "cloud-network"),
    # Google's own services (not its image proxy, which says so in its user agent) checking links.
    NetworkRule("google", ("open", "click"), "scanner", "google-network"),
)
_BY_CATEGORY = {(r.category, kind): r for r in NETWORK_RULES for kind in r.kinds}


def request_verdict(
    kind: str,
    agent: Verdict,
    owner: Owner | None,
    method: str = "GET",
    prefetch: bool = False,
) -> Verdict:
    """The hit's verdict from its user agent's, overridden by network and request-shape rules."""
    verdict = agent
    rule = _BY_CATEGORY.get((owner.category, kind)) if owner else None
    if rule is not None and verdict.verdict in _NETWORK_OVERRIDABLE:
        keep = verdict.reasons if verdict.verdict == "human" else ()
        verdict = Verdict(rule.verdict, (rule.reason, *keep), None, None, verdict.browser_family)
    # A mail client or browser fetching a pixel or following a link always sends GET; HEAD
    # comes from link checkers. It overrides only verdicts that would count as a read.
    if method.upper() == "HEAD":
        verdict = _with_signal(verdict, "scanner", "head-request")
    if prefetch:
        verdict = _with_signal(verdict, "prefetch", "prefetch-header")
    return verdict


def _with_signal(verdict: Verdict, label: str, reason: str) -> Verdict:
    devices = verdict.device_type, verdict.os_family, verdict.browser_family
    if verdict.verdict not in ("human", "proxy"):
        return Verdict(verdict.verdict, (*verdict.reasons, reason), *devices)
    if label == "prefetch" and verdict.verdict == "human":
        # A browser's own speculative fetch still describes the recipient's device.
        return Verdict(label, (reason, *verdict.reasons), *devices)
    return Verdict(label, (reason, *verdict.reasons), None, None, None)


def evidence(agent: Verdict, owner: Owner | None, prefetch: bool, has_language: bool) -> str:
    """The hit's evidence as stored: the user agent's verdict, the owner network, header signals."""
    parts = [f"ua={agent.verdict}" + (f"/{agent.reasons[0]}" if agent.reasons else "")]
    if owner is not None:
        parts.append(f"net={owner.operator}/{owner.category}")
    if prefetch:
        parts.append("prefetch")
    if not has_language:
        parts.append("no-lang")
    return ",".join(parts)[:MAX_EVIDENCE]


def with_owner(text: str, owner: Owner) -> str:
    """Stored evidence with its owner network replaced (after new network data)."""
    parts = [p for p in text.split(",") if not p.startswith("net=")]
    parts.insert(1, f"net={owner.operator}/{owner.category}")
    return ",".join(parts)[:MAX_EVIDENCE]


@dataclass(frozen=True, slots=True)
class Evidence:
    """Stored evidence read back: what `request_verdict` needs besides the method."""

    agent_verdict: str
    agent_reason: str | None
    owner: Owner | None
    prefetch: bool


def parse_evidence(text: str | None) -> Evidence | None:
    """The evidence string read back; None for rows stored before evidence was kept."""
    if not text or not text.startswith("ua="):
        return None
    agent, owner, prefetch = "human", None, False
    reason = None
    for part in text.split(","):
        key, _, value = part.partition("=")
        if key == "ua":
            agent, _, reason = value.partition("/")
        elif key == "net":
            operator, _, category = value.partition("/")
            owner = Owner(operator, category)
        elif key == "prefetch":
            prefetch = True
    return Evidence(agent, reason or None, owner, prefetch)
