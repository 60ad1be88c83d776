"""Build the labelled scenario set (scenarios.json) from public sources, reproducibly.

User agents: user_agents.json (verbatim strings from uap-core, device-detector, crawler-user-agents,
crawlerdetect, intoli's user-agents and issue threads; sources per string, README.md). Addresses:
inside the operators' published ranges (the shipped network data), or inside residential and
mobile ISPs' registry allocations (RESIDENTIAL below, checked to be in no operator's list).
Timings follow what each kind of traffic does: gateways fetch seconds to minutes after delivery,
every link at once; people open later and tap links seconds apart.

    python -m tests.tracking.verdicts.labelled.build   # rewrites scenarios.json
"""

from __future__ import annotations

import ipaddress
import json
import random
from pathlib import Path

from server.tracking.verdicts import network

HERE = Path(__file__).parent
SEED = 20261204
# Registry allocations of residential and mobile ISPs (RIR whois): Comcast, BT, Orange France,
# Deutsche Telekom, T-Mobile US, Verizon Wireless, Telefonica Spain, and IPv6 of Comcast, DTAG and
# T-Mobile US.
RESIDENTIAL = {
    "broadband": [
        "73.0.0.0/8",
        "86.128.0.0/10",
        "90.0.0.0/9",
        "79.192.0.0/10",
        "83.32.0.0/11",
        "2601::/20",
        "2003::/19",
    ],
    "mobile": ["172.56.0.0/13", "174.192.0.0/10", "2607:fb90::/28"],
}
BROWSERS = ["desktop_chrome", "desktop_firefox", "desktop_edge", "desktop_safari"]
PHONES = ["mobile_safari_iphone", "android_chrome", "samsung_internet", "ios_mail"]
CLIENTS = [
    "outlook_desktop",
    "outlook_mac",
    "thunderbird",
    "apple_mail_macos",
    "windows_mail",
    "outlook_mobile",
    "ios_mail",
    "ios_gmail_app",
    "android_webview",
]
APPLE_AGENTS = ["apple_mail_macos", "ios_mail", "desktop_safari", "apple_mail_privacy_proxy"]
CLOUDS = ["aws", "google-cloud", "digitalocean", "ovh", "hetzner", "linode", "oracle", "vultr"]
GATEWAYS = {
    "mimecast": 12,
    "proofpoint": 12,
    "barracuda": 8,
    "cisco-secure-email": 8,
    "trend-micro": 6,
    "symantec": 6,
}
LANGUAGES = ["en-US,en;q=0.9", "en-GB,en;q=0.9", "de-DE,de;q=0.9,en;q=0.8", "fr-FR,fr;q=0.9"]


class Builder:
    """Draws addresses, agents and timings from one seeded generator."""

    def __init__(self):
        self.rng = random.Random(SEED)
        self.agents = json.loads((HERE / "user_agents.json").read_text())
        self.data = json.loads(network.SHIPPED.read_text())["operators"]
        self.index = network.load(network.SHIPPED)
        self.scenarios: list[dict] = []

    def agent(self, *groups: str) -> str:
        return self.rng.choice(self.agents[self.rng.choice(groups)])["ua"]

    def address_in(self, cidrs: list[str], v4_only: bool = False) -> str:
        choices = [c for c in cidrs if not v4_only or ":" not in c]
        net = ipaddress.ip_network(self.rng.choice(choices))
        size = min(net.num_addresses, 2**32)
        return str(net.network_address + self.rng.randrange(1, max(2, size - 1)))

    def operator_ip(self, key: str, v6: bool = False) -> str:
        # IPv4 where the operator has it (unless asked for IPv6): a stored /24 keeps more of a
        # finer range than a /48.
        ranges = self.data[key]["ranges"]
        if v6:
            ranges = [r for r in ranges if ":" in r]
        ip = self.address_in(ranges, v4_only=any(":" not in r for r in ranges))
        assert self.index.owner_of_block(_block(ip)).operator == key, (key, ip)
        return ip

    def person_ip(self, kind: str = "broadband") -> str:
        ip = self.address_in(RESIDENTIAL[kind])
        assert self.index.owner_of_block(_block(ip)) is None, ip
        return ip

    def browser_headers(self, ua: str) -> dict:
        return {"User-Agent": ua, "Accept-Language": self.rng.choice(LANGUAGES)}

    def add(self, traffic: str, hits: list[dict], links: int = 2, domain: str = "acme.example"):
        name = f"{traffic}-{sum(s['traffic'] == traffic for s in self.scenarios) + 1}"
        recipient = f"lead{len(self.scenarios)}@{domain}"
        self.scenarios.append(
            {
                "name": name,
                "traffic": traffic,
                "links": links,
                "recipients": [recipient],
                "hits": sorted(hits, key=lambda h: h["at"]),
            }
        )


def _block(ip: str) -> str:
    address = ipaddress.ip_address(ip)
    bits = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{bits}", strict=False).network_address)


def hit(at, kind, ip, headers, expect, link=None, method="GET") -> dict:
    """One request of a scenario: seconds after sending, what, from where, and its true label."""
    return {
        "at": round(at, 3),
        "kind": kind,
        "link": link,
        "ip": ip,
        "method": method,
        "headers": headers,
        "expect": expect,
    }


def view(at: float) -> dict:
    """The sender opening their own thread (the extension's self-view signal)."""
    return {"at": round(at, 3), "kind": "self-view"}


def apple_privacy(b: Builder) -> None:
    for _ in range(30):
        relay = b.rng.choice(["icloud-private-relay", "icloud-private-relay", "apple"])
        v6 = relay != "apple" and b.rng.random() < 0.4  # relays reach us over IPv6 too
        at = b.rng.uniform(1, 1800)
        agent = {"User-Agent": b.agent(*APPLE_AGENTS)}
        hits = [hit(at, "open", b.operator_ip(relay, v6), agent, "machine")]
        if b.rng.random() < 0.4:  # a second prefetch when the mailbox syncs again
            hits.append(
                hit(
                    at + b.rng.uniform(5, 90),
                    "open",
                    b.operator_ip(relay, v6),
                    {"User-Agent": b.agent(*APPLE_AGENTS)},
                    "machine",
                )
            )
        if b.rng.random() < 0.3:  # the reader later taps a link on their phone
            ua = b.agent("mobile_safari_iphone")
            hits.append(
                hit(
                    hits[-1]["at"] + b.rng.uniform(20, 100),
                    "click",
                    b.person_ip("mobile"),
                    b.browser_headers(ua),
                    "human",
                    link=0,
                )
            )
        b.add(
            "apple-mail-privacy",
            hits,
            domain=b.rng.choice(["icloud.com", "me.com", "acme.example"]),
        )


def gateway_burst(b: Builder, traffic: str, operators: list[str], count: int, pixel=True) -> None:
    for _ in range(count):
        operator = b.rng.choice(operators)
        links = b.rng.randint(1, 4)
        at = b.rng.uniform(2, 240)
        ua = b.agent(*BROWSERS)
        headers = b.browser_headers(ua) if b.rng.random() < 0.5 else {"User-Agent": ua}
        hits = []
        if pixel:
            hits.append(hit(at, "open", b.operator_ip(operator), headers, "scanner"))
        for link in range(links):
            at += b.rng.uniform(0.02, 0.6)
            hits.append(hit(at, "click", b.operator_ip(operator), headers, "scanner", link=link))
        b.add(traffic, hits, links=links)


def safe_links(b: Builder) -> None:
    for i in range(20):
        links = b.rng.randint(1, 3)
        at = b.rng.uniform(3, 200)
        ua = b.agent("desktop_edge", "desktop_chrome")
        headers = b.browser_headers(ua) if b.rng.random() < 0.5 else {"User-Agent": ua}
        hits = []
        if i % 4 == 0:  # detonation of the pixel as the message is delivered
            hits.append(
                hit(b.rng.uniform(1, 8), "open", b.operator_ip("microsoft-eop"), headers, "scanner")
            )
        operator = "microsoft-eop" if i % 3 else "microsoft"
        for link in range(links):
            at += b.rng.uniform(0.05, 1.5)
            hits.append(hit(at, "click", b.operator_ip(operator), headers, "scanner", link=link))
        b.add("safe-links", hits, links=links)


