"""GeoLocator against real MaxMind DB files built in tmp_path, and against iptocc alone."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import maxminddb
import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.tracking.geo import CACHE_SIZE, UNKNOWN, GeoLocator, Location

LONDON = Location("GB", "England", "London")
MOUNTAIN_VIEW = Location("US", "California", "Mountain View")

NOWHERE = [
    None,
    "",
    "garbage",
    "1.2.3",
    "10.1.2.3",  # private, though the test database has a record for it
    "10.1.2.0",
    "127.0.0.1",
    "192.168.1.0",
    "100.64.0.0",  # carrier-grade NAT
    "169.254.10.0",
    "224.0.0.0",  # multicast
    "0.0.0.0",
    "::",
    "::1",
    "fe80::",
    "fd12:3456:789a::",
    "2001:db8:1::",  # documentation prefix
    "::ffff:10.1.2.0",
]


@pytest.fixture
def city(city_db: Path) -> GeoLocator:
    return GeoLocator(str(city_db))


@pytest.fixture(scope="module")
def country_only() -> GeoLocator:
    return GeoLocator()


def test_city_database_gives_country_region_and_city(city: GeoLocator) -> None:
    assert city.locate("81.2.69.0") == LONDON
    assert city.locate("2001:4860:4860::") == MOUNTAIN_VIEW


def test_raw_addresses_resolve_by_their_block(city: GeoLocator) -> None:
    assert city.locate("81.2.69.142") == LONDON
    assert city.locate("::ffff:81.2.69.142") == LONDON
    assert city.locate("2001:4860:4860::8888") == MOUNTAIN_VIEW


def test_region_without_city(city: GeoLocator) -> None:
    assert city.locate("89.160.20.0") == Location("SE", "Östergötland County", None)


def test_registered_country_when_the_record_has_no_country(city: GeoLocator) -> None:
    assert city.locate("175.16.199.0") == Location("JP", None, None)


def test_records_of_another_shape_fall_back_to_the_registry(city: GeoLocator) -> None:
    assert city.locate("216.160.83.0") == Location("US", None, None)


@pytest.mark.parametrize(
    ("ip", "country"),
    [("8.8.8.0", "US"), ("1.1.1.0", "AU"), ("2a00:1450:4009::", "IE")],
)
def test_addresses_missing_from_the_database_get_the_registry_country(
    city: GeoLocator, ip: str, country: str
) -> None:
    assert city.locate(ip) == Location(country, None, None)


@pytest.mark.parametrize("ip", NOWHERE)
def test_private_and_invalid_addresses_are_nowhere(
    city: GeoLocator, country_only: GeoLocator, ip: str | None
) -> None:
    assert city.locate(ip) == UNKNOWN
    assert country_only.locate(ip) == UNKNOWN


def test_without_a_database_country_only(country_only: GeoLocator) -> None:
    assert country_only.source == "iptocc"
    assert country_only.database_built_at() is None
    assert country_only.locate("81.2.69.0") == Location("GB", None, None)
    assert country_only.locate("8.8.8.8") == Location("US", None, None)
    assert country_only.locate("2001:4860:4860::8888") == Location("US", None, None)


def test_country_database(make_mmdb) -> None:
    # IE, not the registry's GB for this block, so the answer shows the database was read.
    path = make_mmdb(
        "country.mmdb",
        {"81.2.69.0/24": {"country": {"iso_code": "IE", "names": {"en": "Ireland"}}}},
        database_type="GeoLite2-Country",
        ip_version=4,
    )
    locator = GeoLocator(str(path))
    assert locator.source == "maxminddb:GeoLite2-Country"
    assert locator.locate("81.2.69.0") == Location("IE", None, None)
    # An IPv4-only database cannot answer for IPv6: the registry does.
    assert locator.locate("2001:4860:4860::") == Location("US", None, None)


def test_source_and_build_time(city: GeoLocator) -> None:
    assert city.source == "maxminddb:GeoLite2-City"
    assert city.database_built_at() == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_never_finer_than_a_city(city: GeoLocator) -> None:
    # The test records carry coordinates, as GeoLite2's do; a Location has nowhere to put them.
    assert [field.name for field in dataclasses.fields(Location)] == ["country", "region", "city"]
    assert not hasattr(city.locate("81.2.69.0"), "__dict__")


def test_lookups_are_cached_per_block(city: GeoLocator) -> None:
    assert city.cache_info().maxsize == CACHE_SIZE
    for host in range(1, 101):
        assert city.locate(f"81.2.69.{host}") == LONDON
    info = city.cache_info()
    assert (info.misses, info.hits, info.currsize) == (1, 99, 1)
    city.cache_clear()
    assert city.cache_info().currsize == 0


def test_locators_have_separate_caches(city: GeoLocator, country_only: GeoLocator) -> None:
    assert city.locate("81.2.69.0") == LONDON
    assert country_only.locate("81.2.69.0") == Location("GB", None, None)


def _damaged(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[:64] = b"\xff" * 64  # the root of the search tree: every lookup walks through it
    path.write_bytes(bytes(data))


def _truncated(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:-200])  # the metadata lives at the end


@pytest.mark.parametrize(
    "spoil",
    [
        pytest.param(lambda path: path.unlink(), id="missing"),
        pytest.param(lambda path: path.write_bytes(b""), id="empty"),
        pytest.param(lambda path: path.write_text("not a database\n" * 50), id="text"),
        pytest.param(_truncated, id="truncated"),
        pytest.param(_damaged, id="damaged-tree"),
        pytest.param(lambda path: path.unlink() or path.mkdir(), id="directory"),
    ],
)
def test_unusable_database_fails_fast_naming_the_path(city_db: Path, spoil) -> None:
    spoil(city_db)
    with pytest.raises(ValueError, match=r"GeoLite2-City\.mmdb"):
        GeoLocator(str(city_db))


def test_damage_found_after_opening_does_not_fail_the_request(city: GeoLocator, caplog) -> None:
    class DamagedReader:
        def get(self, address: object) -> None:
            # The wording maxminddb uses, address included.
            raise maxminddb.InvalidDatabaseError(
                f"Error looking up {address}. The MaxMind DB file's search tree is corrupt"
            )

    city._reader = DamagedReader()
    assert city.locate("81.2.69.7") == Location("GB", None, None)
    assert "GeoIP database lookup failed" in caplog.text
    assert "81.2.69.0" in caplog.text  # only ever the block reaches the database
    assert "81.2.69.7" not in caplog.text


@given(st.text(max_size=60))
def test_locate_never_raises(text: str) -> None:
    assert isinstance(GeoLocator().locate(text), Location)


@given(st.ip_addresses())
def test_locate_answers_every_address_with_a_country_at_most(address) -> None:
    location = GeoLocator().locate(str(address))
    assert location.region is None
    assert location.city is None
    assert location.country is None or len(location.country) == 2
