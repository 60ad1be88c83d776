"""The personal-data registry: every part of the product that holds data about a person
registers a provider here, so data-subject requests and termination reach all of it.

A provider finds what it holds about an address (JSON-serialisable rows), erases it (returning the
rows removed or anonymized), optionally rectifies fields, and removes or anonymizes a whole
account's data at termination. Providers run in registration order; later ones may rely on
earlier ones having run (so children are registered before their parents where rows depend).
The domains define their providers; create_app registers them, in order (server/__init__.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

MODES = ("delete", "anonymize")


@dataclass(frozen=True)
class Provider:
    """One holder of personal data."""

    name: str
    find: Callable[[Session, int, str], dict]
    erase: Callable[[Session, int, str], int]
    erase_account: Callable[[Session, int, str], int] | None = None
    # Fields an admin may rectify through this provider, and the function that does it.
    fields: tuple[str, ...] = ()
    rectify: Callable[[Session, int, str, dict], int] | None = None
    # The tables whose rows about a person this provider finds and erases (or, for an
    # append-only record, finds and keeps); a test holds every table to a provider or a reason.
    tables: tuple[str, ...] = ()


_PROVIDERS: dict[str, Provider] = {}
_ALIASES: list[Callable[[Session, int, str], set[str]]] = []


def register_aliases(resolver: Callable[[Session, int, str], set[str]]) -> None:
    """Add a source of other spellings of a person's address (a contact's seen addresses)."""
    if resolver not in _ALIASES:
        _ALIASES.append(resolver)


def addresses_of(session: Session, account_id: int, email: str) -> set[str]:
    """The address and every known spelling of it in the account."""
    found = {email}
    for resolver in _ALIASES:
        found |= resolver(session, account_id, email)
    return found


def register(provider: Provider) -> Provider:
    """Add (or replace, by name) a provider."""
    _PROVIDERS[provider.name] = provider
    return provider


def providers() -> list[Provider]:
    """The registered providers, in registration order."""
    return list(_PROVIDERS.values())


def covered_tables() -> set[str]:
    """Every table some registered provider answers for."""
    return {t for p in providers() for t in p.tables}


def find_all(session: Session, account_id: int, email: str) -> dict[str, dict]:
    """Everything every provider holds about `email` in the account."""
    return {p.name: p.find(session, account_id, email) for p in providers()}


def erase_all(session: Session, account_id: int, email: str) -> dict[str, int]:
    """Erase `email` everywhere in the account; rows affected per provider."""
    return {p.name: p.erase(session, account_id, email) for p in providers()}


def rectify_all(session: Session, account_id: int, email: str, changes: dict) -> dict[str, int]:
    """Apply field corrections through every provider that holds such fields."""
    out = {}
    for p in providers():
        mine = {k: v for k, v in changes.items() if k in p.fields}
        if p.rectify and mine:
            out[p.name] = p.rectify(session, account_id, email, mine)
    return out


def rectifiable_fields() -> list[str]:
    """Every field some provider can rectify."""
    return sorted({f for p in providers() for f in p.fields})


def erase_account(session: Session, account_id: int, mode: str) -> dict[str, int]:
    """Delete or anonymize all of an account's personal data held by providers."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}")
    return {
        p.name: p.erase_account(session, account_id, mode) for p in providers() if p.erase_account
    }