def phone_taps(b: Builder) -> None:
    for _ in range(20):
        ua = b.agent(*PHONES)
        ip = b.person_ip(b.rng.choice(["mobile", "broadband"]))
        at = b.rng.uniform(60, 7200)
        open_ua = ua if b.rng.random() < 0.5 else b.agent("ios_mail")
        hits = [hit(at, "open", ip, b.browser_headers(open_ua), "human")]
        at += b.rng.uniform(15, 90)
        hits.append(hit(at, "click", ip, b.browser_headers(ua), "human", link=0))
        at += b.rng.uniform(1.8, 4.5)  # back to the mail, tap the next link
        hits.append(hit(at, "click", ip, b.browser_headers(ua), "human", link=1))
        b.add("person-tapping-links", hits)


def proxy_open(b: Builder, at: float, operator: str, agents: str) -> dict:
    """An open fetched by a mail provider's image proxy: a real read, location hidden."""
    return hit(at, "open", b.operator_ip(operator), {"User-Agent": b.agent(agents)}, "proxy")


def gmail_proxy(b: Builder) -> None:
    for _ in range(20):
        at = b.rng.uniform(30, 50000)
        hits = [proxy_open(b, at, "google-image-proxy", "gmail_image_proxy")]
        if b.rng.random() < 0.4:
            later = at + b.rng.uniform(30, 100)
            hits.append(proxy_open(b, later, "google-image-proxy", "gmail_image_proxy"))
        if b.rng.random() < 0.4:
            ua = b.agent(*BROWSERS)
            hits.append(
                hit(
                    hits[-1]["at"] + b.rng.uniform(10, 60),
                    "click",
                    b.person_ip(),
                    b.browser_headers(ua),
                    "human",
                    link=0,
                )
            )
        b.add("gmail-proxy", hits, domain="gmail.com")


def self_views(b: Builder) -> None:
    proxy = lambda: {"User-Agent": b.agent("gmail_image_proxy")}  # noqa: E731
    for i in range(20):
        at = b.rng.uniform(120, 20000)
        ip = b.operator_ip("google-image-proxy")
        if i < 10:  # "Dana opened your mail": the rep clicks the notification
            hits = [hit(at, "open", ip, proxy(), "proxy"), view(at + b.rng.uniform(2, 25))]
        elif i < 16:  # the rep's own view slips past the blocking rule
            hits = [view(at), hit(at + b.rng.uniform(0.3, 3), "open", ip, proxy(), "self")]
        else:  # both: the recipient's open, then the rep's view and its own fetch
            seen = at + b.rng.uniform(4, 20)
            hits = [
                hit(at, "open", ip, proxy(), "proxy"),
                view(seen),
                hit(seen + b.rng.uniform(0.3, 2), "open", ip, proxy(), "self"),
            ]
        b.add("self-view", hits, domain="gmail.com")


def clients(b: Builder) -> None:
    for _ in range(24):
        ua = b.agent(*CLIENTS)
        ip = b.person_ip(b.rng.choice(["broadband", "mobile"]))
        at = b.rng.uniform(40, 40000)
        hits = [hit(at, "open", ip, b.browser_headers(ua), "human")]
        if b.rng.random() < 0.5:
            browser = b.agent(*BROWSERS)
            hits.append(
                hit(
                    at + b.rng.uniform(5, 80),
                    "click",
                    ip,
                    b.browser_headers(browser),
                    "human",
                    link=b.rng.randint(0, 1),
                )
            )
        b.add("mail-client", hits)
    for _ in range(8):  # Outlook.com and OWA fetch images from Microsoft's network
        at = b.rng.uniform(400, 40000)
        ua = b.agent("desktop_edge", "desktop_chrome")
        hits = [hit(at, "open", b.operator_ip("microsoft"), {"User-Agent": ua}, "human")]
        hits.append(
            hit(
                at + b.rng.uniform(10, 60),
                "click",
                b.person_ip(),
                b.browser_headers(ua),
                "human",
                link=0,
            )
        )
        b.add("outlook-web", hits, domain="outlook.com")
    for _ in range(5):
        at = b.rng.uniform(60, 40000)
        hits = [proxy_open(b, at, "yahoo", "yahoo_mail_proxy")]
        b.add("yahoo-proxy", hits, domain="yahoo.com")


