"""Reading the operators' published lists, in each format they come in."""

from __future__ import annotations

import json

from server.tracking.verdicts.refresh import mirrored, parse, update


def test_each_format_yields_normalised_ranges():
    google = {"prefixes": [{"ipv4Prefix": "66.249.80.0/27"}, {"ipv6Prefix": "2001:4860::/32"}]}
    oracle = {"regions": [{"cidrs": [{"cidr": "129.146.0.0/21", "tags": ["OCI"]}]}]}
    azure = {"values": [{"properties": {"addressPrefixes": ["13.64.0.0/11"]}}]}
    zscaler = {"hubPrefixes": ["165.225.0.0/17"]}
    m365 = [
        {"id": 9, "serviceArea": "Exchange", "ips": ["40.92.0.0/15", "2a01:111:f400::/48"]},
        {"id": 1, "serviceArea": "Exchange", "ips": ["13.107.6.152/31"]},
    ]
    assert parse("json", json.dumps(google)) == ["66.249.80.0/27", "2001:4860::/32"]
    assert parse("json", json.dumps(oracle)) == ["129.146.0.0/21"]
    assert parse("json", json.dumps(azure)) == ["13.64.0.0/11"]
    assert parse("json", json.dumps(zscaler)) == ["165.225.0.0/17"]
    assert parse("m365-exchange", json.dumps(m365)) == ["40.92.0.0/15", "2a01:111:f400::/48"]
    assert parse("csv", "172.224.224.0/27,GB,GB-EN,London,\n") == ["172.224.224.0/27"]
    assert parse("lines", "# list\n1.2.3.0/24  # a comment\n\nnot-a-range\n") == ["1.2.3.0/24"]
    assert parse("spf", "v=spf1 ip4:207.211.30.0/24 ip6:2a0a:ba80::/32 include:x -all") == [
        "207.211.30.0/24",
        "2a0a:ba80::/32",
    ]


def test_a_mirror_keeps_the_host_and_path():
    url = "https://ip-ranges.amazonaws.com/ip-ranges.json"
    assert mirrored(url, None) == url
    assert mirrored(url, "http://m.local/lists/") == (
        "http://m.local/lists/ip-ranges.amazonaws.com/ip-ranges.json"
    )


def test_a_list_that_parses_to_nothing_keeps_the_old_ranges_and_says_so():
    data = {
        "operators": {
            "aws": {
                "category": "cloud",
                "ranges": ["3.0.0.0/9"],
                "sources": [
                    {"url": "https://ip-ranges.amazonaws.com/ip-ranges.json", "format": "json"}
                ],
            }
        }
    }
    updated, report = update(data, fetch=lambda url: "{}")
    assert updated["operators"]["aws"]["ranges"] == ["3.0.0.0/9"]
    assert report.counts["aws"] == (1, 1)
    assert "no ranges" in report.failures["aws: https://ip-ranges.amazonaws.com/ip-ranges.json"]
    assert data["operators"]["aws"]["sources"][0].get("date") is None  # the input is untouched
