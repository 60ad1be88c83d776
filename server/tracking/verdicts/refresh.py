"""`flask network update`: fetch the operators' published lists again and write the data in force.

Each source in the data file names its URL and, when the operator publishes a machine-readable
list, its format. Those are fetched and parsed; an operator whose lists are prose on a help page
(or whose fetch fails) keeps the ranges it had, so an update never loses knowledge. The result is
written to the instance folder, where it takes precedence over the shipped file.
"""

from __future__ import annotations

import csv
import io
import ipaddress
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

TIMEOUT = 30
_SPF_TERM = re.compile(r"\bip[46]:(\S+)", re.IGNORECASE)


def _cidr(text: str) -> str | None:
    try:
        return str(ipaddress.ip_network(text.strip(), strict=False))
    except ValueError:
        return None


def _json_prefixes(text: str) -> list[str]:
    """AWS ip-ranges.json, Google's goog.json/cloud.json and fetcher lists, Azure service tags,
    Oracle's public_ip_ranges.json, Zscaler's hub list."""
    data = json.loads(text)
    found: list[str] = list(data.get("hubPrefixes", ()))
    for key in ("prefixes", "ipv6_prefixes"):
        for entry in data.get(key, ()):
            for field_name in ("ip_prefix", "ipv6_prefix", "ipv4Prefix", "ipv6Prefix"):
                if field_name in entry:
                    found.append(entry[field_name])
    for value in data.get("values", ()):
        found.extend(value.get("properties", {}).get("addressPrefixes", ()))
    for region in data.get("regions", ()):
        found.extend(c["cidr"] for c in region.get("cidrs", ()) if "cidr" in c)
    return found


def _m365_exchange(text: str) -> list[str]:
    """Microsoft 365's endpoints web service: the Exchange Online mail-flow sets (EOP)."""
    return [
        ip
        for entry in json.loads(text)
        if entry.get("id") in (9, 10)
        for ip in entry.get("ips", ())
    ]


def _csv_first_column(text: str) -> list[str]:
    """Apple's egress-ip-ranges.csv: the range is the first column."""
    return [row[0] for row in csv.reader(io.StringIO(text)) if row]


def _lines(text: str) -> list[str]:
    """One range per line; '#' starts a comment."""
    return [
        line.split("#")[0].split()[0] for line in text.splitlines() if line.split("#")[0].split()
    ]


def _spf(text: str) -> list[str]:
    """ip4:/ip6: terms of an SPF record."""
    return _SPF_TERM.findall(text)


PARSERS: dict[str, Callable[[str], list[str]]] = {
    "json": _json_prefixes,
    "csv": _csv_first_column,
    "lines": _lines,
    "spf": _spf,
    "m365-exchange": _m365_exchange,
}


@dataclass
class UpdateReport:
    """Per operator: ranges before and after; the sources that failed and why."""

    counts: dict[str, tuple[int, int]] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)


def parse(fmt: str, text: str) -> list[str]:
    """The valid ranges a source of format `fmt` lists, normalised."""
    return [c for c in (_cidr(item) for item in PARSERS[fmt](text)) if c]


def _fetch(url: str) -> str:
    response = requests.get(url, timeout=TIMEOUT)
    response.raise_for_status()
    return response.text


def mirrored(url: str, mirror: str | None) -> str:
    """`url` fetched from `mirror` instead (same path), for servers that only reach a mirror."""
    if not mirror:
        return url
    parts = urlsplit(url)
    return mirror.rstrip("/") + "/" + parts.netloc + parts.path


def update(
    data: dict[str, Any], fetch: Callable[[str], str] = _fetch, mirror: str | None = None
) -> tuple[dict[str, Any], UpdateReport]:
    """A copy of `data` with every machine-readable source fetched again."""
    today = datetime.now(UTC).date().isoformat()
    out = json.loads(json.dumps(data))
    report = UpdateReport()
    for key, entry in out.get("operators", {}).items():
        before = len(entry.get("ranges", ()))
        fresh: list[str] = []
        sources = [s for s in entry.get("sources", ()) if s.get("format") in PARSERS]
        for source in sources:
            try:
                found = parse(source["format"], fetch(mirrored(source["url"], mirror)))
                if not found:
                    raise ValueError("the list holds no ranges")
                fresh += found
                source["date"] = today
            except (requests.RequestException, ValueError, KeyError) as exc:
                report.failures[f"{key}: {source['url']}"] = str(exc)[:200]
                fresh = []
                break
        if sources and fresh:
            # Ranges from sources no program can read (help pages, DNS records, BGP tables)
            # cannot be told apart from the rest: such an operator keeps its old ones too.
            if len(sources) < len(entry.get("sources", ())):
                fresh += entry.get("ranges", [])
            entry["ranges"] = sorted(set(fresh), key=_sort_key)
        report.counts[key] = (before, len(entry.get("ranges", ())))
    out["version"] = today
    return out, report


def _sort_key(cidr: str) -> tuple[int, int]:
    network = ipaddress.ip_network(cidr)
    return network.version, int(network.network_address)


def write(path: Path, data: dict[str, Any]) -> None:
    """Write the data file atomically (a crash leaves the old one in force)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(data, indent=1, sort_keys=False) + "\n")
    partial.replace(path)