PREVIEWS = [
    "facebookexternalhit",
    "Slackbot",
    "Twitterbot",
    "WhatsApp",
    "TelegramBot",
    "Discordbot",
    "LinkedInBot",
    "SkypeUriPreview",
]


def machines(b: Builder) -> None:
    previews = [a["ua"] for a in b.agents["link_previews"] if any(p in a["ua"] for p in PREVIEWS)]
    for _ in range(8):
        at = b.rng.uniform(60, 20000)
        ua = b.rng.choice(previews)
        b.add(
            "link-preview",
            [hit(at, "click", b.person_ip(), {"User-Agent": ua}, "prefetch", link=0)],
        )
    for _ in range(4):
        at = b.rng.uniform(60, 20000)
        ua = b.agent("desktop_chrome")
        headers = b.browser_headers(ua) | {"Sec-Purpose": "prefetch"}
        b.add("browser-prefetch", [hit(at, "click", b.person_ip(), headers, "prefetch", link=0)])
    programs(b)


def programs(b: Builder) -> None:
    """Crawlers, headless browsers and HTTP libraries, from homes and clouds; link checkers."""
    for group, traffic, count in (("crawlers", "crawler", 8), ("headless", "headless", 6)):
        known = [a["ua"] for a in b.agents[group]]
        for _ in range(count):
            ip = b.rng.choice([b.person_ip(), b.operator_ip(b.rng.choice(CLOUDS))])
            kind = b.rng.choice(["open", "click"])
            b.add(
                traffic,
                [
                    hit(
                        b.rng.uniform(60, 20000),
                        kind,
                        ip,
                        {"User-Agent": b.rng.choice(known)},
                        "bot",
                        link=0,
                    )
                ],
            )
    libraries = [
        "curl/",
        "python-requests/",
        "Go-http-client/",
        "okhttp/",
        "Java/",
        "Wget/",
        "axios/",
        "Python-urllib/",
        "libwww-perl/",
        "Apache-HttpClient/",
    ]
    known = [a["ua"] for a in b.agents["http_libraries"] if a["ua"].startswith(tuple(libraries))]
    for _ in range(8):
        b.add(
            "http-library",
            [
                hit(
                    b.rng.uniform(60, 20000),
                    "click",
                    b.person_ip(),
                    {"User-Agent": b.rng.choice(known)},
                    "bot",
                    link=0,
                )
            ],
        )
    for _ in range(5):
        ua = b.agent(*BROWSERS)
        b.add(
            "head-check",
            [
                hit(
                    b.rng.uniform(60, 20000),
                    "click",
                    b.person_ip(),
                    {"User-Agent": ua},
                    "scanner",
                    link=0,
                    method="HEAD",
                )
            ],
        )


def build() -> list[dict]:
    """Every scenario, in a fixed order."""
    b = Builder()
    apple_privacy(b)
    gateway_burst(b, "cloud-gateway", CLOUDS, 25)
    safe_links(b)
    for operator, count in GATEWAYS.items():
        gateway_burst(b, operator, [operator], count, pixel=b.rng.random() < 0.7)
    phone_taps(b)
    gmail_proxy(b)
    self_views(b)
    clients(b)
    machines(b)
    return b.scenarios


if __name__ == "__main__":
    scenarios = build()
    (HERE / "scenarios.json").write_text(json.dumps(scenarios, indent=1, ensure_ascii=False) + "\n")
    hits = sum(1 for s in scenarios for h in s["hits"] if h["kind"] != "self-view")
    print(f"{len(scenarios)} scenarios, {hits} hits")
