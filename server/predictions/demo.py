"""The demo world: clearly fake companies, contacts, reps and their mail, simulated with
per-contact and per-company propensities so the predictions have something to find.

Every address is on a reserved name (RFC 2606: `.example` companies, `demo.invalid` reps), every
network address in the documentation ranges (RFC 5737). Opens come with the verdict mix real
traffic has: proxy and human reads, Apple Mail Privacy Protection prefetches (machine), security
gateway scans (scanner), the sender's own views (self), some bots and link previews. Nothing here
touches the database (seeding.py writes it).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

DAY, HOUR, MINUTE = 86400.0, 3600.0, 60.0
REP_DOMAIN = "demo.invalid"
COMPANY_TLD = ".example"
DOC_NETWORKS = ("192.0.2.0", "198.51.100.0", "203.0.113.0")
FIRST = (
    "Ana",
    "Ben",
    "Chloe",
    "Dev",
    "Emil",
    "Fatima",
    "Goran",
    "Hana",
    "Ivo",
    "Jun",
    "Kofi",
    "Lena",
    "Mateo",
    "Nora",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sven",
    "Tara",
    "Uma",
    "Viktor",
)
LAST = (
    "Alvarez",
    "Berg",
    "Chen",
    "Dubois",
    "Eze",
    "Fischer",
    "Garcia",
    "Hughes",
    "Ito",
    "Jansen",
    "Kowalski",
    "Larsen",
    "Moreau",
    "Novak",
    "Okafor",
    "Petrov",
    "Rossi",
    "Silva",
    "Tanaka",
)
STEMS = (
    "acme",
    "globex",
    "initech",
    "umbrella",
    "hooli",
    "vandelay",
    "stark",
    "wayne",
    "tyrell",
    "cyberdyne",
    "soylent",
    "wonka",
    "gringotts",
    "oscorp",
    "pied-piper",
    "dunder",
)
# Where a company's people read, by its time zone, and the devices they read on (browser, OS, type).
PLACES = {
    -5: ("US", "New York", "New York"),
    0: ("GB", "England", "London"),
    1: ("DE", "Berlin", "Berlin"),
}
DEVICES = (
    ("Chrome", "Windows", "desktop"),
    ("Chrome", "Mac OS X", "desktop"),
    ("Outlook", "Windows", "desktop"),
    ("Mobile Safari", "iOS", "mobile"),
    ("Chrome Mobile", "Android", "mobile"),
)
APPLE_DEVICES = (("Apple Mail", "Mac OS X", "desktop"), ("Mobile Safari", "iOS", "mobile"))
TITLES = ("Head of Sales", "CTO", "Procurement Lead", "VP Marketing", "Founder", "Ops Manager")


def sigmoid(z: float) -> float:
    """The logistic function."""
    return 1 / (1 + math.exp(-z))


@dataclass
class Company:
    """A demo company and its hidden traits."""

    domain: str
    name: str
    tz: int  # hours east of UTC
    lift: float  # log-odds added to its people's open and reply chances
    gateway: bool  # a security gateway scans every message and link
    google: bool  # its mail is Gmail: real opens arrive through Google's image proxy


@dataclass
class Person:
    """A demo contact and their hidden traits."""

    email: str
    name: str
    title: str
    company: Company
    lift: float
    peak: float  # local hour they read mail
    apple: bool  # Apple Mail Privacy Protection fetches every message's images on delivery
    bounces: bool  # the address no longer exists


@dataclass
class Demo:
    """The whole demo world, and the mail simulated in it."""

    reps: list[dict] = field(default_factory=list)
    companies: list[Company] = field(default_factory=list)
    people: list[Person] = field(default_factory=list)
    # Sent messages: {"rep", "person", "sent_at", "link", "thread"} and their events.
    messages: list[dict] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)


def world(rng: random.Random, contacts: int, account_id: int) -> Demo:
    """Reps, companies and people with their hidden propensities."""
    demo = Demo()
    n_reps = min(max(2, contacts // 600), 12)
    demo.reps = [
        {
            "email": f"rep{i + 1}.{account_id}@{REP_DOMAIN}",
            "name": f"Demo Rep {i + 1}",
            "tz": rng.choice((-5, 0, 1)),
            "lift": rng.gauss(0, 0.25),
        }
        for i in range(n_reps)
    ]
    for i in range(max(1, contacts // 6)):
        stem = STEMS[i % len(STEMS)]
        demo.companies.append(
            Company(
                f"{stem}-{i + 1}{COMPANY_TLD}",
                f"{stem.replace('-', ' ').title()} {i + 1}",
                rng.choice((-8, -5, -5, 0, 1, 1, 2)),
                rng.gauss(0, 0.7),
                rng.random() < 0.2,
                rng.random() < 0.45,
            )
        )
    for i in range(contacts):
        company = rng.choice(demo.companies)
        first, last = rng.choice(FIRST), rng.choice(LAST)
        email = f"{first}.{last}.{i + 1}@{company.domain}".lower()
        demo.people.append(
            Person(
                email,
                f"{first} {last}",
                rng.choice(TITLES),
                company,
                rng.gauss(0, 0.8),
                min(max(rng.gauss(9.5, 1.5), 7), 17),
                rng.random() < 0.3,
                rng.random() < 0.02,
            )
        )
    return demo


def send_times(rng: random.Random, rep: dict, start: float, end: float, count: int) -> list[float]:
    """`count` send times in working hours of the rep's zone, weekdays mostly, oldest first."""
    out = []
    while len(out) < count:
        t = rng.uniform(start, end)
        day = math.floor((t + rep["tz"] * HOUR) / DAY)
        if (day + 3) % 7 >= 5 and rng.random() > 0.05:  # 1970-01-01 was a Thursday
            continue
        local = min(max(rng.gauss(11, 2.5), 7.5), 18.5)
        at = day * DAY + local * HOUR - rep["tz"] * HOUR
        if start <= at < end:  # never sent in the future
            out.append(at)
    return sorted(out)


