"""Who owns an address: the operators' published ranges, and an optional address-owner database.

The knowledge is data (`server/tracking/data/networks.json`, versioned, with the source and date of
every list): Apple's relays, Google's image proxy, Microsoft's mail network, the security gateways,
the big clouds. `flask network update` refreshes it from the operators' own lists into the
instance folder, which then takes precedence; nothing is fetched while serving. An address-owner
database (`ASN_DATABASE`: GeoLite2-ASN, DB-IP ASN Lite or any MaxMind-format file with
`autonomous_system_number`) fills in for addresses no list names, by the operators' AS numbers.

Lookups take the stored block (/24, /48), never the full address, so the cache holds nothing the
events table does not; ranges finer than a block count for the whole block. The answer is found
by longest prefix: one dictionary probe per prefix length that the data uses.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import maxminddb

from server.tracking.deidentify import address_value

log = logging.getLogger(__name__)

SHIPPED = Path(__file__).parent / "data" / "networks.json"
CACHE_SIZE = 65536
# Stored blocks are /24 and /48: a finer range can only be known at that granularity.
BLOCK_BITS = {4: 24, 6: 48}
CATEGORIES = (
    "apple-relay",
    "mail-proxy",
    "microsoft-mail",
    "microsoft",
    "security-gateway",
    "web-proxy",
    "google",
    "cloud",
)


@dataclass(frozen=True, slots=True)
class Owner:
    """The operator of an address block and what kind of network it is."""

    operator: str
    category: str


class NetworkIndex:
    """Longest-prefix lookup of block -> Owner over the published ranges and an ASN database."""

    def __init__(self, data: dict[str, Any], asn_database: str = ""):
        self.version = str(data.get("version", ""))
        self.operators = data.get("operators", {})
        self._tables: dict[int, list[tuple[int, dict[int, Owner]]]] = {4: [], 6: []}
        self._asns: dict[int, Owner] = {}
        self._load(self.operators)
        self._reader = _open_asn(asn_database) if asn_database else None
        self._cached = lru_cache(maxsize=CACHE_SIZE)(self._resolve)

    def _load(self, operators: dict[str, Any]) -> None:
        by_length: dict[int, dict[int, dict[int, Owner]]] = {4: {}, 6: {}}
        for key, entry in operators.items():
            owner = Owner(key, entry["category"])
            for asn in entry.get("asns", ()):
                self._asns.setdefault(int(asn), owner)
            for cidr in entry.get("ranges", ()):
                network = ipaddress.ip_network(cidr, strict=False)
                version = network.version
                length = min(network.prefixlen, BLOCK_BITS[version])
                shift = network.max_prefixlen - length
                table = by_length[version].setdefault(length, {})
                # The more specific list wins at equal length: first come keeps its claim.
                table.setdefault(int(network.network_address) >> shift, owner)
        for version, lengths in by_length.items():
            bits = 32 if version == 4 else 128
            self._tables[version] = [
                (bits - length, lengths[length]) for length in sorted(lengths, reverse=True)
            ]

    def owner_of_block(self, block: str | None) -> Owner | None:
        """The owner of a stored block ("a.b.c.0", "x:y:z::"); None when nobody is known."""
        return self._cached(block) if block else None

    def _resolve(self, block: str) -> Owner | None:
        # Private and reserved blocks are in no operator's list, so they simply find nothing.
        parsed = address_value(block)
        if parsed is None:
            return None
        version, value = parsed
        for shift, table in self._tables[version]:
            owner = table.get(value >> shift)
            if owner is not None:
                return owner
        return self._by_asn(block) if self._reader is not None else None

    def _by_asn(self, address) -> Owner | None:
        try:
            record = self._reader.get(address)
        except (ValueError, maxminddb.InvalidDatabaseError):
            return None
        if not isinstance(record, dict):
            return None
        asn = record.get("autonomous_system_number")
        return self._asns.get(asn) if isinstance(asn, int) else None

    def describe(self) -> dict[str, Any]:
        """What the index holds: data version, operators with their range counts and sources."""
        return {
            "version": self.version,
            "asn_database": self._reader.metadata().database_type if self._reader else None,
            "operators": {
                key: {
                    "category": entry["category"],
                    "ranges": len(entry.get("ranges", ())),
                    "sources": entry.get("sources", []),
                }
                for key, entry in self.operators.items()
            },
        }


def _open_asn(path: str) -> maxminddb.Reader:
    """The ASN database at `path`, or a ValueError that names it."""
    if not os.path.isfile(path):
        raise ValueError(f"ASN database {path!r} does not exist or is not a file")
    try:
        reader = maxminddb.open_database(path, maxminddb.MODE_AUTO)
        reader.get("1.1.1.1")
    except (maxminddb.InvalidDatabaseError, OSError, ValueError) as exc:
        raise ValueError(f"ASN database {path!r} is not a readable MaxMind DB: {exc}") from exc
    return reader


def data_path(instance_path: Path, configured: str = "") -> Path:
    """The network data in force: NETWORK_DATA, else an updated copy in the instance folder, else
    the shipped file."""
    if configured:
        return Path(configured)
    updated = instance_path / "networks.json"
    return updated if updated.is_file() else SHIPPED


def load(path: Path, asn_database: str = "") -> NetworkIndex:
    """A NetworkIndex from the data file at `path` (and the ASN database, when given)."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"network data {str(path)!r} is not readable JSON: {exc}") from exc
    return NetworkIndex(data, asn_database)
