"""How a stored event is shown to the product's users: what happened, never who exactly."""

from __future__ import annotations

from server.models import Event
from server.models.base import iso


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