def next_read(rng: random.Random, person: Person, after: float) -> float:
    """When the person next reads mail after `after`: around their peak hour, in their zone,
    rarely at weekends, sometimes not that day."""
    tz = person.company.tz * HOUR
    day = math.floor((after + tz) / DAY)
    for offset in range(30):
        d = day + offset
        weekend = (d + 3) % 7 >= 5
        at = d * DAY + rng.gauss(person.peak, 1.3) * HOUR - tz
        if at > after and rng.random() < (0.15 if weekend else 0.75):
            return at
    return after + 30 * DAY


def simulate(rng: random.Random, demo: Demo, start: float, end: float) -> None:
    """Each person gets a few messages from their rep; each message its hits and answers."""
    owner = {p.email: rng.choice(demo.reps) for p in demo.people}
    for person in demo.people:
        rep = owner[person.email]
        count = 1 + _poisson(rng, 2.0)
        thread = f"{rng.getrandbits(60):015x}"
        for i, sent in enumerate(send_times(rng, rep, start, end, count)):
            message = {
                "rep": rep,
                "person": person,
                "sent_at": sent,
                "link": rng.random() < 0.6,
                "thread": thread,
                "n": i,
            }
            demo.messages.append(message)
            _outcome(rng, message)
            demo.events.extend(e for e in message.pop("events") if e["at"] < end)


def _poisson(rng: random.Random, mean: float) -> int:
    k, p, limit = 0, 1.0, math.exp(-mean)
    while True:
        p *= rng.random()
        if p < limit:
            return k
        k += 1


def _hit(message: dict, kind: str, at: float, verdict: str, reasons: str = "") -> dict:
    return {"kind": kind, "at": at, "verdict": verdict, "reasons": reasons, "message": message}


