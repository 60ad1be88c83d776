"""Classifying one hit from its own signals, against real user-agent strings."""

from __future__ import annotations

import dataclasses
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.tracking.verdicts import agent as classify
from server.tracking.verdicts.agent import (
    CLASSIFIER_VERSION,
    VERDICTS,
    Verdict,
    classify_request,
)

GMAIL_PROXY = (
    "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
)
YAHOO_PROXY = "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html"
APPLE_MAIL_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)"
)
APPLE_MAIL_IOS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148"
)
APPLE_MAIL_IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148"
)
OUTLOOK_WINDOWS = "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17126; Pro)"
OUTLOOK_MAC = "MacOutlook/16.80.23121017 (Intelx64 Mac OS X 14.2.1 (Build 23C71))"
THUNDERBIRD = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:115.0) Gecko/20100101 Thunderbird/115.6.0"
)
IPHONE_SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1"
)
ANDROID_PHONE_CHROME = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.6099.144 Mobile Safari/537.36"
)
ANDROID_TABLET_CHROME = (
    "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)
WINDOWS_CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)
WINDOWS_FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0"
WINDOWS_EDGE = WINDOWS_CHROME + " Edg/120.0.0.0"
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
BINGBOT = "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"
HEADLESS_CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/120.0.6099.28 Safari/537.36"
)
SLACKBOT = "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"
FACEBOOK = "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)"
LINKEDIN = "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)"
BARRACUDA = "Mozilla/5.0 (compatible; Barracuda Sentinel (EE))"
MIMECAST = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/91.0.4472.124 Safari/537.36 Mimecast"
)

# (user agent, verdict, reasons, device_type, os_family, browser_family), all for a GET open.
CASES = [
    (GMAIL_PROXY, "proxy", ("gmail-image-proxy",), None, None, None),
    (YAHOO_PROXY, "proxy", ("yahoo-mail-proxy",), None, None, None),
    ("Mozilla/5.0", "machine", ("apple-mail-privacy",), None, None, None),
    (APPLE_MAIL_MAC, "human", (), "desktop", "Mac OS X", "Apple Mail"),
    (APPLE_MAIL_IOS, "human", (), "mobile", "iOS", "Apple Mail"),
    (APPLE_MAIL_IPAD, "human", (), "tablet", "iOS", "Apple Mail"),
    (OUTLOOK_WINDOWS, "human", (), "desktop", "Windows", "Outlook"),
    (OUTLOOK_MAC, "human", (), "desktop", "Mac OS X", "Outlook"),
    (THUNDERBIRD, "human", (), "desktop", "Windows", "Thunderbird"),
    (IPHONE_SAFARI, "human", (), "mobile", "iOS", "Mobile Safari"),
    (ANDROID_PHONE_CHROME, "human", (), "mobile", "Android", "Chrome Mobile"),
    (ANDROID_TABLET_CHROME, "human", (), "tablet", "Android", "Chrome"),
    (WINDOWS_CHROME, "human", (), "desktop", "Windows", "Chrome"),
    (WINDOWS_FIREFOX, "human", (), "desktop", "Windows", "Firefox"),
    (WINDOWS_EDGE, "human", (), "desktop", "Windows", "Edge"),
    ("curl/8.5.0", "bot", ("http-library",), None, None, "curl"),
    ("python-requests/2.31.0", "bot", ("http-library",), None, None, "Python Requests"),
    ("Go-http-client/1.1", "bot", ("http-library",), None, None, "Go-http-client"),
    (GOOGLEBOT, "bot", ("crawler",), None, None, "Googlebot"),
    (BINGBOT, "bot", ("crawler",), None, None, "bingbot"),
    (HEADLESS_CHROME, "bot", ("headless-browser",), None, None, "HeadlessChrome"),
    (SLACKBOT, "prefetch", ("link-preview",), None, None, "Slackbot-LinkExpanding"),
    (FACEBOOK, "prefetch", ("link-preview",), None, None, "FacebookBot"),
    (LINKEDIN, "prefetch", ("link-preview",), None, None, "LinkedInBot"),
    (BARRACUDA, "scanner", ("security-scanner",), None, None, None),
    (MIMECAST, "scanner", ("security-scanner",), None, None, None),
    ("", "bot", ("empty-user-agent",), None, None, None),
    ("   ", "bot", ("empty-user-agent",), None, None, None),
    ("SomeMailApp/3.1", "human", ("unknown-client",), None, None, None),
]


