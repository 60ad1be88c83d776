"""Small real MaxMind DB files built with mmdb-writer (a pytest plugin: make_mmdb, city_db)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mmdb_writer import MMDBWriter
from netaddr import IPSet

# 2024-01-02T03:04:05Z: fixed so a test can tell the build time was read, not "now".
BUILD_EPOCH = 1704164645

MakeMmdb = Callable[..., Path]


class _PinnedWriter(MMDBWriter):
    """MMDBWriter with a chosen build_epoch (it otherwise stamps the current time)."""

    def __init__(self, build_epoch: int, **kwargs: Any):
        super().__init__(**kwargs)
        self._build_epoch = build_epoch

    def _build_meta(self) -> dict[str, Any]:
        return {**super()._build_meta(), "build_epoch": self._build_epoch}


def _city(iso: str, country: str, region: str | None, city: str | None) -> dict[str, Any]:
    """A record in GeoLite2-City's shape, coordinates included as the real ones are."""
    record: dict[str, Any] = {
        "country": {"iso_code": iso, "names": {"en": country}},
        "location": {"latitude": 51.5142, "longitude": -0.0931, "accuracy_radius": 20},
    }
    if region is not None:
        record["subdivisions"] = [{"iso_code": "X", "names": {"en": region, "de": region}}]
    if city is not None:
        record["city"] = {"geoname_id": 1, "names": {"en": city, "fr": city}}
    return record


# Network -> record, as GeoLite2-City lays them out. The networks are real public blocks so the
# locator's private-address filter lets them through; the records are test data.
CITY_RECORDS: dict[str, dict[str, Any]] = {
    "81.2.69.0/24": _city("GB", "United Kingdom", "England", "London"),
    "2001:4860:4860::/48": _city("US", "United States", "California", "Mountain View"),
    "89.160.20.0/24": _city("SE", "Sweden", "Östergötland County", None),
    # Only the registered country, as GeoLite2 has for some anycast and satellite blocks. Not
    # iptocc's answer for this block (CN), so a test can tell which source was used.
    "175.16.199.0/24": {"registered_country": {"iso_code": "JP", "names": {"en": "Japan"}}},
    # Another vendor's shape (flat strings): holds nothing this reader understands.
    "216.160.83.0/24": {"country": "US", "city": "Milton"},
    # A private block the database happens to describe; it must never be reported.
    "10.0.0.0/8": _city("GB", "United Kingdom", "England", "London"),
}


def write_mmdb(
    path: Path,
    records: dict[str, dict[str, Any]],
    database_type: str = "GeoLite2-City",
    ip_version: int = 6,
    build_epoch: int = BUILD_EPOCH,
) -> Path:
    """Write `records` (CIDR -> record) to a MaxMind DB at `path` and return the path."""
    writer = _PinnedWriter(
        build_epoch,
        ip_version=ip_version,
        database_type=database_type,
        languages=["en"],
        description=f"{database_type} test database",
        # IPv4 in an IPv6 tree lives under ::/96, as in the real GeoLite2 files.
        ipv4_compatible=ip_version == 6,
    )
    for network, record in records.items():
        writer.insert_network(IPSet([network]), record)
    writer.to_db_file(str(path))
    return path


@pytest.fixture
def make_mmdb(tmp_path: Path) -> MakeMmdb:
    """Build a MaxMind DB in tmp_path: make_mmdb(name, records, database_type=..., ...)."""

    def make(name: str, records: dict[str, dict[str, Any]], **options: Any) -> Path:
        return write_mmdb(tmp_path / name, records, **options)

    return make


@pytest.fixture
def city_db(make_mmdb: MakeMmdb) -> Path:
    """A GeoLite2-City-shaped database holding CITY_RECORDS."""
    return make_mmdb("GeoLite2-City.mmdb", CITY_RECORDS)