def _outcome(rng: random.Random, m: dict) -> None:
    person, rep, sent = m["person"], m["rep"], m["sent_at"]
    m["events"] = events = []
    if person.bounces:
        events.append(
            _hit(m, "bounce", sent + rng.uniform(5, 90), "machine", "gmail-delivery-failure")
        )
        return
    events.extend(_machine_hits(rng, m))
    local = ((sent / HOUR) + person.company.tz) % 24
    # Mail that lands while the person is at their desk is read sooner and answered more often.
    desk = 0.6 if abs(local - person.peak) <= 2.5 else -0.2
    base = person.lift + person.company.lift + rep["lift"]
    if rng.random() < sigmoid(0.1 + base + 0.4 * desk - 0.35 * m["n"]):
        opened = next_read(rng, person, sent + rng.expovariate(1 / (2 * HOUR)))
        verdict = "proxy" if person.company.google else "human"
        why = "gmail-image-proxy" if person.company.google else ""
        events.append(_hit(m, "open", opened, verdict, why))
        at = opened
        while rng.random() < 0.35:  # reads it again later
            at = next_read(rng, person, at + HOUR)
            events.append(_hit(m, "open", at, verdict, why))
        if m["link"] and rng.random() < sigmoid(-1.5 + 0.5 * base):
            events.append(_hit(m, "click", opened + rng.uniform(20, 600), "human"))
        if rng.random() < sigmoid(-1.9 + 1.2 * person.lift + 0.8 * person.company.lift + desk):
            replied = next_read(rng, person, opened + rng.expovariate(1 / (3 * HOUR)))
            events.append(_hit(m, "reply", replied, "human", "gmail-reply"))
    elif rng.random() < 0.02:  # images blocked, but answered
        events.append(_hit(m, "reply", next_read(rng, person, sent), "human", "gmail-reply"))
    if rng.random() < 0.02:
        events.append(
            _hit(m, "auto_reply", sent + rng.uniform(30, 300), "machine", "gmail-auto-reply")
        )


def _machine_hits(rng: random.Random, m: dict) -> list[dict]:
    """What arrives without anyone reading: prefetches, scans, the sender's own view, bots."""
    person, sent, out = m["person"], m["sent_at"], []
    if person.apple:
        out.append(_hit(m, "open", sent + rng.uniform(20, 900), "machine", "apple-mail-privacy"))
    if person.company.gateway:
        out.append(
            _hit(
                m,
                "open",
                sent + rng.uniform(2, 40),
                "scanner",
                "security-gateway,seconds-after-send",
            )
        )
        if m["link"]:
            out.append(
                _hit(
                    m, "click", sent + rng.uniform(2, 40), "scanner", "security-gateway,link-burst"
                )
            )
    if rng.random() < 0.1:
        out.append(_hit(m, "open", sent + rng.uniform(60, 1800), "self", "self-view"))
    if rng.random() < 0.01:
        out.append(_hit(m, "open", sent + rng.uniform(60, 5 * DAY), "bot", "declared-robot"))
    if m["link"] and rng.random() < 0.02:
        out.append(_hit(m, "click", sent + rng.uniform(5, 120), "prefetch", "link-preview"))
    return out


def seen_from(event: dict) -> dict:
    """The place and device a demo hit records, as the hot path would have: a person's reads
    come from their company's city on one of their two devices; Google's proxy hides both, and
    machines (prefetches, scanners, bots) show no device a person uses."""
    person, verdict = event["message"]["person"], event["verdict"]
    if verdict == "proxy":
        return {}
    tz = event["message"]["rep"]["tz"] if verdict == "self" else person.company.tz
    country, region, city = PLACES.get(tz, PLACES[0])
    where = {"country": country, "region": region, "city": city}
    if verdict == "self":  # the rep's own view, from the rep's desk
        return where | dict(
            zip(("browser_family", "os_family", "device_type"), DEVICES[1], strict=True)
        )
    if verdict != "human":
        return where
    devices = APPLE_DEVICES if person.apple else DEVICES
    # Stable per person (not Python's salted hash): the same two devices on every run.
    first = sum(map(ord, person.email)) % len(devices)
    pick = devices[(first + int(event["at"]) % 3 // 2) % len(devices)]
    return where | dict(zip(("browser_family", "os_family", "device_type"), pick, strict=True))
