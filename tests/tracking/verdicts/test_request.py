"""One request's verdict from all its evidence: user agent, owner network, method, headers."""

from __future__ import annotations

import pytest

from server.tracking.verdicts.agent import classify_agent, classify_request
from server.tracking.verdicts.network import Owner
from server.tracking.verdicts.request import (
    evidence,
    parse_evidence,
    request_verdict,
    with_owner,
)

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
APPLE_MAIL = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)"
)
GMAIL = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
MIMECAST = Owner("mimecast", "security-gateway")
APPLE = Owner("icloud-private-relay", "apple-relay")
EOP = Owner("microsoft-eop", "microsoft-mail")
MICROSOFT = Owner("microsoft", "microsoft")
AWS = Owner("aws", "cloud")


@pytest.mark.parametrize(
    ("kind", "agent", "owner", "verdict", "reasons"),
    [
        ("open", CHROME, MIMECAST, "scanner", ("security-gateway",)),
        ("click", CHROME, MIMECAST, "scanner", ("security-gateway",)),
        ("open", APPLE_MAIL, APPLE, "machine", ("apple-mail-privacy",)),
        ("open", "Mozilla/5.0", APPLE, "machine", ("apple-mail-privacy",)),
        # Private Relay also carries Safari's browsing: a click from it is a person.
        ("click", CHROME, APPLE, "human", ()),
        ("click", CHROME, EOP, "scanner", ("safe-links",)),
        # Outlook.com and OWA fetch their readers' images from Microsoft's network.
        ("open", CHROME, EOP, "human", ()),
        ("open", CHROME, MICROSOFT, "human", ()),
        ("open", CHROME, AWS, "scanner", ("cloud-network",)),
        ("click", CHROME, AWS, "scanner", ("cloud-network",)),
        # A gateway with a bare user agent is the gateway, not Apple's prefetch.
        ("open", "Mozilla/5.0", MIMECAST, "scanner", ("security-gateway",)),
        # The user agent's more specific labels stand wherever the request comes from.
        ("open", GMAIL, Owner("google", "google"), "proxy", ("gmail-image-proxy",)),
        ("click", "curl/8.5.0", AWS, "bot", ("http-library",)),
        ("open", CHROME, None, "human", ()),
    ],
)
def test_the_owner_network_outweighs_a_browser_user_agent(kind, agent, owner, verdict, reasons):
    result = classify_request(kind, "GET", agent, owner=owner)
    assert (result.verdict, result.reasons) == (verdict, reasons)


def test_scanners_keep_no_device_but_people_keep_theirs():
    assert classify_request("open", "GET", CHROME, owner=AWS).device_type is None
    assert classify_request("open", "GET", CHROME, owner=MICROSOFT).device_type == "desktop"


def test_head_still_marks_a_scanner_after_the_network_rules():
    result = classify_request("click", "HEAD", CHROME, owner=APPLE)
    assert (result.verdict, result.reasons) == ("scanner", ("head-request",))


def test_evidence_round_trips_what_a_rerun_needs():
    agent = classify_agent("open", GMAIL)
    text = evidence(agent, MIMECAST, prefetch=True, has_language=False)
    assert text == "ua=proxy/gmail-image-proxy,net=mimecast/security-gateway,prefetch,no-lang"
    found = parse_evidence(text)
    assert (found.agent_verdict, found.agent_reason) == ("proxy", "gmail-image-proxy")
    assert found.owner == MIMECAST and found.prefetch
    again = request_verdict("open", classify_agent("open", CHROME), found.owner)
    assert again.verdict == "scanner"


def test_evidence_of_a_plain_browser_hit():
    assert evidence(classify_agent("open", CHROME), None, False, True) == "ua=human"
    assert parse_evidence("ua=human").owner is None
    assert parse_evidence(None) is None and parse_evidence("") is None


def test_a_new_owner_replaces_the_old_in_stored_evidence():
    text = "ua=human,net=aws/cloud,no-lang"
    assert with_owner(text, MIMECAST) == "ua=human,net=mimecast/security-gateway,no-lang"
    assert with_owner("ua=human", APPLE) == "ua=human,net=icloud-private-relay/apple-relay"
