"""Verdicts in plain words from the reason codes the classifier records, devices and places."""

from __future__ import annotations

from server.tracking.events import REASON_WORDS, device_words, explain, place_words
from server.tracking.verdicts import context, request
from server.tracking.verdicts.agent import MAIL_PROXIES


def test_each_verdict_reads_as_words_with_its_reasons():
    assert explain("proxy", ["gmail-image-proxy"]) == {
        "label": "Gmail proxy — location hidden",
        "counted": True,
        "why": ["Gmail's image proxy fetched it for the reader"],
    }
    assert (
        explain("machine", ["apple-mail-privacy"])["label"] == "Apple Mail prefetch — not counted"
    )
    scan = explain("scanner", ["security-gateway", "link-burst"])
    assert scan["label"] == "security scanner — not counted" and not scan["counted"]
    assert scan["why"] == [
        "from a mail security gateway's network",
        "links followed faster than a person can tap",
    ]
    # A Gmail proxy fetch the sender's own view explains is theirs, whatever the proxy said.
    mine = explain("self", ["gmail-image-proxy", "self-view"])
    assert mine["label"] == "your own view — not counted" and not mine["counted"]
    assert explain("human", [])["label"] == "a person"
    assert explain("machine", ["gmail-delivery-failure"])["label"] == "delivery failure"


def test_every_reason_the_classifier_records_has_words():
    recorded = {reason for _, reason in MAIL_PROXIES}
    recorded |= {rule.reason for rule in request.NETWORK_RULES}
    recorded |= context.CONTEXT_REASONS | {"head-request", "prefetch-header"}
    assert recorded <= set(REASON_WORDS)
    assert explain("bot", ["something-new"])["why"] == ["something new"]


def test_device_and_place_in_one_line():
    device = {"type": "mobile", "os": "iOS", "browser": "Mobile Safari"}
    assert device_words(device) == "Mobile Safari / iOS / mobile"
    assert device_words({"type": None, "os": None, "browser": None}) == ""
    country_only = {"country": "ES", "region": None, "city": None}
    assert place_words({"verdict": "human", "location": country_only}) == "ES"
    full = {"country": "ES", "region": "Catalonia", "city": "Barcelona"}
    assert place_words({"verdict": "human", "location": full}) == "Barcelona, Catalonia, ES"
    assert place_words({"verdict": "proxy", "location": None}) == "hidden by the proxy"