@pytest.mark.parametrize(
    ("user_agent", "verdict", "reasons", "device_type", "os_family", "browser_family"), CASES
)
def test_real_user_agents(user_agent, verdict, reasons, device_type, os_family, browser_family):
    assert classify_request("open", "GET", user_agent) == Verdict(
        verdict, reasons, device_type, os_family, browser_family
    )


def test_public_constants():
    assert CLASSIFIER_VERSION == 2
    assert VERDICTS == ("human", "proxy", "machine", "scanner", "prefetch", "bot", "self")
    assert {verdict for _, verdict, *_ in CASES} <= set(VERDICTS)


def test_verdict_is_immutable():
    verdict = classify_request("open", "GET", WINDOWS_CHROME)
    with pytest.raises(dataclasses.FrozenInstanceError):
        verdict.verdict = "bot"


def test_clicks_classify_like_opens_for_ordinary_agents():
    assert classify_request("click", "GET", WINDOWS_CHROME).verdict == "human"
    assert classify_request("click", "GET", "curl/8.5.0").reasons == ("http-library",)
    assert classify_request("click", "GET", GMAIL_PROXY).verdict == "proxy"


def test_ios_webview_is_apple_mail_only_for_opens():
    # Apple Mail hands links to Safari, so a bare web view following a link is some in-app browser.
    click = classify_request("click", "GET", APPLE_MAIL_IOS)
    assert click.verdict == "human"
    assert click.browser_family == "Mobile Safari UI/WKWebView"


def test_bare_mozilla_click_is_not_apple_privacy():
    assert classify_request("click", "GET", "Mozilla/5.0") == Verdict(
        "bot", ("generic-user-agent",), None, None, None
    )


@pytest.mark.parametrize("kind", ["open", "click"])
@pytest.mark.parametrize("method", ["HEAD", "head"])
def test_head_request_from_a_browser_is_a_scanner(kind, method):
    assert classify_request(kind, method, WINDOWS_CHROME) == Verdict(
        "scanner", ("head-request",), None, None, None
    )


def test_head_request_overrides_a_proxy_but_keeps_its_reason():
    verdict = classify_request("open", "HEAD", GMAIL_PROXY)
    assert verdict.verdict == "scanner"
    assert verdict.reasons == ("head-request", "gmail-image-proxy")


@pytest.mark.parametrize(
    ("user_agent", "verdict", "reasons"),
    [
        ("curl/8.5.0", "bot", ("http-library", "head-request")),
        (SLACKBOT, "prefetch", ("link-preview", "head-request")),
        (BARRACUDA, "scanner", ("security-scanner", "head-request")),
        ("Mozilla/5.0", "machine", ("apple-mail-privacy", "head-request")),
    ],
)
def test_head_request_keeps_a_more_specific_label(user_agent, verdict, reasons):
    result = classify_request("open", "HEAD", user_agent)
    assert (result.verdict, result.reasons) == (verdict, reasons)


@pytest.mark.parametrize("purpose", ["prefetch", "prefetch;prerender", "Prefetch", ",preview"])
def test_prefetch_header_from_a_browser(purpose):
    assert classify_request("click", "GET", WINDOWS_CHROME, purpose) == Verdict(
        "prefetch", ("prefetch-header",), "desktop", "Windows", "Chrome"
    )


