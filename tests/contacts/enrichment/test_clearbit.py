"""Clearbit's combined lookup: the policy's fields kept, the rest dropped; every answer kind."""

from __future__ import annotations

import time

import requests
import responses

from server.contacts.enrichment.clearbit import TIMEOUT, ClearbitProvider, map_company, map_person
from tests.support import clearbit


def test_person_keeps_exactly_the_policy_fields():
    person = map_person(clearbit.PERSON)
    assert person == {
        "name": {"full": "Ana Ruiz", "given": "Ana", "family": "Ruiz"},
        "bio": "Builds data pipelines. Runs on coffee.",
        "site": "https://anaruiz.example",
        "avatar": clearbit.PERSON["avatar"],
        "employment": {
            "company": "Acme",
            "title": "Chief Technology Officer",
            "role": "engineering",
            "sub_role": "software_engineer",
            "seniority": "executive",
        },
        "location": {"city": "San Francisco", "state": "California", "country": "United States"},
        "time_zone": "America/Los_Angeles",
        "social": {
            "facebook": "ana.ruiz",
            "github": "anaruiz",
            "twitter": "anaruiz",
            "linkedin": "in/anaruiz",
            "gravatar": "anaruiz",
        },
    }
    text = repr(person)
    for dropped in ("37.77", "-122.4", "2006261", "1520", "2026-10-01", "ana@acme.com", "fuzzy"):
        assert dropped not in text


def test_company_keeps_exactly_the_policy_fields():
    company = map_company(clearbit.COMPANY)
    assert company == {
        "name": "Acme Corporation",
        "logo": "https://logo.clearbit.com/acme.com",
        "description": "Acme makes everything a coyote could want.",
        "domain": "acme.com",
        "domain_aliases": ["acme.io", "acmecorp.com"],
        "phones": ["+1 415-555-0199", "+1 415-555-0100"],
        "emails": ["hello@acme.com"],
        "sector": "Information Technology",
        "industry_group": "Software & Services",
        "sub_industry": "Application Software",
        "founded": 2014,
        "location": {"city": "San Francisco", "state": "California", "country": "United States"},
        "time_zone": "America/Los_Angeles",
        "social": {
            "facebook": "acmecorp",
            "linkedin": "company/acme",
            "twitter": "acme",
            "crunchbase": "organization/acme",
        },
        "employees": 120,
        "financials": {
            "raised": 17000000,
            "annual_revenue": None,
            "estimated_annual_revenue": "$10M-$50M",
            "market_cap": None,
        },
        "technologies": ["google_analytics", "stripe", "salesforce"],
        "parent": "acme-holdings.com",
    }
    text = repr(company)
    for dropped in ("Sheridan", "94103", "37.77", "461234567", "SAAS", "7374", "Internet Software"):
        assert dropped not in text


def test_sparse_answers_map_to_nulls_not_errors():
    assert map_person({"name": None, "geo": None, "employment": None})["location"] == {
        "city": None,
        "state": None,
        "country": None,
    }
    assert map_company({"site": None, "metrics": None, "tech": None})["technologies"] == []
    assert map_person(None) is None and map_company("x") is None


@responses.activate
def test_found_sends_the_key_and_a_timeout():
    responses.get(URL := clearbit.URL, json=clearbit.combined())
    result = ClearbitProvider("sk_test").lookup("ana@acme.com")
    assert result.outcome == "found"
    assert result.person["employment"]["title"] == "Chief Technology Officer"
    assert result.company["domain"] == "acme.com"
    [call] = responses.calls
    assert call.request.url == f"{URL}?email=ana%40acme.com"
    assert call.request.headers["Authorization"] == "Bearer sk_test"
    assert call.request.req_kwargs["timeout"] == TIMEOUT


@responses.activate
def test_person_only_answer_is_found_with_no_company():
    responses.get(clearbit.URL, json=clearbit.combined(company=False))
    result = ClearbitProvider("sk_test").lookup("ana@gmail.com")
    assert result.outcome == "found" and result.company is None and result.person


NO_RETRY_AFTER = {
    "X-RateLimit-Limit": "600",
    "X-RateLimit-Remaining": "0",
    "X-RateLimit-Reset": "45",
}


@responses.activate
def test_each_answer_kind_becomes_an_outcome():
    provider = ClearbitProvider("sk_test")
    cases = [
        ({"status": 404, "json": clearbit.NOT_FOUND}, "not_found", None),
        ({"status": 202, "body": ""}, "queued", None),
        ({"status": 422, "json": clearbit.INVALID}, "invalid", None),
        (
            {"status": 429, "json": clearbit.RATE_LIMITED, "headers": clearbit.RATE_HEADERS},
            "retry",
            30,
        ),
        (  # without Retry-After, X-RateLimit-Reset says when the window resets
            {"status": 429, "json": clearbit.RATE_LIMITED, "headers": NO_RETRY_AFTER},
            "retry",
            45,
        ),
        ({"status": 500, "body": "Internal Server Error"}, "retry", None),
        ({"status": 503, "json": {"error": {"type": "unavailable"}}}, "retry", None),
        ({"status": 401, "json": {"error": {"type": "auth_required"}}}, "error", None),
        ({"status": 200, "body": "<html>oops</html>"}, "retry", None),
        ({"status": 200, "json": {"person": None, "company": None}}, "not_found", None),
    ]
    for answer, outcome, retry_after in cases:
        responses.reset()
        responses.get(clearbit.URL, **answer)
        result = provider.lookup("ana@acme.com")
        assert (result.outcome, result.retry_after) == (outcome, retry_after), answer


@responses.activate
def test_a_refused_key_is_reported_with_the_providers_error_type():
    responses.get(clearbit.URL, status=401, json={"error": {"type": "auth_required"}})
    assert ClearbitProvider("sk_bad").lookup("ana@acme.com").detail == "http 401: auth_required"


@responses.activate
def test_a_slow_or_unreachable_provider_is_retried_later():
    provider = ClearbitProvider("sk_test")
    responses.get(clearbit.URL, body=requests.exceptions.ReadTimeout("read timed out"))
    assert provider.lookup("ana@acme.com").outcome == "retry"
    assert provider.lookup("ana@acme.com").detail == "timeout"
    responses.reset()
    responses.get(clearbit.URL, body=requests.exceptions.ConnectionError("refused"))
    assert provider.lookup("ana@acme.com").detail == "network: ConnectionError"


@responses.activate
def test_a_reset_given_as_a_unix_time_becomes_a_delay():
    reset = str(int(time.time()) + 120)
    headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}
    responses.get(clearbit.URL, status=429, json=clearbit.RATE_LIMITED, headers=headers)
    assert 100 < ClearbitProvider("sk_test").lookup("ana@acme.com").retry_after <= 120
