"""Where an open or click came from, to region and city at most.

With a MaxMind-format City database the admin provides (GeoLite2-City, DB-IP City Lite), read
with `maxminddb`, a location is country, first subdivision and city; with a Country database or
none at all (then `iptocc`'s registry data), country only. Coordinates are never read out.

Lookups run on the hot path and are cached per network block: `locate` truncates the address
(/24, /48) before the cache, so the cache holds no more than what is stored anyway.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import maxminddb
from iptocc import country_code

from server.tracking.deidentify import Address, parse_ip, truncate_ip

log = logging.getLogger(__name__)

CACHE_SIZE = 65536
# Looked up once when the database is opened: a damaged search tree fails there, not mid-request.
_PROBE_ADDRESS = "1.1.1.1"


@dataclass(frozen=True, slots=True)
class Location:
    """A place no finer than a city; unknown parts are None."""

    country: str | None  # ISO 3166-1 alpha-2
    region: str | None  # first subdivision, English name, e.g. "California"
    city: str | None  # English name


UNKNOWN = Location(None, None, None)


def _open(path: str) -> maxminddb.Reader:
    """The database at `path`, or a ValueError that names it."""
    if not os.path.isfile(path):
        raise ValueError(f"GeoIP database {path!r} does not exist or is not a file")
    try:
        reader = maxminddb.open_database(path, maxminddb.MODE_AUTO)
        reader.get(_PROBE_ADDRESS)
    except (maxminddb.InvalidDatabaseError, OSError, ValueError) as exc:
        raise ValueError(f"GeoIP database {path!r} is not a readable MaxMind DB: {exc}") from exc
    return reader


def _field(record: dict[str, Any], *keys: str | int) -> str | None:
    """The string at record[k1][k2]...; None where any step is missing or of another shape."""
    value: Any = record
    for key in keys:
        if isinstance(key, int):
            value = value[key] if isinstance(value, list) and len(value) > key else None
        else:
            value = value.get(key) if isinstance(value, dict) else None
    return value if isinstance(value, str) and value else None


def _from_record(record: Any) -> Location | None:
    """The location in a GeoLite2/DB-IP shaped record, or None if it holds none."""
    if not isinstance(record, dict):
        return None
    country = _field(record, "country", "iso_code") or _field(
        record, "registered_country", "iso_code"
    )
    location = Location(
        country=country,
        region=_field(record, "subdivisions", 0, "names", "en"),
        city=_field(record, "city", "names", "en"),
    )
    return location if location != UNKNOWN else None


class GeoLocator:
    """Region-level location from a MaxMind-format City database, else country only."""

    def __init__(self, database_path: str = ""):
        self._reader = _open(database_path) if database_path else None
        # Per instance, so each database has its own cache and a replaced locator frees it.
        self._cached = lru_cache(maxsize=CACHE_SIZE)(self._resolve)

    @property
    def source(self) -> str:
        """Where locations come from: "maxminddb:<database type>" or "iptocc"."""
        if self._reader is None:
            return "iptocc"
        return f"maxminddb:{self._reader.metadata().database_type}"

    def database_built_at(self) -> datetime | None:
        """When the database was built (UTC); None without one."""
        if self._reader is None:
            return None
        return datetime.fromtimestamp(self._reader.metadata().build_epoch, tz=UTC)

    def locate(self, ip: str | None) -> Location:
        """The location of `ip`'s network block; empty for private or invalid addresses."""
        # Truncating here as well makes the cache safe whatever the caller passes.
        return self._cached(truncate_ip(ip))

    def locate_block(self, block: str | None) -> Location:
        """Like `locate`, for an address `truncate_ip` has already cut to its block."""
        return self._cached(block)

    def cache_info(self) -> Any:
        """Hit and miss counts of the lookup cache (functools' CacheInfo)."""
        return self._cached.cache_info()

    def cache_clear(self) -> None:
        """Forget cached lookups."""
        self._cached.cache_clear()

    def _resolve(self, block: str | None) -> Location:
        address = parse_ip(block)
        # Private, loopback, documentation, multicast...: no registry or database places them.
        if address is None or not address.is_global or address.is_multicast:
            return UNKNOWN
        if self._reader is not None:
            location = _from_database(self._reader, address)
            if location is not None:
                return location
        return Location(country_code(str(address)), None, None)


def _from_database(reader: maxminddb.Reader, address: Address) -> Location | None:
    """The database's location for `address`; None to fall back to the registry's country."""
    try:
        record = reader.get(address)
    except ValueError:
        return None  # an IPv6 address in an IPv4-only database
    except maxminddb.InvalidDatabaseError:
        # Damage the opening probe missed: answer from the registry rather than fail the
        # request, and say so without the address.
        log.warning("GeoIP database lookup failed; using country-only data", exc_info=True)
        return None
    location = _from_record(record)
    if location is not None and location.country is None:
        location = Location(country_code(str(address)), location.region, location.city)
    return location