def test_unrelated_purpose_changes_nothing():
    plain = classify_request("click", "GET", WINDOWS_CHROME)
    assert classify_request("click", "GET", WINDOWS_CHROME, "anonymous-client-ip") == plain


def test_prefetch_header_on_a_bot_adds_the_reason():
    verdict = classify_request("click", "GET", GOOGLEBOT, "prefetch")
    assert (verdict.verdict, verdict.reasons) == ("bot", ("crawler", "prefetch-header"))


def test_head_and_prefetch_together():
    verdict = classify_request("click", "HEAD", WINDOWS_CHROME, "prefetch")
    assert (verdict.verdict, verdict.reasons) == ("scanner", ("head-request", "prefetch-header"))


def test_unknown_kind_is_rejected():
    with pytest.raises(ValueError, match="kind"):
        classify_request("view", "GET", WINDOWS_CHROME)


def test_families_are_truncated():
    long_name = "A" * 80
    verdict = classify_request("open", "GET", f"Mozilla/5.0 (Windows NT 10.0) {long_name}Bot/1.0")
    assert verdict.verdict == "bot"
    assert verdict.browser_family == long_name[:50]


def test_user_agent_is_parsed_once_then_cached(monkeypatch):
    user_agent = WINDOWS_CHROME + " CacheProbe/1"
    first = classify_request("open", "GET", user_agent)
    hits = classify._classify_agent.cache_info().hits

    def fail(*_args):
        raise AssertionError("parsed a cached user agent again")

    monkeypatch.setattr(classify, "_parse", fail)
    for _ in range(3):
        assert classify_request("open", "GET", user_agent) is first
    assert classify._classify_agent.cache_info().hits == hits + 3


def test_request_signals_are_not_cached_with_the_agent():
    user_agent = WINDOWS_CHROME + " CacheProbe/2"
    assert classify_request("open", "HEAD", user_agent).verdict == "scanner"
    assert classify_request("open", "GET", user_agent, "prefetch").verdict == "prefetch"
    assert classify_request("open", "GET", user_agent).verdict == "human"


@pytest.mark.parametrize(
    "user_agent", [WINDOWS_CHROME + " \ud800", WINDOWS_CHROME + " caf\u00e9", "\udfff\x00"]
)
def test_non_ascii_user_agents_are_parsed(user_agent):
    assert classify_request("open", "GET", user_agent).verdict == "human"


def test_huge_user_agent_is_bounded_before_caching():
    verdict = classify_request("open", "GET", WINDOWS_CHROME + " x" * 100_000)
    assert verdict.verdict == "human"
    assert verdict.browser_family == "Chrome"


REASON = re.compile(r"[a-z]+(-[a-z]+)*")


def _check(verdict: Verdict) -> None:
    assert verdict.verdict in VERDICTS
    assert verdict.verdict == "human" or verdict.reasons
    assert all(REASON.fullmatch(reason) for reason in verdict.reasons)
    assert verdict.device_type in (None, "desktop", "mobile", "tablet")
    for family in (verdict.os_family, verdict.browser_family):
        assert family is None or 0 < len(family) <= 50


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from(["open", "click"]),
    method=st.sampled_from(["GET", "HEAD"]),
    # Surrogates included: callers other than the WSGI layer may hand over any str.
    user_agent=st.text(st.characters(exclude_categories=()), max_size=400),
    purpose=st.text(max_size=40),
)
def test_arbitrary_text_never_raises(kind, method, user_agent, purpose):
    _check(classify_request(kind, method, user_agent, purpose))


@settings(max_examples=200, deadline=None)
@given(
    prefix=st.sampled_from([WINDOWS_CHROME, IPHONE_SAFARI, GOOGLEBOT, "curl/8.5.0", ""]),
    noise=st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FF), max_size=200),
)
def test_browser_like_text_yields_well_formed_verdicts(prefix, noise):
    _check(classify_request("open", "GET", prefix + noise))
