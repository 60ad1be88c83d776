"""Fixtures of the enrichment job's tests: a settable clock and Clearbit's HTTP faked."""

from __future__ import annotations

import pytest
import responses

from tests.support.enrichment import Clock


@pytest.fixture
def clock():
    """A settable clock."""
    return Clock()


@pytest.fixture
def api():
    """Clearbit's HTTP API, faked per test."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock
