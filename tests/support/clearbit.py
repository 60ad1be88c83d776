"""Answers shaped like Clearbit's combined Enrichment API (person + company), with the fields
our policy drops (ids, coordinates, street address, follower counts, tags) present, as they are
in real answers, so the tests can see them dropped; and `api`, the fixture that fakes Clearbit's
HTTP API with `responses` (a pytest plugin, registered in tests/conftest.py)."""

from __future__ import annotations

import copy

import pytest
import responses

URL = "https://person.clearbit.com/v2/combined/find"

PERSON = {
    "id": "d54c54ad-40be-4305-8a34-0ab44710b90d",
    "name": {"fullName": "Ana Ruiz", "givenName": "Ana", "familyName": "Ruiz"},
    "email": "ana@acme.com",
    "location": "San Francisco, CA, US",
    "timeZone": "America/Los_Angeles",
    "utcOffset": -8,
    "geo": {
        "city": "San Francisco",
        "state": "California",
        "stateCode": "CA",
        "country": "United States",
        "countryCode": "US",
        "lat": 37.7749295,
        "lng": -122.4194155,
    },
    "bio": "Builds data pipelines. Runs on coffee.",
    "site": "https://anaruiz.example",
    "avatar": "https://d1ts43dypk8bqh.cloudfront.net/v1/avatars/d54c54ad-40be-4305-8a34",
    "employment": {
        "domain": "acme.com",
        "name": "Acme",
        "title": "Chief Technology Officer",
        "role": "engineering",
        "subRole": "software_engineer",
        "seniority": "executive",
    },
    "facebook": {"handle": "ana.ruiz"},
    "github": {
        "handle": "anaruiz",
        "id": 1234,
        "avatar": "https://avatars.githubusercontent.com/u/1234",
        "company": "Acme",
        "blog": "https://anaruiz.example",
        "followers": 310,
        "following": 12,
    },
    "twitter": {
        "handle": "anaruiz",
        "id": "2006261",
        "bio": "CTO @acme",
        "followers": 1520,
        "following": 171,
        "statuses": 1430,
        "favorites": 21,
        "location": "San Francisco",
        "site": "https://anaruiz.example",
        "avatar": "https://pbs.twimg.com/profile_images/1/ana.png",
    },
    "linkedin": {"handle": "in/anaruiz"},
    "googleplus": {"handle": None},
    "gravatar": {
        "handle": "anaruiz",
        "urls": [{"value": "https://anaruiz.example", "title": "Site"}],
        "avatar": "https://secure.gravatar.com/avatar/abc",
        "avatars": [{"url": "https://secure.gravatar.com/avatar/abc", "type": "thumbnail"}],
    },
    "fuzzy": False,
    "emailProvider": False,
    "indexedAt": "2026-10-01T00:00:00.000Z",
}

COMPANY = {
    "id": "3f5d6a4e-c284-4f78-bfdf-7669b45af907",
    "name": "Acme Corporation",
    "legalName": "Acme Corporation, Inc.",
    "domain": "acme.com",
    "domainAliases": ["acme.io", "acmecorp.com"],
    "site": {"phoneNumbers": ["+1 415-555-0100"], "emailAddresses": ["hello@acme.com"]},
    "category": {
        "sector": "Information Technology",
        "industryGroup": "Software & Services",
        "industry": "Internet Software & Services",
        "subIndustry": "Application Software",
        "sicCode": "7374",
        "naicsCode": "5182",
    },
    "tags": ["Technology", "SAAS", "B2B"],
    "description": "Acme makes everything a coyote could want.",
    "foundedYear": 2014,
    "location": "90 Sheridan St, San Francisco, CA 94103, USA",
    "timeZone": "America/Los_Angeles",
    "utcOffset": -8,
    "geo": {
        "streetNumber": "90",
        "streetName": "Sheridan Street",
        "subPremise": None,
        "city": "San Francisco",
        "postalCode": "94103",
        "state": "California",
        "stateCode": "CA",
        "country": "United States",
        "countryCode": "US",
        "lat": 37.7726402,
        "lng": -122.4099154,
    },
    "logo": "https://logo.clearbit.com/acme.com",
    "facebook": {"handle": "acmecorp", "likes": 540},
    "linkedin": {"handle": "company/acme"},
    "twitter": {"handle": "acme", "id": "2857311332", "followers": 2518, "following": 1},
    "crunchbase": {"handle": "organization/acme"},
    "emailProvider": False,
    "type": "private",
    "ticker": None,
    "identifiers": {"usEIN": "461234567"},
    "phone": "+1 415-555-0199",
    "metrics": {
        "alexaUsRank": 7752,
        "alexaGlobalRank": 16036,
        "trafficRank": "high",
        "employees": 120,
        "employeesRange": "51-250",
        "marketCap": None,
        "raised": 17000000,
        "annualRevenue": None,
        "estimatedAnnualRevenue": "$10M-$50M",
        "fiscalYearEnd": 12,
    },
    "indexedAt": "2026-10-01T00:00:00.000Z",
    "tech": ["google_analytics", "stripe", "salesforce"],
    "techCategories": ["analytics", "payment", "crm"],
    "parent": {"domain": "acme-holdings.com"},
    "ultimateParent": {"domain": "acme-holdings.com"},
}


def combined(person: bool = True, company: bool = True) -> dict:
    """A 200 answer of the combined endpoint (either part may be null, as in real answers)."""
    return {
        "person": copy.deepcopy(PERSON) if person else None,
        "company": copy.deepcopy(COMPANY) if company else None,
    }


NOT_FOUND = {"error": {"type": "unknown_record", "message": "Unknown email address"}}
INVALID = {"error": {"type": "email_invalid", "message": "Invalid email address"}}
RATE_LIMITED = {"error": {"type": "rate_limit", "message": "Rate limit exceeded. Retry later."}}
RATE_HEADERS = {
    "Retry-After": "30",
    "X-RateLimit-Limit": "600",
    "X-RateLimit-Remaining": "0",
    "X-RateLimit-Reset": "30",
}


@pytest.fixture
def api():
    """Clearbit's HTTP API, faked per test: register answers with `api.get(URL, ...)`.

    Registered answers need not all be asked for; a request nothing matches gets a
    ConnectionError, which the provider treats as network trouble.
    """
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock
