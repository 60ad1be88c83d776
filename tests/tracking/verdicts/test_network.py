"""Who owns an address: longest prefix over the published ranges, then the ASN database."""

from __future__ import annotations

import json

import pytest

from server.tracking.verdicts import network
from server.tracking.verdicts.network import NetworkIndex, Owner

DATA = {
    "version": "2026-12-01",
    "operators": {
        "mimecast": {
            "category": "security-gateway",
            "asns": [30031],
            "sources": [{"url": "https://example.test/mimecast", "date": "2026-12-01"}],
            "ranges": ["207.211.30.0/24", "207.211.31.0/25", "2a0a:ba80::/32"],
        },
        "apple": {"category": "apple-relay", "ranges": ["17.0.0.0/8"]},
        "aws": {"category": "cloud", "asns": [16509], "ranges": ["3.0.0.0/9", "3.5.140.0/22"]},
        "aws-inner": {"category": "security-gateway", "ranges": ["3.5.141.0/24"]},
    },
}


@pytest.fixture
def index():
    return NetworkIndex(DATA)


def test_blocks_inside_a_range_belong_to_its_operator(index):
    assert index.owner_of_block("207.211.30.0") == Owner("mimecast", "security-gateway")
    assert index.owner_of_block("17.58.100.0") == Owner("apple", "apple-relay")
    assert index.owner_of_block("2a0a:ba80:1::") == Owner("mimecast", "security-gateway")


def test_a_range_finer_than_a_block_counts_for_its_block(index):
    # Stored blocks are /24: 207.211.31.0/25 can only be known as 207.211.31.0/24.
    assert index.owner_of_block("207.211.31.0") == Owner("mimecast", "security-gateway")


def test_the_longest_prefix_wins(index):
    assert index.owner_of_block("3.5.141.0") == Owner("aws-inner", "security-gateway")
    assert index.owner_of_block("3.5.140.0") == Owner("aws", "cloud")
    assert index.owner_of_block("3.100.0.0") == Owner("aws", "cloud")


def test_unknown_private_and_invalid_blocks_have_no_owner(index):
    for block in ("81.2.69.0", "10.0.0.0", "192.168.1.0", "not an address", "", None):
        assert index.owner_of_block(block) is None


def test_the_asn_database_fills_in_for_unlisted_addresses(make_mmdb):
    path = make_mmdb(
        "GeoLite2-ASN.mmdb",
        {
            "52.0.0.0/16": {
                "autonomous_system_number": 16509,
                "autonomous_system_organization": "AMAZON-02",
            },
            "81.2.69.0/24": {
                "autonomous_system_number": 20712,
                "autonomous_system_organization": "x",
            },
        },
        database_type="GeoLite2-ASN",
    )
    index = NetworkIndex(DATA, str(path))
    assert index.owner_of_block("52.0.7.0") == Owner("aws", "cloud")
    assert index.owner_of_block("81.2.69.0") is None  # an ASN no operator claims
    assert index.describe()["asn_database"] == "GeoLite2-ASN"


def test_a_missing_or_broken_asn_database_is_refused_by_name(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        NetworkIndex(DATA, str(tmp_path / "nope.mmdb"))
    broken = tmp_path / "broken.mmdb"
    broken.write_bytes(b"not a database")
    with pytest.raises(ValueError, match="not a readable MaxMind DB"):
        NetworkIndex(DATA, str(broken))


def test_the_data_in_force_is_the_updated_copy_then_the_shipped_file(tmp_path):
    assert network.data_path(tmp_path) == network.SHIPPED
    (tmp_path / "networks.json").write_text(json.dumps(DATA))
    assert network.data_path(tmp_path) == tmp_path / "networks.json"
    assert network.data_path(tmp_path, "/etc/other.json").name == "other.json"
    assert network.load(tmp_path / "networks.json").version == "2026-12-01"


def test_unreadable_data_is_refused_by_name(tmp_path):
    bad = tmp_path / "networks.json"
    bad.write_text("{")
    with pytest.raises(ValueError, match=r"networks\.json"):
        network.load(bad)


def test_the_shipped_data_names_a_source_and_date_for_every_operator():
    data = json.loads(network.SHIPPED.read_text())
    assert data["version"]
    for key, entry in data["operators"].items():
        assert entry["category"] in network.CATEGORIES, key
        assert entry["sources"], key
        for source in entry["sources"]:
            assert source["url"] and "date" in source, key
        assert entry["ranges"] or entry.get("asns"), key
    index = network.load(network.SHIPPED)
    # Published addresses of the operators the issue names, one each.
    assert index.owner_of_block("17.58.0.0").category == "apple-relay"
    assert index.owner_of_block("40.107.22.0").category == "microsoft-mail"


def test_lookups_are_cached_per_block(index):
    for _ in range(3):
        index.owner_of_block("17.1.2.0")
    assert index._cached.cache_info().hits == 2
