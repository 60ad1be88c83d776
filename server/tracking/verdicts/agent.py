"""Classify one tracking hit (pixel open or link click) from the request's own signals.

Every hit is kept and labelled with a verdict and short reason codes (see the design map,
"Classifying hits"). This module only looks at what one request carries: method, user agent and
the purpose headers. Rules that need the message's other hits (bursts across every link, hits
seconds after delivery, the sender's own view) run where all of those hits are visible.

Order matters: mail proxies and Apple's privacy fetcher are checked before anything bot-like,
because their user agents look like crawlers or old browsers to a generic parser; link previews
are checked before HTTP libraries because some previewers name the library they use.

The user-agent part of the work is cached, so a repeated user agent costs a dictionary lookup.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache

from ua_parser import (
    BasicResolver,
    BestAvailableResolver,
    Domain,
    Resolver,
    load_builtins,
    load_lazy_builtins,
)

from server.tracking.verdicts.network import Owner
from server.tracking.verdicts.request import Verdict, request_verdict

# 2: owner networks, evidence kept per hit, self-views explain one fetch, faster bursts.
CLASSIFIER_VERSION = 2
VERDICTS = ("human", "proxy", "machine", "scanner", "prefetch", "bot", "self")
KINDS = ("open", "click")

# Substring markers, matched case-insensitively. Each list is data: extend it, bump
# CLASSIFIER_VERSION, and old rows can be re-classified.
MAIL_PROXIES: tuple[tuple[str, str], ...] = (
    ("GoogleImageProxy", "gmail-image-proxy"),
    ("YahooMailProxy", "yahoo-mail-proxy"),
)
# Apple Mail Privacy Protection preloads remote images through Apple's relays with this bare UA.
APPLE_PRIVACY_USER_AGENT = "Mozilla/5.0"
SECURITY_SCANNERS = (
    "Barracuda",
    "Mimecast",
    "Proofpoint",
    "URLDefense",
    "Safe Links",
    "SafeLinks",
    "Trend Micro",
    "TrendMicro",
    "Symantec",
    "Broadcom",
    "MessageLabs",
    "IronPort",
    "Forcepoint",
    "Websense",
    "Sophos",
    "FireEye",
    "Trellix",
    "Cloudmark",
    "Hornetsecurity",
    "VadeSecure",
    # Link-safety checkers that name themselves.
    "Kaspersky",
    "Norton-Safeweb",
    "link resolver",
    "urlscan",
    "VirusTotal",
    "CloudflareRadar",
)
LINK_PREVIEWS = (
    "Slackbot",
    "Slack-ImgProxy",
    "Twitterbot",
    "facebookexternalhit",
    "Facebot",
    "WhatsApp/",
    "TelegramBot",
    "Discordbot",
    "LinkedInBot",
    "SkypeUriPreview",
    "MicrosoftPreview",
    "Google-PageRenderer",
    "Pinterestbot",
    "redditbot",
    "Embedly",
    "Iframely",
    "vkShare",
    "BingPreview",
    "Cardyb",
    "FlipboardProxy",
    "FlipboardRSS",
    "Mastodon/",
    "Nuzzel",
    "ViberUrlDownloader",
    "Snap URL Preview",
    "Mattermost-Bot",
    "Synapse (bot",
)
HEADLESS_BROWSERS = (
    "HeadlessChrome",
    "PhantomJS",
    "SlimerJS",
    "HtmlUnit",
    "Puppeteer",
    "Playwright",
)
HTTP_LIBRARIES = (
    "curl/",
    "Wget/",
    "python-requests/",
    "Python-urllib/",
    "aiohttp/",
    "python-httpx/",
    "Go-http-client/",
    "Java/",
    "Java-http-client/",
    "okhttp/",
    "libwww-perl/",
    "axios/",
    "node-fetch",
    "undici",
    "PostmanRuntime/",
    "Apache-HttpClient/",
    "GuzzleHttp/",
    "HTTPie/",
    "Dart/",
    "Deno/",
    "Faraday v",
    "got (",
    "hackney/",
    "http.rb/",
    "Commons-HttpClient",
    "lwp-request",
    "Mechanize",
    "reqwest/",
    "RestSharp/",
    "Typhoeus",
    "Symfony HttpClient",
)
# Internet-wide scanners and measurement crawlers: automated, not link checks for a mailbox.
AUTOMATED = (
    "acunetix",
    "Nessus",
    "Qualys",
    "Nmap Scripting Engine",
    "zgrab",
    "masscan",
    "Censys",
    "Shodan",
    "Netcraft",
    "Detectify",
    "Sucuri",
    "Expanse",
    "Palo Alto Networks",
    "InternetMeasurement",
    "SecurityScanner",
    "Mediapartners-Google",
    "APIs-Google",
    "facebookcatalog",
)
# Whole user agents that are a program's bare name.
BARE_PROGRAMS = frozenset(("curl", "wget", "ruby", "python", "java", "go", "php"))
# Browsers and mail clients never name a web address or a mailbox; self-declared robots do.
_DECLARED = re.compile(r"https?://|\+http|[\w.-]+@[\w-]+\.[\w.]+", re.IGNORECASE)
# ua-parser labels crawlers with device family "Spider"; these catch the big ones regardless.
CRAWLERS = (
    "Googlebot",
    "bingbot",
    "Baiduspider",
    "YandexBot",
    "DuckDuckBot",
    "Applebot",
    "AhrefsBot",
    "SemrushBot",
    "PetalBot",
    "Bytespider",
    "GPTBot",
    "ClaudeBot",
    "CCBot",
    "Amazonbot",
    "SeznamBot",
    "MJ12bot",
    "DotBot",
    "BLEXBot",
    "DataForSeoBot",
    "ia_archiver",
)
# Browser families reported under another name; the parser knows Outlook for Mac by its app name.
FAMILY_ALIASES = {"MacOutlook": "Outlook"}
# iOS Mail renders messages in a bare WebKit view; elsewhere that view means an in-app browser.
IOS_WEBVIEW_FAMILY = "Mobile Safari UI/WKWebView"
APPLE_MAIL = "Apple Mail"

MAX_FAMILY_LENGTH = 50
# Bounds the cache's memory against absurd headers; real user agents stay far below this.
MAX_USER_AGENT_LENGTH = 1024
CACHE_SIZE = 8192


def _markers(words: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(map(re.escape, words)), re.IGNORECASE)


_PROXY_PATTERNS = tuple((_markers((word,)), reason) for word, reason in MAIL_PROXIES)
_SCANNER = _markers(SECURITY_SCANNERS)
_LINK_PREVIEW = _markers(LINK_PREVIEWS)
_HEADLESS = _markers(HEADLESS_BROWSERS)
_HTTP_LIBRARY = _markers(HTTP_LIBRARIES)
_CRAWLER = _markers(CRAWLERS + AUTOMATED)
_PREFETCH_PURPOSE = re.compile(r"prefetch|preview", re.IGNORECASE)
# "Tablet PC" is a Windows touch-laptop token, not a tablet.
_TABLET = re.compile(r"iPad|Kindle|Silk/|PlayBook|Tablet(?! PC)", re.IGNORECASE)
_MOBILE = re.compile(r"Mobi|iPhone|iPod|Windows Phone|Opera Mini|BlackBerry", re.IGNORECASE)


def classify_request(
    kind: str, method: str, user_agent: str, purpose: str = "", owner: Owner | None = None
) -> Verdict:
    """Label one hit from its own signals: user agent, owner network, method, purpose headers."""
    return request_verdict(
        kind, classify_agent(kind, user_agent), owner, method, is_prefetch(purpose)
    )


def classify_agent(kind: str, user_agent: str) -> Verdict:
    """What the user agent alone says (cached): a mail proxy, a bot, a browser and its device."""
    if kind not in KINDS:
        raise ValueError(f"unknown hit kind {kind!r}")
    return _classify_agent(kind, (user_agent or "")[:MAX_USER_AGENT_LENGTH])


def is_prefetch(purpose: str) -> bool:
    """Whether the purpose headers (Sec-Purpose, Purpose, X-Moz) announce a prefetch or preview."""
    return bool(purpose) and _PREFETCH_PURPOSE.search(purpose) is not None


@lru_cache(maxsize=CACHE_SIZE)
def _classify_agent(kind: str, user_agent: str) -> Verdict:
    """Classify by user agent alone; cached because the same few agents make most hits."""
    text = user_agent.strip()
    if not text:
        return Verdict("bot", ("empty-user-agent",), None, None, None)
    for pattern, reason in _PROXY_PATTERNS:
        if pattern.search(text):
            return Verdict("proxy", (reason,), None, None, None)
    if text == APPLE_PRIVACY_USER_AGENT:
        # Apple's relay only preloads images; a link followed with the bare UA is not Apple Mail.
        if kind == "open":
            return Verdict("machine", ("apple-mail-privacy",), None, None, None)
        return Verdict("bot", ("generic-user-agent",), None, None, None)
    if _SCANNER.search(text):
        return Verdict("scanner", ("security-scanner",), None, None, None)
    device_family, os_family, browser = _parse(text)
    if _LINK_PREVIEW.search(text):
        return Verdict("prefetch", ("link-preview",), None, None, browser)
    if _HEADLESS.search(text):
        return Verdict("bot", ("headless-browser",), None, None, browser)
    if _HTTP_LIBRARY.search(text) or text.lower() in BARE_PROGRAMS:
        return Verdict("bot", ("http-library",), None, None, browser)
    if device_family == "Spider" or _CRAWLER.search(text):
        return Verdict("bot", ("crawler",), None, None, browser)
    if _DECLARED.search(text):
        return Verdict("bot", ("declared-robot",), None, None, browser)
    return _human(kind, text, device_family, os_family, browser)


def _human(
    kind: str, text: str, device_family: str | None, os_family: str | None, browser: str | None
) -> Verdict:
    if kind == "open" and browser == IOS_WEBVIEW_FAMILY:
        browser = APPLE_MAIL
    if device_family is None and os_family is None and browser is None:
        return Verdict("human", ("unknown-client",), None, None, None)
    device_type = _device_type(text, os_family)
    return Verdict("human", (), device_type, os_family, browser)


def _device_type(text: str, os_family: str | None) -> str:
    if _TABLET.search(text):
        return "tablet"
    # Android's convention: phones say "Mobile", tablets don't.
    if os_family == "Android":
        return "mobile" if "Mobile" in text else "tablet"
    if os_family == "iOS" or _MOBILE.search(text):
        return "mobile"
    return "desktop"


def _parse(text: str) -> tuple[str | None, str | None, str | None]:
    """Device, OS and browser families from ua-parser; None where it knows nothing."""
    if not text.isascii():
        # The native parser wants encodable UTF-8; headers decoded as latin-1 always are,
        # but lone surrogates from other callers are not.
        text = text.encode("utf-8", "replace").decode("utf-8")
    result = _resolver()(text, Domain.ALL)
    device = result.device.family if result.device else None
    os_family = result.os.family if result.os else None
    browser = result.user_agent.family if result.user_agent else None
    if browser is not None:
        browser = FAMILY_ALIASES.get(browser, browser)
    return _family(device), _family(os_family), _family(browser)


def _family(value: str | None) -> str | None:
    if not value or value == "Other":
        return None
    return value[:MAX_FAMILY_LENGTH]


@cache
def _resolver() -> Resolver:
    # The native regex resolver takes lazy matchers (it compiles the patterns itself); the
    # pure-Python fallback needs eager ones. No ua-parser cache: _classify_agent caches above it.
    # Built on first use because compiling the pattern set takes a noticeable fraction of a second.
    if BestAvailableResolver is BasicResolver:
        return BasicResolver(load_builtins())
    return BestAvailableResolver(load_lazy_builtins())
