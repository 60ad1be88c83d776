"""The account's settings: the tracking switch, per-message default, retention, tracking domain,
server-side sending; and the geo database's status."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.common import audit
from server.common.inputs import InputError, whole_number
from server.models import Account, User

GEO_STALE_DAYS = 35
MAX_NAME_LENGTH = 200  # the column's
MIN_RETENTION_DAYS, MAX_RETENTION_DAYS = 1, 3650
_HOSTNAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


class SettingsError(InputError):
    """A setting value that cannot be accepted; the message says why."""


# The account's on/off settings, in the order the settings page shows them.
SWITCHES = ("tracking_enabled", "track_by_default", "sending_enabled")


def parse(form: dict) -> dict:
    """Validated changes from a submitted settings form (checkboxes absent = off)."""
    changes: dict = {name: form.get(name) == "on" for name in SWITCHES}
    days = whole_number(str(form.get("retention_days", "")), MIN_RETENTION_DAYS, MAX_RETENTION_DAYS)
    if days is None:
        raise SettingsError(
            f"Retention must be a whole number of days from {MIN_RETENTION_DAYS} "
            f"to {MAX_RETENTION_DAYS}.",
            "retention_days",
        )
    changes["retention_days"] = days
    domain = str(form.get("tracking_domain", "")).strip().lower().rstrip(".")
    if domain and not _HOSTNAME.match(domain):
        raise SettingsError(
            "The tracking domain must be a host name such as track.example.com.",
            "tracking_domain",
        )
    changes["tracking_domain"] = domain or None
    if "name" in form:
        changes["name"] = checked_name(str(form.get("name", "")))
    return changes


def checked_name(raw: str) -> str:
    """An account name as typed, trimmed; SettingsError when empty, too long or holding control
    characters (it is typed again to confirm a termination, so it must be typeable)."""
    name = " ".join(raw.split())
    if not name:
        raise SettingsError("Give the account a name.", "name")
    if len(name) > MAX_NAME_LENGTH:
        raise SettingsError(f"The name is longer than {MAX_NAME_LENGTH} characters.", "name")
    if not name.isprintable():
        raise SettingsError("The name holds characters that cannot be typed.", "name")
    return name


def update(session: Session, account: Account, actor: User | None, changes: dict) -> list[str]:
    """Apply changes and audit each (actor None: the command line); the names that changed.
    SettingsError when the new name is another account's (the command line finds accounts by
    name)."""
    if changes.get("name", account.name) != account.name:
        others = select(Account.id).where(Account.name == changes["name"], Account.id != account.id)
        if session.scalar(others) is not None:
            raise SettingsError("Another account has this name; choose another.", "name")
    changed = []
    for name, value in changes.items():
        before = getattr(account, name)
        if before == value:
            continue
        setattr(account, name, value)
        changed.append(name)
        audit.record(
            session,
            account.id,
            "settings.change",
            actor=actor,
            target=name,
            detail=f"{before} -> {value}",
        )
    return changed


def tracking_base_url(account: Account, public_url: str) -> str:
    """The base of the account's tracking links: its own domain (same scheme), else public_url."""
    if not account.tracking_domain:
        return public_url
    scheme = public_url.split("://", 1)[0]
    return f"{scheme}://{account.tracking_domain}"


@dataclass(frozen=True)
class GeoStatus:
    """Where the geo database is and how old it is."""

    path: str
    exists: bool
    age_days: float | None

    @property
    def stale(self) -> bool:
        """Older than 35 days: MaxMind and DB-IP publish monthly, so an update was missed."""
        return self.age_days is not None and self.age_days > GEO_STALE_DAYS


def geo_status(path: str, now: datetime | None = None) -> GeoStatus:
    """Status of the configured geo database (country-only lookups when there is none)."""
    if not path:
        return GeoStatus("", False, None)
    file = Path(path)
    if not file.is_file():
        return GeoStatus(path, False, None)
    now = now or datetime.now(UTC)
    age = (now.timestamp() - file.stat().st_mtime) / 86400
    return GeoStatus(path, True, round(age, 1))
