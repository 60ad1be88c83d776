"""Fixtures of the enrichment job's tests: a settable clock (Clearbit's HTTP fake, `api`, is
the plugin fixture of tests/support/clearbit.py)."""

from __future__ import annotations

import pytest

from server.contacts import service as contacts
from tests.support.enrichment import Clock


@pytest.fixture
def clock(monkeypatch):
    """A settable clock, which is also the time mail sent in the test requests its lookups at:
    the job and the requests then share one time, however long the test takes to get there."""
    clock = Clock()
    monkeypatch.setattr(contacts, "utcnow", clock)
    return clock
