"""Clearbit's combined person + company lookup, mapped to exactly the fields our data
processing policy lists (docs/contacts.md has the table). Everything else in the answer — exact
coordinates, street addresses, follower counts, ids, tags — is dropped before it is stored."""

from __future__ import annotations

import logging
import time

import requests

from server.contacts.enrichment.base import Lookup

log = logging.getLogger(__name__)

URL = "https://person.clearbit.com/v2/combined/find"
# Connect and read timeouts: a slow provider is retried later, never waited on for long.
TIMEOUT = (5.0, 20.0)
# Clearbit sends X-RateLimit-Reset as seconds until the window resets; a value this large can
# only be a Unix time, which some gateways send instead.
EPOCH_THRESHOLD = 1_000_000_000


def _raw(data, *path):
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


# Typed reads: a field of the wrong type in an answer is treated as absent, never stored, and
# never breaks the lookup or the filling-in of blanks that reads it.
def _get(data, *path) -> str | None:
    value = _raw(data, *path)
    return value if isinstance(value, str) else None


def _number(data, *path) -> int | float | None:
    value = _raw(data, *path)
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def _texts(data, *path) -> list[str]:
    value = _raw(data, *path)
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _handles(data: dict, networks: tuple[str, ...]) -> dict:
    return {net: _get(data, net, "handle") for net in networks}


def _location(geo) -> dict:
    # City level at most: no street, postal code or coordinates.
    return {"city": _get(geo, "city"), "state": _get(geo, "state"), "country": _get(geo, "country")}


def map_person(person) -> dict | None:
    """The policy's person fields from Clearbit's person object."""
    if not isinstance(person, dict):
        return None
    return {
        "name": {
            "full": _get(person, "name", "fullName"),
            "given": _get(person, "name", "givenName"),
            "family": _get(person, "name", "familyName"),
        },
        "bio": _get(person, "bio"),
        "site": _get(person, "site"),
        "avatar": _get(person, "avatar"),
        "employment": {
            "company": _get(person, "employment", "name"),
            "title": _get(person, "employment", "title"),
            "role": _get(person, "employment", "role"),
            "sub_role": _get(person, "employment", "subRole"),
            "seniority": _get(person, "employment", "seniority"),
        },
        "location": _location(person.get("geo")),
        "time_zone": _get(person, "timeZone"),
        "social": _handles(person, ("facebook", "github", "twitter", "linkedin", "gravatar")),
    }


def map_company(company) -> dict | None:
    """The policy's company fields from Clearbit's company object."""
    if not isinstance(company, dict):
        return None
    phones = _texts(company, "site", "phoneNumbers")
    phone = _get(company, "phone")
    if phone and phone not in phones:
        phones.insert(0, phone)
    return {
        "name": _get(company, "name"),
        "logo": _get(company, "logo"),
        "description": _get(company, "description"),
        "domain": _get(company, "domain"),
        "domain_aliases": _texts(company, "domainAliases"),
        "phones": phones,
        "emails": _texts(company, "site", "emailAddresses"),
        "sector": _get(company, "category", "sector"),
        "industry_group": _get(company, "category", "industryGroup"),
        "sub_industry": _get(company, "category", "subIndustry"),
        "founded": _number(company, "foundedYear"),
        "location": _location(company.get("geo")),
        "time_zone": _get(company, "timeZone"),
        "social": _handles(company, ("facebook", "linkedin", "twitter", "crunchbase")),
        "employees": _number(company, "metrics", "employees"),
        "financials": {
            "raised": _number(company, "metrics", "raised"),
            "annual_revenue": _number(company, "metrics", "annualRevenue"),
            "estimated_annual_revenue": _get(company, "metrics", "estimatedAnnualRevenue"),
            "market_cap": _number(company, "metrics", "marketCap"),
        },
        "technologies": _texts(company, "tech"),
        "parent": _get(company, "parent", "domain"),
    }


def _seconds(raw: str | None) -> float | None:
    try:
        return max(0.0, float(raw.strip())) if raw and raw.strip() else None
    except ValueError:
        return None


def _retry_after(response: requests.Response) -> float | None:
    """How long the provider asks us to wait: Retry-After, else until X-RateLimit-Reset."""
    wait = _seconds(response.headers.get("Retry-After"))
    if wait is not None:
        return wait
    reset = _seconds(response.headers.get("X-RateLimit-Reset"))
    if reset is not None and reset > EPOCH_THRESHOLD:
        reset = max(0.0, reset - time.time())  # a point in time (Unix seconds), not a delay
    return reset


def _error_type(response: requests.Response) -> str:
    try:
        return str(_get(response.json(), "error", "type") or response.status_code)
    except ValueError:
        return str(response.status_code)


class ClearbitProvider:
    """Clearbit's Enrichment API (combined lookup), authenticated with a secret key."""

    name = "clearbit"

    def __init__(self, api_key: str, http: requests.Session | None = None):
        self.api_key = api_key
        self.http = http or requests.Session()

    def lookup(self, email: str) -> Lookup:
        """One combined lookup; network trouble and provider errors become outcomes."""
        try:
            response = self.http.get(
                URL,
                params={"email": email},
                headers={"Authorization": f"Bearer {self.api_key}"},
                timeout=TIMEOUT,
            )
        except requests.Timeout:
            return Lookup("retry", detail="timeout")
        except requests.RequestException as exc:
            return Lookup("retry", detail=f"network: {type(exc).__name__}")
        return self._read(response)

    def _read(self, response: requests.Response) -> Lookup:
        status = response.status_code
        if status == 200:
            return self._found(response)
        if status == 202:
            return Lookup("queued", detail="queued by the provider")
        if status == 404:
            return Lookup("not_found", detail=_error_type(response))
        if status == 422:
            return Lookup("invalid", detail=_error_type(response))
        if status == 429 or status >= 500:
            return Lookup("retry", retry_after=_retry_after(response), detail=f"http {status}")
        return Lookup("error", detail=f"http {status}: {_error_type(response)}")

    def _found(self, response: requests.Response) -> Lookup:
        try:
            body = response.json()
        except ValueError:
            return Lookup("retry", detail="unreadable answer")
        person, company = map_person(_raw(body, "person")), map_company(_raw(body, "company"))
        if person is None and company is None:
            return Lookup("not_found", detail="empty answer")
        return Lookup("found", person=person, company=company)
