"""The enrichment provider interface: look a person (and their company) up by email."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Lookup:
    """A provider's answer, already reduced to the fields our policy allows."""

    # found or not_found; `retry`: rate limited, server error or timeout (ask again after a
    # backoff); `queued`: the provider is still looking (poll later); `invalid`: the provider
    # refuses the address; `error`: anything else (a bad key, an unreadable answer).
    outcome: str
    person: dict | None = None
    company: dict | None = None
    retry_after: float | None = None
    detail: str = ""


class Provider(Protocol):
    """An enrichment provider (Clearbit's is in clearbit.py)."""

    name: str

    def lookup(self, email: str) -> Lookup:
        """Ask about one address; never raises for HTTP or network trouble."""
        ...
